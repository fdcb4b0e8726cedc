"""What a delivered job means, and whether the worker may claim it: pure decisions over plain data, no I/O.

The worker (worker.py) reads the records, the nonce items and the wallet's versions through its ports and asks
these functions what follows; it writes what they answer. A decision that needs a fact only on some paths takes a
lookup (`item_at`, `newer_versions`) and calls it only there, so the worker reads exactly what it needs, once.

Invariants these decisions rely on (kept by records.py, transactions.py and nonces.py):
- a record is claimed (status `submitted`) at one nonce at a time, and every claim write is conditional on the
  status (and nonce) the worker last saw, so a verdict computed from a stale read can only lose its write;
- a nonce item carries its jobs (`entries`) only once signed; a reserved item names the jobs it was reserved for
  (`candidates`); a lost, no-op or missing item will never carry any job;
- a wallet's versions are numbered 1, 2, ... without gaps; writing version n+1 sets `next_version` on version n
  in the same transaction;
- a revocation of version n-1 has version n and the key's CID; a key supersedes every older write of its wallet
  (the contract keeps one current key per wallet), but a revocation only once that newer key is confirmed (should
  the newer key fail, the revoked, perhaps compromised, key would stay live on chain).

Residual race: every verdict is only as fresh as the reads behind it. Two workers may both decide to claim the same
job; the conditional claim write lets one win and the loser is re-read (`lost_claim`). Two workers may claim
versions of one wallet at crossed nonces; each checks the order after its own claim (`order_verdict`), so at least
one of them sees the other and steps back (both may: the job then comes back and goes out on a later delivery).
"""

from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field, replace

from chalicelib.model import (
    FINAL_STATUSES,
    JOB_REVOKE_KEY,
    JOB_SET_KEY,
    KIND_KEY,
    KIND_NOOP,
    KIND_REVOCATION,
    OPEN_STATUSES,
    STATE_LOST,
    STATE_RESERVED,
    STATUS_CONFIRMED,
    STATUS_FAILED,
    STATUS_QUEUED,
    STATUS_SUBMITTED,
    STATUS_SUPERSEDED,
    UNCLAIMED_STATUSES,
    Job,
    Record,
    StatusChange,
    TxItem,
)
from dmtp_protocol.cid import digest_from_cid

Key = tuple[str, int]  # (lowercase wallet, version)
UNCLAIMED = UNCLAIMED_STATUSES
ItemAt = Callable[[int], TxItem | None]  # the nonce item at a nonce (TxStore.get)

# Why a job goes back to the queue (its last delivery treats each differently).
RETRY_WAIT = "wait"  # a revocation whose key is not on its way yet; a race lost to an older version
RETRY_PAUSED = "paused"  # the owner cannot pay
RETRY_ERROR = "error"  # anything else

WAIT_FOR_NEWER_KEY = "a newer key of this wallet is on its way; the revocation waits until it is confirmed"
RECORD_CHANGED = "its record changed while it was being claimed"


@dataclass
class Outcome:
    """What becomes of one job in this batch: acknowledged (with a record write, maybe) or back to the queue."""

    ack: bool
    change: StatusChange | None = None
    retry: str | None = None  # RETRY_* when not acked
    reason: str | None = None


@dataclass(frozen=True)
class Verdict:
    """A delivered job's meaning. `outcome` None: it should go out in a transaction (claimed from `reclaim_from`,
    when set: a nonce that will never carry it). `rebroadcast`: the transaction that carries it, unmined, whose
    worker may have died before sending it. `takeover`: claim it again with this write (the first claim lost)."""

    outcome: Outcome | None = None
    reclaim_from: int | None = None
    rebroadcast: TxItem | None = None
    takeover: StatusChange | None = None


def key_of(job: Job) -> Key:
    return (job.wallet.lower(), job.version)


def record_kind(job: Job) -> str:
    return KIND_KEY if job.kind == JOB_SET_KEY else KIND_REVOCATION


def superseded(job: Job, claimed_at: int | None = None) -> Outcome:
    """A newer key of the wallet goes on chain instead: no transaction, the record ends `superseded`."""
    only_from = (STATUS_SUBMITTED,) if claimed_at is not None else UNCLAIMED
    return Outcome(
        True, change=StatusChange(job.wallet, job.version, STATUS_SUPERSEDED, only_from, expect_nonce=claimed_at)
    )


def refused(job: Job, reason: str, claimed_at: int | None = None) -> Outcome:
    """The contract refuses this write (not the owner: that is OwnerMismatch, and no job's fault): it fails now."""
    error = f"contract refused the write: {reason}"
    only_from = (STATUS_SUBMITTED,) if claimed_at is not None else UNCLAIMED
    return Outcome(
        True,
        change=StatusChange(job.wallet, job.version, STATUS_FAILED, only_from, (("error", error),), claimed_at),
        reason=error,
    )


