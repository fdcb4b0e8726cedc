"""What a receipt means (chalicelib/chain/decisions/receipts.py): the boundaries test_decisions.py does not reach."""

from chalicelib.chain.decisions import receipts
from chalicelib.model import (
    JOB_REVOKE_KEY,
    KIND_KEY,
    KIND_REVOKE,
    KIND_SET,
    STATE_MINED,
    STATE_SIGNED,
    Job,
    Receipt,
    Record,
    TxItem,
)
from dmtp_protocol.cid import cid_for_bytes

WALLET = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
CID = cid_for_bytes(b"key one")
ROOT = b"\x01" * 32


def receipt(status: int = 1, log_anchor: tuple[int, bytes] | None = None) -> Receipt:
    return Receipt(
        tx_hash="0xaa",
        status=status,
        block_number=10,
        block_hash="0xbb",
        gas_used=50_000,
        effective_gas_price=3,
        log_anchor=log_anchor,
    )


def revocation(wallet: str = WALLET) -> Job:
    return Job(wallet, 2, CID, JOB_REVOKE_KEY)


def key(status: str, nonce: int | None = None) -> Record:
    return Record(WALLET, 1, CID, "", status, 0, 0, kind=KIND_KEY, nonce=nonce)


def no_revoked_key(job: Job) -> Record | None:
    raise AssertionError(f"read the key {job.wallet} v{job.version - 1} though the decision does not need it")


def test_a_reverted_receipt_that_would_have_anchored_the_log_records_no_anchor() -> None:
    settled = receipts.settlement(
        receipt(status=0, log_anchor=(7, ROOT)), 3, "0xaa", "InvalidVersion()", KIND_SET, (), no_revoked_key
    )
    assert settled == receipts.Settlement(
        "failed", "failed", "InvalidVersion()", {"block_number": 10, "error": "InvalidVersion()"}, anchor=None
    )


def test_a_not_owner_revert_keeps_the_failed_state_status_and_reason_on_the_item() -> None:
    settled = receipts.settlement(receipt(status=0), 3, "0xaa", "NotOwner()", KIND_SET, (), no_revoked_key)
    assert settled == receipts.Settlement(
        "failed",
        "failed",
        "NotOwner()",
        requeue="its transaction reverted NotOwner(); queued again, the worker is paused",
        pause="transaction at nonce 3 reverted NotOwner()",
    )


def test_a_revocation_queued_again_behind_its_key_keeps_the_failed_state_status_and_reason_on_the_item() -> None:
    settled = receipts.settlement(
        receipt(status=0), 3, "0xaa", "NotCurrentKey(0)", KIND_REVOKE, (revocation(),), lambda job: key("queued")
    )
    assert settled == receipts.Settlement(
        "failed",
        "failed",
        "NotCurrentKey(0)",
        requeue="its transaction reverted NotCurrentKey(0) before its key reached the chain; queued again",
    )


def test_revocations_are_queued_again_only_if_every_key_they_revoke_is_still_coming() -> None:
    # Given two revocations at nonce 3: the first's key still open, the second's confirmed at an earlier nonce
    keys = {WALLET: key("queued"), OTHER: key("confirmed", nonce=2)}
    assert not receipts.key_still_coming(3, (revocation(), revocation(OTHER)), lambda job: keys[job.wallet])
    # And the first's key confirmed at a later nonce, the second's confirmed earlier
    keys = {WALLET: key("confirmed", nonce=5), OTHER: key("confirmed", nonce=2)}
    assert not receipts.key_still_coming(3, (revocation(), revocation(OTHER)), lambda job: keys[job.wallet])


def test_revocations_whose_keys_are_all_still_coming_are_queued_again() -> None:
    keys = {WALLET: key("submitted", nonce=4), OTHER: key("confirmed", nonce=5)}
    assert receipts.key_still_coming(3, (revocation(), revocation(OTHER)), lambda job: keys[job.wallet])


def test_a_key_confirmed_at_the_revocations_own_nonce_is_not_still_coming() -> None:
    assert not receipts.key_still_coming(3, (revocation(),), lambda job: key("confirmed", nonce=3))


def test_an_item_not_in_the_mined_state_is_newly_mined_even_if_it_names_this_block_and_hash() -> None:
    # e.g. put back to signed after a reorg, keeping what it recorded of the block it was mined in then
    item = TxItem(signer="0x", nonce=3, state=STATE_SIGNED, kind=KIND_SET, block_hash="0xbb", mined_hash="0xaa")
    assert receipts.newly_mined(item, receipt())


def test_an_item_mined_in_another_block_is_newly_mined() -> None:
    item = TxItem(signer="0x", nonce=3, state=STATE_MINED, kind=KIND_SET, block_hash="0xcc", mined_hash="0xaa")
    assert receipts.newly_mined(item, receipt())


def test_the_final_item_keeps_the_receipts_hash_block_gas_and_fee_paid() -> None:
    assert receipts.mined_fields(receipt()) == {
        "minedHash": "0xaa",
        "blockNumber": 10,
        "blockHash": "0xbb",
        "gasUsed": 50_000,
        "feePaidWei": 150_000,
    }
