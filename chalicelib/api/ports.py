"""What the API's use cases (registry.py, logqueries.py, signatures.py) need from the outside, as typing.Protocol.

chalicelib/adapters implements each (named beside it); tests/support/api_fakes.py has an in-memory fake of each, so
the use cases are tested in milliseconds (tests/unit/test_registry_use_cases.py) as well as on the real parts.
"""

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from chalicelib.model import Anchor, Charge, Head, Job, LogHead, Record, SignerCheck

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

    def all_versions(self, wallet: str) -> Iterable[Record]: ...

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
    """The daily budgets of new on-chain writes (adapters/quotas.py, Quotas): the wallet's, the source's and
    everyone's, charged in the record's own transaction."""

    def within_budget(self, wallet: str, source: str, now: int, write: Callable[[Charge], T]) -> T:
        """Call `write(charge)` (which stores the record with the charge) and return what it returns; a spent
        budget is QuotaExceeded, with nothing written."""
        ...

    def charge_chain_check(self, source: str, now: int) -> None:
        """Count one signature check that needs the chain (an eth_call) for `source` in this minute; QuotaExceeded
        past SOURCE_REQUESTS_PER_MINUTE."""
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