def mismatch(job: Job, record: Record) -> Outcome | None:
    """A job that names another document than its record (a forged or stale message): retried, never written."""
    if record.kind != record_kind(job) or record.cid != job.cid:
        return Outcome(
            False,
            retry=RETRY_ERROR,
            reason=f"job ({job.kind}, {job.cid}) does not match record ({record.kind}, {record.cid})",
        )
    return None


def _missing(job: Job) -> Outcome:
    return Outcome(False, retry=RETRY_ERROR, reason=f"no record {job.wallet} v{job.version}")


def unbacked(job: Job, record: Record | None) -> Outcome | None:
    """A job no record stands behind (none, or one naming another document): it can never go out, and is retried
    (its last delivery fails nothing: there is no record to fail). None when `record` backs it."""
    return _missing(job) if record is None else mismatch(job, record)


def held_by(job: Job, item: TxItem | None) -> Verdict:
    """A job whose record is claimed at `item`'s nonce (a duplicate delivery): acknowledged while that nonce carries
    it, delivered again (RETRY_WAIT) while a worker has reserved that nonce for it but not stored it yet; `outcome`
    None when the nonce will never carry it (lost, a no-op, gone, or carrying other jobs)."""
    if item is None or item.state == STATE_LOST or item.kind == KIND_NOOP:
        return Verdict()
    if item.state == STATE_RESERVED:
        # Another worker is between reserving and storing: it may yet store it (then the monitor sees it through),
        # die (the monitor re-queues it) or step back (its order check, a shrunk payload) and count on this very
        # message coming back: one SQS message is held by two workers once a batch outlives its visibility
        # timeout, and an ack here deleted it under the other (the job stayed queued with no message). So it is
        # delivered again, and settled once that nonce's fate is known.
        if any(key_of(c) == key_of(job) for c in item.candidates):
            return Verdict(
                Outcome(
                    False,
                    retry=RETRY_WAIT,
                    reason=f"nonce {item.nonce} is reserved for it by a worker that has not stored it yet",
                )
            )
        return Verdict()
    if not item.carries(job.wallet, job.version):
        return Verdict()
    return Verdict(Outcome(True), rebroadcast=item if item.block_number is None else None)


def after_newer_key(job: Job, versions: list[Record], claimed_at: int | None) -> Outcome | None:
    """A revocation whose key will never reach the chain itself (failed or superseded), given the wallet's newest
    versions: superseded once a newer key is confirmed, waiting while one is on its way, None when there is none
    (it waits in vain, and on its last delivery fails with the reason)."""
    newer = [r for r in versions if r.version > job.version and r.kind == KIND_KEY]
    if any(r.status == STATUS_CONFIRMED for r in newer):
        return superseded(job, claimed_at)
    if any(r.status in OPEN_STATUSES for r in newer):
        return Outcome(False, retry=RETRY_WAIT, reason=WAIT_FOR_NEWER_KEY)
    return None


def delivered(
    job: Job,
    records: Mapping[Key, Record],
    newest_key_here: int,
    jobs_here: Container[Key],
    item_at: ItemAt,
    newer_versions: Callable[[], list[Record]],
) -> Verdict:
    """What a delivered job means when the batch is planned.

    `records` holds what was read: the job's own record when it was delivered before (a likely duplicate) or is a
    revocation, and a revocation's key (version - 1). A first delivery has no record read: its claim's condition
    checks the record, and `lost_claim` explains a claim that fails. `newest_key_here` is the newest key version of
    the job's wallet in this batch; `jobs_here` the batch's jobs. `item_at` is read only for a record claimed at a
    nonce, `newer_versions` (the wallet's newest records) only for a revocation whose key failed or was superseded.
    """
    try:
        digest_from_cid(job.cid)
    except ValueError as exc:
        return Verdict(Outcome(False, retry=RETRY_ERROR, reason=f"{type(exc).__name__}: {exc}"))
    key = key_of(job)
    reclaim_from: int | None = None
    if key in records or job.kind == JOB_REVOKE_KEY:
        record = records.get(key)
        settled = settled_or_held(job, record, item_at)
        if settled is not None:
            return settled
        if record is not None and record.status == STATUS_SUBMITTED and record.nonce is not None:
            reclaim_from = record.nonce  # claimed at a nonce that will never carry it
    if newest_key_here > job.version:  # a newer key of this wallet goes out in this very batch
        if job.kind == JOB_REVOKE_KEY:  # superseded only once that key is confirmed: it may yet fail
            reason = f"version {newest_key_here} of this wallet's key is on its way; the revocation waits until it is confirmed"
            return Verdict(Outcome(False, retry=RETRY_WAIT, reason=reason), reclaim_from)
        return Verdict(superseded(job, reclaim_from), reclaim_from)
    if job.kind == JOB_REVOKE_KEY:
        revoked = records.get((key[0], job.version - 1))
        if revoked is not None and revoked.status in (STATUS_FAILED, STATUS_SUPERSEDED):
            outcome = after_newer_key(job, newer_versions(), reclaim_from)
            if outcome is not None:
                return Verdict(outcome, reclaim_from)
        if revoked is None or (
            revoked.status not in (STATUS_SUBMITTED, STATUS_CONFIRMED) and (key[0], job.version - 1) not in jobs_here
        ):
            return Verdict(
                Outcome(False, retry=RETRY_WAIT, reason="the key it revokes is not on its way to the chain yet"),
                reclaim_from,
            )
    return Verdict(None, reclaim_from)


