"""Plain data every layer shares: records and wallet heads, jobs, nonce items and transactions, receipts and the
fee market, log heads and anchors, the pause switch, and the exceptions the ports raise.

No I/O, and no import of any other chalicelib module: every layer may import this one (the protocol's own data,
Registration, Domain and the like, lives in dmtp_protocol.messages). Every class is a frozen dataclass or an
exception; what reads and writes them is in chalicelib/adapters, what decides about them in chalicelib/chain.
"""

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from dmtp_protocol import merkle

# ---------------------------------------------------------------- records (adapters/records.py stores them)

KIND_KEY = "key"
KIND_REVOCATION = "revocation"
STATUS_PINNED = "pinned"
STATUS_QUEUED = "queued"
STATUS_SUBMITTED = "submitted"
STATUS_CONFIRMED = "confirmed"
STATUS_FAILED = "failed"
STATUS_SUPERSEDED = "superseded"  # a newer version of the wallet's key went on chain instead; no tx of its own
FINAL_STATUSES = (STATUS_CONFIRMED, STATUS_FAILED, STATUS_SUPERSEDED)
OPEN_STATUSES = (STATUS_PINNED, STATUS_QUEUED, STATUS_SUBMITTED)  # on their way to the chain
UNCLAIMED_STATUSES = (STATUS_PINNED, STATUS_QUEUED)  # no nonce carries them


@dataclass(frozen=True)
class Record:
    wallet: str  # EIP-55; the key is its lowercase form
    version: int
    cid: str
    document: str
    status: str
    created_at: int
    updated_at: int
    tx_hash: str | None = None
    nonce: int | None = None
    block_number: int | None = None
    error: str | None = None
    kind: str = KIND_KEY
    revokes_cid: str | None = None  # revocation records: the CID of the key they revoke
    signer_check: str | None = None  # JSON: how the signature was verified (ERC-1271: chain id and block)
    next_version: int | None = None  # set when the wallet's next version is written
    log_index: int | None = None  # its leaf in the transparency log (translog.py), written with it


@dataclass(frozen=True)
class StatusChange:
    """One record's move to `status` (with `changes`), applied only while its status is one of `only_from`
    (and, with `expect_nonce`, only while its nonce is that one)."""

    wallet: str
    version: int
    status: str
    only_from: tuple[str, ...]
    changes: tuple[tuple[str, Any], ...] = ()
    expect_nonce: int | None = None
    expect: tuple[
        tuple[str, Any], ...
    ] = ()  # further attributes that must hold these values (kind: a missing one is "key")
    absent: tuple[str, ...] = ()  # attributes the record must not have (next_version: it is still the latest)


@dataclass(frozen=True)
class Head:
    """The wallet's latest version and its current key (immutable fields only: no on-chain status)."""

    wallet: str
    latest_version: int
    key_version: int
    cid: str
    document: str
    revocation: str | None  # JSON of the revocation record's document, when the current key is revoked
    key_log_index: int | None = None  # the current key's leaf in the transparency log


@dataclass(frozen=True)
class OpenCursor:
    """Where a read of the open records (Records.open_page) stopped: the shard of the open index it was reading, and
    the index key of the last record it read there (None: that shard from its start). Opaque to the sweeper, which
    only hands it back."""

    shard: int
    after: dict[str, Any] | None = None


class VersionTaken(Exception):
    """Another registration already holds this (wallet, version)."""


@dataclass(frozen=True)
class SignerCheck:
    method: str  # "ecdsa", "erc1271" or "erc6492"
    chain_id: int | None = None  # for erc1271/erc6492: where and when the check said yes
    block_number: int | None = None
    factory: str | None = None  # for erc6492: the factory the wrapped signature names (EIP-55)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"method": self.method, "chainId": self.chain_id, "blockNumber": self.block_number}
        if self.method == "erc6492":
            out["factory"] = self.factory
        return out


# ---------------------------------------------------------------- budgets (adapters/quotas.py counts them)

BUDGET_WALLET = "wallet"
BUDGET_SOURCE = "source"
BUDGET_NETWORK = "network"  # the source's network: its IPv4 /24 or IPv6 /48 (Source.network)
BUDGET_GLOBAL = "global"


