"""The worker's and monitor's decisions, each alone over plain data (claims, packing, receipts, bumping): no ports,
no fakes, milliseconds. The orchestration around them is specified by test_worker.py, test_monitor.py (real moto and
Anvil) and test_simulation.py."""

import pytest

from chalicelib.chain.decisions import bumping, claims, packing, receipts
from chalicelib.chain.decisions.fees import Fees
from chalicelib.model import (
    JOB_REVOKE_KEY,
    JOB_SET_KEY,
    KIND_KEY,
    KIND_NOOP,
    KIND_REVOCATION,
    KIND_REVOKE,
    KIND_SET,
    STATE_MINED,
    STATE_RESERVED,
    STATE_SIGNED,
    Attempt,
    Job,
    Market,
    Receipt,
    Record,
    TxItem,
)
from dmtp_protocol.cid import cid_for_bytes

WALLET = "0x" + "ab" * 20
CID = cid_for_bytes(b"key one")
CID2 = cid_for_bytes(b"key two")


def key_job(version: int = 1, cid: str = CID) -> Job:
    return Job(WALLET, version, cid, JOB_SET_KEY)


def revoke_job(version: int = 2, cid: str = CID) -> Job:
    return Job(WALLET, version, cid, JOB_REVOKE_KEY)


def record(version: int, status: str, kind: str = KIND_KEY, cid: str = CID, nonce: int | None = None) -> Record:
    return Record(WALLET, version, cid, "", status, 0, 0, kind=kind, nonce=nonce)


def item(
    nonce: int,
    state: str = STATE_SIGNED,
    entries: tuple[Job, ...] = (),
    kind: str = KIND_SET,
    candidates: tuple[Job, ...] = (),
    block_number: int | None = None,
) -> TxItem:
    return TxItem(
        signer="0x" + "5a" * 20,
        nonce=nonce,
        state=state,
        kind=kind,
        entries=entries,
        candidates=candidates,
        block_number=block_number,
        attempts=(Attempt("0x" + "11" * 32, 100, 10, 0.0),) if state != STATE_RESERVED else (),
    )


def nothing(nonce: int) -> TxItem | None:
    raise AssertionError(f"read the item at nonce {nonce} though the decision does not need it")


def no_versions() -> list[Record]:
    raise AssertionError("read the wallet's versions though the decision does not need them")


def no_revoked_key(job: Job) -> Record | None:
    raise AssertionError(f"read the key {job.wallet} v{job.version - 1} though the decision does not need it")


# ---------------------------------------------------------------- claims: what a delivered job means


def test_a_first_delivery_goes_out_without_any_read() -> None:
    verdict = claims.delivered(key_job(), {}, 1, {claims.key_of(key_job())}, nothing, no_versions)
    assert verdict == claims.Verdict()


def test_a_duplicate_whose_record_is_final_is_acknowledged() -> None:
    verdict = claims.delivered(key_job(), {(WALLET, 1): record(1, "confirmed")}, 1, set(), nothing, no_versions)
    assert verdict.outcome == claims.Outcome(True)


def test_a_job_naming_another_document_than_its_record_goes_back_with_the_mismatch() -> None:
    verdict = claims.delivered(key_job(cid=CID2), {(WALLET, 1): record(1, "queued")}, 1, set(), nothing, no_versions)
    assert (
        not verdict.outcome.ack
        and verdict.outcome.retry == claims.RETRY_ERROR
        and "does not match" in verdict.outcome.reason
    )


def test_a_duplicate_carried_by_an_unmined_transaction_is_acknowledged_and_its_bytes_sent_again() -> None:
    carrier = item(7, entries=(key_job(),))
    verdict = claims.delivered(
        key_job(), {(WALLET, 1): record(1, "submitted", nonce=7)}, 1, set(), {7: carrier}.get, no_versions
    )
    assert verdict.outcome == claims.Outcome(True) and verdict.rebroadcast == carrier


def test_a_job_claimed_at_a_nonce_filled_with_a_no_op_is_claimed_again_from_there() -> None:
    verdict = claims.delivered(
        key_job(),
        {(WALLET, 1): record(1, "submitted", nonce=7)},
        1,
        set(),
        {7: item(7, kind=KIND_NOOP)}.get,
        no_versions,
    )
    assert verdict.outcome is None and verdict.reclaim_from == 7


