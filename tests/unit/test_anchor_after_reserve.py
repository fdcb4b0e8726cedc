"""The head a transaction anchors is read after its nonce is reserved (PROTOCOL.md §11 rule 7, the anchor rule).

Invariant (chalicelib/chain/worker.py, monitor.py): a leaf is sequenced before its own transaction's nonce is
reserved, so any anchor in a transaction with a higher nonce covers it. Two workers race here on the in-memory
fakes: worker A packs a batch (reading the log head), then, before A reserves its nonce, worker B sequences a
lone key and sends it at the lower nonce. A's anchor must still cover B's leaf.
"""

import json
from typing import Any

from chalicelib.chain.monitor import MonitorPolicy, TxMonitor
from chalicelib.chain.sweeper import job_of
from chalicelib.chain.worker import ChainWorker, WorkerPolicy
from chalicelib.model import KIND_KEY, STATUS_QUEUED, Record
from dmtp_protocol.cid import cid_for_bytes
from tests.support.fakes import (
    Clock,
    FakeAnchorLog,
    FakeChain,
    FakeControl,
    FakeNonces,
    FakePinner,
    FakeQueue,
    FakeRecords,
    FakeSigner,
    FakeTxStore,
    TxTable,
)

SIGNER = "0x" + "5a" * 20
REGISTRY = "0x" + "c0" * 20


class World:
    def __init__(self) -> None:
        self.clock = Clock()
        self.records = FakeRecords(self.clock)
        self.table = TxTable(SIGNER, self.clock)
        self.chain = FakeChain(REGISTRY, SIGNER)
        self.queue = FakeQueue(self.clock, 3)
        self.control = FakeControl(self.table)
        self.anchor_log = FakeAnchorLog(self.records, self.clock, anchor_single_after_s=300)
        self.chain.log_head = self.anchor_log.head_to_anchor
        self.documents = 0

    def worker(self, name: str, nonces: Any = None) -> ChainWorker:
        return ChainWorker(
            self.records,
            nonces or FakeNonces(self.table),
            FakeTxStore(self.table),
            self.chain,
            FakeSigner(SIGNER),
            self.queue,
            WorkerPolicy(max_receive_count=3),
            worker_id=name,
            control=self.control,
            pinner=FakePinner(),
            clock=self.clock,
        )

    def monitor(self, nonces: Any = None) -> TxMonitor:
        return TxMonitor(
            self.records,
            nonces or FakeNonces(self.table),
            FakeTxStore(self.table),
            self.chain,
            FakeSigner(SIGNER),
            self.queue,
            MonitorPolicy(confirmations=2, reconcile_every_s=0),
            monitor_id="monitor",
            clock=self.clock,
            control=self.control,
            log=self.anchor_log,
        )

    def register(self, index: int) -> tuple[str, int]:
        wallet = "0x" + f"{index:040x}"
        self.documents += 1
        document = json.dumps({"wallet": wallet, "n": self.documents})
        now = int(self.clock())
        record = Record(wallet, 1, cid_for_bytes(document.encode()), document, STATUS_QUEUED, now, now, kind=KIND_KEY)
        self.records.create(record)
        self.queue.enqueue(job_of(record))
        return wallet.lower(), 1

    def run(self, worker: ChainWorker, count: int) -> None:
        delivered = self.queue.receive(count)
        self.queue.settle(delivered, worker.handle(delivered))

    def first_anchor_after_each_key(self) -> dict[tuple[str, int], tuple[int, int | None]]:
        """(leaf index, size of the first LogAnchored at or after its KeyUpdated, or None) for each key on chain."""
        found: dict[tuple[str, int], tuple[int, int | None]] = {}
        waiting: list[tuple[str, int]] = []
        for block in self.chain.blocks[1:]:
            for included in block.txs:
                if included.status != 1 or not included.tx.data.startswith(("set:", "anchored:")):
                    continue
                _, args = included.tx.data.split(":", 1)
                entries = json.loads(args)
                keys = entries["keys"] if isinstance(entries, dict) else entries
                for wallet, _, version in keys:
                    waiting.append((wallet.lower(), version))
                if included.log_anchor is not None:
                    for key in waiting:
                        found[key] = (self.records.items[key].log_index, included.log_anchor[0])
                    waiting = []
        for key in waiting:
            found[key] = (self.records.items[key].log_index, None)
        return found


class RunsBeforeReserving:
    """Nonces that run `first` once, right before the first reservation: another worker's whole batch lands
    between this worker's packing (its head read) and its nonce reservation."""

    def __init__(self, nonces: FakeNonces, first: Any) -> None:
        self._nonces = nonces
        self._first = first

    def __getattr__(self, name: str) -> Any:
        return getattr(self._nonces, name)

    def reserve(self, *args: Any, **kwargs: Any) -> Any:
        first, self._first = self._first, None
        if first is not None:
            first()
        return self._nonces.reserve(*args, **kwargs)


def anchored_recently(world: World) -> None:
    """A first key sent, mined and confirmed: its anchor is recorded, so a lone key sent now carries no anchor."""
    world.register(100)
    world.run(world.worker("first"), 1)
    for _ in range(3):
        world.chain.mine()
    world.monitor().run_once()
    assert world.anchor_log.anchored_size() == 1


def test_an_anchor_sent_at_a_higher_nonce_covers_a_leaf_sequenced_after_its_batch_was_packed() -> None:
    # Given a recent anchor, and worker A's batch of three keys packed with the log head at four leaves
    world = World()
    anchored_recently(world)
    batch_a = [world.register(i) for i in range(1, 4)]
    delivered_a = world.queue.receive(3)
    lone: list[tuple[str, int]] = []

    def worker_b_sends_a_lone_key() -> None:
        lone.append(world.register(9))
        world.run(world.worker("b"), 1)

    worker_a = world.worker("a", RunsBeforeReserving(FakeNonces(world.table), worker_b_sends_a_lone_key))
    # When B sequences a lone key (sent without an anchor) at the lower nonce between A's packing and reservation
    world.queue.settle(delivered_a, worker_a.handle(delivered_a))
    world.chain.mine()
    # Then the lone key's transaction is mined first, and A's anchor, mined after it, covers its leaf
    anchors = world.first_anchor_after_each_key()
    assert anchors[lone[0]] == (4, 5)
    assert all(anchors[key] == (index, 5) for index, key in enumerate(batch_a, start=1))


def test_the_monitors_anchor_only_transaction_anchors_the_head_read_after_its_nonce_is_reserved() -> None:
    # Given a recent anchor, then a lone key sent without one, mined, and the anchor grown old
    world = World()
    anchored_recently(world)
    world.register(1)
    world.run(world.worker("a"), 1)
    for _ in range(3):
        world.chain.mine()
    world.monitor().run_once()
    world.clock.now += 400

    def another_leaf_is_sequenced() -> None:
        world.register(2)
        delivered = world.queue.receive(1)
        world.queue.settle(delivered, world.worker("b").handle(delivered))

    monitor = world.monitor(RunsBeforeReserving(FakeNonces(world.table), another_leaf_is_sequenced))
    # When the monitor's anchor-only transaction is due and another leaf is sequenced before its nonce is reserved
    monitor.run_once()
    # Then the anchor-only transaction anchors the log's head of three leaves, which covers that leaf
    (anchor_only,) = [tx for tx in world.chain.mempool.values() if tx.data.startswith('anchored:{"keys": []')]
    assert json.loads(anchor_only.data.split(":", 1)[1])["head"][0] == 3
