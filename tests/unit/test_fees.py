"""What the owner offers per gas: first offers, 10% replacements, and the cap."""

from chalicelib.chain.decisions.fees import Fees, at_least_ten_percent_more, first_offer, replacement
from chalicelib.model import Market

GWEI = 10**9


def test_a_replacement_offers_at_least_ten_percent_more_on_both_fees_even_when_the_market_asks_less():
    previous = Fees(max_fee=3 * GWEI + 1, tip=GWEI + 1)

    offer = replacement(previous, Market(base_fee=1, tip=1), cap=100 * GWEI)

    assert offer is not None and not offer.capped
    assert offer.fees.max_fee * 10 >= previous.max_fee * 11
    assert offer.fees.tip * 10 >= previous.tip * 11


def test_ten_percent_rounds_up_and_is_never_less_than_one_wei():
    assert at_least_ten_percent_more(10) == 11
    assert at_least_ten_percent_more(11) == 13  # 12.1 rounds up
    assert at_least_ten_percent_more(1) == 2
    assert at_least_ten_percent_more(0) == 1


def test_a_replacement_follows_the_market_when_it_rose_more_than_ten_percent():
    offer = replacement(Fees(max_fee=3 * GWEI, tip=GWEI), Market(base_fee=10 * GWEI, tip=2 * GWEI), cap=100 * GWEI)

    assert offer is not None
    assert offer.fees == Fees(max_fee=22 * GWEI, tip=2 * GWEI)


def test_a_replacement_stops_at_the_cap_and_says_so():
    offer = replacement(Fees(max_fee=10 * GWEI, tip=GWEI), Market(base_fee=50 * GWEI, tip=GWEI), cap=20 * GWEI)

    assert offer is not None and offer.capped
    assert offer.fees.max_fee == 20 * GWEI


def test_no_replacement_when_the_cap_leaves_no_room_for_ten_percent():
    assert replacement(Fees(max_fee=19 * GWEI, tip=GWEI), Market(base_fee=GWEI, tip=GWEI), cap=20 * GWEI) is None


def test_a_first_offer_is_twice_the_base_fee_plus_the_tip_within_the_cap():
    assert first_offer(Market(base_fee=GWEI, tip=GWEI), cap=100 * GWEI).fees == Fees(max_fee=3 * GWEI, tip=GWEI)
    capped = first_offer(Market(base_fee=80 * GWEI, tip=GWEI), cap=100 * GWEI)
    assert capped.capped and capped.fees == Fees(max_fee=100 * GWEI, tip=GWEI)
