"""In-memory fakes of the worker's and monitor's ports, for the deterministic simulation (tests/unit/test_simulation.py).

Each fake keeps the contract of the real adapter it stands for (records.py, transactions.py, nonces.py, chain.py,
jobs.py, kms_signer.py): the same methods, the same conditional writes, the same answers. The chain is a small
EVM stand-in: one sender's nonces, a mempool, blocks, reorgs, drops, reverts (NotOwner, NotCurrentKey,
ZeroAddress), the owner's balance. The real adapters keep their tests on moto and Anvil; these fakes only make
thousands of schedules per minute possible.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from chalicelib.adapters.records import OPEN_INDEX_FIELDS, OPEN_SHARDS, leaf_of, open_shard
from chalicelib.chain.ports import Signer
from chalicelib.model import (
    IN_FLIGHT_STATES,
    KIND_KEY,
    OPEN_STATUSES,
    RUNNING,
    STATE_MINED,
    STATE_RESERVED,
    STATE_SIGNED,
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
    StaleItem,
    StatusChange,
    TxItem,
    VersionTaken,
    WriteRefused,
)
from dmtp_protocol.cid import digest_from_cid

if TYPE_CHECKING:
    from chalicelib.chain.worker import QueueMessage

ZERO = "0x" + "00" * 20


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------------------------------------------- records


class FakeRecords:
    """RecordStore in memory (documents kept; `get_many(documents=False)` returns them empty).

    Its open index is kept as records.py keeps the real one: a record is in `open_index` exactly while create,
    set_status or set_statuses last gave it an open status (a record put straight into `items` is one written before
    the index existed: not in it). `open_page` reads it as the real Query does: shard by shard (records.open_shard),
    oldest updatedAt first, at most `limit`, a cursor of the real one's shape whenever a page filled its limit, and
    only the fields the real index projects. Unlike the real index it is never a moment behind the records."""

    def __init__(self, clock: Clock) -> None:
        self.items: dict[tuple[str, int], Record] = {}
        self.leaves: list[tuple[str, int]] = []  # the transparency log: each leaf names its record (wallet, version)
        self.leaf_bytes: list[bytes] = []  # and its 61 bytes (adapters/records.leaf_of)
        self.open_index: set[tuple[str, int]] = set()
        self._clock = clock

    def get(self, wallet: str, version: int) -> Record | None:
        return self.items.get((wallet.lower(), version))

    def newest(self, wallet: str, count: int) -> list[Record]:
        mine = sorted((r for (w, _), r in self.items.items() if w == wallet.lower()), key=lambda r: -r.version)
        return mine[:count]

    def latest(self, wallet: str) -> Record | None:
        found = self.newest(wallet, 1)
        return found[0] if found else None

    def get_many(self, keys: list[tuple[str, int]], documents: bool = True) -> dict[tuple[str, int], Record]:
        found = {}
        for wallet, version in keys:
            record = self.items.get((wallet.lower(), version))
            if record is not None:
                found[(wallet.lower(), version)] = record if documents else replace(record, document="")
        return found

    def create(self, record: Record) -> None:
        latest = self.latest(record.wallet)
        if (latest.version if latest else 0) != record.version - 1:
            raise VersionTaken(f"{record.wallet} v{record.version}")
        if latest is not None:
            self.items[(record.wallet.lower(), latest.version)] = replace(latest, next_version=record.version)
        self._store(record)

    def sequence(self, records: list[Record]) -> list[Record]:
        """RecordStore.sequence: each record's leaf appended once, a wallet's versions in increasing order (a
        version whose earlier one has no leaf yet is a bug of the caller: AssertionError, as the log would show it
        out of order); a record sequenced meanwhile is left out."""
        done = []
        for record in records:
            key = (record.wallet.lower(), record.version)
            now = self.items.get(key)
            if now is None or now.log_index is not None:
                continue
            earlier = self.items.get((key[0], record.version - 1))
            assert earlier is None or earlier.log_index is not None, (
                f"{key} sequenced before version {record.version - 1}"
            )
            self.items[key] = replace(now, log_index=len(self.leaves))
            self.leaves.append(key)
            self.leaf_bytes.append(leaf_of(self.items[key]))
            done.append(self.items[key])
        return done

    def set_status(self, record: Record, status: str, only_from: tuple[str, ...] = (), **changes: Any) -> bool:
        key = (record.wallet.lower(), record.version)
        now = self.items.get(key)
        if now is None or (only_from and now.status not in only_from):
            return False
        self._store(replace(now, status=status, updated_at=int(self._clock()), **changes))
        return True

    def set_statuses(self, changes: list[StatusChange]) -> list[StatusChange]:
        skipped = []
        for change in changes:
            key = (change.wallet.lower(), change.version)
            now = self.items.get(key)
            if now is None or not _holds(now, change):
                skipped.append(change)
                continue
            self._store(replace(now, status=change.status, updated_at=int(self._clock()), **dict(change.changes)))
        return skipped

    def _store(self, record: Record) -> None:
        """Write the record, and its open index entry as records.py does (set while open, removed once final)."""
        key = (record.wallet.lower(), record.version)
        self.items[key] = record
        if record.status in OPEN_STATUSES:
            self.open_index.add(key)
        else:
            self.open_index.discard(key)

    def open_page(self, before: int, cursor: OpenCursor | None, limit: int) -> tuple[list[Record], OpenCursor | None]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        found: list[Record] = []
        shard, after = (cursor.shard, cursor.after) if cursor is not None else (0, None)
        while shard < OPEN_SHARDS:
            start = None if after is None else (int(after["updatedAt"]), after["wallet"], int(after["version"]))
            entries = sorted(
                (self.items[key].updated_at, *key)
                for key in self.open_index
                if open_shard(key[0]) == shard and self.items[key].updated_at < before
            )
            page = [entry for entry in entries if start is None or entry > start][: limit - len(found)]
            found.extend(_projected(self.items[(wallet, version)]) for _, wallet, version in page)
            if len(found) < limit:
                shard, after = shard + 1, None
                continue
            updated_at, wallet, version = page[-1]
            return found, OpenCursor(
                shard, {"openShard": shard, "updatedAt": updated_at, "wallet": wallet, "version": version}
            )
        return found, None

    def failed(self) -> list[Record]:
        return [replace(r, document="") for r in self.items.values() if r.status == "failed"]


class FakeAnchorLog:
    """TransparencyLog's anchoring side over FakeRecords' leaves: the head a transaction anchors, the heads the chain
    confirmed (recorded by the monitor)."""

    def __init__(self, records: FakeRecords, clock: Clock, anchor_single_after_s: float = 300.0) -> None:
        self._records = records
        self._clock = clock
        self.anchor_single_after_s = anchor_single_after_s
        self.anchors: dict[int, tuple[bytes, str, int, float]] = {}  # size -> (root, tx hash, block, recorded at)
        self._roots: dict[int, bytes] = {}

    def root(self, size: int) -> bytes:
        """The root of the first `size` leaves (remembered: leaves are only ever appended)."""
        from dmtp_protocol import merkle

        if size not in self._roots:
            self._roots[size] = merkle.root([merkle.leaf_hash(leaf) for leaf in self._records.leaf_bytes[:size]])
        return self._roots[size]

    def head_to_anchor(self, keys: int) -> tuple[int, bytes] | None:
        size = len(self._records.leaf_bytes)
        if size == 0:
            return None
        if keys < 2 and self.anchors:
            latest = max(self.anchors)
            if latest >= size or self._clock() - self.anchors[latest][3] < self.anchor_single_after_s:
                return None
        return size, self.root(size)

    def record_anchor(self, size: int, root: bytes, tx_hash: str, block_number: int) -> None:
        self.anchors[size] = (root, tx_hash, block_number, self._clock())

    def anchored_size(self) -> int:
        return max(self.anchors, default=0)


class FakePinner:
    """PinataPinner.pin_batch in memory: every document it pinned, by CID, and the requests it answered.
    `down` makes it refuse (PinningFailed), as a pinning outage or its plan's rate limit would."""

    def __init__(self) -> None:
        self.pinned: dict[str, bytes] = {}
        self.requests = 0
        self.down = False

    def pin_batch(self, documents: Sequence[bytes]) -> str:
        from chalicelib.adapters.unixfs import directory_cid
        from dmtp_protocol.cid import cid_for_bytes
        from dmtp_protocol.errors import PinningFailed

        if self.down:
            raise PinningFailed("pinning service answered 503", status=503)
        self.requests += 1
        unique = {cid_for_bytes(document): document for document in documents}
        self.pinned.update(unique)
        return directory_cid([(cid, cid, len(document)) for cid, document in unique.items()])