@dataclass(frozen=True)
class Source:
    """Who sent a request, as the per-source limits count it (chalicelib/api/sources.py source_of makes it).

    `own` is the key of the source's own limits: an IPv4 address, or an IPv6 /64 (one subscriber's prefix: a host
    can take any address in it). `network` is the key of the aggregate at a higher limit: the IPv4 /24 or the IPv6
    /48 around it. Anything that is not an IP address is a source of its own, its network the same key."""

    own: str
    network: str


@dataclass(frozen=True)
class CounterAdd:
    """One counter of a budget, raised by one in the record's own transaction while it stays below `limit`.

    `table` and `key` name the counter item (in the quotas table), `expires_at` its TTL; `budget` says which of the
    budgets it belongs to (BUDGET_*). A record store writes it as a conditional ADD beside the record."""

    table: str
    key: str
    limit: int
    expires_at: int
    budget: str


@dataclass(frozen=True)
class Charge:
    """What one new write costs: its counters, all raised in the record's transaction or none (a refused or failed
    write costs nothing)."""

    counters: tuple[CounterAdd, ...] = ()


class BudgetSpent(Exception):
    """A counter of the write's charge was at its limit: nothing was written (the record neither)."""

    def __init__(self, counter: CounterAdd) -> None:
        super().__init__(f"{counter.budget} budget counter {counter.key} is at its limit {counter.limit}")
        self.counter = counter


# ---------------------------------------------------------------- jobs (adapters/jobs.py queues them)

JOB_SET_KEY = "set"
JOB_REVOKE_KEY = "revoke"
JOB_KINDS = (JOB_SET_KEY, JOB_REVOKE_KEY)


