"""What the API's use cases (registry.py, logqueries.py, signatures.py) need from the outside, as typing.Protocol.

chalicelib/adapters implements each (named beside it); tests/support/api_fakes.py has an in-memory fake of each, so
the use cases are tested in milliseconds (tests/unit/test_registry_use_cases.py) as well as on the real parts.
"""

from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

from chalicelib.model import Anchor, Charge, Head, Job, LogHead, Record, SignerCheck, Source

T = TypeVar("T")


class Records(Protocol):
    """A wallet's versions and its head item (adapters/records.py, RecordStore).

    Invariant the use cases rely on: `create` stores version n only while the wallet's newest version is n - 1
    (VersionTaken otherwise), so of two racing writers exactly one wins."""

    def latest(self, wallet: str) -> Record | None: ...

    def newest(self, wallet: str, count: int) -> list[Record]:
        """The wallet's `count` newest versions, newest first (a consistent read)."""
        ...

    def history(self, wallet: str, limit: int, before_version: int | None = None) -> list[Record]: ...

    def versions_at_or_before(self, wallet: str, moment: int) -> Iterator[Record]:
        """The wallet's versions created at or before `moment` (unix seconds), newest first, read lazily page by
        page from the newest version down: a caller that stops early reads no older page."""
        ...

    def get(self, wallet: str, version: int) -> Record | None: ...

    def create(self, record: Record, charge: Charge = ...) -> None:
        """Store the record with `charge`'s budget counters in one transaction: VersionTaken or BudgetSpent (a
        version taken named first), nothing written in either case."""
        ...

    def heads(self, wallets: list[str]) -> dict[str, Head]:
        """Head items of up to 100 wallets, keyed by lowercase wallet (one BatchGetItem)."""
        ...

    def set_status(self, record: Record, status: str, only_from: tuple[str, ...] = (), **changes: Any) -> bool: ...


class Anchors(Protocol):
    """The newest log head the chain confirmed (adapters/translog.py, TransparencyLog)."""

    def latest_anchor(self) -> Anchor | None: ...


class LogReader(Anchors, Protocol):
    """The transparency log's read side (adapters/translog.py, TransparencyLog)."""

    def head(self) -> LogHead: ...

    def leaves(self, start: int, end: int) -> list[tuple[int, bytes]]: ...

    def leaf(self, index: int) -> bytes | None: ...

    def inclusion(self, index: int, size: int) -> tuple[bytes, list[bytes]]: ...

    def consistency(self, old_size: int, new_size: int) -> tuple[bytes, bytes, list[bytes]]: ...


class JobQueue(Protocol):
    """The queue of on-chain jobs (adapters/jobs.py, JobQueue over SQS)."""

    def enqueue(self, job: Job) -> str:
        """Send one job; its message id. Raises whatever the queue raises when it is unreachable."""
        ...


class SignatureChecker(Protocol):
    """Who signed a digest (signatures.py, SignatureVerifier): EOA, ERC-1271 or ERC-6492."""

    def verify(
        self, wallet: str, digest: bytes, signature: str, before_chain: Callable[[], None] | None = None
    ) -> SignerCheck:
        """Who signed; `before_chain()` is called once before the first call to the chain, and what it raises
        stops the check there (an EOA's signature never reaches it)."""
        ...


class WriteBudgets(Protocol):
    """The daily budgets of new on-chain writes (adapters/quotas.py, Quotas): the wallet's, the source's, its
    network's and everyone's, charged in the record's own transaction. Of everyone's budget, RESERVED_WRITES_SHARE
    is kept for wallets that already have a key: a new wallet's first write may not use it."""

    def within_budget(
        self, wallet: str, source: Source, now: int, write: Callable[[Charge], T], existing_wallet: bool = False
    ) -> T:
        """Call `write(charge)` (which stores the record with the charge) and return what it returns; a spent
        budget is QuotaExceeded, with nothing written. `existing_wallet`: the record is not the wallet's version 1,
        so its transaction stores it only if the wallet already has records (the head must say version - 1)."""
        ...

    def check_room(self, wallet: str, source: Source, now: int, existing_wallet: bool = False) -> None:
        """QuotaExceeded when a budget that `within_budget` would charge is already spent; charges nothing. Reads
        only, for a write about to cost a call to the chain (the global budget's total may be a few seconds old)."""
        ...

    def charge_chain_check(self, source: Source, now: int) -> None:
        """Count one signature check that needs the chain (an eth_call) for `source` and its network in this
        minute; QuotaExceeded past SOURCE_REQUESTS_PER_MINUTE (NETWORK_REQUESTS_PER_MINUTE for the network)."""
        ...


class ReadCounts(Protocol):
    """The shared per-minute counts of reads (adapters/quotas.py, Quotas), which api/read_limits.py reports to."""

    def add_reads(self, key: str, window_start: int, units: int) -> int:
        """Add `units` to `key`'s count for the minute starting at `window_start`; the count after."""
        ...


class ReadLimits(Protocol):
    """The per-source limits of reads (api/read_limits.py, ReadLimiter)."""

    def charge(self, raw_source: str, units: int = 1) -> None:
        """Take `units` reads from the source's limits, or QuotaExceeded (nothing taken)."""
        ...


class EthRpc(Protocol):
    """The few JSON-RPC calls a signature check makes (adapters/rpc.py, JsonRpc). They raise model.RpcError when the
    node answers with an error (a revert, out of gas), RpcUnavailable when it cannot be reached or answers no
    JSON-RPC, and RpcTimeout (a kind of RpcUnavailable) when it takes the request and gives no answer in time."""

    def chain_id(self) -> int:
        """The chain id the endpoint serves; asked of the node once per endpoint, then kept."""
        ...

    def block_number(self) -> int: ...

    def code(self, address: str, block: str = "latest") -> bytes: ...

    def eth_call(
        self, to: str, data: bytes, block: str = "latest", gas: int | None = None, timeout_s: float | None = None
    ) -> bytes: ...

    def eth_call_code(self, data: bytes, block: str, gas: int, timeout_s: float) -> bytes: ...