def _projected(record: Record) -> Record:
    """The record as the real open index gives it back: its key and OPEN_INDEX_FIELDS, document "", the rest None."""
    kept = {"wallet", "version", "document", *OPEN_INDEX_FIELDS}
    dropped: dict[str, Any] = {f.name: None for f in fields(Record) if f.name not in kept}  # each of them optional
    return replace(record, document="", **dropped)


def _holds(record: Record, change: StatusChange) -> bool:
    if record.status not in change.only_from:
        return False
    if change.expect_nonce is not None and record.nonce != change.expect_nonce:
        return False
    for name in change.absent:
        if getattr(record, name) is not None:
            return False
    for name, value in change.expect:
        actual = getattr(record, name)
        if name == "kind" and value == KIND_KEY and actual is None:
            continue
        if actual != value:
            return False
    return True


# ---------------------------------------------------------------------------------------------------- nonces and transactions


class TxTable:
    """The transactions table of one signer: items by nonce and the counter."""

    def __init__(self, signer: str, clock: Clock) -> None:
        self.signer = signer.lower()
        self.items: dict[int, TxItem] = {}
        self.counter: Counter | None = None
        self.clock = clock
        self.control: dict[str, Any] = {}


class FakeTxStore:
    def __init__(self, table: TxTable) -> None:
        self._t = table
        self.signer = table.signer
        self.table = table

    def get(self, nonce: int) -> TxItem | None:
        return self._t.items.get(nonce)

    def between(self, low: int, high: int) -> list[TxItem]:
        return [self._t.items[n] for n in sorted(self._t.items) if max(low, 0) <= n <= high]

    def from_nonce(self, low: int) -> list[TxItem]:
        return [self._t.items[n] for n in sorted(self._t.items) if n >= max(low, 0)]

    def newest(self) -> TxItem | None:
        return self._t.items[max(self._t.items)] if self._t.items else None

    def _expect(self, nonce: int, ok: Callable[[TxItem], bool]) -> TxItem:
        now = self._t.items.get(nonce)
        if now is None or not ok(now):
            raise StaleItem(f"nonce {nonce} changed underneath")
        return now

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
    ) -> TxItem:
        owner = owner if owner is not None else item.owner
        at = round(reserved_at if reserved_at is not None else item.reserved_at, 3)
        now = self._expect(
            item.nonce, lambda i: i.state == STATE_RESERVED and i.owner == owner and round(i.reserved_at, 3) == at
        )
        signed = replace(
            now, state=STATE_SIGNED, kind=kind, entries=entries, to=to, data=data, gas=gas, raw=raw, attempts=(attempt,)
        )
        self._t.items[item.nonce] = signed
        return replace(
            item,
            state=STATE_SIGNED,
            kind=kind,
            entries=entries,
            to=to,
            data=data,
            gas=gas,
            raw=raw,
            attempts=(attempt,),
        )

    def add_attempt(self, item: TxItem, raw: str, attempt: Attempt) -> TxItem:
        now = self._expect(item.nonce, lambda i: len(i.attempts) == len(item.attempts) and i.state == STATE_SIGNED)
        attempts = (*item.attempts, attempt)
        self._t.items[item.nonce] = replace(now, raw=raw, attempts=attempts)
        return replace(item, raw=raw, attempts=attempts)

    def mark_mined(
        self, item: TxItem, *, tx_hash: str, block_number: int, block_hash: str, gas_used: int, fee_paid_wei: int
    ) -> TxItem:
        now = self._expect(item.nonce, lambda i: i.state in IN_FLIGHT_STATES)
        fields: dict[str, Any] = dict(
            state=STATE_MINED,
            mined_hash=tx_hash,
            block_number=block_number,
            block_hash=block_hash,
            gas_used=gas_used,
            fee_paid_wei=fee_paid_wei,
        )
        self._t.items[item.nonce] = replace(now, **fields)
        return replace(item, **fields)

    def mark_unmined(self, item: TxItem) -> TxItem:
        now = self._expect(item.nonce, lambda i: i.state == STATE_MINED and i.block_hash == item.block_hash)
        self._t.items[item.nonce] = replace(now, state=STATE_SIGNED)
        return replace(item, state=STATE_SIGNED, mined_hash=None, block_number=None, block_hash=None)

    def mark_final(
        self, item: TxItem, state: str, error: str | None = None, receipt: dict[str, Any] | None = None
    ) -> TxItem:
        now = self._expect(item.nonce, lambda i: i.state == item.state)
        fields: dict[str, Any] = {"state": state}
        if error is not None:
            fields["error"] = error
        if receipt:
            fields.update(
                mined_hash=receipt["minedHash"], block_number=receipt["blockNumber"], block_hash=receipt["blockHash"]
            )
        self._t.items[item.nonce] = replace(now, **fields)
        return replace(item, state=state, error=error)


