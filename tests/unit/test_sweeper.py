"""The sweeper (chalicelib/chain/sweeper.py) over the in-memory fakes: what it reads of the open records (only those
open and older than the threshold, at most records_per_pass a pass, going on from where the last pass stopped), and
that its writes hold only on a record still as it was read. The fakes keep records.py's open index: a record is in it
while open, out of it once final."""

import os
from dataclasses import dataclass, replace

import pytest

from chalicelib.chain.sweeper import Sweeper, SweeperPolicy, job_of
from chalicelib.model import (
    KIND_KEY,
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
from dmtp_protocol.cid import cid_from_digest
from tests.support.fakes import Clock, FakeControl, FakeQueue, FakeRecords, FakeTxStore, TxTable

NOW = 1_000_000
STALE = NOW - 1_000  # older than the 900 s threshold
FRESH = NOW - 10
SIGNER = "0x" + "5a" * 20


def wallet(i: int) -> str:
    return "0x" + f"{i:040x}"


def record(i: int, status: str, updated_at: int, version: int = 1) -> Record:
    return Record(
        wallet(i), version, cid_from_digest(os.urandom(32)), '{"doc": 1}', status, updated_at, updated_at, kind=KIND_KEY
    )


@dataclass
class World:
    clock: Clock
    records: FakeRecords
    queue: FakeQueue
    table: TxTable

    def store(self, *records: Record) -> None:
        """Records created as the API creates them, each at its own updatedAt."""
        for r in records:
            self.records.create(r)

    def sweeper(self, records_per_pass: int = 500) -> Sweeper:
        return Sweeper(
            self.records,
            FakeTxStore(self.table),
            self.queue,
            SweeperPolicy(stale_after_s=900, records_per_pass=records_per_pass),
            control=FakeControl(self.table),
            clock=self.clock,
        )

    def queued_jobs(self) -> list[Job]:
        return [Job.from_body(m.body) for m in self.queue.messages.values()]


def make_world(records: type[FakeRecords] = FakeRecords) -> World:
    clock = Clock(NOW)
    return World(clock, records(clock), FakeQueue(clock), TxTable(SIGNER, clock))


class ReadLog(FakeRecords):
    """FakeRecords that remembers, pass by pass, which records open_page gave back."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.pages: list[list[tuple[str, int]]] = []

    def open_page(self, before: int, cursor: OpenCursor | None, limit: int) -> tuple[list[Record], OpenCursor | None]:
        found, after = super().open_page(before, cursor, limit)
        self.pages.append([(r.wallet.lower(), r.version) for r in found])
        return found, after


def test_a_record_is_in_the_open_index_while_open_and_leaves_it_when_final():
    world = make_world()
    pinned = record(1, STATUS_PINNED, FRESH)
    key = (pinned.wallet.lower(), 1)

    world.store(pinned)
    assert key in world.records.open_index
    world.records.set_status(pinned, STATUS_QUEUED, only_from=(STATUS_PINNED,))
    world.records.set_statuses([StatusChange(pinned.wallet, 1, STATUS_SUBMITTED, (STATUS_QUEUED,), (("nonce", 4),))])
    assert key in world.records.open_index
    world.records.set_statuses([StatusChange(pinned.wallet, 1, STATUS_CONFIRMED, (STATUS_SUBMITTED,))])
    assert key not in world.records.open_index
    world.records.set_statuses([StatusChange(pinned.wallet, 1, STATUS_QUEUED, (STATUS_CONFIRMED,))])
    assert key in world.records.open_index  # back on its way (an operator's re-queue), so back in the index


def test_a_pass_finds_only_open_records_not_updated_for_the_threshold():
    world = make_world()
    stranded = record(1, STATUS_PINNED, STALE)
    world.store(stranded, record(2, STATUS_QUEUED, FRESH), record(3, STATUS_FAILED, STALE))

    report = world.sweeper().run_once()

    assert (report.found, report.requeued, report.more) == (1, 1, False)
    assert world.queued_jobs() == [job_of(stranded)]


def test_the_records_come_back_with_what_the_index_projects_only():
    world = make_world()
    full = replace(
        record(1, STATUS_SUBMITTED, STALE), nonce=7, tx_hash="0x" + "ab" * 32, error="x", signer_check="{}", log_index=3
    )
    world.store(full)

    (found,), _ = world.records.open_page(NOW, None, 10)

    assert found == replace(full, document="", tx_hash=None, error=None, signer_check=None, log_index=None)


def test_a_pass_reads_at_most_records_per_pass_and_the_next_goes_on_where_it_stopped():
    # Given seven stranded records the sweeper leaves where they are (the worker is paused: their jobs would wait)
    world = make_world(ReadLog)
    world.store(*(record(i, STATUS_PINNED, STALE + i) for i in range(1, 8)))
    FakeControl(world.table).pause("test", "test", NOW)
    sweeper = world.sweeper(records_per_pass=3)

    reports = [sweeper.run_once() for _ in range(4)]

    assert [(r.found, r.left, r.more) for r in reports] == [(3, 3, True), (3, 3, True), (1, 1, False), (3, 3, True)]
    pages = world.records.pages
    assert sorted(pages[0] + pages[1] + pages[2]) == sorted((wallet(i), 1) for i in range(1, 8))
    assert pages[3] == pages[0]  # the last shard read to its end: the next pass starts over


def test_a_new_sweeper_starts_again_from_the_first_shard():
    world = make_world(ReadLog)
    world.store(*(record(i, STATUS_PINNED, STALE + i) for i in range(1, 8)))
    FakeControl(world.table).pause("test", "test", NOW)
    world.sweeper(records_per_pass=3).run_once()

    world.sweeper(records_per_pass=3).run_once()  # a cold start: a container of its own

    pages = world.records.pages
    assert pages[1] == pages[0]


def test_a_pass_that_raised_reads_its_page_again():
    # Given four stranded records, two a pass, and a queue that is down for the first pass
    world = make_world(ReadLog)
    world.store(*(record(i, STATUS_PINNED, STALE + i) for i in range(1, 5)))
    sweeper = world.sweeper(records_per_pass=2)
    world.queue.down = True
    with pytest.raises(ConnectionError):
        sweeper.run_once()
    first_page = world.records.pages[0]
    untouched = [key for key in first_page if world.records.items[key].status == STATUS_PINNED]
    assert len(untouched) == 1  # the first one was written queued, then its enqueue raised

    world.queue.down = False
    sweeper.run_once()

    # Then the record the failed pass never reached was read and handled by the next one
    assert world.records.items[untouched[0]].status == STATUS_QUEUED
    assert world.records.pages[1][0] == untouched[0]


class LaggingIndex(FakeRecords):
    """FakeRecords whose open index answers from a copy taken at `freeze()`: the real index may lag its records."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self._frozen: FakeRecords | None = None

    def freeze(self) -> None:
        copy = FakeRecords(self._clock)
        copy.items, copy.open_index = dict(self.items), set(self.open_index)
        self._frozen = copy

    def open_page(self, before: int, cursor: OpenCursor | None, limit: int) -> tuple[list[Record], OpenCursor | None]:
        if self._frozen is None:
            return super().open_page(before, cursor, limit)
        return self._frozen.open_page(before, cursor, limit)


def test_a_record_written_since_the_index_showed_it_is_left_alone():
    # Given a queued record, stranded as the index last saw it, that a worker has since claimed and released
    world = make_world(LaggingIndex)
    stranded = record(1, STATUS_QUEUED, STALE)
    world.store(stranded)
    world.records.freeze()
    world.records.set_statuses([StatusChange(stranded.wallet, 1, STATUS_SUBMITTED, (STATUS_QUEUED,), (("nonce", 5),))])
    world.records.set_statuses(
        [StatusChange(stranded.wallet, 1, STATUS_QUEUED, (STATUS_SUBMITTED,), (("nonce", None),))]
    )

    report = world.sweeper().run_once()

    # Then the sweeper's write fails its condition: the record is queued and fresh, not stranded
    assert (report.found, report.requeued) == (1, 0)
    assert world.queued_jobs() == [] and world.records.items[(stranded.wallet.lower(), 1)].error is None
