"""What to pack into setKeys transactions and whether the owner can pay (chalicelib/chain/decisions/packing.py):
the boundaries test_decisions.py does not reach."""

import pytest

from chalicelib.chain.decisions import packing


def test_a_cap_that_holds_one_key_or_none_at_the_measured_gas_gives_chunks_of_one_key() -> None:
    assert packing.keys_per_tx(packing.SETKEYS_BASE_GAS + packing.GAS_PER_BATCHED_KEY, 200) == 1
    assert packing.keys_per_tx(packing.SETKEYS_BASE_GAS, 200) == 1


def test_the_gas_limits_headroom_is_rounded_down_to_a_whole_gas() -> None:
    # 100,001 * 1.2 = 120,001.2
    limit = packing.gas_limit(100_001, 1_000_000)
    assert limit == 120_001 and isinstance(limit, int)


def test_a_revocation_gets_twenty_percent_over_its_estimate_rounded_down() -> None:
    limit = packing.revoke_gas_limit(50_001, floor=21_000)
    assert limit == 60_001 and isinstance(limit, int)


def test_a_revocation_never_gets_less_gas_than_the_floor() -> None:
    assert packing.revoke_gas_limit(30_000, floor=60_000) == 60_000


def test_a_chunk_estimated_exactly_at_the_cap_goes_out_whole_at_the_cap() -> None:
    chunks = packing.Chunks([0, 1, 2, 3], 4, gas_cap_per_tx=100_000)
    assert chunks.next() == [0, 1, 2, 3] and chunks.fits([0, 1, 2, 3], 100_000) == 100_000 and chunks.next() is None


def test_a_chunk_of_two_keys_over_the_cap_is_split_into_one_key_each() -> None:
    chunks = packing.Chunks([0, 1, 2], 2, gas_cap_per_tx=100_000)
    assert chunks.next() == [0, 1] and chunks.fits([0, 1], 100_001) is None
    assert [chunks.next(), chunks.next(), chunks.next(), chunks.next()] == [[0], [1], [2], None]


def test_what_is_left_of_a_refused_chunk_is_tried_again_before_the_chunks_behind_it() -> None:
    # Given chunks [0, 1] and [2, 3], the first refused by the contract with key 1 alone at fault
    chunks = packing.Chunks([0, 1, 2, 3], 2, gas_cap_per_tx=10**6)
    assert chunks.next() == [0, 1]
    # When what is left of it goes back
    chunks.again(packing.without_refused([0, 1], [0], "NotCurrentKey"))
    # Then it comes next, and the chunk behind it after
    assert [chunks.next(), chunks.next(), chunks.next()] == [[0], [2, 3], None]


def test_a_chunk_whose_every_key_is_refused_leaves_nothing_to_try_again() -> None:
    assert packing.without_refused([1, 2], [], "NotCurrentKey") == []


def test_a_chunk_each_of_whose_keys_passes_alone_raises_naming_its_size_and_the_revert() -> None:
    with pytest.raises(RuntimeError, match=r"^setKeys of 2 keys reverts \(boom\) though each key alone does not$"):
        packing.without_refused([1, 2], [1, 2], "boom")


def test_a_transaction_over_the_cost_cap_pauses_the_batch_naming_its_cost_and_the_cap() -> None:
    assert packing.payable(10**9, [40, 61], 60) == packing.Unpayable(
        True, "paused: a transaction may cost 61 wei (gas and L1 data fee), over the cap of 60 wei"
    )


def test_an_owner_short_of_funds_pauses_the_batch_naming_its_balance_and_the_total_cost() -> None:
    assert packing.payable(99, [40, 60], 60) == packing.Unpayable(
        False, "paused: the owner holds 99 wei, these transactions may cost up to 100 wei (gas and L1 data fee)"
    )