def test_an_older_key_is_superseded_by_a_newer_key_of_the_same_batch() -> None:
    verdict = claims.delivered(key_job(1), {}, 2, set(), nothing, no_versions)
    assert verdict.outcome.ack and verdict.outcome.change.status == "superseded"


def test_a_revocation_waits_for_a_newer_key_in_the_same_batch_instead_of_being_superseded() -> None:
    records = {(WALLET, 2): record(2, "queued", KIND_REVOCATION), (WALLET, 1): record(1, "confirmed")}
    verdict = claims.delivered(revoke_job(2), records, 3, set(), nothing, no_versions)
    assert not verdict.outcome.ack and verdict.outcome.retry == claims.RETRY_WAIT


def test_a_revocation_whose_key_failed_is_superseded_once_a_newer_key_is_confirmed() -> None:
    records = {(WALLET, 2): record(2, "queued", KIND_REVOCATION), (WALLET, 1): record(1, "failed")}
    verdict = claims.delivered(revoke_job(2), records, 0, set(), nothing, lambda: [record(3, "confirmed", cid=CID2)])
    assert verdict.outcome.ack and verdict.outcome.change.status == "superseded"


def test_a_revocation_waits_while_its_key_is_not_on_its_way() -> None:
    records = {(WALLET, 2): record(2, "queued", KIND_REVOCATION), (WALLET, 1): record(1, "queued")}
    verdict = claims.delivered(revoke_job(2), records, 0, set(), nothing, no_versions)
    assert verdict.outcome.retry == claims.RETRY_WAIT and "not on its way" in verdict.outcome.reason


def test_a_wallets_first_key_is_claimed_only_while_no_newer_version_exists() -> None:
    change = claims.claim(key_job(1), "0xhash", 5, None)
    assert (
        change.absent == ("next_version",) and change.only_from == claims.UNCLAIMED and ("nonce", 5) in change.changes
    )


def test_a_duplicate_whose_nonce_another_worker_reserved_for_it_but_has_not_stored_is_delivered_again() -> None:
    # Given its record claimed at nonce 4, which a worker reserved for this job and has not signed yet
    reserved = item(4, state=STATE_RESERVED, candidates=(key_job(),))
    # When the job is delivered to another worker (one SQS message held by two workers)
    verdict = claims.delivered(
        key_job(), {(WALLET, 1): record(1, "submitted", nonce=4)}, 1, set(), {4: reserved}.get, no_versions
    )
    # Then it is not acknowledged (that would delete the message the reserving worker may count on): it waits
    assert (
        not verdict.outcome.ack
        and verdict.outcome.retry == claims.RETRY_WAIT
        and "nonce 4 is reserved" in verdict.outcome.reason
    )
    assert verdict.outcome.change is None and verdict.reclaim_from is None and verdict.rebroadcast is None


def test_a_duplicate_whose_nonce_is_reserved_for_other_jobs_is_claimed_again_from_that_nonce() -> None:
    reserved = item(4, state=STATE_RESERVED, candidates=(key_job(2, CID2),))
    verdict = claims.delivered(
        key_job(), {(WALLET, 1): record(1, "submitted", nonce=4)}, 1, set(), {4: reserved}.get, no_versions
    )
    assert verdict == claims.Verdict(None, reclaim_from=4)


def test_a_lost_claim_on_a_record_held_by_a_reservation_for_it_is_delivered_again_not_acknowledged() -> None:
    attempted = claims.claim(key_job(), "0xhash", 5, None)
    reserved = item(4, state=STATE_RESERVED, candidates=(key_job(),))
    verdict = claims.lost_claim(key_job(), record(1, "submitted", nonce=4), attempted, {4: reserved}.get)
    assert verdict.outcome.ack is False and verdict.outcome.retry == claims.RETRY_WAIT and verdict.takeover is None


def test_a_job_delivered_again_while_its_nonce_is_reserved_leaves_that_claim_alone_until_its_last_delivery() -> None:
    # Given the outcome for a job whose record is claimed at reserved nonce 4
    waiting = claims.Outcome(
        False, retry=claims.RETRY_WAIT, reason="nonce 4 is reserved for it by a worker that has not stored it yet"
    )
    claimed = record(1, "submitted", nonce=4)
    # When it goes back before its last delivery: only the reason is written, and only while nonce 4 still holds it
    back = claims.give_back(
        key_job(), waiting, claimed, None, False, 5, lambda: pytest.fail("asked whether it waits in vain")
    )
    assert [(c.status, c.expect_nonce, c.changes) for c in back.changes] == [
        ("submitted", 4, (("error", waiting.reason),))
    ] and not back.requeue
    # And on its last delivery it is queued anew as a fresh message (it only waits), with no record write
    last = claims.give_back(key_job(), waiting, claimed, None, True, 5, lambda: False)
    assert last.requeue and last.changes == [] and last.error is None