def claim(job: Job, tx_hash: str, nonce: int, reclaim_from: int | None) -> StatusChange:
    """The write that claims a job for `nonce`: from unclaimed, or from the dead nonce it was found at. A wallet's
    first key, claimed while it has no `next_version`, is the wallet's only version: the claim alone orders it."""
    only_from = (STATUS_SUBMITTED,) if reclaim_from is not None else UNCLAIMED
    changes = (("tx_hash", tx_hash), ("nonce", nonce))
    latest_only = ("next_version",) if job.kind == JOB_SET_KEY and job.version == 1 and reclaim_from is None else ()
    return StatusChange(
        job.wallet,
        job.version,
        STATUS_SUBMITTED,
        only_from,
        changes,
        reclaim_from,
        (("cid", job.cid), ("kind", record_kind(job))),
        latest_only,
    )


def settled_or_held(job: Job, record: Record | None, item_at: ItemAt) -> Verdict | None:
    """What a job's record as read says on its own: missing, not this job's, final, or claimed at a nonce whose
    item still carries it (or is reserved for it); None when the job is still to be claimed, from no nonce or from
    one that will never carry it. `item_at` is read only for a record claimed at a nonce."""
    if record is None:
        return Verdict(_missing(job))
    wrong = mismatch(job, record)
    if wrong is not None:
        return Verdict(wrong)
    if record.status in FINAL_STATUSES:
        return Verdict(Outcome(True))
    if record.status == STATUS_SUBMITTED and record.nonce is not None:
        held = held_by(job, item_at(record.nonce))
        if held.outcome is not None:
            return held
    return None


def lost_claim(job: Job, record: Record | None, attempted: StatusChange, item_at: ItemAt) -> Verdict:
    """A claim whose write failed, given the record as it is now: settled already, held by another nonce, not this
    job's record, or claimed at a nonce that will never carry it (`takeover`: claim it from there). A first key's
    claim also fails once a second version exists: it is claimed again without that condition (`takeover`), and
    its order is checked after."""
    settled = settled_or_held(job, record, item_at)
    if settled is not None or record is None:  # (settled_or_held answers a missing record)
        return settled or Verdict(_missing(job))
    if record.status == STATUS_SUBMITTED and record.nonce is not None:  # at a nonce that will never carry it
        return Verdict(
            takeover=StatusChange(
                job.wallet, job.version, STATUS_SUBMITTED, (STATUS_SUBMITTED,), attempted.changes, record.nonce
            )
        )
    if record.status in UNCLAIMED and record.next_version is not None and attempted.absent:
        return Verdict(takeover=replace(attempted, absent=()))  # a newer version exists: claim, then check the order
    return Verdict(Outcome(False, retry=RETRY_WAIT, reason=RECORD_CHANGED))


def order_verdict(job: Job, nonce: int, versions: list[Record], item_at: ItemAt) -> Outcome | None:
    """After claiming `job` at `nonce`, given the wallet's newest versions (read after the claim): None when its
    write may go out; else what becomes of it. A wallet's writes must land in version order, a revocation after its
    key: a newer live key supersedes a key (it lands after this one, or already has, or will go out later) and holds
    back a revocation until it is confirmed; an older version still in flight at a later nonce holds this one back.
    `item_at` is read only for a revocation whose key is claimed at an earlier nonce (does it really carry it?)."""
    for other in versions:
        if (
            other.version > job.version
            and other.kind == KIND_KEY
            and other.status not in (STATUS_FAILED, STATUS_SUPERSEDED)
        ):
            if job.kind == JOB_REVOKE_KEY and other.status != STATUS_CONFIRMED:
                # Should that key fail, the key this revokes (perhaps compromised) would stay live: wait for it.
                return _back(
                    job,
                    nonce,
                    f"version {other.version} of this wallet's key is on its way; the revocation waits until it is confirmed",
                )
            return superseded(job, claimed_at=nonce)
        if (
            other.version < job.version
            and other.status == STATUS_SUBMITTED
            and other.nonce is not None
            and other.nonce > nonce
        ):
            return _back(job, nonce, f"version {other.version} is still in flight at a later nonce")
    if job.kind == JOB_REVOKE_KEY:
        key = next((r for r in versions if r.version == job.version - 1), None)
        if (
            key is None
            or key.status not in (STATUS_SUBMITTED, STATUS_CONFIRMED)
            or key.nonce is None
            or key.nonce >= nonce
        ):
            return _back(job, nonce, "the key it revokes is not on its way to the chain before it")
        if key.status == STATUS_SUBMITTED:  # claimed at an earlier nonce: only if that nonce really carries it
            item = item_at(key.nonce)
            if (
                item is None
                or item.state in (STATE_RESERVED, STATE_LOST)
                or item.kind == KIND_NOOP
                or not item.carries(key.wallet, key.version)
            ):
                return _back(
                    job, nonce, f"the key it revokes is claimed at nonce {key.nonce}, which does not (yet) carry it"
                )
    return None


