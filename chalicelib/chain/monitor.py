"""The transaction monitor (a scheduled Lambda; the local stack runs it every half second).

Each pass, for the owner key:
- reports the owner's balance (OwnerBalanceEth), and logs an alarm below OWNER_MIN_BALANCE;
- reconciles the nonce counter with the chain (nonces.py) and fills every hole below the newest item with a
  0-value self-transfer, and every reservation whose worker died (lease expired) too, re-queuing its jobs;
- for each transaction in flight, in nonce order:
  * finds which of the hashes sent for its nonce was mined (any of them may be), and records the block;
  * after CONFIRMATIONS blocks, settles it: confirmed, or failed with the decoded revert reason (never retried);
  * if its block left the chain (reorg), puts it back in flight and rebroadcasts it;
  * if a node does not know it (dropped), rebroadcasts the same bytes;
  * if it waited BUMP_AFTER_S while blocking the queue (or priced under the base fee), replaces it with
    maxFeePerGas and tip each at least 10% higher, storing the replacement before broadcasting it; at the fee
    cap (MAX_FEE_CAP_GWEI per gas, and MAX_TX_COST_ETH for gas * maxFeePerGas plus the L1 data fee on OP-stack
    chains) it raises FeeCapReached and leaves the tx to wait, and every other nonce keeps moving;
  * if another transaction took its nonce (N blocks deep), marks it lost and re-queues its jobs.

This class is the orchestration: it reads through its ports, asks a pure decision and writes the answer. The
decisions live apart, over plain data: receipts.py (when a receipt is final, what its records and its item become)
and bumping.py (when to replace a transaction and with which fees, when one is lost, when a lease ran out).
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.chain.decisions import bumping, packing, receipts
from chalicelib.chain.decisions.fees import Fees, first_offer
from chalicelib.chain.noop import fill_with_noop
from chalicelib.chain.ports import AnchorLog, Chain, Control, JobQueue, Nonces, Records, Signer, Transactions
from chalicelib.chain.sweeper import Sweeper
from chalicelib.model import (
    FINAL_STATES,
    KIND_ANCHOR,
    OPEN_STATUSES,
    STATE_LOST,
    STATE_MINED,
    STATE_RESERVED,
    STATUS_CONFIRMED,
    STATUS_QUEUED,
    STATUS_SUBMITTED,
    Attempt,
    Market,
    Receipt,
    StaleItem,
    StatusChange,
    TxItem,
    WriteRefused,
)
from chalicelib.observability.telemetry import (
    ANCHORS_SENT,
    FEE_CAP_REACHED,
    FEE_PAID_GWEI,
    GAS_USED,
    MONITOR_PASSES,
    NONCES_FILLED,
    OLDEST_PENDING_TX_AGE,
    OWNER_BALANCE_ETH,
    REGISTRATIONS_CONFIRMED,
    REGISTRATIONS_FAILED,
    TRANSACTIONS_REBROADCAST,
    TRANSACTIONS_REORGED,
    TRANSACTIONS_REPLACED,
    WORKER_PAUSED,
    Telemetry,
    log_extra,
    logger,
    tracer,
)
from chalicelib.settings import Settings


@dataclass(frozen=True)
class MonitorPolicy:
    confirmations: int = Settings.confirmations  # defaults: settings.py, the one place they live
    bump_after_s: float = Settings.bump_after_s
    max_fee_cap_wei: int = Settings.max_fee_cap_wei
    owner_min_balance_wei: int = Settings.owner_min_balance_wei
    nonce_lease_s: float = Settings.nonce_lease_s
    max_tx_cost_wei: int = Settings.max_tx_cost_wei  # gas * maxFeePerGas + L1 data fee of one transaction, at most
    gas_cap_per_tx: int = Settings.gas_cap_per_tx
    reconcile_every_s: float = 5.0
    sweep_every_s: float = 300.0

    @classmethod
    def from_settings(cls, settings: Any) -> "MonitorPolicy":
        return cls(
            settings.confirmations,
            settings.bump_after_s,
            settings.max_fee_cap_wei,
            settings.owner_min_balance_wei,
            settings.nonce_lease_s,
            max_tx_cost_wei=settings.max_tx_cost_wei,
            gas_cap_per_tx=settings.gas_cap_per_tx,
        )


@dataclass
class PassReport:
    in_flight: int = 0
    confirmed: int = 0
    failed: int = 0
    replaced: int = 0
    rebroadcast: int = 0
    filled: int = 0
    reorged: int = 0
    lost: int = 0
    fee_capped: int = 0
    anchored: int = 0  # anchor-only transactions sent


class TxMonitor:
    def __init__(
        self,
        records: Records,
        nonces: Nonces,
        txs: Transactions,
        chain: Chain,
        signer: Signer,
        queue: JobQueue,
        policy: MonitorPolicy = MonitorPolicy(),
        telemetry: Telemetry | None = None,
        monitor_id: str | None = None,
        clock: Callable[[], float] = time.time,
        *,
        control: Control,
        sweeper: Sweeper | None = None,
        log: AnchorLog | None = None,  # learns the heads the chain anchored
    ) -> None:
        self._records = records
        self._nonces = nonces
        self._txs = txs
        self._chain = chain
        self._signer = signer
        self._queue = queue
        self.policy = policy
        self.telemetry = telemetry or Telemetry()
        self.monitor_id = monitor_id or "monitor-" + uuid.uuid4().hex[:8]
        self._clock = clock
        self._control = control
        self._log = log
        self.sweeper = sweeper  # sweeper.py: run every policy.sweep_every_s, after the pass
        self._swept_at: float | None = None
        self._market: Market | None = None
        self._floor: int | None = None  # every nonce below is final (as the counter item records it)
        self._reconciled_at = 0.0

    def run(self, seconds: float, interval_s: float, remaining_ms: Callable[[], int] | None = None) -> int:
        """Passes until `seconds` have gone by (or the Lambda has < 10 s left); at least one. Returns the count."""
        deadline = time.monotonic() + seconds
        passes, failures, last_error = 0, 0, None
        while True:
            try:
                self.run_once()
            except Exception as exc:  # one bad pass (an RPC hiccup) must not end the watch
                failures, last_error = failures + 1, exc
                logger.exception("monitor pass failed")
            passes += 1
            if time.monotonic() + interval_s >= deadline or (
                remaining_ms is not None and remaining_ms() < 10_000 + interval_s * 1000
            ):
                break
            time.sleep(interval_s)
        if failures == passes and last_error is not None:
            raise last_error
        return passes

    @tracer.capture_method
    def run_once(self) -> PassReport:
        report = PassReport()
        self._market = None
        address = self._signer.address
        head = self._chain.head()
        latest, pending = self._chain.mined_nonce(address), self._chain.pending_nonce(address)
        balance = self._chain.balance(address)
        self.telemetry.gauge(OWNER_BALANCE_ETH, "None", balance / 10**18)
        if balance < self.policy.owner_min_balance_wei:
            logger.error(
                "owner balance low: fund the owner address",
                extra=log_extra(signer=address, balance_wei=balance, minimum_wei=self.policy.owner_min_balance_wei),
            )
        known_floor = self._floor
        if known_floor is None or self._clock() - self._reconciled_at >= self.policy.reconcile_every_s:
            known_floor = self._reconcile(latest, pending, report)

        self.telemetry.count(MONITOR_PASSES)
        floor = known_floor
        items = self._txs.from_nonce(floor)
        in_flight_since = [
            item.attempts[0].signed_at for item in items if item.attempts and item.state not in FINAL_STATES
        ]
        self.telemetry.gauge(
            OLDEST_PENDING_TX_AGE, "Seconds", max(0.0, self._clock() - min(in_flight_since, default=self._clock()))
        )
        if items:
            floor = items[-1].nonce + 1
        for item in items:
            if item.state == STATE_RESERVED:
                if bumping.lease_expired(self._clock(), item.reserved_at, self.policy.nonce_lease_s) and self._fill(
                    item, reason="its worker never signed it"
                ):
                    report.filled += 1
                floor = min(floor, item.nonce)
                continue
            if item.state in FINAL_STATES:
                continue
            report.in_flight += 1
            item = self._watch(item, head, latest, report)
            if item.state not in FINAL_STATES:
                floor = min(floor, item.nonce)
        if floor > known_floor:
            self._nonces.advance_floor(floor)
            self._floor = floor
        if report.in_flight == 0 and not any(item.state == STATE_RESERVED for item in items):
            self._anchor_if_due(report)
        if self.sweeper is not None and (
            self._swept_at is None or self._clock() - self._swept_at >= self.policy.sweep_every_s
        ):
            self.sweeper.run_once()
            self._swept_at = self._clock()
        return report

    def _reconcile(self, latest: int, pending: int, report: PassReport) -> int:
        """The counter against the chain and the table, and a no-op for every hole (every few seconds); the floor
        it leaves (also kept in self._floor)."""
        reconciliation = self._nonces.reconcile(latest, pending)
        if reconciliation.changed:
            logger.warning(
                "nonce counter reconciled with the chain",
                extra=log_extra(before=reconciliation.before, after=reconciliation.after),
            )
        for nonce in reconciliation.holes:
            hole = self._nonces.reserve_hole(nonce, self.monitor_id)
            if hole is not None and self._fill(hole, reason="a hole in the nonce sequence"):
                report.filled += 1
        counter = self._nonces.counter()
        assert counter is not None
        self._floor = counter.floor if self._floor is None else max(min(self._floor, counter.next), counter.floor)
        self._reconciled_at = self._clock()
        return self._floor

    # ------------------------------------------------------------ one transaction

    def _watch(self, item: TxItem, head: int, latest: int, report: PassReport) -> TxItem:
        receipt = self._find_receipt(item)
        if receipt is not None:
            deep_enough = receipts.deep_enough(head, receipt.block_number, self.policy.confirmations)
            if receipts.newly_mined(item, receipt) and not deep_enough:
                item = self._mined(item, receipt)
            if deep_enough:
                item = self._settle(item, receipt, report)
            return item
        if item.state == STATE_MINED:  # mined before, gone now: its block was reorganised away
            report.reorged += 1
            self.telemetry.count(TRANSACTIONS_REORGED)
            logger.warning(
                "transaction left the chain in a reorg; sending it again",
                extra=log_extra(nonce=item.nonce, tx_hash=item.mined_hash, block=item.block_number),
            )
            try:
                item = self._txs.mark_unmined(item)
            except StaleItem:
                return item
        if item.nonce < latest:
            self._maybe_lost(item, head, report)
            return item
        known = self._chain.known(item.latest.tx_hash)
        if not known:
            assert item.raw is not None  # in flight: signed
            result = self._chain.send(item.raw)
            if result.accepted or result.benign:
                report.rebroadcast += 1
                self.telemetry.count(TRANSACTIONS_REBROADCAST)
                logger.warning(
                    "transaction was not in the node's pool; rebroadcast the stored bytes",
                    extra=log_extra(nonce=item.nonce, tx_hash=item.latest.tx_hash),
                )
                return item
            logger.warning(
                "node refuses the stored transaction",
                extra=log_extra(nonce=item.nonce, tx_hash=item.latest.tx_hash, error=result.error),
            )
        waited = self._clock() - item.latest.signed_at
        if bumping.bump_due(
            waited,
            self.policy.bump_after_s,
            item.nonce == latest,
            known,
            lambda: item.latest.max_fee < self.market().base_fee,
        ):
            item = self._replace(item, report)
        return item

    def _find_receipt(self, item: TxItem) -> Receipt | None:
        """Any of the nonce's hashes may be the mined one (a node may have mined an older attempt)."""
        for tx_hash in reversed(item.hashes):
            receipt = self._chain.receipt(tx_hash)
            if receipt is not None:
                return receipt
        return None

    def _mined(self, item: TxItem, receipt: Receipt) -> TxItem:
        try:
            item = self._txs.mark_mined(
                item,
                tx_hash=receipt.tx_hash,
                block_number=receipt.block_number,
                block_hash=receipt.block_hash,
                gas_used=receipt.gas_used,
                fee_paid_wei=receipt.gas_used * receipt.effective_gas_price,
            )
        except StaleItem:
            return item
        if receipt.tx_hash != item.latest.tx_hash:
            logger.info(
                "an earlier attempt was mined",
                extra=log_extra(nonce=item.nonce, tx_hash=receipt.tx_hash, attempts=len(item.attempts)),
            )
        # The records learn the block when it is final (one write per registration, not two).
        return item

    def _settle(self, item: TxItem, receipt: Receipt, report: PassReport) -> TxItem:
        """A receipt deep enough: its records, then its item, as receipts.settlement says (the revert reason is read
        only for a revert)."""
        if self._chain.block_hash(receipt.block_number) != receipt.block_hash:
            return item  # reorganised between the two reads: look again next pass
        revert_reason = (
            self._chain.revert_reason(receipt.tx_hash, receipt.block_number) if receipt.status != 1 else None
        )
        verdict = receipts.settlement(
            receipt,
            item.nonce,
            item.latest.tx_hash,
            revert_reason,
            item.kind,
            item.entries,
            lambda job: self._records.get(job.wallet, job.version - 1),
        )
        state, status, error = verdict.state, verdict.status, verdict.error
        # The records first, then the item: a final item is never looked at again, so a crash between the two
        # must leave the item in flight (the next pass settles it again; the record writes are idempotent).
        if verdict.requeue is not None:
            self._requeue(item, verdict.requeue)
            if verdict.pause is not None:
                self._pause(verdict.pause)
        else:
            self._update_records(item, status, OPEN_STATUSES, **verdict.record_changes)
            if self._log is not None and verdict.anchor is not None:
                self._log.record_anchor(*verdict.anchor, receipt.tx_hash, receipt.block_number)
        try:
            item = self._txs.mark_final(item, state, error=error, receipt=receipts.mined_fields(receipt))
        except StaleItem:
            return item
        self.telemetry.add(GAS_USED, "Count", receipt.gas_used)
        self.telemetry.add(FEE_PAID_GWEI, "Count", receipt.gas_used * receipt.effective_gas_price / 10**9)
        if verdict.requeue is not None:
            logger.warning(
                "transaction reverted; its jobs are queued again",
                extra=log_extra(nonce=item.nonce, tx_hash=receipt.tx_hash, error=error),
            )
            return item
        if status == STATUS_CONFIRMED:
            report.confirmed += len(item.entries)
            self.telemetry.count(REGISTRATIONS_CONFIRMED, len(item.entries))
        else:
            report.failed += len(item.entries)
            self.telemetry.count(REGISTRATIONS_FAILED, len(item.entries))
            logger.error(
                "transaction reverted; its jobs failed and are not retried",
                extra=log_extra(nonce=item.nonce, tx_hash=receipt.tx_hash, error=error),
            )
        for job in item.entries:
            logger.info(
                status,
                extra=log_extra(
                    wallet=job.wallet,
                    version=job.version,
                    nonce=item.nonce,
                    tx_hash=receipt.tx_hash,
                    block=receipt.block_number,
                ),
            )
        return item

    def _maybe_lost(self, item: TxItem, head: int, report: PassReport) -> None:
        """Its nonce is used, by none of its hashes. Once that is N blocks deep, ours can never land."""
        if not bumping.lost(
            item.nonce,
            self._chain.nonce(self._signer.address, bumping.lost_check_block(head, self.policy.confirmations)),
        ):
            return
        # Re-queue first, then mark lost: the jobs' messages were acknowledged long ago, and a lost item is never
        # looked at again. A crash between the two re-queues them again next pass (the worker drops duplicates).
        logger.error(
            "nonce taken by a transaction we did not send; re-queuing its jobs",
            extra=log_extra(nonce=item.nonce, jobs=len(item.entries)),
        )
        self._requeue(item, "its transaction lost its nonce; sent again")
        try:
            self._txs.mark_final(item, STATE_LOST, error="another transaction took this nonce")
        except StaleItem:
            return
        report.lost += 1

    def _requeue(self, item: TxItem, reason: str) -> None:
        """The item's jobs back to the queue: records still claimed by this nonce become queued, then every job is
        sent again (also those whose record moved on: a duplicate costs the worker a read, a missing one strands it)."""
        self._update_records(item, STATUS_QUEUED, (STATUS_SUBMITTED,), error=reason)
        for job in item.entries:
            self._queue.enqueue(job)

    def _pause(self, reason: str) -> None:
        self._control.pause(reason, by="monitor", now=int(self._clock()))
        self.telemetry.count(WORKER_PAUSED)
        logger.error(
            "worker paused: the owner key does not own the contract",
            extra=log_extra(signer=self._signer.address, reason=reason),
        )

    def _replace(self, item: TxItem, report: PassReport) -> TxItem:
        assert item.to is not None and item.data is not None  # in flight: signed, so it names both
        market = self.market()
        previous = Fees(item.latest.max_fee, item.latest.tip)
        # The L1 data fee (OP-stack) is that of the replacement the fee cap alone allows: a lower maxFeePerGas
        # encodes in no more bytes, so the replacement sent within the cost cap pays no more L1 fee than that.
        wanted = bumping.bump(previous, market, self.policy.max_fee_cap_wei).fees
        l1_fee = (
            None
            if wanted is None
            else self._chain.l1_fee_of(data=item.data, gas=item.gas, max_fee=wanted.max_fee, tip=wanted.tip)
        )
        cap = bumping.max_fee_cap(self.policy.max_fee_cap_wei, self.policy.max_tx_cost_wei, item.gas, l1_fee)
        offer = bumping.bump(previous, market, cap)
        if offer.cap_reached:
            report.fee_capped += 1
            self.telemetry.count(FEE_CAP_REACHED)
            logger.warning(
                "fee cap reached: a stuck transaction cannot be priced higher",
                extra=log_extra(
                    nonce=item.nonce,
                    tx_hash=item.latest.tx_hash,
                    max_fee=previous.max_fee,
                    cap=cap,
                    base_fee=market.base_fee,
                    fee_cap=self.policy.max_fee_cap_wei,
                    cost_cap_wei=self.policy.max_tx_cost_wei,
                ),
            )
        if offer.fees is None:
            return item
        signed = self._chain.sign(
            self._signer,
            nonce=item.nonce,
            to=item.to,
            data=item.data,
            gas=item.gas,
            max_fee=offer.fees.max_fee,
            tip=offer.fees.tip,
        )
        try:
            item = self._txs.add_attempt(
                item, signed.raw, Attempt(signed.tx_hash, offer.fees.max_fee, offer.fees.tip, self._clock())
            )
        except StaleItem:
            return item
        report.replaced += 1
        self.telemetry.count(TRANSACTIONS_REPLACED)
        logger.warning(
            "replaced a stuck transaction",
            extra=log_extra(
                nonce=item.nonce,
                tx_hash=signed.tx_hash,
                replaces=item.attempts[-2].tx_hash,
                max_fee=offer.fees.max_fee,
                tip=offer.fees.tip,
            ),
        )
        result = self._chain.send(signed.raw)
        if not (result.accepted or result.benign):  # stored: the next pass rebroadcasts or replaces it
            logger.warning(
                "node refused the replacement",
                extra=log_extra(nonce=item.nonce, tx_hash=signed.tx_hash, error=result.error),
            )
        self._update_records(item, STATUS_SUBMITTED, OPEN_STATUSES, tx_hash=signed.tx_hash)
        return item

    def _fill(self, item: TxItem, reason: str) -> bool:
        """Sign a no-op for a reserved nonce nobody will sign; re-queue the jobs it was reserved for."""
        offer = first_offer(self.market(), self.policy.max_fee_cap_wei)
        # Its candidates go back to the queue first: once filled, nothing would ever re-queue them.
        for job in item.candidates:
            self._queue.enqueue(job)
        try:
            filled = fill_with_noop(self._txs, self._chain, self._signer, item, offer.fees, self._clock())
        except StaleItem:
            return False
        self.telemetry.count(NONCES_FILLED)
        logger.warning(
            "filled a nonce with a no-op self-transfer",
            extra=log_extra(
                nonce=item.nonce, tx_hash=filled.latest.tx_hash, reason=reason, requeued=len(item.candidates)
            ),
        )
        assert filled.raw is not None  # fill_with_noop returns the item signed
        self._chain.send(filled.raw)  # stored: if the node refuses it, the next pass rebroadcasts it
        return True

    def _anchor_if_due(self, report: PassReport) -> None:
        """Send an anchor-only transaction (setKeysAnchored of no keys) when the log has leaves no anchor covers and
        the last anchor is older than LOG_ANCHOR_SINGLE_AFTER_S (the log decides: head_to_anchor(0)), and nothing
        is in flight: a lone key's or a revocation's leaf (their transactions anchor nothing) is covered within that
        time even when no batch follows. At most one such transaction per threshold, ~30k gas each."""
        if self._log is None:
            return
        due = self._log.head_to_anchor(0)
        if due is None:
            return
        try:
            gas = packing.gas_limit(
                self._chain.estimate(self._signer.address, self._chain.set_keys_data([], head=due)),
                self.policy.gas_cap_per_tx,
            )
        except WriteRefused as refused:  # NotOwner: the worker's owner check pauses it; nothing to anchor with
            logger.error("anchor-only transaction refused", extra=log_extra(error=str(refused)))
            return
        offer = first_offer(self.market(), self.policy.max_fee_cap_wei)
        (item,) = self._nonces.reserve([()], self.monitor_id, lambda: self._chain.pending_nonce(self._signer.address))
        # The head is read again after the nonce is reserved: a leaf is sequenced before its own transaction's
        # nonce is reserved, so the anchor in this higher nonce covers every leaf of a lower one (the log only grows).
        # head_to_anchor(2) is the head itself, due or not: the nonce is reserved and goes out anchoring it.
        due = self._log.head_to_anchor(2) or due
        data = self._chain.set_keys_data([], head=due)
        signed = self._chain.sign(
            self._signer,
            nonce=item.nonce,
            to=self._chain.address,
            data=data,
            gas=gas,
            max_fee=offer.fees.max_fee,
            tip=offer.fees.tip,
        )
        attempt = Attempt(signed.tx_hash, offer.fees.max_fee, offer.fees.tip, self._clock())
        try:
            stored = self._txs.sign_reserved(
                item,
                kind=KIND_ANCHOR,
                entries=(),
                to=self._chain.address,
                data=data,
                gas=gas,
                raw=signed.raw,
                attempt=attempt,
            )
        except StaleItem:  # reserved by us a moment ago: only a lease taken over could get here
            return
        report.anchored += 1
        self.telemetry.count(ANCHORS_SENT)
        logger.info("anchor-only transaction", extra=log_extra(nonce=item.nonce, size=due[0], tx_hash=signed.tx_hash))
        assert stored.raw is not None
        self._chain.send(stored.raw)  # stored first: if the node refuses it, the next pass rebroadcasts it

    def market(self) -> Market:
        if self._market is None:
            self._market = self._chain.market()
        return self._market

    def _update_records(self, item: TxItem, status: str, only_from: tuple[str, ...], **changes: Any) -> None:
        """The item's jobs' records, each only while it is still claimed by this nonce."""
        if not item.entries:
            return
        pairs = tuple(changes.items())
        self._records.set_statuses(
            [StatusChange(job.wallet, job.version, status, only_from, pairs, item.nonce) for job in item.entries]
        )
