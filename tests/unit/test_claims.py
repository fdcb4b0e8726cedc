"""What a delivered job means and what its claim writes (chalicelib/chain/decisions/claims.py), over plain data.

Each test states the whole answer (the verdict, the outcome, the record writes with their conditions): a write that
names another record, drops its condition or its reason is a different write. test_decisions.py has the first
specification of these decisions; this file adds the boundaries and the paths it does not reach.
"""

import pytest

from chalicelib.chain.decisions import claims
from chalicelib.model import (
    JOB_REVOKE_KEY,
    JOB_SET_KEY,
    KIND_KEY,
    KIND_NOOP,
    KIND_REVOCATION,
    STATE_LOST,
    STATE_MINED,
    STATE_RESERVED,
    STATE_SIGNED,
    Attempt,
    Job,
    Record,
    StatusChange,
    TxItem,
)
from dmtp_protocol.cid import cid_for_bytes

WALLET = "0x" + "ab" * 20
CID = cid_for_bytes(b"key one")
CID2 = cid_for_bytes(b"key two")
UNCLAIMED = ("pinned", "queued")
CLAIMED = ("submitted",)
NEWER_KEY_ON_ITS_WAY = "version 3 of this wallet's key is on its way; the revocation waits until it is confirmed"


def key_job(version: int = 1, cid: str = CID) -> Job:
    return Job(WALLET, version, cid, JOB_SET_KEY)


def revoke_job(version: int = 2, cid: str = CID) -> Job:
    return Job(WALLET, version, cid, JOB_REVOKE_KEY)


def record(
    version: int,
    status: str,
    kind: str = KIND_KEY,
    cid: str = CID,
    nonce: int | None = None,
    next_version: int | None = None,
) -> Record:
    return Record(WALLET, version, cid, "", status, 0, 0, kind=kind, nonce=nonce, next_version=next_version)


def item(
    nonce: int,
    state: str = STATE_SIGNED,
    entries: tuple[Job, ...] = (),
    kind: str = "set",
    block_number: int | None = None,
) -> TxItem:
    return TxItem(
        signer="0x" + "5a" * 20,
        nonce=nonce,
        state=state,
        kind=kind,
        entries=entries,
        block_number=block_number,
        attempts=(Attempt("0x" + "11" * 32, 100, 10, 0.0),),
    )


def nothing(nonce: int) -> TxItem | None:
    raise AssertionError(f"read the item at nonce {nonce} though the decision does not need it")


def no_versions() -> list[Record]:
    raise AssertionError("read the wallet's versions though the decision does not need them")


def not_asked() -> bool:
    raise AssertionError("asked whether it waits in vain though the decision does not need it")


def release(job: Job, nonce: int, reason: str) -> StatusChange:
    """The write that releases a claim at `nonce`: queued again from that claim only, with the reason."""
    return StatusChange(job.wallet, job.version, "queued", CLAIMED, (("error", reason),), nonce)


def back(job: Job, nonce: int, reason: str) -> claims.Outcome:
    """What releasing a claim at `nonce` looks like: that write, and the job delivered again."""
    return claims.Outcome(False, change=release(job, nonce, reason), retry=claims.RETRY_WAIT, reason=reason)


def expect_own(job: Job) -> tuple[tuple[str, str], ...]:
    return (("cid", job.cid), ("kind", KIND_REVOCATION if job.kind == JOB_REVOKE_KEY else KIND_KEY))


# ---------------------------------------------------------------- the verdicts' record writes


def test_a_superseded_unclaimed_job_ends_superseded_from_unclaimed_only() -> None:
    assert claims.superseded(key_job(1)) == claims.Outcome(
        True, change=StatusChange(WALLET, 1, "superseded", UNCLAIMED, expect_nonce=None)
    )


def test_a_superseded_claimed_job_ends_superseded_only_while_still_claimed_at_its_nonce() -> None:
    assert claims.superseded(key_job(1), claimed_at=7) == claims.Outcome(
        True, change=StatusChange(WALLET, 1, "superseded", CLAIMED, expect_nonce=7)
    )


def test_a_write_the_contract_refuses_fails_the_unclaimed_record_with_the_reason() -> None:
    error = "contract refused the write: NotCurrentKey(0)"
    assert claims.refused(revoke_job(2), "NotCurrentKey(0)") == claims.Outcome(
        True, change=StatusChange(WALLET, 2, "failed", UNCLAIMED, (("error", error),), None), reason=error
    )


