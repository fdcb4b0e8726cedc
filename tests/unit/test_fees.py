"""What the owner offers per gas: first offers, 10% replacements, and the cap."""

from chalicelib.chain.decisions.fees import Fees, Offer, at_least_ten_percent_more, first_offer, replacement
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


def test_a_first_offer_exactly_at_the_cap_is_not_capped():
    # 2 * 40 + 20 = 100: the market's price is the cap itself, so the FeeCapReached alarm has no reason to fire
    assert first_offer(Market(base_fee=40, tip=20), cap=100) == Offer(Fees(max_fee=100, tip=20), capped=False)


def test_a_replacement_exactly_at_the_cap_is_not_capped():
    # the market asks 2 * 40 + 20 = 100 = the cap, more than the +10% floor (66)
    assert replacement(Fees(max_fee=60, tip=10), Market(base_fee=40, tip=20), cap=100) == Offer(
        Fees(max_fee=100, tip=20), capped=False
    )


def test_a_replacement_whose_ten_percent_floor_is_exactly_the_cap_is_offered_at_the_cap():
    # +10% of 100 is 110 = the cap: still room for a replacement, though the market asks more
    assert replacement(Fees(max_fee=100, tip=10), Market(base_fee=500, tip=20), cap=110) == Offer(
        Fees(max_fee=110, tip=20), capped=True
    )


def test_a_replacement_whose_market_tip_passes_the_cap_offers_the_cap_as_tip():
    # Given a market tip of 200 and a cap of 150: the max fee is held at the cap, the tip may not exceed it
    assert replacement(Fees(max_fee=100, tip=10), Market(base_fee=1, tip=200), cap=150) == Offer(
        Fees(max_fee=150, tip=150), capped=True
    )


def test_a_replacement_whose_ten_percent_tip_is_exactly_the_cap_is_offered_at_the_cap():
    # +10% of the tip (100) is 110 = the cap: the tip may still rise that far
    assert replacement(Fees(max_fee=100, tip=100), Market(base_fee=1, tip=200), cap=110) == Offer(
        Fees(max_fee=110, tip=110), capped=True
    )
