"""The chain worker: a batch of SQS jobs in, compact KMS-signed transactions out, each job on chain exactly once.

One invocation (`handle`) takes Lambda's whole SQS batch and
1. plans (reads only): keeps per wallet only the newest key (older ones end `superseded`, no tx), holds a
   revocation until its key is on its way, and packs keys into setKeys calls under the gas cap (a key the
   contract refuses fails now, with the contract's reason);
2. pauses, leaving every job queued, when the owner cannot pay for what it would send;
3. reserves consecutive nonces (nonces.py), signs each transaction once with KMS, and claims each job for its
   nonce on the job's record (status `submitted`, the nonce and the tx hash, written only if the record is still
   pinned/queued: of two workers holding the same job, one wins);
4. checks, after claiming, that no newer key of the same wallet went to a lower nonce and no older one to a
   higher nonce (each side reads after its own write, so of two racing workers at least one sees the other and
   steps back), re-signs if the payload shrank, stores the signed bytes in the nonce's item (transactions.py),
   and only then broadcasts them. A wallet's first key (the common case) needs no read: its claim holds only
   while its record has no `nextVersion`, which writing a second version sets in the same transaction, so the
   claim and the check are one atomic step; if a second version exists, it is claimed again and checked.

Nothing waits for receipts: the monitor (monitor.py) confirms, replaces, rebroadcasts and fills gaps. A job that
cannot be settled now is reported back as a batch item failure and delivered again; on its last delivery
(MAX_RECEIVE_COUNT) the record is marked failed with the reason before SQS moves the message to the DLQ, except
a job that is only waiting (paused worker, revocation behind its key), which is queued again as a new message.

This class is the orchestration: it reads through its ports (records, nonces and nonce items, chain, signer,
queue, clock), asks a pure decision, and writes the answer. The decisions live apart, over plain data:
claims.py (what a delivered job means, what a claim that failed means, whether a claim is in order, what a job
going back to the queue writes) and packing.py (the setKeys chunks and gas limits, whether the owner can pay).
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.chain.decisions import claims, packing
from chalicelib.chain.decisions.claims import RETRY_ERROR, RETRY_PAUSED, RETRY_WAIT, Key, Outcome, key_of
from chalicelib.chain.decisions.fees import Fees, first_offer
from chalicelib.chain.decisions.receipts import is_owner_mismatch
from chalicelib.chain.noop import fill_with_noop
from chalicelib.chain.ports import Chain, Control, JobQueue, Nonces, PinBudget, Pinner, Records, Signer, Transactions
from chalicelib.model import (
    JOB_REVOKE_KEY,
    JOB_SET_KEY,
    KIND_REVOKE,
    KIND_SET,
    REVOKE_GAS,
    STATE_RESERVED,
    STATUS_FAILED,
    STATUS_SUBMITTED,
    STATUS_SUPERSEDED,
    Attempt,
    Job,
    MalformedJob,
    PauseState,
    Record,
    SignedTx,
    StaleItem,
    StatusChange,
    TxItem,
    WriteRefused,
)
from chalicelib.observability.telemetry import (
    DOCUMENTS_PINNED,
    FEE_CAP_REACHED,
    JOBS_RETRIED,
    OWNER_BALANCE_ETH,
    QUEUE_AGE_SECONDS,
    REGISTRATIONS_FAILED,
    REGISTRATIONS_SUBMITTED,
    REGISTRATIONS_SUPERSEDED,
    TRANSACTIONS_SENT,
    WORKER_PAUSED,
    Telemetry,
    log_extra,
    logger,
    tracer,
)
from chalicelib.settings import Settings
from dmtp_protocol.cid import digest_from_cid
from dmtp_protocol.errors import LogBusy, PinningFailed


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    body: str
    receive_count: int = 1
    sent_at: float | None = None  # epoch seconds

    @classmethod
    def from_lambda_record(cls, record: dict[str, Any]) -> "QueueMessage":
        attributes = record.get("attributes") or {}
        sent = attributes.get("SentTimestamp")
        return cls(
            message_id=record["messageId"],
            body=record["body"],
            receive_count=int(attributes.get("ApproximateReceiveCount", 1)),
            sent_at=int(sent) / 1000 if sent else None,
        )


@dataclass(frozen=True)
class WorkerPolicy:
    gas_cap_per_tx: int = Settings.gas_cap_per_tx  # defaults: settings.py, the one place they live
    max_fee_cap_wei: int = Settings.max_fee_cap_wei
    max_receive_count: int = Settings.max_receive_count
    max_keys_per_tx: int = 200
    max_tx_cost_wei: int = Settings.max_tx_cost_wei  # gas * maxFeePerGas + L1 data fee of one transaction, at most

    @classmethod
    def from_settings(cls, settings: Any) -> "WorkerPolicy":
        return cls(
            settings.gas_cap_per_tx,
            settings.max_fee_cap_wei,
            settings.max_receive_count,
            max_tx_cost_wei=settings.max_tx_cost_wei,
        )


class OwnerMismatch(Exception):
    """The contract refuses the signer as its owner: no job is at fault, so none may fail for it."""


@dataclass
class PlannedTx:
    kind: str
    jobs: list[Job]
    gas: int
    data: str  # calldata for `jobs`
    item: TxItem | None = None  # once reserved
    signed: SignedTx | None = None
    claimed: list[Job] = field(default_factory=list)


@dataclass
class Batch:
    messages: dict[Key, list[QueueMessage]] = field(default_factory=dict)
    jobs: dict[Key, Job] = field(default_factory=dict)
    records: dict[Key, Record] = field(default_factory=dict)
    outcomes: dict[Key, Outcome] = field(default_factory=dict)
    reclaim_from: dict[Key, int] = field(default_factory=dict)  # claimed at a nonce that will never carry it
    malformed: list[QueueMessage] = field(default_factory=list)
    txs: list[PlannedTx] = field(default_factory=list)
    rebroadcast: dict[int, TxItem] = field(
        default_factory=dict
    )  # duplicates' transactions, to make sure a node has them
    claimed_as_latest: set[Key] = field(default_factory=set)  # claimed only while no newer version existed
    documents: dict[Key, Record] = field(default_factory=dict)  # the jobs' records with their documents

    def open_jobs(self) -> list[Job]:
        return [job for key, job in self.jobs.items() if key not in self.outcomes]

    def retry_ids(self) -> list[str]:
        ids = [m.message_id for m in self.malformed]
        for key, outcome in self.outcomes.items():
            if not outcome.ack:
                ids += [m.message_id for m in self.messages[key]]
        return ids


class ChainWorker:
    def __init__(
        self,
        records: Records,
        nonces: Nonces,
        txs: Transactions,
        chain: Chain,
        signer: Signer,
        queue: JobQueue,
        policy: WorkerPolicy = WorkerPolicy(),
        telemetry: Telemetry | None = None,
        worker_id: str | None = None,
        *,
        control: Control,
        pinner: Pinner,
        pin_budget: PinBudget | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`pinner` pins the documents of the keys a batch writes on chain, in one request, before they are signed;
        `pin_budget`, when given, keeps those requests within the pinning plan's rate."""
        self._records = records
        self._pinner = pinner
        self._pin_budget = pin_budget
        self._nonces = nonces
        self._txs = txs
        self._chain = chain
        self._signer = signer
        self._queue = queue
        self.policy = policy
        self.telemetry = telemetry or Telemetry()
        self.worker_id = worker_id or uuid.uuid4().hex[:12]
        self._control = control
        self._clock = clock
        self._reconciled = False

    # ------------------------------------------------------------ the whole invocation

    @tracer.capture_method
    def handle(self, messages: list[QueueMessage]) -> list[str]:
        """Process one SQS batch; returns the message ids to deliver again (Lambda's batchItemFailures)."""
        if not self._reconciled:  # start-up: never reserve from a counter that drifted from the chain
            self._nonces.reconcile(
                self._chain.mined_nonce(self._signer.address), self._chain.pending_nonce(self._signer.address)
            )
            self._check_owner()
            self._reconciled = True
        pause = self._control.state()  # once per batch
        if pause.paused:
            batch = self._hold(self._parse(messages), pause)
        else:
            batch = self.plan(messages)
            self.prepare(batch)
            self.broadcast(batch)
        self.record(batch)
        return batch.retry_ids()

    # ------------------------------------------------------------ 0. the pause switch (control.py)

    def _check_owner(self) -> None:
        """At start: a signer that is not the contract's owner would see every write revert NotOwner. Pause."""
        owner = self._chain.owner()
        if owner.lower() != self._signer.address.lower():
            self._pause(
                f"NotOwner: the contract's owner is {owner}, this worker signs as {self._signer.address}"
                " (check KMS_KEY_ID and the rotation)"
            )

    def _pause(self, reason: str) -> None:
        self._control.pause(reason, by="worker", now=int(self._clock()))
        self.telemetry.count(WORKER_PAUSED)
        logger.error(
            "worker paused: jobs stay queued until an operator resumes it",
            extra=log_extra(signer=self._signer.address, reason=reason),
        )

    def _hold(self, batch: Batch, pause: PauseState) -> Batch:
        """Every job of a paused worker's batch goes back to the queue (on its last delivery, as a new message)."""
        self.telemetry.count(WORKER_PAUSED)  # every held batch: the alarm stays on while the pause lasts
        for key in batch.jobs:
            batch.outcomes[key] = Outcome(False, retry=RETRY_PAUSED, reason=f"paused by {pause.by}: {pause.reason}")
        return batch

    # ------------------------------------------------------------ 1. plan (reads only)

    def plan(self, messages: list[QueueMessage]) -> Batch:
        """Parse, coalesce per wallet, pack. Records are read only for jobs delivered before (the likely
        duplicates) and for revocations (their key's state): a first delivery goes straight to its claim, whose
        condition checks the record, and a claim that fails is read and explained then."""
        batch = self._parse(messages)
        wanted = [
            key
            for key, job in batch.jobs.items()
            if job.kind == JOB_REVOKE_KEY or max(m.receive_count for m in batch.messages[key]) > 1
        ]
        return self._plan_rest(batch, wanted)

    def _parse(self, messages: list[QueueMessage]) -> Batch:
        batch = Batch()
        now = self._clock()
        for message in messages:
            if message.sent_at is not None:
                self.telemetry.maximum(QUEUE_AGE_SECONDS, "Seconds", max(0.0, now - message.sent_at))
            try:
                job = Job.from_body(message.body)
            except MalformedJob as exc:
                logger.error(
                    "not a job; it goes to the dead-letter queue after its last delivery",
                    extra=log_extra(message_id=message.message_id, error=str(exc)),
                )
                batch.malformed.append(message)
                continue
            batch.messages.setdefault(key_of(job), []).append(message)
            batch.jobs.setdefault(key_of(job), job)
        return batch

    def _plan_rest(self, batch: Batch, wanted: list[Key]) -> Batch:
        wanted += [(job.wallet.lower(), job.version - 1) for job in batch.jobs.values() if job.kind == JOB_REVOKE_KEY]
        batch.records = self._records.get_many(wanted, documents=False) if wanted else {}
        newest_key: dict[str, int] = {}
        for job in batch.jobs.values():
            if job.kind == JOB_SET_KEY:
                newest_key[job.wallet.lower()] = max(newest_key.get(job.wallet.lower(), 0), job.version)
        for key, job in batch.jobs.items():
            outcome = self._settled(job, batch, newest_key.get(key[0], 0))
            if outcome is not None:
                batch.outcomes[key] = outcome
        if not self._sequence(batch):
            return batch
        try:
            self._pack(batch)
        except OwnerMismatch as mismatch:
            self._pause(str(mismatch))
            batch.txs = []
            self._hold_open(batch, self._control.state())
        return batch

    def _sequence(self, batch: Batch) -> bool:
        """Give every record of the batch (and its unsequenced earlier versions) its transparency-log leaf, before
        any calldata is built and before any nonce is reserved: a transaction of several keys anchors the head read
        after its nonce is reserved (prepare), which covers its own leaves and those of every lower nonce. Every
        accepted record is sequenced, whatever becomes of its job (superseded, refused), a wallet's versions in
        increasing order. When the log stays busy, the open jobs go back to the queue (False)."""
        keys = list(batch.jobs)
        batch.documents = self._records.get_many(keys, documents=True)
        for key in keys:  # a job no record backs can never go out: it is answered now, not packed
            unbacked = claims.unbacked(batch.jobs[key], batch.documents.get(key))
            if unbacked is not None and key not in batch.outcomes:
                batch.outcomes[key] = unbacked
        missing = [record for record in batch.documents.values() if record.log_index is None]
        earlier = {(r.wallet.lower(), r.version - 1) for r in missing if r.version > 1} - set(batch.documents)
        while earlier:  # an earlier version not sequenced yet comes first (they are few: a wallet's open versions)
            found = self._records.get_many(sorted(earlier), documents=True)
            batch.documents.update(found)
            unsequenced = [r for r in found.values() if r.log_index is None]
            missing += unsequenced
            earlier = {(r.wallet.lower(), r.version - 1) for r in unsequenced if r.version > 1} - set(batch.documents)
        if not missing:
            return True
        try:
            for record in self._records.sequence(sorted(missing, key=lambda r: (r.wallet.lower(), r.version))):
                batch.documents[(record.wallet.lower(), record.version)] = record
        except LogBusy as busy:
            logger.warning("transparency log busy; the batch goes back to the queue", extra=log_extra(error=str(busy)))
            for job in batch.open_jobs():
                batch.outcomes[key_of(job)] = Outcome(False, retry=RETRY_WAIT, reason=f"log busy: {busy.detail}")
            return False
        return True

    def _pin(self, batch: Batch) -> bool:
        """Pin the documents of every key this batch writes on chain, in one request (never a CID on chain before
        its document is pinned). Over the plan's rate, or when pinning fails, the jobs go back to the queue to
        wait (False): nothing is claimed, and a job on its last delivery is queued again, never failed for it."""
        keys = [key_of(job) for tx in batch.txs if tx.kind == KIND_SET for job in tx.jobs]
        documents = [batch.documents[key].document.encode("utf-8") for key in keys if key in batch.documents]
        if len(documents) < len(keys):  # a record is always read before its job is packed: a store changed under us
            reason = "a key's record could not be read for pinning"
        elif not documents:
            return True
        elif self._pin_budget is not None and not self._pin_budget.charge_pin_request(int(self._clock())):
            reason = "the pinning service's request rate is reached (PINNING_REQUESTS_PER_MINUTE)"
        else:
            try:
                self._pinner.pin_batch(documents)
                self.telemetry.count(DOCUMENTS_PINNED, len(documents))
                return True
            except PinningFailed as failed:
                reason = f"pinning failed: {failed.detail}"
        logger.warning("documents not pinned; the batch waits in the queue", extra=log_extra(reason=reason))
        for tx in batch.txs:
            for job in tx.jobs:
                batch.outcomes[key_of(job)] = Outcome(False, retry=RETRY_WAIT, reason=reason)
        batch.txs = []
        return False

    def _hold_open(self, batch: Batch, pause: PauseState) -> None:
        for job in batch.open_jobs():
            batch.outcomes[key_of(job)] = Outcome(
                False, retry=RETRY_PAUSED, reason=f"paused by {pause.by}: {pause.reason}"
            )

    def _settled(self, job: Job, batch: Batch, newest_key_here: int) -> Outcome | None:
        """An outcome for a job that needs no transaction (or must wait), or None when it should go out (claims.py
        decides; this reads the nonce item or the wallet's versions only where that decision asks for them)."""
        key = key_of(job)
        verdict = claims.delivered(
            job, batch.records, newest_key_here, batch.jobs, self._txs.get, lambda: self._records.newest(job.wallet, 20)
        )
        if verdict.reclaim_from is not None:
            batch.reclaim_from[key] = verdict.reclaim_from
        if verdict.rebroadcast is not None:
            batch.rebroadcast[verdict.rebroadcast.nonce] = verdict.rebroadcast
        return verdict.outcome

    def _pack(self, batch: Batch) -> None:
        """setKeys calls under the gas cap (refused keys fail now, with the contract's reason), then revocations
        (packing.py decides the chunks and gas limits; this builds the calldata and asks the node)."""
        sets = [job for job in batch.open_jobs() if job.kind == JOB_SET_KEY]
        chunks = packing.Chunks(
            sets,
            packing.keys_per_tx(self.policy.gas_cap_per_tx, self.policy.max_keys_per_tx),
            self.policy.gas_cap_per_tx,
        )
        while (chunk := chunks.next()) is not None:
            data = self._chain.set_keys_data(chunk)
            try:
                gas = self._chain.estimate(self._signer.address, data)
            except WriteRefused as refused:
                if is_owner_mismatch(str(refused)):
                    raise OwnerMismatch(f"contract refused the write: {refused}") from refused
                chunks.again(self._without_refused(chunk, refused, batch))
                continue
            limit = chunks.fits(chunk, gas)
            if limit is not None:
                batch.txs.append(PlannedTx(KIND_SET, chunk, limit, data))
        for job in batch.open_jobs():
            if job.kind != JOB_REVOKE_KEY:
                continue
            gas, data = REVOKE_GAS, self._chain.revoke_data(job)
            digest, _ = self._chain.key_of(job.wallet)
            if digest == digest_from_cid(job.cid):  # its key is on chain already: simulate the revocation
                try:
                    gas = packing.revoke_gas_limit(self._chain.estimate(self._signer.address, data), REVOKE_GAS)
                except WriteRefused as refused:
                    if is_owner_mismatch(str(refused)):
                        raise OwnerMismatch(f"contract refused the write: {refused}") from refused
                    batch.outcomes[key_of(job)] = claims.refused(job, str(refused), batch.reclaim_from.get(key_of(job)))
                    continue
            batch.txs.append(PlannedTx(KIND_REVOKE, [job], gas, data))

    def _without_refused(self, chunk: list[Job], refused: WriteRefused, batch: Batch) -> list[list[Job]]:
        """Simulate each key alone; those the contract refuses fail, the rest are tried again together."""
        if len(chunk) == 1:
            batch.outcomes[key_of(chunk[0])] = claims.refused(
                chunk[0], str(refused), batch.reclaim_from.get(key_of(chunk[0]))
            )
            return []
        kept = []
        for job in chunk:
            try:
                self._chain.simulate(self._signer.address, self._chain.set_keys_data([job]))
                kept.append(job)
            except WriteRefused as alone:
                if is_owner_mismatch(str(alone)):
                    raise OwnerMismatch(f"contract refused the write: {alone}") from alone
                batch.outcomes[key_of(job)] = claims.refused(job, str(alone), batch.reclaim_from.get(key_of(job)))
        return packing.without_refused(chunk, kept, str(refused))

    # ------------------------------------------------------------ 2-4. pay, reserve, sign, claim, check, store, broadcast

    def prepare(self, batch: Batch) -> None:
        """Everything up to broadcasting: pay check, nonces, signatures, claims, order check, stored bytes."""
        if not batch.txs:
            return
        market = self._chain.market()
        offer = first_offer(market, self.policy.max_fee_cap_wei)
        if offer.capped:
            self.telemetry.count(FEE_CAP_REACHED)
            logger.warning(
                "fee cap reached: offering the cap",
                extra=log_extra(base_fee=market.base_fee, cap=self.policy.max_fee_cap_wei),
            )
        if not self._can_pay(batch, offer.fees) or not self._pin(batch):
            return
        reserved = self._nonces.reserve(
            [tuple(tx.jobs) for tx in batch.txs],
            self.worker_id,
            lambda: self._chain.pending_nonce(self._signer.address),
        )
        for tx, item in zip(batch.txs, reserved, strict=True):  # Nonces.reserve: one item per batch, in order
            tx.item = item
            self._anchor_after_reserving(tx)
            tx.signed = self._sign(tx, offer.fees)
        self._claim(batch)
        self._check_order(batch)
        for tx in batch.txs:
            self._store(batch, tx, offer.fees)

    def _anchor_after_reserving(self, tx: PlannedTx) -> None:
        """The head an anchoring transaction carries is read again now that its nonce is reserved (the anchor rule,
        PROTOCOL.md §11 rule 7). Invariant: a leaf is sequenced before its own transaction's nonce is reserved, so
        any anchor in a transaction with a higher nonce covers it. The head read at packing time may predate a leaf
        another worker sequenced since and sent at a lower nonce; the log only grows, so the head read now covers
        it. Same keys, so the calldata keeps its length and the gas its estimate; a lone key whose anchor is no
        longer due (another anchor came meanwhile) goes out without one (cheaper). A transaction that anchored
        nothing at packing time still anchors nothing (its gas was estimated without it)."""
        if tx.kind != KIND_SET:
            return
        plain = self._chain.set_keys_data(tx.jobs, anchor=False)
        if tx.data == plain:
            return
        tx.data = self._chain.set_keys_data(tx.jobs)

    def broadcast(self, batch: Batch) -> None:
        """Send the stored bytes, in nonce order (and those of duplicates that may never have reached a node)."""
        self._rebroadcast_duplicates(batch)
        for tx in batch.txs:
            if tx.item is not None and tx.item.state != STATE_RESERVED:
                self._broadcast(tx.item)

    def _can_pay(self, batch: Batch, fees: Fees) -> bool:
        """Whether the owner can pay every transaction's gas * maxFeePerGas plus its L1 data fee (OP-stack chains),
        and no transaction costs more than the per-transaction cost cap (packing.payable decides)."""
        balance = self._chain.balance(self._signer.address)
        self.telemetry.gauge(OWNER_BALANCE_ETH, "None", balance / 10**18)
        costs = [
            tx.gas * fees.max_fee + self._chain.l1_fee_of(data=tx.data, gas=tx.gas, max_fee=fees.max_fee, tip=fees.tip)
            for tx in batch.txs
        ]
        unpayable = packing.payable(balance, costs, self.policy.max_tx_cost_wei)
        if unpayable is None:
            return True
        if unpayable.cost_cap:
            self.telemetry.count(FEE_CAP_REACHED)
            logger.error(
                "transaction cost cap reached; jobs stay queued",
                extra=log_extra(cost_wei=max(costs), cap_wei=self.policy.max_tx_cost_wei),
            )
        else:
            self.telemetry.count(WORKER_PAUSED)
            logger.error(
                "owner cannot pay; jobs stay queued",
                extra=log_extra(signer=self._signer.address, balance_wei=balance, needed_wei=sum(costs)),
            )
        for tx in batch.txs:
            for job in tx.jobs:
                batch.outcomes[key_of(job)] = Outcome(False, retry=RETRY_PAUSED, reason=unpayable.reason)
        batch.txs = []
        return False

    def _sign(self, tx: PlannedTx, fees: Fees) -> SignedTx:
        assert tx.item is not None
        return self._chain.sign(
            self._signer,
            nonce=tx.item.nonce,
            to=self._chain.address,
            data=tx.data,
            gas=tx.gas,
            max_fee=fees.max_fee,
            tip=fees.tip,
        )

    def _claim(self, batch: Batch) -> None:
        """Each job's record moves to submitted at its nonce, unless another nonce holds it already (claims.py
        decides what a claim that failed means; this re-reads those records and writes the takeovers)."""
        claimed: dict[Key, tuple[PlannedTx, StatusChange]] = {}
        for tx in batch.txs:
            assert tx.item is not None and tx.signed is not None
            for job in tx.jobs:
                claimed[key_of(job)] = (
                    tx,
                    claims.claim(job, tx.signed.tx_hash, tx.item.nonce, batch.reclaim_from.get(key_of(job))),
                )
        lost = {
            (c.wallet.lower(), c.version)
            for c in self._records.set_statuses([change for _, change in claimed.values()])
        }
        for key, (tx, change) in claimed.items():
            if key not in lost:
                tx.claimed.append(batch.jobs[key])
                if change.absent:
                    batch.claimed_as_latest.add(key)
        if not lost:
            return
        now = self._records.get_many(list(lost), documents=False)
        takeovers: dict[Key, StatusChange] = {}
        for key in lost:
            verdict = claims.lost_claim(batch.jobs[key], now.get(key), claimed[key][1], self._txs.get)
            if verdict.rebroadcast is not None:
                batch.rebroadcast[verdict.rebroadcast.nonce] = verdict.rebroadcast
            if verdict.takeover is not None:
                takeovers[key] = verdict.takeover
            else:
                assert verdict.outcome is not None
                batch.outcomes[key] = verdict.outcome
        refused = {(c.wallet.lower(), c.version) for c in self._records.set_statuses(list(takeovers.values()))}
        for key in takeovers:
            if key in refused:
                batch.outcomes[key] = Outcome(False, retry=RETRY_WAIT, reason=claims.RECORD_CHANGED)
            else:
                claimed[key][0].claimed.append(batch.jobs[key])

    def _check_order(self, batch: Batch) -> None:
        """After claiming: a wallet's writes must reach the chain in version order, a revocation after its key
        (claims.order_verdict decides, from the wallet's versions read after the claim)."""
        claimed = {key_of(job): tx for tx in batch.txs for job in tx.claimed}
        for key, tx in claimed.items():
            job = batch.jobs[key]
            if key in batch.claimed_as_latest:
                continue  # a first key, claimed while it was the wallet's only version: nothing to order it against
            assert tx.item is not None  # claimed: its nonce was reserved and signed first
            outcome = claims.order_verdict(job, tx.item.nonce, self._records.newest(job.wallet, 20), self._txs.get)
            if outcome is None:
                continue
            tx.claimed.remove(job)
            batch.outcomes[key] = outcome

    def _store(self, batch: Batch, tx: PlannedTx, fees: Fees) -> None:
        """Store the signed bytes in the nonce's item: from here on the monitor will see them through."""
        assert tx.item is not None and tx.signed is not None
        if not tx.claimed:
            self._give_back(tx.item, fees)
            tx.item = None
            return
        if len(tx.claimed) != len(tx.jobs):  # the payload shrank: sign it again, and name the new hash
            order = {key_of(job): i for i, job in enumerate(tx.jobs)}
            tx.claimed.sort(key=lambda job: order[key_of(job)])
            tx.data = (
                self._chain.set_keys_data(tx.claimed) if tx.kind == KIND_SET else self._chain.revoke_data(tx.claimed[0])
            )
            tx.signed = self._sign(tx, fees)
            self._records.set_statuses(
                [
                    StatusChange(
                        j.wallet,
                        j.version,
                        STATUS_SUBMITTED,
                        (STATUS_SUBMITTED,),
                        (("tx_hash", tx.signed.tx_hash),),
                        tx.item.nonce,
                    )
                    for j in tx.claimed
                ]
            )
        attempt = Attempt(tx.signed.tx_hash, fees.max_fee, fees.tip, self._clock())
        try:
            tx.item = self._txs.sign_reserved(
                tx.item,
                kind=tx.kind,
                entries=tuple(tx.claimed),
                to=self._chain.address,
                data=tx.data,
                gas=tx.gas,
                raw=tx.signed.raw,
                attempt=attempt,
            )
        except StaleItem:
            # The monitor took this reservation over (our lease ran out) and filled it with a no-op; these
            # jobs' records still name that nonce, so they can be claimed again when they come back.
            logger.warning(
                "reservation taken over before it was stored; jobs go back to the queue",
                extra=log_extra(nonce=tx.item.nonce),
            )
            for job in tx.claimed:
                batch.outcomes[key_of(job)] = Outcome(
                    False, retry=RETRY_ERROR, reason=f"nonce {tx.item.nonce} was taken over before it was stored"
                )
            tx.item = None
            return
        for job in tx.claimed:
            batch.outcomes[key_of(job)] = Outcome(True)
            logger.info(
                "submitted",
                extra=log_extra(
                    wallet=job.wallet,
                    version=job.version,
                    kind=job.kind,
                    nonce=tx.item.nonce,
                    tx_hash=tx.signed.tx_hash,
                ),
            )
        self.telemetry.count(REGISTRATIONS_SUBMITTED, len(tx.claimed))

    def _give_back(self, item: TxItem, fees: Fees) -> None:
        """A reserved nonce none of whose jobs was ours to send: return it, or fill it so later nonces can mine."""
        if self._nonces.release(item):
            return
        try:
            filled = fill_with_noop(self._txs, self._chain, self._signer, item, fees, self._clock())
        except StaleItem:
            return
        logger.info(
            "filled an unused nonce with a no-op", extra=log_extra(nonce=item.nonce, tx_hash=filled.latest.tx_hash)
        )
        self._broadcast(filled)

    def _broadcast(self, item: TxItem) -> None:
        assert item.raw is not None  # only a signed item is broadcast
        result = self._chain.send(item.raw)
        if result.accepted or result.benign:
            self.telemetry.count(TRANSACTIONS_SENT)
        else:  # stored: the monitor rebroadcasts or replaces it
            logger.warning(
                "node refused a transaction; the monitor takes it from here",
                extra=log_extra(nonce=item.nonce, tx_hash=item.latest.tx_hash, error=result.error),
            )

    def _rebroadcast_duplicates(self, batch: Batch) -> None:
        """A job delivered again whose transaction may never have reached a node (its worker died): send the stored bytes."""
        for item in batch.rebroadcast.values():
            if not self._chain.known(item.latest.tx_hash) and self._chain.receipt(item.latest.tx_hash) is None:
                self._broadcast(item)

    # ------------------------------------------------------------ 5. record

    def record(self, batch: Batch) -> None:
        for _ in batch.malformed:
            self.telemetry.count(JOBS_RETRIED)
        changes: list[StatusChange] = []
        for key, outcome in batch.outcomes.items():
            job = batch.jobs[key]
            if not outcome.ack:
                changes += self._retry(batch, key, outcome)
                continue
            if outcome.change is None:
                continue
            changes.append(outcome.change)
            if outcome.change.status == STATUS_SUPERSEDED:
                self.telemetry.count(REGISTRATIONS_SUPERSEDED)
                logger.info("superseded by a newer key", extra=log_extra(wallet=job.wallet, version=job.version))
            elif outcome.change.status == STATUS_FAILED:
                self.telemetry.count(REGISTRATIONS_FAILED)
                logger.error("failed", extra=log_extra(wallet=job.wallet, version=job.version, error=outcome.reason))
        self._records.set_statuses(changes)

    def _retry(self, batch: Batch, key: Key, outcome: Outcome) -> list[StatusChange]:
        """A job going back to the queue; on its last delivery, fail it (or queue it anew, when only waiting).
        claims.give_back decides the writes; the wallet's versions are read only for a revocation that may wait in vain."""
        job = batch.jobs[key]
        self.telemetry.count(JOBS_RETRIED)
        last = max(m.receive_count for m in batch.messages[key]) >= self.policy.max_receive_count
        logger.warning(
            "job goes back to the queue",
            extra=log_extra(wallet=job.wallet, version=job.version, reason=outcome.reason, last_delivery=last),
        )
        dead_nonce = batch.reclaim_from.get(key)

        def in_vain() -> bool:
            revoked = batch.records.get((job.wallet.lower(), job.version - 1))
            return claims.waits_in_vain(job, revoked, lambda: self._records.newest(job.wallet, 20), dead_nonce)

        back = claims.give_back(
            job, outcome, batch.records.get(key), dead_nonce, last, self.policy.max_receive_count, in_vain
        )
        if back.requeue:
            self._queue.enqueue(job)  # a fresh message: waiting must not push the job into the DLQ
            outcome.ack = True
        if back.error is not None:
            self.telemetry.count(REGISTRATIONS_FAILED)
            logger.error(
                "poison job: record failed, message goes to the dead-letter queue",
                extra=log_extra(wallet=job.wallet, version=job.version, error=back.error),
            )
        return back.changes