def test_a_write_the_contract_refuses_after_its_claim_fails_the_record_only_at_that_claim() -> None:
    error = "contract refused the write: InvalidVersion()"
    assert claims.refused(key_job(3), "InvalidVersion()", claimed_at=9) == claims.Outcome(
        True, change=StatusChange(WALLET, 3, "failed", CLAIMED, (("error", error),), 9), reason=error
    )


def test_a_wallets_first_key_claimed_from_unclaimed_writes_the_hash_nonce_and_its_own_document_as_conditions() -> None:
    assert claims.claim(key_job(1), "0xhash", 5, None) == StatusChange(
        WALLET,
        1,
        "submitted",
        UNCLAIMED,
        (("tx_hash", "0xhash"), ("nonce", 5)),
        None,
        (("cid", CID), ("kind", "key")),
        ("next_version",),
    )


def test_a_later_key_is_claimed_whether_or_not_a_newer_version_exists() -> None:
    # The "no newer version" condition holds only a wallet's first key (its only version so far)
    assert claims.claim(key_job(2), "0xhash", 5, None).absent == ()


def test_a_revocation_is_claimed_as_a_revocation_record_whether_or_not_a_newer_version_exists() -> None:
    change = claims.claim(revoke_job(2), "0xhash", 5, None)
    assert change.expect == (("cid", CID), ("kind", "revocation")) and change.absent == ()


def test_a_first_key_found_at_a_dead_nonce_is_claimed_from_that_claim_without_the_newer_version_condition() -> None:
    assert claims.claim(key_job(1), "0xhash", 8, 4) == StatusChange(
        WALLET,
        1,
        "submitted",
        CLAIMED,
        (("tx_hash", "0xhash"), ("nonce", 8)),
        4,
        (("cid", CID), ("kind", "key")),
        (),
    )


# ---------------------------------------------------------------- delivered: what a job means when the batch is planned


def test_a_job_with_a_malformed_cid_goes_back_with_the_error_instead_of_out_in_a_transaction() -> None:
    verdict = claims.delivered(key_job(cid="not-a-cid"), {}, 1, set(), nothing, no_versions)
    assert verdict == claims.Verdict(
        claims.Outcome(False, retry=claims.RETRY_ERROR, reason="InvalidCid: not a base32 CIDv1")
    )


def test_a_revocation_without_a_record_goes_back_as_an_error() -> None:
    verdict = claims.delivered(revoke_job(2), {}, 0, set(), nothing, no_versions)
    assert verdict == claims.Verdict(claims.Outcome(False, retry=claims.RETRY_ERROR, reason=f"no record {WALLET} v2"))


def test_a_job_naming_another_document_than_its_record_is_not_acknowledged() -> None:
    verdict = claims.delivered(key_job(cid=CID2), {(WALLET, 1): record(1, "queued")}, 1, set(), nothing, no_versions)
    assert verdict.outcome is not None and verdict.outcome.ack is False


def test_a_job_whose_record_was_released_from_a_claim_is_claimed_from_unclaimed_without_reading_its_old_nonce() -> None:
    # Given a record released (queued again) from its claim at nonce 7: it keeps that nonce attribute
    released = record(1, "queued", nonce=7)
    # When it is delivered again, it is claimed from unclaimed, and nonce 7 is not looked at
    assert claims.delivered(key_job(), {(WALLET, 1): released}, 1, set(), nothing, no_versions) == claims.Verdict()


def test_a_job_claimed_at_a_lost_nonce_is_claimed_again_from_there() -> None:
    lost = item(7, state=STATE_LOST, entries=(key_job(),))
    verdict = claims.delivered(
        key_job(), {(WALLET, 1): record(1, "submitted", nonce=7)}, 1, set(), {7: lost}.get, no_versions
    )
    assert verdict == claims.Verdict(None, reclaim_from=7)


def test_a_job_claimed_at_a_nonce_with_no_item_is_claimed_again_from_there() -> None:
    verdict = claims.delivered(
        key_job(), {(WALLET, 1): record(1, "submitted", nonce=7)}, 1, set(), {7: None}.get, no_versions
    )
    assert verdict == claims.Verdict(None, reclaim_from=7)


def test_a_duplicate_carried_by_a_mined_transaction_is_acknowledged_without_sending_it_again() -> None:
    mined = item(7, state=STATE_MINED, entries=(key_job(),), block_number=12)
    verdict = claims.delivered(
        key_job(), {(WALLET, 1): record(1, "submitted", nonce=7)}, 1, set(), {7: mined}.get, no_versions
    )
    assert verdict == claims.Verdict(claims.Outcome(True), rebroadcast=None)


