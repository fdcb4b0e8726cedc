"""Fixed-window counters in DynamoDB (items expire by TTL): per-source rate limits, the daily budgets of new
on-chain writes, which bound what strangers can make the owner spend, the shared counts of reads, and the pinning
service's request rate.

Every new registration or revocation (a record that will become a transaction) is charged against four daily
budgets: its wallet's, its source's (an IPv4 address or IPv6 /64: api/sources.py), its source's network's (IPv4
/24, IPv6 /48) and everyone's. The charge (model.Charge) is a list of conditional counter increments that the record
store writes in the record's own transaction (`within_budget`): a write refused by a budget, or lost to a concurrent
write, costs nothing.

Everyone's budget (WRITES_PER_DAY) is two pools: RESERVED_WRITES_SHARE of it only for wallets that already have a
key (rotations, revocations: a record of version 2 or more, which its own transaction stores only for a wallet
that has records), the rest for every write. A wallet that has a key takes from the reserved pool first, then the
open one; a new wallet's first key only from the open one. So a flood of new wallets leaves the reserve to existing
wallets; existing wallets can use the whole budget.

Nothing here is written by every registration: each pool is split over GLOBAL_SHARDS counters, each with its share
of the pool, and a write charges one of them, chosen at random. Only when two shards in a row are full (the pool
nearly spent) are all its shards read, once, to find one with room; when none has, the pool is spent. Residual:
shares are fixed, so the last few writes of a day may be refused while one shard still holds less than its share:
the day's budget is exact at most, never exceeded.

`check_room` tells, without charging, whether those budgets still have room: the registry asks it before a write's
signature costs a call to the chain (api/registry.py), so forged writes spend no RPC once a budget is spent.
"""

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import condition_failed
from chalicelib.model import (
    BUDGET_GLOBAL,
    BUDGET_NETWORK,
    BUDGET_SOURCE,
    BUDGET_WALLET,
    BudgetSpent,
    Charge,
    CounterAdd,
    Source,
)
from dmtp_protocol.errors import QuotaExceeded

DAY_S = 86400
MINUTE_S = 60
GLOBAL_SHARDS = 64  # each shard item takes ~1,000 writes/s, and concurrent transactions on one item conflict: 64 keep a launch apart
RANDOM_SHARD_TRIES = 2  # then all shards are read once
ROOM_CACHE_S = 10.0  # check_room reads the global budget's shards at most this often per process
MAX_BATCH_GET = 100
POOL_OPEN = "global"  # the part of WRITES_PER_DAY every write may use (its counters keep their pre-issue-24 keys)
POOL_RESERVED = "reserved"  # the part only wallets that already have a key may use (RESERVED_WRITES_SHARE)
WHAT = {
    BUDGET_WALLET: "registrations and revocations per wallet per day",
    BUDGET_SOURCE: "new registrations and revocations per source per day",
    BUDGET_NETWORK: "new registrations and revocations per network (IPv4 /24, IPv6 /48) per day",
    BUDGET_GLOBAL: "new registrations and revocations per day for the whole registry",
}
T = TypeVar("T")