class FakeNonces:
    """NonceManager over a TxTable, the same algorithm as nonces.py (a reservation is one atomic step)."""

    def __init__(self, table: TxTable) -> None:
        self._t = table
        self.signer = table.signer

    def counter(self) -> Counter | None:
        return self._t.counter

    def initialise(self, chain_pending: int) -> Counter:
        if self._t.counter is None:
            self._t.counter = Counter(chain_pending, chain_pending)
        return self._t.counter

    def reserve(self, batches: list[tuple[Job, ...]], owner: str, chain_pending: Callable[[], int]) -> list[TxItem]:
        if not batches:
            return []
        counter = self._t.counter or self.initialise(chain_pending())
        first = counter.next
        while any(first + i in self._t.items for i in range(len(batches))):
            first = max(self._t.items) + 1  # items above the counter: skip past them (as _raise_above_items)
        now = self._t.clock()
        items = [
            TxItem(
                self.signer, first + i, STATE_RESERVED, "set", owner=owner, reserved_at=round(now, 3), candidates=batch
            )
            for i, batch in enumerate(batches)
        ]
        for item in items:
            self._t.items[item.nonce] = item
        self._t.counter = replace(counter, next=first + len(batches))
        return items

    def release(self, item: TxItem) -> bool:
        now = self._t.items.get(item.nonce)
        counter = self._t.counter
        if (
            now is None
            or now.state != STATE_RESERVED
            or now.owner != item.owner
            or counter is None
            or counter.next != item.nonce + 1
        ):
            return False
        del self._t.items[item.nonce]
        self._t.counter = replace(counter, next=item.nonce)
        return True

    def reconcile(self, chain_latest: int, chain_pending: int) -> Reconciliation:
        counter = self._t.counter or self.initialise(chain_pending)
        newest = max(self._t.items, default=-1)
        low, high = min(counter.floor, chain_latest), max(counter.next, newest + 1) - 1
        items = {n for n in self._t.items if max(low, 0) <= n <= high}
        top = max(items, default=chain_latest - 1)
        wanted = max(top + 1, chain_pending)
        changed = counter.next != wanted
        self._t.counter = replace(counter, next=wanted)
        holes = tuple(n for n in range(max(chain_pending, counter.floor), top) if n not in items)
        return Reconciliation(counter.next, wanted, holes, changed)

    def reserve_hole(self, nonce: int, owner: str) -> TxItem | None:
        if nonce in self._t.items:
            return None
        item = TxItem(self.signer, nonce, STATE_RESERVED, "set", owner=owner, reserved_at=round(self._t.clock(), 3))
        self._t.items[nonce] = item
        return item

    def advance_floor(self, floor: int) -> None:
        counter = self._t.counter
        if counter is not None and counter.floor < floor:
            self._t.counter = replace(counter, floor=floor)

    def force_counter(self, next_nonce: int) -> None:
        assert self._t.counter is not None
        self._t.counter = replace(self._t.counter, next=next_nonce)


