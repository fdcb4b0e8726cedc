"""The local pinning service's plan limit (devstack/pinning_service.py TokenBucket): Pinata answers 429 past its
plan's requests per minute; the stand-in does the same so benchmarks meet the limit the registry will meet."""

import pytest

from devstack.pinning_service import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_admits_one_minutes_worth_at_once_and_refuses_the_next():
    clock = Clock()
    bucket = TokenBucket(rate_per_minute=500, clock=clock)

    admitted = [bucket.take() for _ in range(500)]
    refused = bucket.take()

    assert admitted == [0.0] * 500
    assert refused == pytest.approx(60 / 500)  # one token comes back every 0.12 s


def test_an_empty_bucket_admits_again_at_the_rate_per_minute():
    clock = Clock()
    bucket = TokenBucket(rate_per_minute=60, burst=1, clock=clock)
    assert bucket.take() == 0.0

    clock.now += 0.5
    half_way = bucket.take()
    clock.now += 0.5
    after_a_second = bucket.take()

    assert half_way == pytest.approx(0.5)
    assert after_a_second == 0.0


def test_a_refused_request_takes_nothing_from_the_bucket():
    clock = Clock()
    bucket = TokenBucket(rate_per_minute=60, burst=1, clock=clock)
    bucket.take()

    for _ in range(10):
        assert bucket.take() > 0
    clock.now += 1.0

    assert bucket.take() == 0.0


def test_an_idle_bucket_holds_no_more_than_its_burst():
    clock = Clock()
    bucket = TokenBucket(rate_per_minute=60, burst=3, clock=clock)
    clock.now += 3600

    answers = [bucket.take() for _ in range(4)]

    assert answers[:3] == [0.0, 0.0, 0.0] and answers[3] > 0


def test_a_rate_of_zero_is_refused_as_a_setting():
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(rate_per_minute=0)
