"""DMTPKeys' transparency-log anchor (issue 13): setKeysAnchored, logHead and LogAnchored, on a real Anvil node."""

from __future__ import annotations

import os

import pytest
from web3 import Web3
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD

from dmtp_protocol.cid import cid_from_digest
from tests.support.contract import ALICE, ALICE_KEY, BOB, OWNER_KEY, assert_custom_error, selector, transact

ROOT_A = bytes.fromhex("aa" * 32)
ROOT_B = bytes.fromhex("bb" * 32)


def wallets(count: int) -> list[str]:
    return [Web3.to_checksum_address("0x" + os.urandom(20).hex()) for _ in range(count)]


def anchor(w3, registry, size: int, root: bytes, users: list[str] | None = None, key: str = OWNER_KEY):
    users = users if users is not None else wallets(2)
    digests = [os.urandom(32) for _ in users]
    receipt = transact(w3, registry.functions.setKeysAnchored(users, digests, [1] * len(users), size, root), key)
    return receipt, users, digests


def test_before_any_anchor_the_log_head_is_empty(registry):
    assert tuple(registry.functions.logHead().call()) == (0, b"\x00" * 32)


def test_anchoring_stores_the_head_sets_the_keys_and_emits_the_event(w3, registry):
    receipt, users, digests = anchor(w3, registry, 5, ROOT_A)

    assert receipt["status"] == 1
    assert tuple(registry.functions.logHead().call()) == (5, ROOT_A)
    (event,) = registry.events.LogAnchored().process_receipt(receipt, errors=DISCARD)
    assert (event["args"]["size"], event["args"]["root"]) == (5, ROOT_A)
    assert [registry.functions.getKey(u).call() for u in users] == [cid_from_digest(d) for d in digests]
    assert len(registry.events.KeyUpdated().process_receipt(receipt, errors=DISCARD)) == 2


def test_a_larger_head_replaces_the_stored_one(w3, registry):
    anchor(w3, registry, 5, ROOT_A)
    receipt, _, _ = anchor(w3, registry, 9, ROOT_B)

    assert tuple(registry.functions.logHead().call()) == (9, ROOT_B)
    assert len(registry.events.LogAnchored().process_receipt(receipt, errors=DISCARD)) == 1


@pytest.mark.parametrize("size", [9, 4])
def test_an_equal_or_smaller_head_is_ignored_without_reverting_and_the_keys_still_land(w3, registry, size):
    anchor(w3, registry, 9, ROOT_A)
    receipt, users, digests = anchor(w3, registry, size, ROOT_B)

    assert receipt["status"] == 1
    assert tuple(registry.functions.logHead().call()) == (9, ROOT_A)
    assert registry.events.LogAnchored().process_receipt(receipt, errors=DISCARD) == ()
    assert [registry.functions.getKey(u).call() for u in users] == [cid_from_digest(d) for d in digests]


def test_a_single_key_can_carry_a_head(w3, registry):
    _receipt, (user,), (digest,) = anchor(w3, registry, 1, ROOT_A, users=wallets(1))

    assert tuple(registry.functions.logHead().call()) == (1, ROOT_A)
    assert registry.functions.getKey(user).call() == cid_from_digest(digest)


def test_only_the_owner_can_anchor(w3, registry):
    with pytest.raises(ContractCustomError) as excinfo:
        anchor(w3, registry, 5, ROOT_A, key=ALICE_KEY)
    assert_custom_error(excinfo, selector("NotOwner(address)") + "000000000000000000000000" + ALICE[2:].lower())
    assert tuple(registry.functions.logHead().call()) == (0, b"\x00" * 32)


def test_mismatched_lengths_revert_like_set_keys(w3, registry):
    with pytest.raises(ContractCustomError) as excinfo:
        transact(w3, registry.functions.setKeysAnchored([ALICE, BOB], [os.urandom(32)], [1, 1], 3, ROOT_A), OWNER_KEY)
    assert_custom_error(excinfo, selector("LengthMismatch()"))


def test_the_anchored_size_shares_the_owner_slot_without_disturbing_it(anvil, w3, registry):
    """The size is packed beside `owner`: a transfer keeps the head, and the head never changes the owner."""
    from tests.support.contract import BOB_KEY

    anchor(w3, registry, 7, ROOT_A)
    transact(w3, registry.functions.transferOwnership(BOB), OWNER_KEY)

    assert registry.functions.owner().call() == BOB
    assert tuple(registry.functions.logHead().call()) == (7, ROOT_A)
    anchor(w3, registry, 8, ROOT_B, key=BOB_KEY)
    assert registry.functions.owner().call() == BOB
    assert tuple(registry.functions.logHead().call()) == (8, ROOT_B)