def _back(job: Job, nonce: int, reason: str) -> Outcome:
    """Release its claim at `nonce` (queued again, with the reason) and deliver it again."""
    change = StatusChange(job.wallet, job.version, STATUS_QUEUED, (STATUS_SUBMITTED,), (("error", reason),), nonce)
    return Outcome(False, change=change, retry=RETRY_WAIT, reason=reason)


@dataclass
class GiveBack:
    """A job going back to the queue: the record writes, whether to enqueue it as a new message (it only waits,
    and must not reach the dead-letter queue), and the error it fails with on its last delivery."""

    changes: list[StatusChange] = field(default_factory=list)
    requeue: bool = False
    error: str | None = None


def give_back(
    job: Job,
    outcome: Outcome,
    record: Record | None,
    dead_nonce: int | None,
    last: bool,
    max_receive_count: int,
    waits_in_vain: Callable[[], bool],
) -> GiveBack:
    """What a job that goes back to the queue writes. Before its last delivery: its reason (or the release of its
    own claim). On its last: queued anew as a fresh message when it only waits (paused worker, revocation behind its
    key) and not in vain (`waits_in_vain` is asked only then), else failed with the reason. Every write holds only for
    this job's own record (its CID and kind), and only while no live nonce carries it: unclaimed, or claimed at the
    dead nonce this batch found it at (`dead_nonce`), or at the claim it is releasing."""
    released = [outcome.change] if outcome.change is not None else []
    expect = (("cid", job.cid), ("kind", record_kind(job)))
    if not last:
        if outcome.change is not None:
            return GiveBack(released)
        if record is not None and record.status == STATUS_SUBMITTED:  # claimed at a dead nonce: leave its claim
            return GiveBack(
                [
                    StatusChange(
                        job.wallet,
                        job.version,
                        STATUS_SUBMITTED,
                        (STATUS_SUBMITTED,),
                        (("error", outcome.reason),),
                        record.nonce,
                        expect,
                    )
                ]
            )
        return GiveBack(
            [
                StatusChange(
                    job.wallet, job.version, STATUS_QUEUED, UNCLAIMED, (("error", outcome.reason),), expect=expect
                )
            ]
        )
    if outcome.retry in (RETRY_PAUSED, RETRY_WAIT) and not waits_in_vain():
        return GiveBack(released, requeue=True)
    error = f"gave up after {max_receive_count} deliveries: {outcome.reason}"
    if (
        outcome.change is not None
    ):  # it was releasing its own claim: fail it from that claim instead (one write per record)
        return GiveBack(
            [
                StatusChange(
                    job.wallet,
                    job.version,
                    STATUS_FAILED,
                    outcome.change.only_from,
                    (("error", error),),
                    outcome.change.expect_nonce,
                    expect,
                )
            ],
            error=error,
        )
    if dead_nonce is not None:
        return GiveBack(
            [
                StatusChange(
                    job.wallet, job.version, STATUS_FAILED, (STATUS_SUBMITTED,), (("error", error),), dead_nonce, expect
                )
            ],
            error=error,
        )
    return GiveBack(
        [StatusChange(job.wallet, job.version, STATUS_FAILED, UNCLAIMED, (("error", error),), expect=expect)],
        error=error,
    )


def waits_in_vain(
    job: Job, revoked: Record | None, newer_versions: Callable[[], list[Record]], claimed_at: int | None
) -> bool:
    """A revocation whose key will never reach the chain (it failed or was superseded) and no newer key is on its
    way or confirmed. `revoked` is the key's record; `newer_versions` is read only when that key is dead."""
    if job.kind != JOB_REVOKE_KEY:
        return False
    return (
        revoked is not None
        and revoked.status in (STATUS_FAILED, STATUS_SUPERSEDED)
        and after_newer_key(job, newer_versions(), claimed_at) is None
    )
