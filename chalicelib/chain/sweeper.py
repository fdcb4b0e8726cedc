"""The sweeper: finds records left on their way (pinned, queued, submitted) past a threshold and drives them on.

Every path that moves a registration forward is built to survive a crash, but some crashes leave nothing behind
that would ever look again: an enqueue that failed after the record was stored (pinned), a job whose message went
to the dead-letter queue after its worker died on its last delivery (queued), a claim whose nonce will never
carry it (submitted). The monitor runs the sweeper every MonitorPolicy.sweep_every_s; each record it finds is
decided from the state of its nonce's item:

    pinned / queued                       -> its job is queued again (not while the worker is paused)
    submitted, item reserved/signed/mined -> left to the monitor (it settles, replaces or fills that nonce)
    submitted, item confirmed carrying it -> confirmed (the monitor died between the item and the record)
    submitted, item failed carrying it    -> failed with the item's revert reason (NotOwner: queued again)
    submitted, item lost, a no-op, absent,
      or not carrying it                  -> queued again

What a pass reads: only open records older than the threshold, from the records table's sparse index of open
records (Records.open_page; adapters/records.py), at most policy.records_per_pass of them, shard by shard, oldest
first within a shard. Where a pass stops, the next goes on: the cursor lives in this instance, so in a warm monitor
container, and moves only once its page has been handled (a pass that raised reads the same page again). A pass that
reads the last shard to its end leaves no cursor, and the next starts again from the first shard. A cold start
starts from the first shard too, which is safe: nothing is lost, only read again (everything found is re-checked
by the conditional writes below), and nothing falls behind a cursor, since a record enters the index, or moves in
it, with updatedAt = now, while a cursor stands below now - stale_after_s. So a pass costs at most one Query per
shard plus the records it reads (never more than records_per_pass), whatever the size of the table, and every
stranded record is reached within ceil(stranded / records_per_pass) passes.

Every write is conditional on the record still being what was read (status, nonce when claimed, and updatedAt), so
the sweeper never races a worker or the monitor into a wrong state. The index is eventually consistent: a record may
be read a moment late (its write then fails its condition and it is left alone: any later write moved updatedAt,
and if it is still stranded a later pass finds it as it now is) or be missing for a moment (a later pass finds it).
What remains is what a consistent read had too: the nonce's item is read after the record and may move on before the
write, which the worker's and monitor's own conditions settle; and re-queued jobs may be duplicates, which the
worker recognises. A record it touches has its updatedAt refreshed, so it is looked at again only after another
threshold.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.chain.decisions.receipts import is_owner_mismatch
from chalicelib.chain.ports import Control, JobQueue, Records, Transactions
from chalicelib.model import (
    JOB_REVOKE_KEY,
    JOB_SET_KEY,
    KIND_KEY,
    KIND_NOOP,
    STATE_CONFIRMED,
    STATE_FAILED,
    STATE_LOST,
    STATUS_CONFIRMED,
    STATUS_FAILED,
    STATUS_PINNED,
    STATUS_QUEUED,
    STATUS_SUBMITTED,
    Job,
    OpenCursor,
    Record,
    StatusChange,
)
from chalicelib.observability.telemetry import RECORDS_SWEPT, Telemetry, log_extra, logger


@dataclass(frozen=True)
class SweeperPolicy:
    stale_after_s: float = 900.0  # well above a worker's retries and the monitor's confirmations
    records_per_pass: int = 500  # read (and handled) at most per pass: a few seconds of the monitor's 60 s


@dataclass
class SweepReport:
    found: int = 0
    requeued: int = 0
    confirmed: int = 0
    failed: int = 0
    left: int = 0
    more: bool = False  # the pass stopped at records_per_pass: the next goes on from there


def job_of(record: Record) -> Job:
    """The job that carries `record` to the chain (a revocation's CID names the key it revokes)."""
    return Job(record.wallet, record.version, record.cid, JOB_SET_KEY if record.kind == KIND_KEY else JOB_REVOKE_KEY)


def still_as_read(record: Record) -> tuple[tuple[str, int], ...]:
    """The condition that the record was not written since it was read (every status write moves updatedAt): read
    from an index that may lag, its status and nonce alone could be a moment old and still match."""
    return (("updated_at", record.updated_at),)


class Sweeper:
    def __init__(
        self,
        records: Records,
        txs: Transactions,
        queue: JobQueue,
        policy: SweeperPolicy = SweeperPolicy(),
        *,
        control: Control,
        telemetry: Telemetry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._records = records
        self._txs = txs
        self._queue = queue
        self.policy = policy
        self._control = control
        self.telemetry = telemetry or Telemetry()
        self._clock = clock
        self._cursor: OpenCursor | None = None  # where the last pass stopped (None: at the first shard's start)

    def run_once(self) -> SweepReport:
        report = SweepReport()
        stale, cursor = self._records.open_page(
            int(self._clock() - self.policy.stale_after_s), self._cursor, self.policy.records_per_pass
        )
        paused: bool | None = None
        for record in sorted(stale, key=lambda r: (r.wallet.lower(), r.version)):
            report.found += 1
            if record.status in (STATUS_PINNED, STATUS_QUEUED):
                if paused is None:
                    paused = self._control.state().paused
                if paused:  # its message waits in the queue for the resume; another one would only pile up
                    report.left += 1
                    continue
                self._requeue(
                    record, (record.status,), None, "the sweeper queued it again: it waited past the threshold", report
                )
            elif record.status == STATUS_SUBMITTED:
                self._submitted(record, report)
        self._cursor = cursor  # only now: a pass that raised above reads the same page again
        report.more = cursor is not None
        if report.found:
            self.telemetry.count(RECORDS_SWEPT, report.requeued + report.confirmed + report.failed)
            logger.warning(
                "sweeper pass",
                extra=log_extra(
                    found=report.found,
                    requeued=report.requeued,
                    confirmed=report.confirmed,
                    failed=report.failed,
                    left=report.left,
                    more=report.more,
                ),
            )
        return report

    def _submitted(self, record: Record, report: SweepReport) -> None:
        nonce = record.nonce
        item = self._txs.get(nonce) if nonce is not None else None
        carries = item is not None and item.kind != KIND_NOOP and item.carries(record.wallet, record.version)
        if item is not None and carries and item.state == STATE_CONFIRMED:
            changes = (("block_number", item.block_number),) + (
                (("tx_hash", item.mined_hash),) if item.mined_hash else ()
            )
            if self._write(
                StatusChange(
                    record.wallet,
                    record.version,
                    STATUS_CONFIRMED,
                    (STATUS_SUBMITTED,),
                    changes,
                    nonce,
                    still_as_read(record),
                )
            ):
                report.confirmed += 1
            return
        if item is not None and carries and item.state == STATE_FAILED and not is_owner_mismatch(item.error or ""):
            error = item.error or "its transaction reverted"
            if self._write(
                StatusChange(
                    record.wallet,
                    record.version,
                    STATUS_FAILED,
                    (STATUS_SUBMITTED,),
                    (("error", error),),
                    nonce,
                    still_as_read(record),
                )
            ):
                report.failed += 1
            return
        if item is not None and carries and item.state not in (STATE_LOST, STATE_FAILED):
            report.left += 1  # in flight or reserved: the monitor's
            return
        if (
            item is not None
            and item.state not in (STATE_LOST, STATE_FAILED, STATE_CONFIRMED)
            and item.kind != KIND_NOOP
            and not item.entries
        ):
            report.left += 1  # a reservation not signed yet: its worker or the monitor decides
            return
        self._requeue(
            record, (STATUS_SUBMITTED,), nonce, f"the sweeper queued it again: nonce {nonce} does not carry it", report
        )

    def _requeue(
        self, record: Record, only_from: tuple[str, ...], nonce: int | None, reason: str, report: SweepReport
    ) -> None:
        """The record to queued (touching updatedAt), then its job on the queue: a crash between leaves it queued
        and stale, so the next sweep sends it."""
        change = StatusChange(
            record.wallet,
            record.version,
            STATUS_QUEUED,
            only_from,
            (("error", reason),),
            nonce,
            (("cid", record.cid), ("kind", record.kind), *still_as_read(record)),
        )
        if not self._write(change):
            return
        self._queue.enqueue(job_of(record))
        report.requeued += 1
        logger.warning(
            "sweeper re-queued a stranded registration",
            extra=log_extra(wallet=record.wallet, version=record.version, status=record.status, nonce=nonce),
        )

    def _write(self, change: StatusChange) -> bool:
        return not self._records.set_statuses([change])