def test_a_lost_claim_of_a_first_key_that_now_has_a_second_version_is_taken_over_without_that_condition() -> None:
    attempted = claims.claim(key_job(), "0xhash", 5, None)
    now = Record(WALLET, 1, CID, "", "queued", 0, 0, kind=KIND_KEY, next_version=2)
    verdict = claims.lost_claim(key_job(), now, attempted, nothing)
    assert verdict.takeover is not None and verdict.takeover.absent == ()


def test_a_key_claimed_below_a_live_newer_key_is_superseded() -> None:
    outcome = claims.order_verdict(
        key_job(1), 5, [record(2, "submitted", cid=CID2, nonce=9), record(1, "submitted", nonce=5)], nothing
    )
    assert outcome.ack and outcome.change.status == "superseded"


def test_a_key_claimed_below_an_older_version_in_flight_at_a_later_nonce_releases_its_claim() -> None:
    outcome = claims.order_verdict(
        key_job(2, CID2), 5, [record(2, "submitted", cid=CID2, nonce=5), record(1, "submitted", nonce=8)], nothing
    )
    assert not outcome.ack and outcome.change.status == "queued" and outcome.change.expect_nonce == 5


def test_a_revocation_claimed_after_a_nonce_that_only_reserves_its_key_releases_its_claim() -> None:
    versions = [record(2, "submitted", KIND_REVOCATION, nonce=6), record(1, "submitted", nonce=4)]
    outcome = claims.order_verdict(revoke_job(2), 6, versions, {4: item(4, state=STATE_RESERVED)}.get)
    assert outcome is not None and "does not (yet) carry it" in outcome.reason


def test_a_revocation_claimed_after_the_nonce_carrying_its_key_may_go_out() -> None:
    versions = [record(2, "submitted", KIND_REVOCATION, nonce=6), record(1, "submitted", nonce=4)]
    assert claims.order_verdict(revoke_job(2), 6, versions, {4: item(4, entries=(key_job(),))}.get) is None


def test_a_waiting_job_on_its_last_delivery_is_queued_anew_instead_of_failed() -> None:
    outcome = claims.Outcome(False, retry=claims.RETRY_PAUSED, reason="paused")
    back = claims.give_back(key_job(), outcome, None, None, True, 5, lambda: False)
    assert back.requeue and back.error is None and back.changes == []


def test_a_failing_job_on_its_last_delivery_fails_only_while_unclaimed_and_still_its_own_record() -> None:
    outcome = claims.Outcome(False, retry=claims.RETRY_ERROR, reason="boom")
    back = claims.give_back(
        key_job(), outcome, None, None, True, 5, lambda: pytest.fail("asked whether it waits in vain")
    )
    (change,) = back.changes
    assert (
        change.status == "failed"
        and change.only_from == claims.UNCLAIMED
        and ("cid", CID) in change.expect
        and "boom" in back.error
    )


# ---------------------------------------------------------------- packing


def test_keys_are_chunked_in_order_at_the_size_the_cap_holds() -> None:
    per_tx = packing.keys_per_tx(gas_cap_per_tx=60_000 + 3 * packing.GAS_PER_BATCHED_KEY, max_keys_per_tx=200)
    chunks = packing.Chunks(list(range(7)), per_tx, 10**6)
    assert per_tx == 3 and [chunks.next(), chunks.next(), chunks.next(), chunks.next()] == [
        [0, 1, 2],
        [3, 4, 5],
        [6],
        None,
    ]


def test_a_chunk_over_the_cap_is_split_in_halves_tried_before_the_rest() -> None:
    chunks = packing.Chunks(list(range(6)), 4, gas_cap_per_tx=100_000)
    first = chunks.next()
    assert chunks.fits(first, 150_000) is None
    assert [chunks.next(), chunks.next(), chunks.next()] == [[0, 1], [2, 3], [4, 5]]


def test_a_single_key_over_the_cap_goes_out_with_its_own_estimate() -> None:
    assert packing.Chunks([0], 1, 100_000).fits([0], 150_000) == 150_000


