"""Per-source limits of reads: every GET costs 1 unit, POST /batch-lookup 1 per address asked for.

Why not a DynamoDB counter per read, as the writes have: a warm GET is one Query; an UpdateItem beside it would
double its I/O and its latency (bench.api's warm_get_ratio). So each API process (one Lambda container) keeps a
token bucket per key, and a coarse shared counter in the quotas table ties the containers together:

- Bucket: capacity = the limit per minute, refilled at limit/60 units a second. A request whose cost does not fit
  in the source's bucket, or in its network's (model.Source: the IPv4 /24 or IPv6 /48), is QuotaExceeded (429)
  with the seconds until it would fit; a refused request takes nothing from either bucket.
- Shared counter: each process adds what it let through to `reads#<key>#<minute>` (ReadCounts.add_reads) once
  it has FLUSH_PARTS-th of the limit unreported for that key, one UpdateItem per limit/FLUSH_PARTS units (60 reads
  at the default 600: under 2% of a GET's I/O on average, none on most GETs). When the total it gets back has
  reached the limit, the key is refused in this process until the minute ends.

Residual, stated: with N warm containers one source can get up to about N x limit in its first minute (each
container's bucket is full) and then about limit + N x limit/FLUSH_PARTS a minute (what containers have not
reported yet); units a container has not reported when its minute ends are not counted anywhere else. A shared
counter that cannot be reached lets reads through (logged): the buckets still hold each container to the limit.
Behind the read cache (CloudFront) only cache misses arrive, from CloudFront's addresses.
"""

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.api.ports import ReadCounts
from chalicelib.api.sources import source_of
from dmtp_protocol.errors import QuotaExceeded

log = logging.getLogger(__name__)

MINUTE_S = 60
FLUSH_PARTS = 10  # a process reports a key's reads to the shared counter in tenths of the limit
MAX_TRACKED = 20_000  # keys one process keeps; idle ones (full buckets) are dropped first


@dataclass
class _Key:
    """One key's state in this process: its bucket, and what it has not yet reported for the current minute."""

    tokens: float
    updated: float
    window: int
    unreported: int = 0
    refused_until: float = 0.0


@dataclass(frozen=True)
class _Limit:
    key: str
    per_minute: int
    budget: str  # the problem's `budget`: "source-reads" or "network-reads"
    what: str


class ReadLimiter:
    def __init__(
        self,
        counts: ReadCounts | None,
        source_per_minute: int,
        network_per_minute: int,
        now: Callable[[], float] = time.time,
    ) -> None:
        """A limit of 0 (or less) is no limit. `counts`: the shared counter (None: this process's buckets only)."""
        self._counts = counts
        self._source_limit = source_per_minute
        self._network_limit = network_per_minute
        self._now = now
        self._keys: OrderedDict[str, _Key] = OrderedDict()
        self._lock = threading.Lock()

    def charge(self, raw_source: str, units: int = 1) -> None:
        """Take `units` reads for the source `raw_source` (an IP address as API Gateway reports it) from its own
        and its network's limits, or raise QuotaExceeded (429, Retry-After) and take nothing."""
        source = source_of(raw_source)
        limits = [_Limit(source.own, self._source_limit, "source-reads", "reads per source per minute")]
        if source.network != source.own:
            limits.append(_Limit(source.network, self._network_limit, "network-reads", "reads per network per minute"))
        limits = [limit for limit in limits if limit.per_minute > 0]
        if not limits:
            return
        now = self._now()
        with self._lock:
            states = [self._state(limit, now) for limit in limits]
            for limit, state in zip(limits, states, strict=True):
                wait = self._wait_s(limit, state, units, now)
                if wait is not None:
                    raise QuotaExceeded(
                        f"limit of {limit.per_minute} {limit.what} reached (this request counts {units}); "
                        f"retry in {wait} s",
                        wait,
                        limit=limit.per_minute,
                        budget=limit.budget,
                    )
            due = []
            for limit, state in zip(limits, states, strict=True):
                state.tokens -= units
                state.unreported += units
                if state.unreported >= max(1, limit.per_minute // FLUSH_PARTS):
                    due.append((limit, state, state.unreported))
                    state.unreported = 0
        for limit, state, unreported in due:  # outside the lock: the one request that reports waits for it
            self._report(limit, state, unreported)

    def _state(self, limit: _Limit, now: float) -> _Key:
        """The key's state, its bucket refilled up to now and its window moved to this minute."""
        window = int(now) - int(now) % MINUTE_S
        state = self._keys.get(limit.key)
        if state is None:
            state = _Key(tokens=float(limit.per_minute), updated=now, window=window)
            self._keys[limit.key] = state
            self._forget_idle(now)
        else:
            self._keys.move_to_end(limit.key)
        rate = limit.per_minute / MINUTE_S
        state.tokens = min(float(limit.per_minute), state.tokens + max(0.0, now - state.updated) * rate)
        state.updated = now
        if state.window != window:  # a new minute: what was not reported of the last one is not counted elsewhere
            state.window, state.unreported = window, 0
        return state

    @staticmethod
    def _wait_s(limit: _Limit, state: _Key, units: int, now: float) -> int | None:
        """Seconds until `units` fit for this key (None: they fit now)."""
        if now < state.refused_until:
            return max(1, math.ceil(state.refused_until - now))
        if state.tokens >= units:
            return None
        if units > limit.per_minute:  # more than a full bucket: never fits (settings keep a batch within one)
            return MINUTE_S
        return max(1, math.ceil((units - state.tokens) * MINUTE_S / limit.per_minute))

    def _report(self, limit: _Limit, state: _Key, units: int) -> None:
        if self._counts is None:
            return
        try:
            total = self._counts.add_reads(limit.key, state.window, units)
        except Exception:  # the shared counter is advisory: the buckets still bound this process
            log.exception("could not report %s reads of %s", units, limit.key)
            return
        if total >= limit.per_minute:
            with self._lock:
                state.refused_until = max(state.refused_until, state.window + MINUTE_S)

    def _forget_idle(self, now: float) -> None:
        """Keep at most MAX_TRACKED keys, dropping the least recently used. One idle for a minute has a full bucket
        and nothing unreported in the current minute, so forgetting it changes no answer; only with more than
        MAX_TRACKED keys active within a minute in one process does a dropped key start again with a full bucket."""
        while len(self._keys) > MAX_TRACKED:
            self._keys.popitem(last=False)
