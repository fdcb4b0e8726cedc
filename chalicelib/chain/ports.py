"""What the chain side (worker.py, monitor.py, sweeper.py, noop.py) needs from the outside, as typing.Protocol.

chalicelib/adapters implements each (named beside it); tests/support/fakes.py has an in-memory fake of each, which
the deterministic simulation (tests/unit/test_simulation.py) runs the real worker, monitor and sweeper against.
"""

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from chalicelib.model import (
    Attempt,
    Counter,
    Job,
    Market,
    OpenCursor,
    PauseState,
    Receipt,
    Reconciliation,
    Record,
    SendResult,
    SignedTx,
    StatusChange,
    TxItem,
)


class Records(Protocol):
    """The records' statuses (adapters/records.py, RecordStore). Every write is conditional: `set_statuses` returns
    the changes whose condition did not hold, so a verdict computed from a stale read only loses its write."""

    def get(self, wallet: str, version: int) -> Record | None: ...

    def newest(self, wallet: str, count: int) -> list[Record]: ...

    def get_many(self, keys: list[tuple[str, int]], documents: bool = True) -> dict[tuple[str, int], Record]:
        """Records by (wallet, version), keyed by (lowercase wallet, version); without documents when asked."""
        ...

    def set_statuses(self, changes: list[StatusChange]) -> list[StatusChange]: ...

    def sequence(self, records: list[Record]) -> list[Record]:
        """Append the records' leaves to the transparency log (a wallet's versions in increasing order), each
        record once: returns those this call sequenced, with their log_index. LogBusy when the log head keeps
        moving."""
        ...

    def open_page(self, before: int, cursor: OpenCursor | None, limit: int) -> tuple[list[Record], OpenCursor | None]:
        """Records still on their way (pinned, queued, submitted) not updated since `before`, at most `limit`, from
        `cursor` (None: from the start), and the cursor to go on from (None: read to the end). Read from an index
        that may lag the records by a moment; each record carries its key, cid, status, kind, nonce, createdAt and
        updatedAt only (document ""). The sweeper."""
        ...


class Nonces(Protocol):
    """The owner key's nonce counter, shared by every worker (adapters/nonces.py, NonceManager)."""

    def counter(self) -> Counter | None: ...

    def reserve(self, batches: list[tuple[Job, ...]], owner: str, chain_pending: Callable[[], int]) -> list[TxItem]: ...

    def release(self, item: TxItem) -> bool: ...

    def reconcile(self, chain_latest: int, chain_pending: int) -> Reconciliation: ...

    def reserve_hole(self, nonce: int, owner: str) -> TxItem | None: ...

    def advance_floor(self, floor: int) -> None: ...


class Transactions(Protocol):
    """One item per nonce, the single record of what it carries (adapters/transactions.py, TxStore). Each write is
    conditional on the state read: model.StaleItem when another worker or the monitor got there first."""

    def get(self, nonce: int) -> TxItem | None: ...

    def from_nonce(self, low: int) -> list[TxItem]: ...

    def sign_reserved(
        self,
        item: TxItem,
        *,
        kind: str,
        entries: tuple[Job, ...],
        to: str,
        data: str,
        gas: int,
        raw: str,
        attempt: Attempt,
        owner: str | None = None,
        reserved_at: float | None = None,
    ) -> TxItem: ...

    def add_attempt(self, item: TxItem, raw: str, attempt: Attempt) -> TxItem: ...

    def mark_mined(
        self, item: TxItem, *, tx_hash: str, block_number: int, block_hash: str, gas_used: int, fee_paid_wei: int
    ) -> TxItem: ...

    def mark_unmined(self, item: TxItem) -> TxItem: ...

    def mark_final(
        self, item: TxItem, state: str, error: str | None = None, receipt: dict[str, Any] | None = None
    ) -> TxItem: ...


class Signer(Protocol):
    """The contract owner's key (adapters/kms_signer.py, KmsSigner in AWS KMS)."""

    @property
    def address(self) -> str: ...

    def sign_digest(self, digest: bytes) -> tuple[int, int, int]:
        """(r, s, y_parity) of a 32-byte digest, s in the lower half."""
        ...


class Chain(Protocol):
    """The DMTPKeys contract and the node (adapters/ethereum.py, RegistryChain over web3). Nothing here decides from
    a node's error text: `send` only says whether the node took the bytes."""

    address: str

    def owner(self) -> str: ...

    def key_of(self, wallet: str) -> tuple[bytes, bool]: ...

    def head(self) -> int: ...

    def nonce(self, address: str, block: Any = "latest") -> int: ...

    def pending_nonce(self, address: str) -> int: ...

    def mined_nonce(self, address: str) -> int: ...

    def balance(self, address: str) -> int: ...

    def market(self) -> Market: ...

    def l1_fee_of(self, *, data: str, gas: int, max_fee: int, tip: int) -> int: ...

    def receipt(self, tx_hash: str) -> Receipt | None: ...

    def known(self, tx_hash: str) -> bool: ...

    def block_hash(self, number: int) -> str | None: ...

    def set_keys_data(self, jobs: list[Job], head: tuple[int, bytes] | None = None, anchor: bool = True) -> str: ...

    def revoke_data(self, job: Job) -> str: ...

    def estimate(self, sender: str, data: str) -> int: ...

    def simulate(self, sender: str, data: str) -> None:
        """Raises model.WriteRefused when the contract would revert the call."""
        ...

    def sign(self, signer: Signer, *, nonce: int, to: str, data: str, gas: int, max_fee: int, tip: int) -> SignedTx: ...

    def send(self, raw_tx: str) -> SendResult: ...

    def revert_reason(self, tx_hash: str, block_number: int) -> str: ...


class JobQueue(Protocol):
    """The queue the jobs come back to (adapters/jobs.py, JobQueue over SQS)."""

    def enqueue(self, job: Job) -> str: ...


class Pinner(Protocol):
    """IPFS pinning of a batch of documents in one request (adapters/pinning.py, PinataPinner)."""

    def pin_batch(self, documents: Sequence[bytes]) -> str:
        """Pin every document under its own CID; the folder's CID. PinningFailed when it did not."""
        ...


class PinBudget(Protocol):
    """The pinning service's request rate, shared by every worker (adapters/quotas.py, Quotas)."""

    def charge_pin_request(self, now: int) -> bool:
        """Count one pinning request in this minute; False (nothing counted) when the plan's rate is reached."""
        ...


class Control(Protocol):
    """The worker's persistent pause switch (adapters/control.py, WorkerControl)."""

    def state(self) -> PauseState: ...

    def pause(self, reason: str, by: str, now: int) -> None: ...


class AnchorLog(Protocol):
    """The transparency log as the monitor sees it (adapters/translog.py, TransparencyLog): the heads the chain
    confirmed, and whether leaves are left for an anchor-only transaction."""

    def record_anchor(self, size: int, root: bytes, tx_hash: str, block_number: int) -> None: ...

    def head_to_anchor(self, keys: int) -> tuple[int, bytes] | None:
        """The (size, root) a transaction setting `keys` keys should anchor, or None (0 keys: an anchor-only
        transaction, due once the last anchor is older than LOG_ANCHOR_SINGLE_AFTER_S and leaves are uncovered)."""
        ...