class FakeControl:
    """WorkerControl over the TxTable's control entry (control.py's contract)."""

    def __init__(self, table: TxTable) -> None:
        self._t = table

    def state(self) -> PauseState:
        c = self._t.control
        return PauseState(c["paused"], c["reason"], c.get("since"), c["by"]) if c else RUNNING

    def pause(self, reason: str, by: str, now: int) -> None:
        since = self._t.control.get("since") if self._t.control.get("paused") else None
        self._t.control = {
            "paused": True,
            "reason": reason,
            "by": by,
            "since": since if since is not None else int(now),
        }

    def resume(self, by: str, now: int) -> None:
        self._t.control = {"paused": False, "reason": "", "by": by, "since": None}


# ---------------------------------------------------------------------------------------------------- the queue


@dataclass
class Message:
    message_id: str
    body: str
    receive_count: int = 0
    visible_at: float = 0.0
    sent_at: float = 0.0


class FakeQueue:
    """SQS with a redrive policy: a message received maxReceiveCount times moves to the DLQ on its next receive."""

    def __init__(self, clock: Clock, max_receive_count: int = 5, visibility_s: float = 420.0) -> None:
        self.clock = clock
        self.max_receive_count = max_receive_count
        self.visibility_s = visibility_s
        self.messages: dict[str, Message] = {}
        self.dlq: dict[str, Message] = {}
        self.down = False
        self._ids = 0

    def enqueue(self, job: Job) -> str:
        if self.down:
            raise ConnectionError("SQS unreachable")
        return self.send(job.to_body())

    def send(self, body: str) -> str:
        self._ids += 1
        message_id = f"m{self._ids}"
        self.messages[message_id] = Message(message_id, body, sent_at=self.clock())
        return message_id

    def receive(self, count: int) -> "list[QueueMessage]":
        from chalicelib.chain.worker import QueueMessage

        got: list[QueueMessage] = []
        for message in list(self.messages.values()):
            if len(got) >= count:
                break
            if message.visible_at > self.clock():
                continue
            if message.receive_count >= self.max_receive_count:
                self.dlq[message.message_id] = self.messages.pop(message.message_id)
                continue
            message.receive_count += 1
            message.visible_at = self.clock() + self.visibility_s
            got.append(QueueMessage(message.message_id, message.body, message.receive_count, message.sent_at))
        return got

    def settle(self, delivered: "list[QueueMessage]", retry_ids: list[str]) -> None:
        """Lambda's answer: delete what was not reported failed; the failed ones become visible again."""
        for message in delivered:
            if message.message_id in retry_ids:
                if message.message_id in self.messages:
                    self.messages[message.message_id].visible_at = self.clock()
            else:
                self.messages.pop(message.message_id, None)

    def duplicate(self, message_id: str) -> None:
        """At-least-once delivery: an in-flight message shows up again."""
        if message_id in self.messages:
            self.messages[message_id].visible_at = self.clock()

    def redrive(self) -> int:
        moved = 0
        for message in list(self.dlq.values()):
            self.send(message.body)
            del self.dlq[message.message_id]
            moved += 1
        return moved