def test_the_gas_limit_has_twenty_percent_headroom_but_stays_under_the_cap() -> None:
    assert packing.gas_limit(100_000, 1_000_000) == 120_000
    assert packing.gas_limit(20_000, 1_000_000) == 30_000
    assert packing.gas_limit(900_000, 1_000_000) == 1_000_000


def test_a_chunk_each_of_whose_keys_passes_alone_is_a_bug_not_a_refusal() -> None:
    assert packing.without_refused([1, 2, 3], [1, 3], "NotCurrentKey") == [[1, 3]]
    with pytest.raises(RuntimeError):
        packing.without_refused([1, 2], [1, 2], "reverted")


def test_the_owner_pays_only_what_the_balance_and_the_per_transaction_cap_allow() -> None:
    assert packing.payable(100, [40, 60], 60) is None
    assert packing.payable(99, [40, 60], 60).cost_cap is False
    assert packing.payable(10**9, [40, 61], 60).cost_cap is True


# ---------------------------------------------------------------- receipts


def receipt(status: int = 1, tx_hash: str = "0xaa") -> Receipt:
    return Receipt(
        tx_hash=tx_hash, status=status, block_number=10, block_hash="0xbb", gas_used=50_000, effective_gas_price=2
    )


def test_a_receipt_is_final_once_its_block_has_the_confirmations_counting_itself() -> None:
    assert receipts.deep_enough(head=11, block_number=10, confirmations=2)
    assert not receipts.deep_enough(head=10, block_number=10, confirmations=2)


def test_a_successful_receipt_confirms_the_records_at_its_block() -> None:
    verdict = receipts.settlement(receipt(), 3, "0xaa", None, KIND_SET, (key_job(),), no_revoked_key)
    assert (verdict.state, verdict.status, verdict.requeue) == (
        "confirmed",
        "confirmed",
        None,
    ) and verdict.record_changes == {"block_number": 10}
    assert verdict.anchor is None


def test_an_older_attempt_mined_is_named_on_the_records() -> None:
    assert (
        receipts.settlement(
            receipt(tx_hash="0xold"), 3, "0xnew", None, KIND_SET, (key_job(),), no_revoked_key
        ).record_changes["tx_hash"]
        == "0xold"
    )


def test_a_revert_fails_the_records_with_its_reason() -> None:
    verdict = receipts.settlement(
        receipt(status=0), 3, "0xaa", "NotCurrentKey()", KIND_SET, (key_job(),), no_revoked_key
    )
    assert (verdict.state, verdict.status, verdict.record_changes["error"]) == ("failed", "failed", "NotCurrentKey()")


def test_a_not_owner_revert_requeues_the_jobs_and_pauses_instead_of_failing_them() -> None:
    verdict = receipts.settlement(receipt(status=0), 3, "0xaa", "NotOwner()", KIND_SET, (key_job(),), no_revoked_key)
    assert verdict.requeue is not None and "nonce 3" in verdict.pause and verdict.state == "failed"


def test_a_revocation_reverted_not_current_key_while_its_key_is_still_on_its_way_is_queued_again_not_failed() -> None:
    # Given a revocation at nonce 3 whose key (v1) is still claimed, waiting at another nonce (its transaction reverted)
    keys = {1: record(1, "queued")}
    # When its receipt reverted NotCurrentKey
    verdict = receipts.settlement(
        receipt(status=0),
        3,
        "0xaa",
        "NotCurrentKey(0)",
        KIND_REVOKE,
        (revoke_job(2),),
        lambda job: keys.get(job.version - 1),
    )
    # Then its jobs go back to the queue (no record fails, the worker is not paused), and no anchor is recorded
    assert (
        "before its key reached the chain" in verdict.requeue and verdict.pause is None and verdict.record_changes == {}
    )
    assert verdict.state == "failed" and verdict.error == "NotCurrentKey(0)" and verdict.anchor is None


def test_a_revocation_reverted_not_current_key_whose_key_landed_only_at_a_later_nonce_is_queued_again() -> None:
    keys = {1: record(1, "confirmed", nonce=5)}
    verdict = receipts.settlement(
        receipt(status=0),
        3,
        "0xaa",
        "NotCurrentKey(0)",
        KIND_REVOKE,
        (revoke_job(2),),
        lambda job: keys.get(job.version - 1),
    )
    assert verdict.requeue is not None and verdict.pause is None