@dataclass(frozen=True)
class Job:
    """One on-chain effect for the record (wallet, version).

    kind "set": write the record's CID for the wallet. kind "revoke": the record is a revocation, and `cid`
    names the key it revokes (the contract checks that this is the wallet's current key).
    """

    wallet: str
    version: int
    cid: str
    kind: str = JOB_SET_KEY

    def to_body(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_body(cls, body: str) -> "Job":
        try:
            data = json.loads(body)
            job = cls(str(data["wallet"]), int(data["version"]), str(data["cid"]), str(data.get("kind", JOB_SET_KEY)))
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedJob(f"not a job: {body[:200]!r}") from exc
        if job.kind not in JOB_KINDS:
            raise MalformedJob(f"unknown job kind {job.kind!r}")
        return job


class MalformedJob(ValueError):
    pass


# ---------------------------------------------------------------- nonce items and transactions
# (adapters/transactions.py, adapters/nonces.py)

STATE_RESERVED = "reserved"
STATE_SIGNED = "signed"
STATE_MINED = "mined"
STATE_CONFIRMED = "confirmed"
STATE_FAILED = "failed"
STATE_LOST = "lost"
IN_FLIGHT_STATES = (STATE_SIGNED, STATE_MINED)
FINAL_STATES = (STATE_CONFIRMED, STATE_FAILED, STATE_LOST)
KIND_SET = "set"  # setKey / setKeys for its jobs
KIND_REVOKE = "revoke"  # revokeKey for its one job
KIND_NOOP = "noop"  # a 0-value self-transfer that only consumes the nonce
KIND_ANCHOR = "anchor"  # setKeysAnchored of no keys: the monitor anchors leaves no transaction anchored


@dataclass(frozen=True)
class Attempt:
    tx_hash: str
    max_fee: int
    tip: int
    signed_at: float

    def to_json(self) -> dict[str, Any]:
        return {"hash": self.tx_hash, "maxFee": self.max_fee, "tip": self.tip, "at": self.signed_at}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Attempt":
        return cls(data["hash"], int(data["maxFee"]), int(data["tip"]), float(data["at"]))


@dataclass(frozen=True)
class TxItem:
    signer: str
    nonce: int
    state: str
    kind: str
    owner: str = ""
    reserved_at: float = 0.0
    candidates: tuple[Job, ...] = ()  # what the reserving worker meant to send (re-queued if it never signs)
    entries: tuple[Job, ...] = ()  # what the signed transaction carries
    to: str | None = None
    data: str | None = None
    gas: int = 0
    raw: str | None = None  # the newest attempt's signed bytes
    attempts: tuple[Attempt, ...] = ()  # every hash ever signed for this nonce, oldest first
    mined_hash: str | None = None
    block_number: int | None = None
    block_hash: str | None = None
    gas_used: int | None = None
    fee_paid_wei: int | None = None
    error: str | None = None
    updated_at: float = field(default=0.0, compare=False)

    @property
    def latest(self) -> Attempt:
        return self.attempts[-1]

    @property
    def hashes(self) -> list[str]:
        return [attempt.tx_hash for attempt in self.attempts]

    def carries(self, wallet: str, version: int) -> bool:
        return any(job.wallet.lower() == wallet.lower() and job.version == version for job in self.entries)


class StaleItem(Exception):
    """The item changed underneath (another worker or monitor got there first)."""


@dataclass(frozen=True)
class Counter:
    next: int  # the next nonce to reserve
    floor: int  # every nonce below this is final (the monitor reads from here up)


@dataclass(frozen=True)
class Reconciliation:
    before: int
    after: int
    holes: tuple[int, ...]  # nonces below the top item with no item at all (the monitor fills them)
    changed: bool = False  # this call moved the counter


class NonceReservationFailed(RuntimeError):
    pass


# ---------------------------------------------------------------- the chain (adapters/ethereum.py)

NOOP_GAS = 21_000
# revokeKey costs ~30k (one fresh slot and an event); a fixed limit lets a revocation go out right behind the
# transaction that sets its key, before that one is mined and estimateGas could simulate the revocation.
REVOKE_GAS = 60_000


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    status: int
    block_number: int
    block_hash: str
    gas_used: int
    effective_gas_price: int
    log_anchor: tuple[int, bytes] | None = None  # (size, root) of the LogAnchored event it emitted, if any


@dataclass(frozen=True)
class Market:
    base_fee: int  # of the latest block
    tip: int  # what the node suggests as priority fee


@dataclass(frozen=True)
class SignedTx:
    raw: str  # 0x hex
    tx_hash: str
    nonce: int


@dataclass(frozen=True)
class SendResult:
    accepted: bool
    error: str | None = None  # the node's words, for the logs only

    @property
    def benign(self) -> bool:
        """The node already has it or has moved past its nonce: worth a debug line, not a warning."""
        text = (self.error or "").lower()
        return self.accepted or any(words in text for words in ("already known", "already imported", "nonce too low"))


class WriteRefused(Exception):
    """The contract refuses this write (it reverts when simulated); retrying cannot help."""


# ---------------------------------------------------------------- the transparency log (adapters/translog.py)


@dataclass(frozen=True)
class LogHead:
    size: int
    frontier: tuple[bytes, ...]  # perfect subtree roots covering [0, size), largest first

    @property
    def root(self) -> bytes:
        if not self.frontier:
            return merkle.EMPTY_ROOT
        folded = self.frontier[-1]
        for piece in reversed(self.frontier[:-1]):
            folded = merkle.node_hash(piece, folded)
        return folded


@dataclass(frozen=True)
class Anchor:
    """A head the chain confirmed: the registry's contract stored it and emitted LogAnchored."""

    size: int
    root: bytes
    tx_hash: str
    block_number: int
    recorded_at: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "root": "0x" + self.root.hex(),
            "txHash": self.tx_hash,
            "blockNumber": self.block_number,
        }


# ---------------------------------------------------------------- the worker's pause switch (adapters/control.py)


@dataclass(frozen=True)
class PauseState:
    paused: bool
    reason: str
    since: int | None  # epoch seconds of the pause (None when running)
    by: str  # who paused or resumed it last ("worker", an operator's name); "" when never touched


RUNNING = PauseState(paused=False, reason="", since=None, by="")


# ---------------------------------------------------------------- JSON-RPC (adapters/rpc.py, for the API path)


class RpcError(RuntimeError):
    """The node answered with an error (for eth_call: the call reverted)."""


class RpcUnavailable(RpcError):
    """The node could not be reached or did not answer JSON-RPC."""


class RpcTimeout(RpcUnavailable):
    """The node was reached but did not answer in time (for an expensive eth_call: the call took too long)."""
