"""chalicelib/api/read_limits.py: per-source limits of reads, a token bucket per source and per network in each API
process plus a coarse shared count (tests/support/api_fakes.py FakeReadCounts stands for the quotas table)."""

import pytest

from chalicelib.api.read_limits import FLUSH_PARTS, ReadLimiter
from dmtp_protocol.errors import QuotaExceeded
from tests.support.api_fakes import Clock, FakeReadCounts

NOW = 1_800_000_000  # a minute's start (1_800_000_000 % 60 == 0)
SOURCE = "198.51.100.7"


def limiter(source: int = 100, network: int = 0, counts: FakeReadCounts | None = None, clock: Clock | None = None):
    return ReadLimiter(counts, source, network, now=clock or Clock(NOW))


def refusal(limits: ReadLimiter, source: str = SOURCE, units: int = 1) -> QuotaExceeded:
    with pytest.raises(QuotaExceeded) as refused:
        limits.charge(source, units)
    return refused.value


def test_reads_within_the_limit_pass_and_the_next_is_429_with_the_seconds_until_one_fits():
    limits = limiter(source=100)
    for _ in range(100):
        limits.charge(SOURCE)

    problem = refusal(limits).to_problem()

    assert (problem["status"], problem["code"], problem["limit"], problem["budget"]) == (
        429,
        "quota-exceeded",
        100,
        "source-reads",
    )
    assert problem["retryAfter"] == 1  # 100 a minute: one unit back every 0.6 s


def test_a_batch_costs_one_unit_per_address():
    limits = limiter(source=100)
    limits.charge(SOURCE, 60)

    refused = refusal(limits, units=41)

    assert refused.retry_after_s == 1  # 40 left, 1 more is back in 0.6 s
    limits.charge(SOURCE, 40)


def test_a_refused_request_takes_nothing():
    limits = limiter(source=100)
    limits.charge(SOURCE, 90)
    refusal(limits, units=20)

    limits.charge(SOURCE, 10)  # the refused 20 were not taken


def test_the_bucket_refills_at_the_limit_per_minute():
    clock = Clock(NOW)
    limits = limiter(source=120, clock=clock)
    limits.charge(SOURCE, 120)
    refusal(limits)

    clock.now += 5  # 2 a second

    limits.charge(SOURCE, 10)
    refusal(limits)


def test_other_sources_keep_their_own_limit():
    limits = limiter(source=100)
    limits.charge(SOURCE, 100)

    limits.charge("198.51.100.8", 100)


def test_ipv6_neighbours_in_one_slash_64_share_a_source_limit():
    limits = limiter(source=100)
    limits.charge("2001:db8:1:2::1", 100)

    assert refusal(limits, "2001:db8:1:2::2").extra["budget"] == "source-reads"


def test_sources_of_one_slash_24_share_the_network_limit_above_their_own():
    limits = limiter(source=100, network=250)
    for last in (1, 2):
        limits.charge(f"198.51.100.{last}", 100)
    limits.charge("198.51.100.3", 50)

    refused = refusal(limits, "198.51.100.3")

    assert (refused.extra["budget"], refused.extra["limit"]) == ("network-reads", 250)
    limits.charge("198.51.101.1", 100)  # the next /24 is another network


def test_a_source_refused_by_its_network_keeps_its_own_units():
    limits = limiter(source=100, network=150)
    limits.charge("198.51.100.1", 100)
    refusal(limits, "198.51.100.2", units=60)

    limits.charge("198.51.100.2", 50)  # the refused 60 took nothing from its own bucket nor the network's


def test_each_process_reports_its_reads_in_tenths_of_the_limit():
    counts = FakeReadCounts()
    limits = limiter(source=100, counts=counts)

    for _ in range(100 // FLUSH_PARTS - 1):
        limits.charge(SOURCE)
    assert counts.calls == []
    limits.charge(SOURCE)

    assert counts.calls == [("ip4:198.51.100.7", NOW, 100 // FLUSH_PARTS)]


def test_a_source_the_shared_count_says_is_spent_is_refused_in_every_process_until_the_minute_ends():
    counts = FakeReadCounts()
    clock = Clock(NOW + 15)
    first, second = limiter(source=100, counts=counts, clock=clock), limiter(source=100, counts=counts, clock=clock)
    first.charge(SOURCE, 90)  # reported: 90
    second.charge(SOURCE, 10)  # reported: 100, the limit: this process stops the source

    refused = refusal(second)

    assert refused.retry_after_s == 45  # the shared minute ends at NOW + 60
    clock.now += 45
    second.charge(SOURCE)


def test_reads_go_on_while_the_shared_count_cannot_be_reached():
    counts = FakeReadCounts()
    counts.down = True
    limits = limiter(source=100, counts=counts)

    limits.charge(SOURCE, 100)

    assert len(counts.calls) == 1
    refusal(limits)  # the process's own bucket still holds the source to the limit


def test_a_limit_of_zero_charges_nothing_and_reports_nothing():
    counts = FakeReadCounts()
    limits = limiter(source=0, network=0, counts=counts)

    for _ in range(1000):
        limits.charge(SOURCE, 100)

    assert counts.calls == []


def test_a_source_that_is_no_address_is_limited_under_its_own_key():
    limits = limiter(source=100, network=100)
    limits.charge("unknown", 100)

    assert refusal(limits, "unknown").extra["budget"] == "source-reads"
    limits.charge("198.51.100.7", 100)