def test_a_revocation_found_at_a_dead_nonce_waits_for_a_newer_key_of_the_batch_keeping_that_nonce() -> None:
    records = {(WALLET, 2): record(2, "submitted", KIND_REVOCATION, nonce=7), (WALLET, 1): record(1, "confirmed")}
    verdict = claims.delivered(revoke_job(2), records, 3, set(), {7: None}.get, no_versions)
    assert verdict == claims.Verdict(
        claims.Outcome(False, retry=claims.RETRY_WAIT, reason=NEWER_KEY_ON_ITS_WAY), reclaim_from=7
    )


def test_a_key_found_at_a_dead_nonce_is_superseded_from_that_claim_by_a_newer_key_of_the_batch() -> None:
    verdict = claims.delivered(
        key_job(1), {(WALLET, 1): record(1, "submitted", nonce=7)}, 2, set(), {7: None}.get, no_versions
    )
    assert verdict == claims.Verdict(claims.superseded(key_job(1), claimed_at=7), reclaim_from=7)


def test_a_revocation_found_at_a_dead_nonce_whose_key_failed_is_superseded_from_that_claim_by_a_confirmed_newer_key() -> (
    None
):
    records = {(WALLET, 2): record(2, "submitted", KIND_REVOCATION, nonce=7), (WALLET, 1): record(1, "failed")}
    verdict = claims.delivered(
        revoke_job(2), records, 0, set(), {7: None}.get, lambda: [record(3, "confirmed", cid=CID2)]
    )
    assert verdict == claims.Verdict(claims.superseded(revoke_job(2), claimed_at=7), reclaim_from=7)


def test_a_revocation_whose_key_is_confirmed_goes_out() -> None:
    records = {(WALLET, 2): record(2, "queued", KIND_REVOCATION), (WALLET, 1): record(1, "confirmed")}
    assert claims.delivered(revoke_job(2), records, 0, set(), nothing, no_versions) == claims.Verdict()


def test_a_revocation_whose_key_is_claimed_at_a_nonce_goes_out() -> None:
    records = {(WALLET, 2): record(2, "queued", KIND_REVOCATION), (WALLET, 1): record(1, "submitted", nonce=4)}
    assert claims.delivered(revoke_job(2), records, 0, set(), nothing, no_versions) == claims.Verdict()


def test_a_revocation_whose_key_goes_out_in_the_same_batch_goes_out() -> None:
    records = {(WALLET, 2): record(2, "queued", KIND_REVOCATION), (WALLET, 1): record(1, "queued")}
    verdict = claims.delivered(revoke_job(2), records, 0, {(WALLET, 1)}, nothing, no_versions)
    assert verdict == claims.Verdict()


def test_a_revocation_waits_when_the_batch_holds_another_version_than_its_key() -> None:
    records = {
        (WALLET, 3): record(3, "queued", KIND_REVOCATION, cid=CID2),
        (WALLET, 2): record(2, "queued", cid=CID2),
    }
    verdict = claims.delivered(revoke_job(3, CID2), records, 0, {(WALLET, 1), (WALLET, 4)}, nothing, no_versions)
    assert verdict.outcome is not None and verdict.outcome.retry == claims.RETRY_WAIT


def test_a_revocation_whose_key_record_is_missing_waits_for_it() -> None:
    records = {(WALLET, 2): record(2, "queued", KIND_REVOCATION)}
    verdict = claims.delivered(revoke_job(2), records, 0, {(WALLET, 1)}, nothing, no_versions)
    assert verdict == claims.Verdict(
        claims.Outcome(False, retry=claims.RETRY_WAIT, reason="the key it revokes is not on its way to the chain yet")
    )


def test_a_revocation_found_at_a_dead_nonce_waits_for_its_key_keeping_that_nonce() -> None:
    records = {(WALLET, 2): record(2, "submitted", KIND_REVOCATION, nonce=7), (WALLET, 1): record(1, "queued")}
    verdict = claims.delivered(revoke_job(2), records, 0, set(), {7: None}.get, no_versions)
    assert verdict == claims.Verdict(
        claims.Outcome(False, retry=claims.RETRY_WAIT, reason="the key it revokes is not on its way to the chain yet"),
        reclaim_from=7,
    )


# ---------------------------------------------------------------- a revocation whose key will never land


