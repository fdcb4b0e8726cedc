"""The owner key's nonces, shared by every concurrent worker: a counter item in TransactionsTable.

A reservation moves the counter and creates the reserved nonces' items in one DynamoDB transaction, so every
nonce below the counter has an item, unless something outside this module moved the counter. Whoever creates
or takes over an item owns that nonce; the counter only says where the next reservation starts.

The counter must never sit above what the chain and the table can account for (a relayer whose counter drifted
above the chain saw every later transaction fail with "nonce too high" for good): `reconcile` raises it to the
chain's pending nonce when the chain is ahead, and lowers it when the nonces at its top have no items at all.
A hole below items that exist is filled by the monitor with a no-op self-transfer.
"""

import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import condition_failed
from chalicelib.adapters.transactions import COUNTER_NONCE, _decimal, _from_item, reservation_item
from chalicelib.model import STATE_RESERVED, Counter, Job, NonceReservationFailed, Reconciliation, TxItem


class NonceManager:
    def __init__(self, table: Any, signer: str, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self.signer = signer.lower()
        self._clock = clock

    def counter(self) -> Counter | None:
        item = self._table.get_item(Key={"signer": self.signer, "nonce": COUNTER_NONCE}, ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            return None
        return Counter(next=int(item["next"]), floor=int(item.get("floor", 0)))

    def initialise(self, chain_pending: int) -> Counter:
        try:
            self._table.put_item(
                Item={"signer": self.signer, "nonce": COUNTER_NONCE, "next": chain_pending, "floor": chain_pending},
                ConditionExpression="attribute_not_exists(nonce)",
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
        counter = self.counter()
        assert counter is not None
        return counter

    def reserve(self, batches: list[tuple[Job, ...]], owner: str, chain_pending: Callable[[], int]) -> list[TxItem]:
        """Consecutive nonces, one per batch, each with a reserved item naming its candidate jobs."""
        if not batches:
            return []
        for _ in range(60):
            counter = self.counter() or self.initialise(chain_pending())
            first, now = counter.next, self._clock()
            items = [reservation_item(self.signer, first + i, owner, batch, now) for i, batch in enumerate(batches)]
            actions: list[dict[str, Any]] = [self._move_counter(first, first + len(batches))]
            actions += [
                {
                    "Put": {
                        "TableName": self._table.name,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(nonce)",
                    }
                }
                for item in items
            ]
            try:
                self._table.meta.client.transact_write_items(TransactItems=actions)
                return [_from_item(item) for item in items]
            except ClientError as exc:
                reasons = exc.response.get("CancellationReasons") or []
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons[1:]):
                    # Items exist at or above the counter (it was moved down by hand): skip past them.
                    self._raise_above_items()
                time.sleep(random.uniform(0.005, 0.03))  # another worker moved the counter first
        raise NonceReservationFailed(f"could not reserve {len(batches)} nonce(s) for {self.signer}")

    def release(self, item: TxItem) -> bool:
        """Give back an unused reservation, if it is still the counter's top; False when others reserved after it."""
        actions = [
            {
                "Delete": {
                    "TableName": self._table.name,
                    "Key": {"signer": self.signer, "nonce": item.nonce},
                    "ConditionExpression": "#state = :reserved AND #owner = :owner AND #reservedAt = :at",
                    "ExpressionAttributeNames": {"#state": "state", "#owner": "owner", "#reservedAt": "reservedAt"},
                    "ExpressionAttributeValues": {
                        ":reserved": STATE_RESERVED,
                        ":owner": item.owner,
                        ":at": _decimal(item.reserved_at),
                    },
                }
            },
            self._move_counter(item.nonce + 1, item.nonce),
        ]
        try:
            self._table.meta.client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    def reconcile(self, chain_latest: int, chain_pending: int) -> Reconciliation:
        """Bring the counter in line with the chain and the table (at start-up and on every monitor pass)."""
        for _ in range(10):
            counter = self.counter() or self.initialise(chain_pending)
            newest = self._newest()
            items = {
                item.nonce for item in self._items(min(counter.floor, chain_latest), max(counter.next, newest + 1) - 1)
            }
            top = max(items, default=chain_latest - 1)
            # Below the chain's pending nonce every nonce is taken (by us or by another sender of this key), and
            # above the top item nothing was ever reserved: the counter belongs right after both.
            wanted = max(top + 1, chain_pending)
            changed = False
            if counter.next < wanted:
                changed = self._set_counter(wanted, only_if_below=True)
            elif counter.next > wanted:
                if not self._set_counter(wanted, only_if_equal=counter.next):
                    continue  # someone reserved meanwhile: look again
                changed = True
            # A nonce below `chain_pending` with no item is held by a transaction we did not send: leave it be.
            holes = tuple(n for n in range(max(chain_pending, counter.floor), top) if n not in items)
            return Reconciliation(counter.next, wanted, holes, changed)
        raise NonceReservationFailed(f"could not reconcile the nonce counter of {self.signer}")

    def reserve_hole(self, nonce: int, owner: str) -> TxItem | None:
        """Claim a nonce that has no item (for a no-op); None if someone created it meanwhile."""
        item = reservation_item(self.signer, nonce, owner, (), self._clock())
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(nonce)")
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise
        return _from_item(item)

    def advance_floor(self, floor: int) -> None:
        try:
            self._table.update_item(
                Key={"signer": self.signer, "nonce": COUNTER_NONCE},
                UpdateExpression="SET #floor = :floor",
                ConditionExpression="attribute_not_exists(#floor) OR #floor < :floor",
                ExpressionAttributeNames={"#floor": "floor"},
                ExpressionAttributeValues={":floor": floor},
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise

    def force_counter(self, next_nonce: int) -> None:
        """Set the counter outright (operators and tests that simulate drift)."""
        self._table.update_item(
            Key={"signer": self.signer, "nonce": COUNTER_NONCE},
            UpdateExpression="SET #next = :next",
            ExpressionAttributeNames={"#next": "next"},
            ExpressionAttributeValues={":next": next_nonce},
        )

    # ------------------------------------------------------------ internals

    def _move_counter(self, expected: int, new: int) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": {"signer": self.signer, "nonce": COUNTER_NONCE},
                "UpdateExpression": "SET #next = :new",
                "ConditionExpression": "#next = :expected",
                "ExpressionAttributeNames": {"#next": "next"},
                "ExpressionAttributeValues": {":new": new, ":expected": expected},
            }
        }

    def _set_counter(self, value: int, only_if_below: bool = False, only_if_equal: int | None = None) -> bool:
        condition, values = "#next < :value", {":value": value}
        if only_if_equal is not None:
            condition, values = "#next = :expected", {":value": value, ":expected": only_if_equal}
        try:
            self._table.update_item(
                Key={"signer": self.signer, "nonce": COUNTER_NONCE},
                UpdateExpression="SET #next = :value",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#next": "next"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def _raise_above_items(self) -> None:
        self._set_counter(self._newest() + 1, only_if_below=True)

    def _newest(self) -> int:
        from chalicelib.adapters.transactions import TxStore

        newest = TxStore(self._table, self.signer).newest()
        return newest.nonce if newest is not None else -1

    def _items(self, low: int, high: int) -> list[TxItem]:
        from chalicelib.adapters.transactions import TxStore

        return TxStore(self._table, self.signer).between(low, high)
