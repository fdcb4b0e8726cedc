"""chalicelib/adapters/anchor_cache.py: the latest anchor read at most once per TTL, on an injected clock, through
the in-memory log (tests/support/api_fakes.py FakeLog, which counts its reads)."""

import pytest

from chalicelib.adapters.anchor_cache import CachedAnchors
from chalicelib.model import Anchor
from tests.support.api_fakes import Clock, FakeLog

TTL_S = 5.0


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def log(clock: Clock) -> FakeLog:
    log = FakeLog(clock)
    log.record_anchor(3, b"\x03" * 32, "0x" + "03" * 32, 30)
    return log


def reads(log: FakeLog) -> int:
    return log.calls.count("latest_anchor")


def test_reads_within_the_ttl_are_answered_from_memory(clock, log):
    cache = CachedAnchors(log, TTL_S, clock)

    first = cache.latest_anchor()
    clock.now += TTL_S - 0.001
    again = cache.latest_anchor()

    assert first is not None and first.size == 3
    assert again == first
    assert reads(log) == 1


def test_once_the_ttl_has_passed_the_next_call_reads_and_names_a_newer_anchor(clock, log):
    """Given an anchor kept, when a newer head is anchored, then calls within the TTL still name the kept one (the
    staleness the docstring states) and the first call at TTL names the new one."""
    cache = CachedAnchors(log, TTL_S, clock)
    cache.latest_anchor()
    log.record_anchor(5, b"\x05" * 32, "0x" + "05" * 32, 50)

    clock.now += TTL_S - 0.001
    stale = cache.latest_anchor()
    clock.now += 0.001
    fresh = cache.latest_anchor()

    assert (stale.size, fresh.size) == (3, 5)
    assert reads(log) == 2


def test_no_anchor_yet_is_kept_like_an_anchor(clock):
    log = FakeLog(clock)
    cache = CachedAnchors(log, TTL_S, clock)

    assert cache.latest_anchor() is None
    log.record_anchor(1, b"\x01" * 32, "0x" + "01" * 32, 10)
    assert cache.latest_anchor() is None
    assert reads(log) == 1


def test_freshness_counts_from_before_the_read_so_a_slow_read_shortens_it(clock, log):
    class SlowLog:
        def latest_anchor(self) -> Anchor | None:
            anchor = log.latest_anchor()
            clock.now += 2.0  # the read took 2 s
            return anchor

    cache = CachedAnchors(SlowLog(), TTL_S, clock)
    cache.latest_anchor()  # started at t, answered at t + 2

    clock.now += TTL_S - 2.0  # t + TTL: no longer fresh, though only TTL - 2 s after the answer
    cache.latest_anchor()

    assert reads(log) == 2


def test_a_read_that_raises_keeps_nothing_and_the_next_call_reads_again(clock, log):
    class FlakyLog:
        failures = 1

        def latest_anchor(self) -> Anchor | None:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("DynamoDB unreachable")
            return log.latest_anchor()

    cache = CachedAnchors(FlakyLog(), TTL_S, clock)

    with pytest.raises(ConnectionError):
        cache.latest_anchor()
    answer = cache.latest_anchor()

    assert answer is not None and answer.size == 3
    assert reads(log) == 1


def test_a_ttl_of_zero_reads_on_every_call(clock, log):
    cache = CachedAnchors(log, 0, clock)

    for _ in range(3):
        cache.latest_anchor()

    assert reads(log) == 3


def test_a_negative_ttl_is_refused(clock, log):
    with pytest.raises(ValueError, match="ttl_s"):
        CachedAnchors(log, -1, clock)