# ---------------------------------------------------------------------------------------------------- the chain


@dataclass(frozen=True)
class FakeTx:
    sender: str
    nonce: int
    to: str
    data: str
    gas: int
    max_fee: int
    tip: int

    @property
    def raw(self) -> str:
        return "fake:" + json.dumps([self.sender, self.nonce, self.to, self.data, self.gas, self.max_fee, self.tip])

    @classmethod
    def parse(cls, raw: str) -> "FakeTx":
        return cls(*json.loads(raw.removeprefix("fake:")))

    @property
    def tx_hash(self) -> str:
        return "0x" + hashlib.sha256(self.raw.encode()).hexdigest()


@dataclass
class Included:
    tx: FakeTx
    status: int
    gas_used: int
    error: str | None
    log_anchor: tuple[int, bytes] | None = None  # the LogAnchored event it emitted (a larger head than stored)


@dataclass
class Block:
    number: int
    hash: str
    txs: list[Included] = field(default_factory=list)


@dataclass
class ContractState:
    owner: str
    keys: dict[str, bytes] = field(default_factory=dict)
    revoked: dict[str, bytes] = field(default_factory=dict)
    nonces: dict[str, int] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)
    writes: list[tuple[str, int, str]] = field(default_factory=list)  # (wallet, version, "set"/"revoke") in chain order
    log_head: tuple[int, bytes] = (0, b"")  # the anchored transparency-log head (size, root)

    def copy(self) -> "ContractState":
        return ContractState(
            self.owner,
            dict(self.keys),
            dict(self.revoked),
            dict(self.nonces),
            dict(self.balances),
            list(self.writes),
            self.log_head,
        )