def test_a_revocation_reverted_not_current_key_whose_key_gave_way_to_a_newer_key_is_queued_again() -> None:
    # Given a revocation whose key (v1) never landed and was superseded by a newer key of the wallet
    keys = {1: record(1, "superseded")}
    # When its receipt reverted NotCurrentKey
    verdict = receipts.settlement(
        receipt(status=0),
        3,
        "0xaa",
        "NotCurrentKey(0)",
        KIND_REVOKE,
        (revoke_job(2),),
        lambda job: keys.get(job.version - 1),
    )
    # Then it goes back to the queue, where the worker holds it until the newer key is confirmed
    assert verdict.requeue is not None and verdict.pause is None and verdict.record_changes == {}


def test_a_revocation_reverted_not_current_key_whose_key_failed_fails_with_the_reason() -> None:
    keys = {1: record(1, "failed")}
    verdict = receipts.settlement(
        receipt(status=0),
        3,
        "0xaa",
        "NotCurrentKey(0)",
        KIND_REVOKE,
        (revoke_job(2),),
        lambda job: keys.get(job.version - 1),
    )
    assert verdict.requeue is None and verdict.status == "failed"


def test_a_revocation_reverted_not_current_key_whose_key_was_confirmed_before_it_fails_with_the_reason() -> None:
    # The chain holds another key than the one it revokes: the revocation is at fault
    keys = {1: record(1, "confirmed", nonce=2)}
    verdict = receipts.settlement(
        receipt(status=0),
        3,
        "0xaa",
        "NotCurrentKey(0)",
        KIND_REVOKE,
        (revoke_job(2),),
        lambda job: keys.get(job.version - 1),
    )
    assert (
        verdict.requeue is None and verdict.status == "failed" and verdict.record_changes["error"] == "NotCurrentKey(0)"
    )


def test_a_revocation_whose_key_record_is_missing_or_not_a_key_fails_with_the_reason() -> None:
    for found in (None, record(1, "queued", kind=KIND_REVOCATION)):
        verdict = receipts.settlement(
            receipt(status=0),
            3,
            "0xaa",
            "NotCurrentKey(0)",
            KIND_REVOKE,
            (revoke_job(2),),
            lambda job, found=found: found,
        )
        assert verdict.requeue is None and verdict.status == "failed"


def test_whether_a_revoked_key_is_still_coming_reads_no_further_than_the_first_key_that_is_not() -> None:
    other = "0x" + "cd" * 20
    jobs = (revoke_job(2), Job(other, 2, CID, JOB_REVOKE_KEY))
    read: list[str] = []

    def revoked_key(job: Job) -> Record | None:
        read.append(job.wallet)
        return record(1, "failed")

    assert not receipts.key_still_coming(3, jobs, revoked_key) and read == [WALLET]
    assert not receipts.key_still_coming(3, (), revoked_key)


def test_another_revert_than_not_current_key_fails_a_revocation_without_reading_its_key() -> None:
    verdict = receipts.settlement(
        receipt(status=0), 3, "0xaa", "InvalidVersion()", KIND_REVOKE, (revoke_job(2),), no_revoked_key
    )
    assert verdict.requeue is None and verdict.status == "failed"


def test_a_confirmed_receipt_that_anchored_the_log_names_the_head_to_record() -> None:
    anchored = Receipt(
        tx_hash="0xaa",
        status=1,
        block_number=10,
        block_hash="0xbb",
        gas_used=50_000,
        effective_gas_price=2,
        log_anchor=(7, b"\x01" * 32),
    )
    assert receipts.settlement(anchored, 3, "0xaa", None, KIND_SET, (key_job(),), no_revoked_key).anchor == (
        7,
        b"\x01" * 32,
    )
    reverted = Receipt(
        tx_hash="0xaa",
        status=0,
        block_number=10,
        block_hash="0xbb",
        gas_used=50_000,
        effective_gas_price=2,
        log_anchor=(7, b"\x01" * 32),
    )
    assert receipts.settlement(reverted, 3, "0xaa", "NotOwner()", KIND_SET, (key_job(),), no_revoked_key).anchor is None


def test_a_receipt_already_recorded_is_not_newly_mined() -> None:
    mined = TxItem(signer="0x", nonce=3, state=STATE_MINED, kind=KIND_SET, block_hash="0xbb", mined_hash="0xaa")
    assert not receipts.newly_mined(mined, receipt()) and receipts.newly_mined(mined, receipt(tx_hash="0xcc"))