def test_a_revocation_whose_key_failed_waits_while_a_newer_key_is_on_its_way() -> None:
    outcome = claims.after_newer_key(revoke_job(2), [record(3, "submitted", cid=CID2, nonce=9)], None)
    assert outcome == claims.Outcome(False, retry=claims.RETRY_WAIT, reason=claims.WAIT_FOR_NEWER_KEY)


def test_a_revocation_whose_key_failed_is_superseded_from_its_claim_once_a_newer_key_is_confirmed() -> None:
    outcome = claims.after_newer_key(revoke_job(2), [record(3, "confirmed", cid=CID2)], 7)
    assert outcome == claims.superseded(revoke_job(2), claimed_at=7)


def test_older_keys_and_newer_revocations_do_not_supersede_a_revocation_whose_key_failed() -> None:
    versions = [record(1, "confirmed"), record(3, "confirmed", KIND_REVOCATION), record(4, "queued", KIND_REVOCATION)]
    assert claims.after_newer_key(revoke_job(2), versions, None) is None


def test_a_revocation_whose_key_failed_waits_in_vain_when_the_newer_keys_failed_too() -> None:
    versions = [record(3, "failed", cid=CID2), record(4, "superseded", cid=CID2)]
    assert claims.after_newer_key(revoke_job(2), versions, None) is None


def test_only_a_revocation_can_wait_in_vain() -> None:
    assert not claims.waits_in_vain(key_job(2), record(1, "failed"), no_versions, None)


def test_a_revocation_whose_key_failed_with_no_newer_key_waits_in_vain() -> None:
    assert claims.waits_in_vain(revoke_job(2), record(1, "failed"), lambda: [], None)
    assert claims.waits_in_vain(revoke_job(2), record(1, "superseded"), lambda: [record(3, "failed", cid=CID2)], 7)


def test_a_revocation_whose_key_is_missing_or_alive_does_not_wait_in_vain_nor_reads_the_versions() -> None:
    for revoked in (None, record(1, "queued"), record(1, "submitted", nonce=4), record(1, "confirmed")):
        assert not claims.waits_in_vain(revoke_job(2), revoked, no_versions, None)


@pytest.mark.parametrize("newer", ["queued", "confirmed"])
def test_a_revocation_whose_key_failed_does_not_wait_in_vain_while_a_newer_key_is_on_its_way_or_confirmed(
    newer: str,
) -> None:
    assert not claims.waits_in_vain(revoke_job(2), record(1, "failed"), lambda: [record(3, newer, cid=CID2)], 7)


# ---------------------------------------------------------------- a claim whose conditional write failed


def test_a_lost_claim_whose_record_is_gone_goes_back_as_an_error() -> None:
    attempted = claims.claim(key_job(), "0xhash", 5, None)
    verdict = claims.lost_claim(key_job(), None, attempted, nothing)
    assert verdict == claims.Verdict(claims.Outcome(False, retry=claims.RETRY_ERROR, reason=f"no record {WALLET} v1"))


def test_a_lost_claim_on_a_record_claimed_at_a_dead_nonce_takes_it_over_from_that_nonce_with_the_same_writes() -> None:
    attempted = claims.claim(key_job(2), "0xhash", 5, None)
    verdict = claims.lost_claim(key_job(2), record(2, "submitted", nonce=4), attempted, {4: None}.get)
    assert verdict == claims.Verdict(
        takeover=StatusChange(WALLET, 2, "submitted", CLAIMED, (("tx_hash", "0xhash"), ("nonce", 5)), 4)
    )


def test_a_lost_claim_on_a_record_that_changed_but_is_unclaimed_goes_back_to_wait() -> None:
    # Given a first key's claim (conditional on no newer version) that lost to a write that left it unclaimed, with
    # no newer version and an old nonce attribute from a released claim
    attempted = claims.claim(key_job(1), "0xhash", 5, None)
    now = record(1, "queued", nonce=3)
    # Then it is neither taken over from the old nonce nor claimed without its condition: it is delivered again
    assert claims.lost_claim(key_job(1), now, attempted, nothing) == claims.Verdict(
        claims.Outcome(False, retry=claims.RETRY_WAIT, reason=claims.RECORD_CHANGED)
    )


def test_a_lost_claim_of_a_later_key_on_a_record_with_a_newer_version_goes_back_to_wait() -> None:
    # Only a first key's claim carries the "no newer version" condition that taking over would drop
    attempted = claims.claim(key_job(2), "0xhash", 5, None)
    verdict = claims.lost_claim(key_job(2), record(2, "queued", next_version=3), attempted, nothing)
    assert verdict.outcome == claims.Outcome(False, retry=claims.RETRY_WAIT, reason=claims.RECORD_CHANGED)