GAS_PER_KEY = 25_000
GAS_BASE = 30_000
GAS_ANCHOR = 12_000


class FakeChain:
    """A one-contract chain: blocks mined on demand, a mempool, reorgs and drops on demand."""

    def __init__(
        self,
        address: str,
        owner: str,
        balance: int = 10**18,
        base_fee: int = 10**9,
        log_head: Callable[[int], tuple[int, bytes] | None] | None = None,
    ) -> None:
        """`log_head(keys)`, as RegistryChain's: the head a transaction setting `keys` keys anchors, or None."""
        self.address = address
        self.log_head = log_head
        self.genesis = ContractState(owner, balances={owner.lower(): balance})
        self.blocks: list[Block] = [Block(0, "0xb0")]
        self.mempool: dict[str, FakeTx] = {}
        self.base_fee = base_fee
        self.tip = 10**8
        self._state = self.genesis.copy()
        self._block_ids = 0
        self.forced: list[tuple[str, Any]] = []  # owner changes, balance changes: replayed after the block they follow

    # ------------------------------------------------------------ state
    @property
    def state(self) -> ContractState:
        return self._state

    def _replay(self) -> None:
        state = self.genesis.copy()
        for block in self.blocks[1:]:
            for included in block.txs:
                self._apply(state, included.tx, included)
            for at, change in self.forced:
                if at == block.hash:
                    change(state)
        self._state = state

    def force(self, change: Callable[[ContractState], None]) -> None:
        """A change made outside this sender's transactions (an ownership transfer, a top-up), kept across reorgs."""
        self.forced.append((self.blocks[-1].hash, change))
        change(self._state)

    def _execute(
        self, state: ContractState, tx: FakeTx
    ) -> tuple[int, str | None, list[tuple[str, int, str]], Callable[[ContractState], None]]:
        """(status, error, writes, effect) of `tx` on `state`, without applying it."""
        if tx.to.lower() != self.address.lower():
            return 1, None, [], lambda s: None
        gas = self._gas(tx.data)
        if tx.sender.lower() != state.owner.lower():
            return 0, f"NotOwner({tx.sender.lower()})", [], lambda s: None
        kind, args = tx.data.split(":", 1)
        entries = json.loads(args)
        anchored: tuple[int, bytes] | None = None
        if kind == "anchored":  # setKeysAnchored: the keys, and a head stored only when larger than the one held
            size, root = entries["head"]
            entries, kind = entries["keys"], "set"
            if size > state.log_head[0]:
                anchored = (size, bytes.fromhex(root))
        if kind == "set":
            for wallet, _, _ in entries:
                if wallet.lower() == ZERO:
                    return 0, "ZeroAddress()", [], lambda s: None

            def effect(s: ContractState) -> None:
                for wallet, digest, _ in entries:
                    s.keys[wallet.lower()] = bytes.fromhex(digest)
                if anchored is not None:
                    s.log_head = anchored

            return 1, None, [(w.lower(), v, "set") for w, _, v in entries], effect
        wallet, digest, version = entries
        current = state.keys.get(wallet.lower(), b"\0" * 32)
        if current != bytes.fromhex(digest) or current == b"\0" * 32:
            return 0, f"NotCurrentKey(0x{current.hex()})", [], lambda s: None

        def revoke(s: ContractState) -> None:
            s.revoked[wallet.lower()] = bytes.fromhex(digest)

        del gas
        return 1, None, [(wallet.lower(), version, "revoke")], revoke

    def _gas(self, data: str) -> int:
        if ":" not in data:
            return 21_000
        kind, args = data.split(":", 1)
        if kind == "anchored":
            return GAS_BASE + GAS_ANCHOR + GAS_PER_KEY * len(json.loads(args)["keys"])
        return GAS_BASE + GAS_PER_KEY * len(json.loads(args)) if kind == "set" else 40_000

    def _apply(self, state: ContractState, tx: FakeTx, included: Included) -> None:
        sender = tx.sender.lower()
        state.nonces[sender] = tx.nonce + 1
        state.balances[sender] = state.balances.get(sender, 0) - included.gas_used * self.base_fee
        if included.status == 1:
            _, _, writes, effect = self._execute(state, tx)
            before = state.log_head
            effect(state)
            state.writes.extend(writes)
            included.log_anchor = state.log_head if state.log_head != before else None

    # ------------------------------------------------------------ the sim's levers
    def mine(self, max_txs: int = 1000) -> Block:
        """One block: each sender's mempool transactions in nonce order, from its next nonce, while it can pay."""
        self._block_ids += 1
        block = Block(len(self.blocks), f"0xb{len(self.blocks)}-{self._block_ids}")
        state = self._state
        progressed = True
        while progressed and len(block.txs) < max_txs:
            progressed = False
            for tx in sorted(self.mempool.values(), key=lambda tx: (tx.nonce, -tx.tip)):
                sender = tx.sender.lower()
                if tx.nonce != state.nonces.get(sender, 0):
                    continue
                if tx.max_fee < self.base_fee or state.balances.get(sender, 0) < tx.gas * self.base_fee:
                    continue
                status, error, _, _ = self._execute(state, tx)
                gas_used = min(tx.gas, self._gas(tx.data)) if status == 1 else min(tx.gas, 25_000)
                if status == 1 and self._gas(tx.data) > tx.gas:
                    status, error, gas_used = 0, "out of gas", tx.gas
                included = Included(tx, status, gas_used, error)
                self._apply(state, tx, included)
                block.txs.append(included)
                progressed = True
                break
        for included in block.txs:
            for tx_hash, tx in list(self.mempool.items()):
                if tx.sender.lower() == included.tx.sender.lower() and tx.nonce <= included.tx.nonce:
                    del self.mempool[tx_hash]
        self.blocks.append(block)
        return block

    def reorg(self, depth: int, keep: Callable[[FakeTx], bool] = lambda tx: True) -> None:
        """The last `depth` blocks leave the chain; their transactions go back to the pool (those `keep` allows)."""
        depth = min(depth, len(self.blocks) - 1)
        if depth <= 0:
            return
        gone = self.blocks[-depth:]
        gone_hashes = {b.hash for b in gone}
        self.blocks = self.blocks[:-depth]
        self.forced = [(self.blocks[-1].hash if at in gone_hashes else at, change) for at, change in self.forced]
        self._replay()
        for block in gone:
            for included in block.txs:
                if keep(included.tx):
                    self.mempool[included.tx.tx_hash] = included.tx

    def drop(self, tx_hash: str) -> None:
        self.mempool.pop(tx_hash, None)

    # ------------------------------------------------------------ RegistryChain's interface
    def head(self) -> int:
        return len(self.blocks) - 1

    def nonce(self, address: str, block: Any = "latest") -> int:
        if block == "pending":
            return self.pending_nonce(address)
        if block == "latest":
            return self._state.nonces.get(address.lower(), 0)
        count = 0
        for b in self.blocks[1 : int(block) + 1]:
            for included in b.txs:
                if included.tx.sender.lower() == address.lower():
                    count = included.tx.nonce + 1
        return count

    def mined_nonce(self, address: str) -> int:
        return self.nonce(address)

    def pending_nonce(self, address: str) -> int:
        nonce = self.mined_nonce(address)
        pooled = {tx.nonce for tx in self.mempool.values() if tx.sender.lower() == address.lower()}
        while nonce in pooled:
            nonce += 1
        return nonce

    def balance(self, address: str) -> int:
        return self._state.balances.get(address.lower(), 0)

    def market(self) -> Market:
        return Market(self.base_fee, self.tip)

    def _where(self, tx_hash: str) -> tuple[Block, Included] | None:
        for block in self.blocks[1:]:
            for included in block.txs:
                if included.tx.tx_hash == tx_hash:
                    return block, included
        return None

    def receipt(self, tx_hash: str) -> Receipt | None:
        found = self._where(tx_hash)
        if found is None:
            return None
        block, included = found
        return Receipt(
            tx_hash, included.status, block.number, block.hash, included.gas_used, self.base_fee, included.log_anchor
        )

    def known(self, tx_hash: str) -> bool:
        return tx_hash in self.mempool or self._where(tx_hash) is not None

    def block_hash(self, number: int) -> str | None:
        return self.blocks[number].hash if 0 <= number < len(self.blocks) else None

    def set_keys_data(self, jobs: list[Job], head: tuple[int, bytes] | None = None, anchor: bool = True) -> str:
        """As RegistryChain's: with a head (given, or read from `log_head`; never with anchor=False), the keys and
        that head ("anchored:", setKeysAnchored, no keys at all for an anchor-only transaction), else "set:"."""
        keys = [[j.wallet, digest_from_cid(j.cid).hex(), j.version] for j in jobs]
        if not anchor:
            head = None
        elif head is None and self.log_head is not None:
            head = self.log_head(len(jobs))
        if head is not None and head[0] > 0:
            return "anchored:" + json.dumps({"keys": keys, "head": [head[0], head[1].hex()]})
        return "set:" + json.dumps(keys)

    def revoke_data(self, job: Job) -> str:
        return "revoke:" + json.dumps([job.wallet, digest_from_cid(job.cid).hex(), job.version])

    def estimate(self, sender: str, data: str) -> int:
        self.simulate(sender, data)
        return self._gas(data)

    def simulate(self, sender: str, data: str) -> None:
        status, error, _, _ = self._execute(self._state, FakeTx(sender, 0, self.address, data, 10**7, 0, 0))
        if status == 0:
            raise WriteRefused(error or "reverted")

    def key_of(self, wallet: str) -> tuple[bytes, bool]:
        digest = self._state.keys.get(wallet.lower(), b"\0" * 32)
        return digest, digest != b"\0" * 32 and self._state.revoked.get(wallet.lower()) == digest

    def owner(self) -> str:
        return self._state.owner

    def l1_fee_of(self, *, data: str, gas: int, max_fee: int, tip: int) -> int:
        """An L1 chain: no data fee (the OP-stack fee is tested against a real oracle in test_l1_fee)."""
        return 0

    def sign(self, signer: Signer, *, nonce: int, to: str, data: str, gas: int, max_fee: int, tip: int) -> SignedTx:
        tx = FakeTx(signer.address.lower(), nonce, to, data, gas, max_fee, tip)
        return SignedTx(tx.raw, tx.tx_hash, nonce)

    def send(self, raw_tx: str) -> SendResult:
        tx = FakeTx.parse(raw_tx)
        if tx.tx_hash in self.mempool or self._where(tx.tx_hash) is not None:
            return SendResult(False, "already known")
        if tx.nonce < self.mined_nonce(tx.sender):
            return SendResult(False, "nonce too low")
        if self.balance(tx.sender) < tx.gas * tx.max_fee:
            return SendResult(False, "insufficient funds for gas * price + value")
        rival = next((h for h, t in self.mempool.items() if t.sender == tx.sender and t.nonce == tx.nonce), None)
        if rival is not None:
            old = self.mempool[rival]
            if tx.max_fee * 10 < old.max_fee * 11 or tx.tip * 10 < old.tip * 11:
                return SendResult(False, "replacement transaction underpriced")
            del self.mempool[rival]
        self.mempool[tx.tx_hash] = tx
        return SendResult(True)

    def revert_reason(self, tx_hash: str, block_number: int) -> str:
        found = self._where(tx_hash)
        return (found[1].error or "reverted") if found else "reverted"


@dataclass(frozen=True)
class FakeSigner:
    """The owner key by its address alone: FakeChain.sign signs by address, the in-memory world has no secp256k1."""

    address: str

    def sign_digest(self, digest: bytes) -> tuple[int, int, int]:
        """The Signer port's method, which only a real chain's `sign` calls (RegistryChain, with KmsSigner)."""
        raise NotImplementedError(f"FakeSigner {self.address} holds no key: only FakeChain.sign can sign for it")