def shard_limits(limit: int, shards: int = GLOBAL_SHARDS) -> list[int]:
    """`limit` split over at most `shards` counters, each holding at least one: their sum is exactly `limit`."""
    count = min(shards, limit)
    return [limit // count + (1 if i < limit % count else 0) for i in range(count)]


def pool_limits(writes_per_day: int, reserved_share: float) -> dict[str, int]:
    """WRITES_PER_DAY split into the open pool (every write) and the reserved pool (writes of wallets that already
    have a key): reserved = floor(limit x share), so the open pool keeps at least one write while share < 1, and
    the two add up to exactly the limit. A pool of 0 is left out."""
    reserved = int(writes_per_day * reserved_share) if writes_per_day > 0 else 0
    pools = {POOL_RESERVED: reserved, POOL_OPEN: writes_per_day - reserved}
    return {pool: limit for pool, limit in pools.items() if limit > 0}


class Quotas:
    def __init__(
        self,
        table: Any,
        wallet_writes_per_day: int,
        source_requests_per_minute: int,
        writes_per_day: int = 0,
        source_writes_per_day: int = 0,
        on_budget_exhausted: Callable[[str], None] | None = None,
        pinning_requests_per_minute: int = 0,
        rng: random.Random | None = None,
        network_writes_per_day: int = 0,
        network_requests_per_minute: int = 0,
        reserved_writes_share: float = 0.0,
        room_cache_s: float = ROOM_CACHE_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """A limit of 0 (or less) is no limit. `on_budget_exhausted(budget)` is called when the source, network or
        global budget refuses a write (the API publishes a metric that raises an alarm)."""
        self._table = table
        self._source_limit = source_requests_per_minute
        self._network_limit = network_requests_per_minute
        self._write_limits = {
            BUDGET_WALLET: wallet_writes_per_day,
            BUDGET_SOURCE: source_writes_per_day,
            BUDGET_NETWORK: network_writes_per_day,
            BUDGET_GLOBAL: writes_per_day,
        }
        self._pools = pool_limits(writes_per_day, reserved_writes_share)
        self._on_budget_exhausted = on_budget_exhausted
        self._pin_limit = pinning_requests_per_minute
        self._rng = rng or random.Random()
        self._room_cache_s = room_cache_s
        self._monotonic = monotonic
        self._pool_totals: dict[tuple[str, int], tuple[float, int]] = {}  # (pool, day) -> (read at, total)
        # Pools this process found spent, by day: a pool's counts only grow within its day (a raised limit is a new
        # deployment, so a new process), so later writes of that day skip it without a transaction or a read.
        self._spent_pools: set[tuple[str, int]] = set()

    # ------------------------------------------------------------ the per-source rate of checks on chain

    def charge_chain_check(self, source: Source, now: int) -> None:
        """One write request from `source` whose signature needs the chain (a contract wallet's): one UpdateItem of
        the source's item for this minute, and one of its network's. An EOA's write never comes here: its
        signature costs no call, and its writes are counted by the daily budgets in the record's own transaction."""
        self._charge(
            f"source#{source.own}", self._source_limit, MINUTE_S, now, "signature checks on chain per source per minute"
        )
        if source.network != source.own:
            self._charge(
                f"checks#network#{source.network}",
                self._network_limit,
                MINUTE_S,
                now,
                "signature checks on chain per network (IPv4 /24, IPv6 /48) per minute",
            )

    # ------------------------------------------------------------ the shared counts of reads (api/read_limits.py)

    def add_reads(self, key: str, window_start: int, units: int) -> int:
        """Add `units` to `key`'s reads in the minute from `window_start` (one UpdateItem); the count after."""
        answer = self._table.update_item(
            Key={"key": f"reads#{key}#{window_start}"},
            UpdateExpression="ADD #count :units SET expiresAt = :expires",
            ExpressionAttributeNames={"#count": "count"},
            ExpressionAttributeValues={":units": units, ":expires": window_start + 2 * MINUTE_S},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["count"])

    # ------------------------------------------------------------ the daily budgets of new writes

    def within_budget(
        self, wallet: str, source: Source, now: int, write: Callable[[Charge], T], existing_wallet: bool = False
    ) -> T:
        """Call `write(charge)`, which stores a record with `charge`'s counters in one transaction, and return what
        it returns. A full global shard is followed by another shard, a spent pool by the next one (a wallet that
        already has a key: the reserved pool, then the open one; a new wallet: the open pool only); any other spent
        budget, or the global one with no pool left, is QuotaExceeded (nothing written).

        `existing_wallet` needs no read: it is true for a record of version 2 or more, which the record's own
        transaction stores only while the wallet's head says version - 1, that is while the wallet has records.
        A caller that claims it for a new wallet gets VersionTaken from `write`, with nothing charged."""
        window_start = now - now % DAY_S
        expires = window_start + 2 * DAY_S
        base = [
            CounterAdd(self._table.name, key, self._write_limits[budget], expires, budget)
            for budget, key in self._day_keys(wallet, source, window_start).items()
            if self._write_limits[budget] > 0
        ]
        if not self._pools:
            try:
                return write(Charge(tuple(base)))
            except BudgetSpent as spent:
                raise self._refused(spent.counter.budget, now, existing_wallet) from spent
        for pool in self._pool_order(existing_wallet):
            if (pool, window_start) in self._spent_pools:
                continue
            limits = shard_limits(self._pools[pool])
            order = self._rng.sample(range(len(limits)), len(limits))
            full: set[int] = set()
            while True:
                shard = self._next_shard(pool, order, full, limits, window_start)
                if shard is None:  # this pool is spent for the day (counts only grow): the next one, if any
                    self._spent_pools = {key for key in self._spent_pools if key[1] == window_start}
                    self._spent_pools.add((pool, window_start))
                    break
                counter = CounterAdd(
                    self._table.name, _pool_key(pool, window_start, shard), limits[shard], expires, BUDGET_GLOBAL
                )
                try:
                    return write(Charge((*base, counter)))
                except BudgetSpent as spent:
                    if spent.counter.budget != BUDGET_GLOBAL:
                        raise self._refused(spent.counter.budget, now, existing_wallet) from spent
                    full.add(shard)
        raise self._refused(BUDGET_GLOBAL, now, existing_wallet)

    def check_room(self, wallet: str, source: Source, now: int, existing_wallet: bool = False) -> None:
        """QuotaExceeded when the wallet's, the source's or its network's counter of today is at its limit, or when
        no pool of the global budget this write may use has room. One BatchGetItem of those counters; the pools'
        totals are read (a BatchGetItem of their shards) at most once per `room_cache_s` per process, so they may
        be that old. Charges nothing."""
        window_start = now - now % DAY_S
        keys = {
            budget: key
            for budget, key in self._day_keys(wallet, source, window_start).items()
            if self._write_limits[budget] > 0
        }
        counts = self._counts(list(keys.values()))
        for budget, key in keys.items():
            if counts.get(key, 0) >= self._write_limits[budget]:
                raise self._refused(budget, now, existing_wallet)
        if not self._pools:
            return
        for pool in self._pool_order(existing_wallet):
            if (pool, window_start) not in self._spent_pools and self._pool_total(pool, window_start) < self._pools[
                pool
            ]:
                return
        raise self._refused(BUDGET_GLOBAL, now, existing_wallet)

    def _pool_order(self, existing_wallet: bool) -> list[str]:
        order = [POOL_RESERVED, POOL_OPEN] if existing_wallet else [POOL_OPEN]
        return [pool for pool in order if pool in self._pools]

    def _day_keys(self, wallet: str, source: Source, window_start: int) -> dict[str, str]:
        keys = {
            BUDGET_WALLET: f"wallet#{wallet.lower()}#{window_start}",
            BUDGET_SOURCE: f"writes#source#{source.own}#{window_start}",
        }
        if source.network != source.own:
            keys[BUDGET_NETWORK] = f"writes#network#{source.network}#{window_start}"
        return keys

    def _pool_total(self, pool: str, window_start: int) -> int:
        cached = self._pool_totals.get((pool, window_start))
        if cached is not None and self._monotonic() - cached[0] < self._room_cache_s:
            return cached[1]
        shards = len(shard_limits(self._pools[pool]))
        total = sum(self._counts([_pool_key(pool, window_start, shard) for shard in range(shards)]).values())
        stale_days = [key for key in self._pool_totals if key[1] != window_start]
        for key in stale_days:
            del self._pool_totals[key]
        self._pool_totals[(pool, window_start)] = (self._monotonic(), total)
        return total

    def _counts(self, keys: list[str], consistent: bool = False) -> dict[str, int]:
        """The `count` of each counter item that exists, by key (BatchGetItem, up to 100 keys)."""
        if not keys:
            return {}
        assert len(keys) <= MAX_BATCH_GET
        answer = self._table.meta.client.batch_get_item(
            RequestItems={self._table.name: {"Keys": [{"key": key} for key in keys], "ConsistentRead": consistent}}
        )
        return {
            str(item["key"]): int(item.get("count", 0))
            for item in answer.get("Responses", {}).get(self._table.name, [])
        }  # UnprocessedKeys read as empty: at worst room is reported and the write's own transaction decides

    def _next_shard(
        self, pool: str, order: list[int], full: set[int], limits: list[int], window_start: int
    ) -> int | None:
        """A random shard not known to be full; after RANDOM_SHARD_TRIES full ones, the shard with the most room."""
        if len(full) < RANDOM_SHARD_TRIES:
            return next((shard for shard in order if shard not in full), None)
        keys = [_pool_key(pool, window_start, shard) for shard in range(len(limits))]
        counts = self._counts(keys, consistent=True)
        room = [
            (limits[shard] - counts.get(keys[shard], 0), shard) for shard in range(len(limits)) if shard not in full
        ]
        best = max(room, default=(0, -1))
        return best[1] if best[0] > 0 else None

    def _refused(self, budget: str, now: int, existing_wallet: bool = False) -> QuotaExceeded:
        if budget != BUDGET_WALLET and self._on_budget_exhausted is not None:
            self._on_budget_exhausted(budget)
        retry_after = DAY_S - now % DAY_S
        limit = self._write_limits[budget]
        what = WHAT[budget]
        if budget == BUDGET_GLOBAL and not existing_wallet and POOL_RESERVED in self._pools:
            limit = self._pools.get(POOL_OPEN, 0)
            what = (
                f"first registrations of new wallets per day for the whole registry ({self._pools[POOL_RESERVED]} "
                "more are kept for wallets that already have a key)"
            )
        return QuotaExceeded(
            f"limit of {limit} {what} reached; retry in {retry_after} s",
            retry_after,
            limit=limit,
            budget=budget,
        )

    # ------------------------------------------------------------ the pinning service's rate (the chain worker)

    def charge_pin_request(self, now: int) -> bool:
        """Count one request to the pinning service in this minute's window; False when the plan's rate
        (PINNING_REQUESTS_PER_MINUTE) is reached, and nothing is counted."""
        try:
            self._charge("pins", self._pin_limit, MINUTE_S, now, "pinning requests per minute")
        except QuotaExceeded:
            return False
        return True

    def _charge(self, subject: str, limit: int, window_s: int, now: int, what: str) -> None:
        if limit <= 0:
            return
        window_start = now - now % window_s
        retry_after = window_start + window_s - now
        try:
            self._table.update_item(
                Key={"key": f"{subject}#{window_start}"},
                UpdateExpression="ADD #count :one SET expiresAt = :expires",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues={":one": 1, ":limit": limit, ":expires": window_start + 2 * window_s},
            )
        except ClientError as exc:
            if condition_failed(exc):
                raise QuotaExceeded(
                    f"limit of {limit} {what} reached; retry in {retry_after} s", retry_after, limit=limit
                ) from exc
            raise


def _pool_key(pool: str, window_start: int, shard: int) -> str:
    """A global shard's counter: the open pool keeps the key it had before the reserved pool existed."""
    return f"writes#{pool}#{window_start}#{shard}"


def counter_update(counter: CounterAdd) -> dict[str, Any]:
    """The TransactWriteItems Update that raises `counter` by one while it is below its limit."""
    return {
        "Update": {
            "TableName": counter.table,
            "Key": {"key": counter.key},
            "UpdateExpression": "ADD #count :one SET expiresAt = :expires",
            "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
            "ExpressionAttributeNames": {"#count": "count"},
            "ExpressionAttributeValues": {":one": 1, ":limit": counter.limit, ":expires": counter.expires_at},
        }
    }