# ---------------------------------------------------------------- the order of a wallet's writes after the claim


def test_a_revocation_claimed_below_a_newer_key_still_in_flight_waits_instead_of_being_superseded() -> None:
    versions = [record(2, "submitted", KIND_REVOCATION, nonce=6), record(3, "submitted", cid=CID2, nonce=9)]
    outcome = claims.order_verdict(revoke_job(2), 6, versions, nothing)
    assert outcome == back(revoke_job(2), 6, NEWER_KEY_ON_ITS_WAY)


def test_a_revocation_claimed_below_a_confirmed_newer_key_is_superseded_at_its_claim() -> None:
    versions = [record(2, "submitted", KIND_REVOCATION, nonce=6), record(3, "confirmed", cid=CID2, nonce=5)]
    assert claims.order_verdict(revoke_job(2), 6, versions, nothing) == claims.superseded(revoke_job(2), claimed_at=6)


def test_a_key_claimed_below_a_live_newer_key_is_superseded_only_at_its_claim() -> None:
    versions = [record(1, "submitted", nonce=5), record(2, "queued", cid=CID2)]
    assert claims.order_verdict(key_job(1), 5, versions, nothing) == claims.superseded(key_job(1), claimed_at=5)


def test_a_key_whose_newer_keys_failed_or_were_superseded_may_go_out() -> None:
    versions = [record(1, "submitted", nonce=5), record(2, "failed", cid=CID2), record(3, "superseded", cid=CID2)]
    assert claims.order_verdict(key_job(1), 5, versions, nothing) is None


def test_a_key_below_an_older_version_in_flight_at_a_later_nonce_releases_its_claim_naming_it() -> None:
    versions = [record(2, "submitted", cid=CID2, nonce=5), record(1, "submitted", nonce=8)]
    outcome = claims.order_verdict(key_job(2, CID2), 5, versions, nothing)
    assert outcome == back(key_job(2, CID2), 5, "version 1 is still in flight at a later nonce")


def test_its_own_record_claimed_again_at_a_later_nonce_does_not_hold_a_key_back() -> None:
    # Given its record, read after the claim at 5, already claimed again by another worker at nonce 8
    versions = [record(2, "submitted", cid=CID2, nonce=8)]
    # Then only older versions hold it back: this write may go out (the takeover's own claim sees it through)
    assert claims.order_verdict(key_job(2, CID2), 5, versions, nothing) is None


def test_an_older_version_claimed_at_an_earlier_or_the_same_nonce_does_not_hold_a_key_back() -> None:
    for older_nonce in (4, 5):
        versions = [record(2, "submitted", cid=CID2, nonce=5), record(1, "submitted", nonce=older_nonce)]
        assert claims.order_verdict(key_job(2, CID2), 5, versions, nothing) is None


def test_a_revocation_whose_key_is_not_among_the_versions_releases_its_claim() -> None:
    versions = [record(2, "submitted", KIND_REVOCATION, nonce=6)]
    outcome = claims.order_verdict(revoke_job(2), 6, versions, nothing)
    assert outcome == back(revoke_job(2), 6, "the key it revokes is not on its way to the chain before it")


@pytest.mark.parametrize(
    "key",
    [
        record(1, "queued"),  # not on its way
        record(1, "failed", nonce=4),  # will never land
        record(1, "submitted"),  # claimed, but at no nonce
        record(1, "submitted", nonce=6),  # at the revocation's own nonce
        record(1, "confirmed", nonce=9),  # landed after it
    ],
)
def test_a_revocation_whose_key_is_not_on_its_way_before_it_releases_its_claim(key: Record) -> None:
    versions = [record(2, "submitted", KIND_REVOCATION, nonce=6), key]
    outcome = claims.order_verdict(revoke_job(2), 6, versions, nothing)
    assert outcome == back(revoke_job(2), 6, "the key it revokes is not on its way to the chain before it")


def test_a_revocation_whose_key_was_confirmed_before_it_goes_out_without_reading_that_nonce() -> None:
    versions = [record(2, "submitted", KIND_REVOCATION, nonce=6), record(1, "confirmed", nonce=4)]
    assert claims.order_verdict(revoke_job(2), 6, versions, nothing) is None


