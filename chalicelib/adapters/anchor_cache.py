"""The transparency log's latest anchor, kept in the API process for a few seconds (issue 22: launch-day reads).

Every read use case shows the latest anchored head (a record view's `log.anchoredHead`, history items, batch lookup
entries, `/log/head`'s `anchored`, the default `/log/inclusion` proof). Read from DynamoDB each time, that is a
second consistent Query per lookup, on the log table's one "anchor" partition that every lookup in the world shares
(a hot partition). A head is anchored at most once per worker transaction, so a few seconds of reuse lose little.

Staleness, stated once: an answer built from this cache may name an anchored head up to `ttl_s` seconds older than
the newest one stored, so a lookup's anchoredHead may lag the chain by up to ANCHOR_CACHE_S (chalicelib/settings.py)
beyond the monitor's own confirmation delay, and may be null for a leaf an anchor stored in that window covers.
It is never wrong: anchors are recorded only once final and their sizes strictly increase, so an older anchor is a
true anchored head of an earlier size. Each process (Lambda container) has its own copy; nothing is shared.
"""

import time
from collections.abc import Callable
from typing import Protocol

from chalicelib.model import Anchor


class AnchorSource(Protocol):
    """What the cache reads through: adapters/translog.py's TransparencyLog (chalicelib.api.ports.Anchors)."""

    def latest_anchor(self) -> Anchor | None: ...


class CachedAnchors:
    """`latest_anchor()` of `source`, read at most once per `ttl_s` seconds of `clock` (seconds, never going back:
    time.monotonic by default). Implements the Anchors port of chalicelib/api/ports.py.

    Invariants: an answer is the source's answer from a read that started at most `ttl_s` seconds before (its
    freshness is counted from before the read, so a slow read shortens it, never lengthens it); "no anchor yet"
    (None) is kept like any other answer; a read that raises keeps nothing, and the next call reads again.
    `ttl_s` = 0 reads on every call. Concurrent callers at expiry may each read once; each keeps a true answer."""

    def __init__(self, source: AnchorSource, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl_s < 0:
            raise ValueError("ttl_s must be 0 or more")
        self._source = source
        self._ttl_s = ttl_s
        self._clock = clock
        self._kept: tuple[float, Anchor | None] | None = None  # (fresh until, answer): replaced whole, never mutated

    def latest_anchor(self) -> Anchor | None:
        started = self._clock()
        kept = self._kept
        if kept is not None and started < kept[0]:
            return kept[1]
        anchor = self._source.latest_anchor()
        self._kept = (started + self._ttl_s, anchor)
        return anchor