# ---------------------------------------------------------------- bumping


def test_a_transaction_is_bumped_only_after_waiting_and_only_if_it_blocks_the_queue() -> None:
    assert not bumping.bump_due(10, 60, True, True, lambda: pytest.fail("read the market"))
    assert bumping.bump_due(60, 60, True, True, lambda: pytest.fail("read the market"))
    assert not bumping.bump_due(60, 60, False, True, lambda: False)
    assert bumping.bump_due(60, 60, False, True, lambda: True)


def test_a_replacement_pays_at_least_ten_percent_more_on_both_fees() -> None:
    offer = bumping.bump(Fees(100, 10), Market(base_fee=1, tip=1), 10**9)
    assert offer.fees == Fees(110, 11) and not offer.cap_reached


def test_at_the_fee_cap_a_transaction_waits_and_the_alarm_fires() -> None:
    assert bumping.bump(Fees(100, 10), Market(base_fee=1, tip=1), 105) == bumping.Bump(None, True)


def test_a_replacements_max_fee_is_capped_so_gas_times_max_fee_plus_the_l1_fee_stays_within_the_cost_cap() -> None:
    # Given a fee cap of 1,000 wei per gas, a cost cap of 100,000 wei and 50 gas
    # When the replacement the fee cap allows would pay 20,000 wei of L1 data fee
    # Then its maxFeePerGas may be at most (100,000 - 20,000) // 50 = 1,600, so the fee cap (1,000) stands
    assert bumping.max_fee_cap(1_000, 100_000, 50, 20_000) == 1_000
    # And with 80,000 wei of L1 data fee at most (100,000 - 80,000) // 50 = 400
    assert bumping.max_fee_cap(1_000, 100_000, 50, 80_000) == 400
    # And an L1 fee over the cost cap alone leaves no room at all
    assert bumping.max_fee_cap(1_000, 100_000, 50, 150_000) == 0
    # And with no replacement to price (None), the fee cap stands
    assert bumping.max_fee_cap(1_000, 100_000, 50, None) == 1_000


def test_a_replacements_max_fee_under_the_cost_cap_is_rounded_down_to_a_whole_wei() -> None:
    # (100,001 - 80,000) / 50 = 400.02 wei per gas: 400, an integer (a fee is a whole number of wei)
    cap = bumping.max_fee_cap(10_000, 100_001, 50, 80_000)
    assert cap == 400 and isinstance(cap, int)


def test_an_l1_fee_over_the_cost_cap_leaves_no_fee_per_gas_at_all() -> None:
    assert bumping.max_fee_cap(1_000, 100, 1, 150) == 0
    assert bumping.max_fee_cap(1_000, 100, 1, 100) == 0


def test_a_stuck_transaction_whose_bump_would_pass_the_cost_cap_with_its_l1_fee_is_held_at_that_cap() -> None:
    # Given a transaction sent at maxFeePerGas 100 with 50 gas, and room for 104 per gas once its L1 fee is counted
    cap = bumping.max_fee_cap(10**9, 50 * 104 + 1_000, 50, 1_000)
    # When it is bumped, the +10% (110) does not fit: it waits, and the fee cap alarm fires
    assert cap == 104 and bumping.bump(Fees(100, 10), Market(base_fee=1, tip=1), cap) == bumping.Bump(None, True)
    # And with room for 200 per gas it is replaced at +10%, well within it
    assert bumping.bump(
        Fees(100, 10), Market(base_fee=1, tip=1), bumping.max_fee_cap(10**9, 50 * 200 + 1_000, 50, 1_000)
    ) == bumping.Bump(Fees(110, 11), False)


def test_a_transaction_is_lost_only_once_its_nonce_is_used_confirmations_deep() -> None:
    assert (
        bumping.lost_check_block(head=20, confirmations=3) == 18
        and bumping.lost_check_block(head=1, confirmations=3) == 0
    )
    assert bumping.lost(5, 6) and not bumping.lost(5, 5)


def test_a_reservation_is_taken_over_only_after_its_lease() -> None:
    assert not bumping.lease_expired(now=130, reserved_at=100, nonce_lease_s=30)
    assert bumping.lease_expired(now=131, reserved_at=100, nonce_lease_s=30)