@pytest.mark.parametrize(
    "at_key_nonce",
    [
        None,  # no item at all
        item(4, state=STATE_RESERVED, entries=(key_job(),)),
        item(4, state=STATE_LOST, entries=(key_job(),)),
        item(4, kind=KIND_NOOP, entries=(key_job(),)),
        item(4, entries=(key_job(2, CID2),)),  # another job
    ],
)
def test_a_revocation_whose_key_is_claimed_at_a_nonce_that_does_not_carry_it_releases_its_claim(
    at_key_nonce: TxItem | None,
) -> None:
    versions = [record(2, "submitted", KIND_REVOCATION, nonce=6), record(1, "submitted", nonce=4)]
    outcome = claims.order_verdict(revoke_job(2), 6, versions, {4: at_key_nonce}.get)
    assert outcome == back(revoke_job(2), 6, "the key it revokes is claimed at nonce 4, which does not (yet) carry it")


# ---------------------------------------------------------------- giving a job back to the queue


def test_a_job_releasing_its_own_claim_before_its_last_delivery_writes_only_that_release() -> None:
    reason = "version 1 is still in flight at a later nonce"
    releasing = back(key_job(2), 6, reason)
    given = claims.give_back(key_job(2), releasing, record(2, "submitted", nonce=6), None, False, 5, not_asked)
    assert given == claims.GiveBack([release(key_job(2), 6, reason)])


def test_a_job_claimed_at_a_dead_nonce_going_back_keeps_its_claim_and_writes_the_reason_there() -> None:
    waiting = claims.Outcome(False, retry=claims.RETRY_WAIT, reason="waiting")
    given = claims.give_back(revoke_job(2), waiting, record(2, "submitted", nonce=4), 4, False, 5, not_asked)
    assert given == claims.GiveBack(
        [StatusChange(WALLET, 2, "submitted", CLAIMED, (("error", "waiting"),), 4, expect_own(revoke_job(2)))]
    )


def test_an_unclaimed_job_going_back_is_queued_with_the_reason_while_still_unclaimed_and_its_own_record() -> None:
    failing = claims.Outcome(False, retry=claims.RETRY_ERROR, reason="boom")
    given = claims.give_back(key_job(2), failing, None, None, False, 5, not_asked)
    assert given == claims.GiveBack(
        [StatusChange(WALLET, 2, "queued", UNCLAIMED, (("error", "boom"),), expect=expect_own(key_job(2)))]
    )


def test_a_job_releasing_its_claim_to_wait_on_its_last_delivery_is_requeued_with_that_release() -> None:
    reason = "version 1 is still in flight at a later nonce"
    given = claims.give_back(key_job(2), back(key_job(2), 6, reason), None, None, True, 5, lambda: False)
    assert given == claims.GiveBack([release(key_job(2), 6, reason)], requeue=True)


def test_a_revocation_that_waits_in_vain_on_its_last_delivery_fails() -> None:
    waiting = claims.Outcome(False, retry=claims.RETRY_WAIT, reason="the key it revokes is not on its way")
    given = claims.give_back(revoke_job(2), waiting, None, None, True, 5, lambda: True)
    error = "gave up after 5 deliveries: the key it revokes is not on its way"
    assert given == claims.GiveBack(
        [StatusChange(WALLET, 2, "failed", UNCLAIMED, (("error", error),), expect=expect_own(revoke_job(2)))],
        error=error,
    )


def test_a_job_releasing_its_claim_on_its_last_delivery_fails_from_that_claim_instead() -> None:
    releasing = back(revoke_job(2), 6, "the key it revokes is not on its way to the chain before it")
    given = claims.give_back(revoke_job(2), releasing, None, None, True, 5, lambda: True)
    error = "gave up after 5 deliveries: the key it revokes is not on its way to the chain before it"
    assert given == claims.GiveBack(
        [StatusChange(WALLET, 2, "failed", CLAIMED, (("error", error),), 6, expect_own(revoke_job(2)))], error=error
    )


def test_a_job_claimed_at_a_dead_nonce_failing_on_its_last_delivery_fails_only_from_that_nonce() -> None:
    failing = claims.Outcome(False, retry=claims.RETRY_ERROR, reason="boom")
    given = claims.give_back(key_job(2), failing, record(2, "submitted", nonce=4), 4, True, 3, not_asked)
    error = "gave up after 3 deliveries: boom"
    assert given == claims.GiveBack(
        [StatusChange(WALLET, 2, "failed", CLAIMED, (("error", error),), 4, expect_own(key_job(2)))], error=error
    )
