"""Fixed-window counters in DynamoDB (items expire by TTL): a per-source rate limit, the daily budgets of new
on-chain writes, which bound what strangers can make the owner spend, and the pinning service's request rate.

Every new registration or revocation (a record that will become a transaction) is charged against three daily
budgets: its wallet's, its source's (the caller's IP address) and everyone's. The charge (model.Charge) is a list of
conditional counter increments that the record store writes in the record's own transaction (`within_budget`): a
write refused by a budget, or lost to a concurrent write, costs nothing.

Nothing here is written by every registration: the global budget is split over GLOBAL_SHARDS counters, each with
its share of the limit, and a write charges one of them, chosen at random. Only when two shards in a row are full
(the day's budget nearly spent) are all shards read, once, to find one with room; when none has, the budget is
spent. Residual: shares are fixed, so the last few writes of a day may be refused while one shard still holds
less than its share: the day's budget is exact at most, never exceeded.
"""

import random
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import condition_failed
from chalicelib.model import BUDGET_GLOBAL, BUDGET_SOURCE, BUDGET_WALLET, BudgetSpent, Charge, CounterAdd
from dmtp_protocol.errors import QuotaExceeded

DAY_S = 86400
MINUTE_S = 60
GLOBAL_SHARDS = 64  # each shard item takes ~1,000 writes/s, and concurrent transactions on one item conflict: 64 keep a launch apart
RANDOM_SHARD_TRIES = 2  # then all shards are read once
WHAT = {
    BUDGET_WALLET: "registrations and revocations per wallet per day",
    BUDGET_SOURCE: "new registrations and revocations per source per day",
    BUDGET_GLOBAL: "new registrations and revocations per day for the whole registry",
}
T = TypeVar("T")


def shard_limits(limit: int, shards: int = GLOBAL_SHARDS) -> list[int]:
    """`limit` split over at most `shards` counters, each holding at least one: their sum is exactly `limit`."""
    count = min(shards, limit)
    return [limit // count + (1 if i < limit % count else 0) for i in range(count)]


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
    ) -> None:
        """A limit of 0 (or less) is no limit. `on_budget_exhausted(budget)` is called when the source or global
        budget refuses a write (the API publishes a metric that raises an alarm)."""
        self._table = table
        self._source_limit = source_requests_per_minute
        self._write_limits = {
            BUDGET_WALLET: wallet_writes_per_day,
            BUDGET_SOURCE: source_writes_per_day,
            BUDGET_GLOBAL: writes_per_day,
        }
        self._on_budget_exhausted = on_budget_exhausted
        self._pin_limit = pinning_requests_per_minute
        self._rng = rng or random.Random()

    # ------------------------------------------------------------ the per-source rate of checks on chain

    def charge_chain_check(self, source: str, now: int) -> None:
        """One write request from `source` whose signature needs the chain (a contract wallet's): one UpdateItem of
        the source's item for this minute. An EOA's write never comes here: its signature costs no call, and its
        writes are counted by the daily budgets in the record's own transaction."""
        self._charge(
            f"source#{source}", self._source_limit, MINUTE_S, now, "signature checks on chain per source per minute"
        )

    # ------------------------------------------------------------ the daily budgets of new writes

    def within_budget(self, wallet: str, source: str, now: int, write: Callable[[Charge], T]) -> T:
        """Call `write(charge)`, which stores a record with `charge`'s counters in one transaction, and return what
        it returns. A full global shard is followed by another shard; any other spent budget, or the global one
        with no shard left, is QuotaExceeded (nothing written)."""
        window_start = now - now % DAY_S
        expires = window_start + 2 * DAY_S
        base = []
        if self._write_limits[BUDGET_WALLET] > 0:
            key = f"wallet#{wallet.lower()}#{window_start}"
            base.append(CounterAdd(self._table.name, key, self._write_limits[BUDGET_WALLET], expires, BUDGET_WALLET))
        if self._write_limits[BUDGET_SOURCE] > 0:
            key = f"writes#source#{source}#{window_start}"
            base.append(CounterAdd(self._table.name, key, self._write_limits[BUDGET_SOURCE], expires, BUDGET_SOURCE))
        if self._write_limits[BUDGET_GLOBAL] <= 0:
            try:
                return write(Charge(tuple(base)))
            except BudgetSpent as spent:
                raise self._refused(spent.counter.budget, now) from spent
        limits = shard_limits(self._write_limits[BUDGET_GLOBAL])
        order = self._rng.sample(range(len(limits)), len(limits))
        full: set[int] = set()
        while True:
            shard = self._next_shard(order, full, limits, window_start)
            if shard is None:
                raise self._refused(BUDGET_GLOBAL, now)
            counter = CounterAdd(
                self._table.name, _global_key(window_start, shard), limits[shard], expires, BUDGET_GLOBAL
            )
            try:
                return write(Charge((*base, counter)))
            except BudgetSpent as spent:
                if spent.counter.budget != BUDGET_GLOBAL:
                    raise self._refused(spent.counter.budget, now) from spent
                full.add(shard)

    def _next_shard(self, order: list[int], full: set[int], limits: list[int], window_start: int) -> int | None:
        """A random shard not known to be full; after RANDOM_SHARD_TRIES full ones, the shard with the most room."""
        if len(full) < RANDOM_SHARD_TRIES:
            return next((shard for shard in order if shard not in full), None)
        counts = self._global_counts(window_start, len(limits))
        room = [(limits[shard] - counts.get(shard, 0), shard) for shard in range(len(limits)) if shard not in full]
        best = max(room, default=(0, -1))
        return best[1] if best[0] > 0 else None

    def _global_counts(self, window_start: int, shards: int) -> dict[int, int]:
        keys = [{"key": _global_key(window_start, shard)} for shard in range(shards)]
        answer = self._table.meta.client.batch_get_item(
            RequestItems={self._table.name: {"Keys": keys, "ConsistentRead": True}}
        )
        counts = {}
        for item in answer.get("Responses", {}).get(self._table.name, []):
            counts[int(str(item["key"]).rsplit("#", 1)[1])] = int(item.get("count", 0))
        return counts  # UnprocessedKeys read as empty: at worst a shard with room is tried and found full

    def _refused(self, budget: str, now: int) -> QuotaExceeded:
        if budget != BUDGET_WALLET and self._on_budget_exhausted is not None:
            self._on_budget_exhausted(budget)
        retry_after = DAY_S - now % DAY_S
        limit = self._write_limits[budget]
        return QuotaExceeded(
            f"limit of {limit} {WHAT[budget]} reached; retry in {retry_after} s",
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


def _global_key(window_start: int, shard: int) -> str:
    return f"writes#global#{window_start}#{shard}"


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
