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
"""
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

from .chain import REVOKE_GAS, RegistryChain, SignedTx, WriteRefused
from .cid import digest_from_cid
from .config import Settings
from .control import PauseState, WorkerControl, is_owner_mismatch
from .fees import Fees, first_offer
from .jobs import JOB_REVOKE_KEY, JOB_SET_KEY, Job, JobQueue, MalformedJob
from .kms_signer import KmsSigner
from .nonces import NonceManager, fill_with_noop
from .observability import (
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
from .records import (
    FINAL_STATUSES,
    KIND_KEY,
    KIND_REVOCATION,
    UNCLAIMED_STATUSES,
    STATUS_CONFIRMED,
    STATUS_FAILED,
    STATUS_PINNED,
    STATUS_QUEUED,
    STATUS_SUBMITTED,
    STATUS_SUPERSEDED,
    Record,
    RecordStore,
    StatusChange,
)
from .transactions import KIND_NOOP, KIND_REVOKE, KIND_SET, STATE_LOST, STATE_RESERVED, Attempt, StaleItem, TxItem, TxStore

Key = tuple[str, int]  # (lowercase wallet, version)
UNCLAIMED = UNCLAIMED_STATUSES
GAS_PER_BATCHED_KEY = 27_000  # measured 25.8k per new key at 100 per setKeys; sizes the first try of a chunk


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    body: str
    receive_count: int = 1
    sent_at: Optional[float] = None  # epoch seconds

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
    gas_cap_per_tx: int = Settings.gas_cap_per_tx  # defaults: config.py, the one place they live
    max_fee_cap_wei: int = Settings.max_fee_cap_wei
    max_receive_count: int = Settings.max_receive_count
    max_keys_per_tx: int = 200
    max_tx_cost_wei: int = Settings.max_tx_cost_wei  # gas * maxFeePerGas + L1 data fee of one transaction, at most

    @classmethod
    def from_settings(cls, settings: Any) -> "WorkerPolicy":
        return cls(settings.gas_cap_per_tx, settings.max_fee_cap_wei, settings.max_receive_count, max_tx_cost_wei=settings.max_tx_cost_wei)


# Why a job goes back to the queue (its last delivery treats each differently).
RETRY_WAIT = "wait"  # a revocation whose key is not on its way yet; a race lost to an older version
RETRY_PAUSED = "paused"  # the owner cannot pay
RETRY_ERROR = "error"  # anything else


class OwnerMismatch(Exception):
    """The contract refuses the signer as its owner: no job is at fault, so none may fail for it."""


@dataclass
class Outcome:
    ack: bool
    change: Optional[StatusChange] = None
    retry: Optional[str] = None  # RETRY_* when not acked
    reason: Optional[str] = None


@dataclass
class PlannedTx:
    kind: str
    jobs: list[Job]
    gas: int
    data: str  # calldata for `jobs`
    item: Optional[TxItem] = None  # once reserved
    signed: Optional[SignedTx] = None
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
    rebroadcast: dict[int, TxItem] = field(default_factory=dict)  # duplicates' transactions, to make sure a node has them
    claimed_as_latest: set[Key] = field(default_factory=set)  # claimed only while no newer version existed

    def open_jobs(self) -> list[Job]:
        return [job for key, job in self.jobs.items() if key not in self.outcomes]

    def retry_ids(self) -> list[str]:
        ids = [m.message_id for m in self.malformed]
        for key, outcome in self.outcomes.items():
            if not outcome.ack:
                ids += [m.message_id for m in self.messages[key]]
        return ids


def key_of(job: Job) -> Key:
    return (job.wallet.lower(), job.version)


class ChainWorker:
    def __init__(
        self,
        records: RecordStore,
        nonces: NonceManager,
        txs: TxStore,
        chain: RegistryChain,
        signer: KmsSigner,
        queue: JobQueue,
        policy: WorkerPolicy = WorkerPolicy(),
        telemetry: Optional[Telemetry] = None,
        worker_id: Optional[str] = None,
        control: Optional[WorkerControl] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._records = records
        self._nonces = nonces
        self._txs = txs
        self._chain = chain
        self._signer = signer
        self._queue = queue
        self.policy = policy
        self.telemetry = telemetry or Telemetry()
        self.worker_id = worker_id or uuid.uuid4().hex[:12]
        self._control = control if control is not None else WorkerControl(txs.table)
        self._clock = clock
        self._reconciled = False

    # ------------------------------------------------------------ the whole invocation

    @tracer.capture_method
    def handle(self, messages: list[QueueMessage]) -> list[str]:
        """Process one SQS batch; returns the message ids to deliver again (Lambda's batchItemFailures)."""
        if not self._reconciled:  # start-up: never reserve from a counter that drifted from the chain
            self._nonces.reconcile(self._chain.mined_nonce(self._signer.address), self._chain.pending_nonce(self._signer.address))
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
            self._pause(f"NotOwner: the contract's owner is {owner}, this worker signs as {self._signer.address} (check KMS_KEY_ID and the rotation)")

    def _pause(self, reason: str) -> None:
        self._control.pause(reason, by="worker", now=int(self._clock()))
        self.telemetry.count(WORKER_PAUSED)
        logger.error("worker paused: jobs stay queued until an operator resumes it", extra=log_extra(signer=self._signer.address, reason=reason))

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
        wanted = [key for key, job in batch.jobs.items() if job.kind == JOB_REVOKE_KEY or max(m.receive_count for m in batch.messages[key]) > 1]
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
                logger.error("not a job; it goes to the dead-letter queue after its last delivery", extra=log_extra(message_id=message.message_id, error=str(exc)))
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
        try:
            self._pack(batch)
        except OwnerMismatch as mismatch:
            self._pause(str(mismatch))
            batch.txs = []
            self._hold_open(batch, self._control.state())
        return batch

    def _hold_open(self, batch: Batch, pause: PauseState) -> None:
        for job in batch.open_jobs():
            batch.outcomes[key_of(job)] = Outcome(False, retry=RETRY_PAUSED, reason=f"paused by {pause.by}: {pause.reason}")

    def _settled(self, job: Job, batch: Batch, newest_key_here: int) -> Optional[Outcome]:
        """An outcome for a job that needs no transaction (or must wait), or None when it should go out."""
        try:
            digest_from_cid(job.cid)
        except ValueError as exc:
            return Outcome(False, retry=RETRY_ERROR, reason=f"{type(exc).__name__}: {exc}")
        key = key_of(job)
        if key in batch.records or job.kind == JOB_REVOKE_KEY:
            record = batch.records.get(key)
            if record is None:
                return Outcome(False, retry=RETRY_ERROR, reason=f"no record {job.wallet} v{job.version}")
            mismatch = self._mismatch(job, record)
            if mismatch is not None:
                return mismatch
            if record.status in FINAL_STATUSES:
                return Outcome(True)
            if record.status == STATUS_SUBMITTED and record.nonce is not None:
                held = self._held(job, record.nonce, batch)
                if held is not None:
                    return held
                batch.reclaim_from[key] = record.nonce
        if newest_key_here > job.version:  # a newer key of this wallet goes out in this very batch
            if job.kind == JOB_REVOKE_KEY:  # superseded only once that key is confirmed: it may yet fail
                return Outcome(False, retry=RETRY_WAIT, reason=f"version {newest_key_here} of this wallet's key is on its way; the revocation waits until it is confirmed")
            return self._superseded(job, batch.reclaim_from.get(key))
        if job.kind == JOB_REVOKE_KEY:
            revoked = batch.records.get((key[0], job.version - 1))
            if revoked is not None and revoked.status in (STATUS_FAILED, STATUS_SUPERSEDED):
                outcome = self._after_newer_key(job, batch)
                if outcome is not None:
                    return outcome
            if revoked is None or (revoked.status not in (STATUS_SUBMITTED, STATUS_CONFIRMED) and (key[0], job.version - 1) not in batch.jobs):
                return Outcome(False, retry=RETRY_WAIT, reason="the key it revokes is not on its way to the chain yet")
        return None

    def _after_newer_key(self, job: Job, batch: Batch) -> Optional[Outcome]:
        """A revocation whose key will never reach the chain itself: superseded if a newer key is confirmed, waiting
        while one is on its way, None (it waits in vain, and fails with the reason) when there is none."""
        newer = [r for r in self._records.newest(job.wallet, 20) if r.version > job.version and r.kind == KIND_KEY]
        if any(r.status == STATUS_CONFIRMED for r in newer):
            return self._superseded(job, batch.reclaim_from.get(key_of(job)))
        if any(r.status in (STATUS_PINNED, STATUS_QUEUED, STATUS_SUBMITTED) for r in newer):
            return Outcome(False, retry=RETRY_WAIT, reason="a newer key of this wallet is on its way; the revocation waits until it is confirmed")
        return None

    def _mismatch(self, job: Job, record: Record) -> Optional[Outcome]:
        expected_kind = KIND_KEY if job.kind == JOB_SET_KEY else KIND_REVOCATION
        if record.kind != expected_kind or record.cid != job.cid:
            return Outcome(False, retry=RETRY_ERROR, reason=f"job ({job.kind}, {job.cid}) does not match record ({record.kind}, {record.cid})")
        return None

    def _held(self, job: Job, nonce: int, batch: Batch) -> Optional[Outcome]:
        """The outcome for a job claimed at `nonce` (a duplicate); None when that nonce will never carry it."""
        item = self._txs.get(nonce)
        if item is None or item.state == STATE_LOST or item.kind == KIND_NOOP:
            return None
        if item.state == STATE_RESERVED:
            # Another worker is between reserving and storing: it may yet store it (then the monitor sees it through),
            # die (the monitor re-queues it) or step back (its order check, a shrunk payload) and count on this very
            # message coming back: one SQS message is held by two workers once a batch outlives its visibility
            # timeout, and an ack here deleted it under the other (the job stayed queued with no message). So it is
            # delivered again, and settled once that nonce's fate is known.
            if any(key_of(c) == key_of(job) for c in item.candidates):
                return Outcome(False, retry=RETRY_WAIT, reason=f"nonce {nonce} is reserved for it by a worker that has not stored it yet")
            return None
        if not item.carries(job.wallet, job.version):
            return None
        if item.block_number is None:
            batch.rebroadcast[item.nonce] = item
        return Outcome(True)

    def _superseded(self, job: Job, claimed_at: Optional[int] = None) -> Outcome:
        only_from = (STATUS_SUBMITTED,) if claimed_at is not None else UNCLAIMED
        return Outcome(True, change=StatusChange(job.wallet, job.version, STATUS_SUPERSEDED, only_from, expect_nonce=claimed_at))

    def _pack(self, batch: Batch) -> None:
        """setKeys calls under the gas cap (refused keys fail now, with the contract's reason), then revocations."""
        sets = [job for job in batch.open_jobs() if job.kind == JOB_SET_KEY]
        per_tx = max(1, min(self.policy.max_keys_per_tx, (self.policy.gas_cap_per_tx - 60_000) // GAS_PER_BATCHED_KEY))
        chunks = [sets[i : i + per_tx] for i in range(0, len(sets), per_tx)]
        while chunks:
            chunk = chunks.pop(0)
            data = self._chain.set_keys_data(chunk)
            try:
                gas = self._chain.estimate(self._signer.address, data)
            except WriteRefused as refused:
                if is_owner_mismatch(str(refused)):
                    raise OwnerMismatch(f"contract refused the write: {refused}") from refused
                chunks[:0] = self._without_refused(chunk, refused, batch)
                continue
            if gas > self.policy.gas_cap_per_tx and len(chunk) > 1:
                half = len(chunk) // 2
                chunks[:0] = [chunk[:half], chunk[half:]]
                continue
            # Headroom: a key overwritten when estimated may be fresh again when mined (after a reorg).
            batch.txs.append(PlannedTx(KIND_SET, chunk, min(max(gas * 6 // 5, gas + 10_000), max(gas, self.policy.gas_cap_per_tx)), data))
        for job in batch.open_jobs():
            if job.kind != JOB_REVOKE_KEY:
                continue
            gas, data = REVOKE_GAS, self._chain.revoke_data(job)
            digest, _ = self._chain.key_of(job.wallet)
            if digest == digest_from_cid(job.cid):  # its key is on chain already: simulate the revocation
                try:
                    gas = max(REVOKE_GAS, self._chain.estimate(self._signer.address, data) * 6 // 5)
                except WriteRefused as refused:
                    if is_owner_mismatch(str(refused)):
                        raise OwnerMismatch(f"contract refused the write: {refused}") from refused
                    batch.outcomes[key_of(job)] = self._refused(job, str(refused), batch)
                    continue
            batch.txs.append(PlannedTx(KIND_REVOKE, [job], gas, data))

    def _without_refused(self, chunk: list[Job], refused: WriteRefused, batch: Batch) -> list[list[Job]]:
        """Simulate each key alone; those the contract refuses fail, the rest are tried again together."""
        if len(chunk) == 1:
            batch.outcomes[key_of(chunk[0])] = self._refused(chunk[0], str(refused), batch)
            return []
        kept = []
        for job in chunk:
            try:
                self._chain.simulate(self._signer.address, self._chain.set_keys_data([job]))
                kept.append(job)
            except WriteRefused as alone:
                if is_owner_mismatch(str(alone)):
                    raise OwnerMismatch(f"contract refused the write: {alone}") from alone
                batch.outcomes[key_of(job)] = self._refused(job, str(alone), batch)
        if len(kept) == len(chunk):
            raise RuntimeError(f"setKeys of {len(chunk)} keys reverts ({refused}) though each key alone does not")
        return [kept] if kept else []

    def _refused(self, job: Job, reason: str, batch: Batch) -> Outcome:
        error = f"contract refused the write: {reason}"
        claimed_at = batch.reclaim_from.get(key_of(job))
        only_from = (STATUS_SUBMITTED,) if claimed_at is not None else UNCLAIMED
        return Outcome(True, change=StatusChange(job.wallet, job.version, STATUS_FAILED, only_from, (("error", error),), claimed_at), reason=error)

    # ------------------------------------------------------------ 2-4. pay, reserve, sign, claim, check, store, broadcast

    def prepare(self, batch: Batch) -> None:
        """Everything up to broadcasting: pay check, nonces, signatures, claims, order check, stored bytes."""
        if not batch.txs:
            return
        market = self._chain.market()
        offer = first_offer(market, self.policy.max_fee_cap_wei)
        if offer.capped:
            self.telemetry.count(FEE_CAP_REACHED)
            logger.warning("fee cap reached: offering the cap", extra=log_extra(base_fee=market.base_fee, cap=self.policy.max_fee_cap_wei))
        if not self._can_pay(batch, offer.fees):
            return
        reserved = self._nonces.reserve([tuple(tx.jobs) for tx in batch.txs], self.worker_id, lambda: self._chain.pending_nonce(self._signer.address))
        for tx, item in zip(batch.txs, reserved):
            tx.item = item
            tx.signed = self._sign(tx, offer.fees)
        self._claim(batch)
        self._check_order(batch)
        for tx in batch.txs:
            self._store(batch, tx, offer.fees)

    def broadcast(self, batch: Batch) -> None:
        """Send the stored bytes, in nonce order (and those of duplicates that may never have reached a node)."""
        self._rebroadcast_duplicates(batch)
        for tx in batch.txs:
            if tx.item is not None and tx.item.state != STATE_RESERVED:
                self._broadcast(tx.item)

    def _can_pay(self, batch: Batch, fees: Fees) -> bool:
        """Whether the owner can pay every transaction's gas * maxFeePerGas plus its L1 data fee (OP-stack chains),
        and no transaction costs more than the per-transaction cost cap."""
        balance = self._chain.balance(self._signer.address)
        self.telemetry.gauge(OWNER_BALANCE_ETH, "None", balance / 10**18)
        costs = [tx.gas * fees.max_fee + self._chain.l1_fee_of(data=tx.data, gas=tx.gas, max_fee=fees.max_fee, tip=fees.tip) for tx in batch.txs]
        needed = sum(costs)
        if balance >= needed and max(costs) <= self.policy.max_tx_cost_wei:
            return True
        if max(costs) > self.policy.max_tx_cost_wei:
            self.telemetry.count(FEE_CAP_REACHED)
            reason = f"paused: a transaction may cost {max(costs)} wei (gas and L1 data fee), over the cap of {self.policy.max_tx_cost_wei} wei"
            logger.error("transaction cost cap reached; jobs stay queued", extra=log_extra(cost_wei=max(costs), cap_wei=self.policy.max_tx_cost_wei))
        else:
            self.telemetry.count(WORKER_PAUSED)
            reason = f"paused: the owner holds {balance} wei, these transactions may cost up to {needed} wei (gas and L1 data fee)"
            logger.error("owner cannot pay; jobs stay queued", extra=log_extra(signer=self._signer.address, balance_wei=balance, needed_wei=needed))
        for tx in batch.txs:
            for job in tx.jobs:
                batch.outcomes[key_of(job)] = Outcome(False, retry=RETRY_PAUSED, reason=reason)
        batch.txs = []
        return False

    def _sign(self, tx: PlannedTx, fees: Fees) -> SignedTx:
        assert tx.item is not None
        return self._chain.sign(self._signer, nonce=tx.item.nonce, to=self._chain.address, data=tx.data, gas=tx.gas, max_fee=fees.max_fee, tip=fees.tip)

    def _claim(self, batch: Batch) -> None:
        """Each job's record moves to submitted at its nonce, unless another nonce holds it already."""
        claims: dict[Key, tuple[PlannedTx, StatusChange]] = {}
        for tx in batch.txs:
            assert tx.item is not None and tx.signed is not None
            for job in tx.jobs:
                old = batch.reclaim_from.get(key_of(job))
                only_from = (STATUS_SUBMITTED,) if old is not None else UNCLAIMED
                changes = (("tx_hash", tx.signed.tx_hash), ("nonce", tx.item.nonce))
                kind = KIND_KEY if job.kind == JOB_SET_KEY else KIND_REVOCATION
                latest_only = ("next_version",) if job.kind == JOB_SET_KEY and job.version == 1 and old is None else ()
                claims[key_of(job)] = (tx, StatusChange(
                    job.wallet, job.version, STATUS_SUBMITTED, only_from, changes, old, (("cid", job.cid), ("kind", kind)), latest_only))
        lost = {(c.wallet.lower(), c.version) for c in self._records.set_statuses([change for _, change in claims.values()])}
        for key, (tx, change) in claims.items():
            if key not in lost:
                tx.claimed.append(batch.jobs[key])
                if change.absent:
                    batch.claimed_as_latest.add(key)
        if not lost:
            return
        # Not claimable: settled already, held by another nonce, not this job's record, or claimed at a nonce that
        # will never carry it (its reservation was filled with a no-op): that claim can be taken over now.
        now = self._records.get_many(list(lost), documents=False)
        takeovers: dict[Key, StatusChange] = {}
        for key in lost:
            job, record = batch.jobs[key], now.get(key)
            if record is None:
                batch.outcomes[key] = Outcome(False, retry=RETRY_ERROR, reason=f"no record {job.wallet} v{job.version}")
            elif self._mismatch(job, record) is not None:
                batch.outcomes[key] = self._mismatch(job, record)
            elif record.status in FINAL_STATUSES:
                batch.outcomes[key] = Outcome(True)
            elif record.status == STATUS_SUBMITTED and record.nonce is not None:
                held = self._held(job, record.nonce, batch)
                if held is not None:
                    batch.outcomes[key] = held
                else:
                    tx, change = claims[key]
                    takeovers[key] = StatusChange(job.wallet, job.version, STATUS_SUBMITTED, (STATUS_SUBMITTED,), change.changes, record.nonce)
            elif record.status in UNCLAIMED and record.next_version is not None and claims[key][1].absent:
                takeovers[key] = replace(claims[key][1], absent=())  # a newer version exists: claim, then check the order
            else:
                batch.outcomes[key] = Outcome(False, retry=RETRY_WAIT, reason="its record changed while it was being claimed")
        refused = {(c.wallet.lower(), c.version) for c in self._records.set_statuses(list(takeovers.values()))}
        for key in takeovers:
            if key in refused:
                batch.outcomes[key] = Outcome(False, retry=RETRY_WAIT, reason="its record changed while it was being claimed")
            else:
                claims[key][0].claimed.append(batch.jobs[key])

    def _check_order(self, batch: Batch) -> None:
        """After claiming: a wallet's writes must reach the chain in version order, a revocation after its key."""
        claimed = {key_of(job): tx for tx in batch.txs for job in tx.claimed}
        for key, tx in claimed.items():
            job = batch.jobs[key]
            if key in batch.claimed_as_latest:
                continue  # a first key, claimed while it was the wallet's only version: nothing to order it against
            verdict = self._order_verdict(job, tx.item.nonce, self._records.newest(job.wallet, 20))
            if verdict is None:
                continue
            tx.claimed.remove(job)
            outcome, reason = verdict
            if outcome == STATUS_SUPERSEDED:
                batch.outcomes[key] = self._superseded(job, claimed_at=tx.item.nonce)
            else:
                change = StatusChange(job.wallet, job.version, STATUS_QUEUED, (STATUS_SUBMITTED,), (("error", reason),), tx.item.nonce)
                batch.outcomes[key] = Outcome(False, change=change, retry=RETRY_WAIT, reason=reason)

    def _order_verdict(self, job: Job, nonce: int, versions: list[Record]) -> Optional[tuple[str, str]]:
        for other in versions:
            if other.version > job.version and other.kind == KIND_KEY and other.status not in (STATUS_FAILED, STATUS_SUPERSEDED):
                if job.kind == JOB_REVOKE_KEY and other.status != STATUS_CONFIRMED:
                    # Should that key fail, the key this revokes (perhaps compromised) would stay live: wait for it.
                    return STATUS_QUEUED, f"version {other.version} of this wallet's key is on its way; the revocation waits until it is confirmed"
                # It lands after this one (or already has, or will go out later): this write would be overwritten,
                # or, at an earlier nonce, would overwrite it.
                return STATUS_SUPERSEDED, f"version {other.version} of this wallet's key goes on chain instead"
            if other.version < job.version and other.status == STATUS_SUBMITTED and other.nonce is not None and other.nonce > nonce:
                return STATUS_QUEUED, f"version {other.version} is still in flight at a later nonce"
        if job.kind == JOB_REVOKE_KEY:
            key = next((r for r in versions if r.version == job.version - 1), None)
            if key is None or key.status not in (STATUS_SUBMITTED, STATUS_CONFIRMED) or key.nonce is None or key.nonce >= nonce:
                return STATUS_QUEUED, "the key it revokes is not on its way to the chain before it"
            if key.status == STATUS_SUBMITTED:  # claimed at an earlier nonce: only if that nonce really carries it
                item = self._txs.get(key.nonce)
                if item is None or item.state in (STATE_RESERVED, STATE_LOST) or item.kind == KIND_NOOP or not item.carries(key.wallet, key.version):
                    return STATUS_QUEUED, f"the key it revokes is claimed at nonce {key.nonce}, which does not (yet) carry it"
        return None

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
            tx.data = self._chain.set_keys_data(tx.claimed) if tx.kind == KIND_SET else self._chain.revoke_data(tx.claimed[0])
            tx.signed = self._sign(tx, fees)
            self._records.set_statuses([
                StatusChange(j.wallet, j.version, STATUS_SUBMITTED, (STATUS_SUBMITTED,), (("tx_hash", tx.signed.tx_hash),), tx.item.nonce)
                for j in tx.claimed
            ])
        attempt = Attempt(tx.signed.tx_hash, fees.max_fee, fees.tip, self._clock())
        try:
            tx.item = self._txs.sign_reserved(tx.item, kind=tx.kind, entries=tuple(tx.claimed), to=self._chain.address, data=tx.data, gas=tx.gas, raw=tx.signed.raw, attempt=attempt)
        except StaleItem:
            # The monitor took this reservation over (our lease ran out) and filled it with a no-op; these
            # jobs' records still name that nonce, so they can be claimed again when they come back.
            logger.warning("reservation taken over before it was stored; jobs go back to the queue", extra=log_extra(nonce=tx.item.nonce))
            for job in tx.claimed:
                batch.outcomes[key_of(job)] = Outcome(False, retry=RETRY_ERROR, reason=f"nonce {tx.item.nonce} was taken over before it was stored")
            tx.item = None
            return
        for job in tx.claimed:
            batch.outcomes[key_of(job)] = Outcome(True)
            logger.info("submitted", extra=log_extra(wallet=job.wallet, version=job.version, kind=job.kind, nonce=tx.item.nonce, tx_hash=tx.signed.tx_hash))
        self.telemetry.count(REGISTRATIONS_SUBMITTED, len(tx.claimed))

    def _give_back(self, item: TxItem, fees: Fees) -> None:
        """A reserved nonce none of whose jobs was ours to send: return it, or fill it so later nonces can mine."""
        if self._nonces.release(item):
            return
        try:
            filled = fill_with_noop(self._txs, self._chain, self._signer, item, fees, self._clock())
        except StaleItem:
            return
        logger.info("filled an unused nonce with a no-op", extra=log_extra(nonce=item.nonce, tx_hash=filled.latest.tx_hash))
        self._broadcast(filled)

    def _broadcast(self, item: TxItem) -> None:
        result = self._chain.send(item.raw)
        if result.accepted or result.benign:
            self.telemetry.count(TRANSACTIONS_SENT)
        else:  # stored: the monitor rebroadcasts or replaces it
            logger.warning("node refused a transaction; the monitor takes it from here", extra=log_extra(nonce=item.nonce, tx_hash=item.latest.tx_hash, error=result.error))

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
        """A job going back to the queue; on its last delivery, fail it (or queue it anew, when only waiting)."""
        job = batch.jobs[key]
        self.telemetry.count(JOBS_RETRIED)
        last = max(m.receive_count for m in batch.messages[key]) >= self.policy.max_receive_count
        logger.warning("job goes back to the queue", extra=log_extra(wallet=job.wallet, version=job.version, reason=outcome.reason, last_delivery=last))
        record = batch.records.get(key)
        released = [outcome.change] if outcome.change is not None else []
        # Every write below holds only for this job's own record (its CID and kind), and only while no live
        # nonce carries it: unclaimed, or claimed at the dead nonce this batch found it at.
        expect = (("cid", job.cid), ("kind", KIND_KEY if job.kind == JOB_SET_KEY else KIND_REVOCATION))
        dead_nonce = batch.reclaim_from.get(key)
        if not last:
            if outcome.change is not None:
                return released
            if record is not None and record.status == STATUS_SUBMITTED:  # claimed at a dead nonce: leave its claim
                return [StatusChange(job.wallet, job.version, STATUS_SUBMITTED, (STATUS_SUBMITTED,), (("error", outcome.reason),), record.nonce, expect)]
            return [StatusChange(job.wallet, job.version, STATUS_QUEUED, UNCLAIMED, (("error", outcome.reason),), expect=expect)]
        if outcome.retry in (RETRY_PAUSED, RETRY_WAIT) and not self._waits_in_vain(job, batch):
            self._queue.enqueue(job)  # a fresh message: waiting must not push the job into the DLQ
            outcome.ack = True
            return released
        self.telemetry.count(REGISTRATIONS_FAILED)
        error = f"gave up after {self.policy.max_receive_count} deliveries: {outcome.reason}"
        logger.error("poison job: record failed, message goes to the dead-letter queue", extra=log_extra(wallet=job.wallet, version=job.version, error=error))
        if outcome.change is not None:  # it was releasing its own claim: fail it from that claim instead (one write per record)
            return [StatusChange(job.wallet, job.version, STATUS_FAILED, outcome.change.only_from, (("error", error),), outcome.change.expect_nonce, expect)]
        if dead_nonce is not None:
            return [StatusChange(job.wallet, job.version, STATUS_FAILED, (STATUS_SUBMITTED,), (("error", error),), dead_nonce, expect)]
        return [StatusChange(job.wallet, job.version, STATUS_FAILED, UNCLAIMED, (("error", error),), expect=expect)]

    def _waits_in_vain(self, job: Job, batch: Batch) -> bool:
        """A revocation whose key will never reach the chain (it failed or was superseded)."""
        if job.kind != JOB_REVOKE_KEY:
            return False
        key = batch.records.get((job.wallet.lower(), job.version - 1))
        return key is not None and key.status in (STATUS_FAILED, STATUS_SUPERSEDED) and self._after_newer_key(job, batch) is None
