"""A tally of the AWS requests made through boto3's default session, for the benchmarks' per-registration figures:
requests by `service.Operation`, and DynamoDB items written by table (one per PutItem/UpdateItem/DeleteItem, one per
Put/Update/Delete of a TransactWriteItems, one per request of a BatchWriteItem; bench.intake's counting).

It counts what the clients send (retries included), not what AWS bills: docs/SCALING.md turns the counts into
request units with the items' sizes."""

import json
from collections import Counter
from typing import Any

from bench.intake import written_item_keys


class AwsTally:
    """A botocore `before-send` hook on boto3's default session: install it before the clients it should see are
    made (a client copies the session's handlers when it is created). While the run is timed it only keeps each
    request's operation and body (an append); `per` reads the bodies afterwards, so the tally costs the measured
    threads almost nothing."""

    def __init__(self) -> None:
        self._sent: list[tuple[str, str, bytes]] = []  # (service, operation, body); list.append is atomic

    def install(self, events: Any) -> None:
        events.register("before-send", self._before_send, unique_id="bench-aws-tally")

    def reset(self) -> None:
        self._sent = []

    def per(self, count: int) -> dict[str, Any]:
        """The tally so far divided by `count` (registrations), rounded to 3 places, largest first."""
        requests: Counter[str] = Counter()
        items: Counter[str] = Counter()  # table -> items written
        kinds: Counter[str] = Counter()  # "table item-kind" (+ " in a transaction") -> items written
        for service, operation, body in list(self._sent):
            requests[f"{service}.{operation}"] += 1
            if service != "dynamodb" or not body:
                continue
            for key in written_item_keys(operation, json.loads(body), lambda table: _KEY_ATTRIBUTES):
                table, attributes = key.split(" ", 1)
                items[_short(table)] += 1
                suffix = " in a transaction" if operation == "TransactWriteItems" else ""
                kinds[f"{_short(table)} {_kind(json.loads(attributes))}{suffix}"] += 1
        return {
            "requests": {name: round(n / count, 3) for name, n in requests.most_common()},
            "dynamodb_items_written": {table: round(n / count, 3) for table, n in items.most_common()},
            "dynamodb_items_written_by_kind": {kind: round(n / count, 3) for kind, n in kinds.most_common()},
        }

    def _before_send(self, request: Any, event_name: str, **_: Any) -> None:
        service, operation = event_name.split(".", 2)[1:]
        body = request.body
        self._sent.append((service, operation, body if isinstance(body, bytes) else (body or "").encode()))


_KEY_ATTRIBUTES = ["key", "part", "pos", "version", "wallet"]  # of every table's key: a Put's key, from its item


def _kind(attributes: dict[str, Any]) -> str:
    """What an item is, from its key (or its whole item): a record or a wallet's head (version 0) in the records
    table, a leaf, node, head or anchor in the log, a counter in the quotas table."""
    present = {name: value for name, value in attributes.items() if value is not None}
    if "wallet" in present and "version" in present:
        return "head" if present["version"].get("N") == "0" else "record"
    if "part" in present:
        return str(present["part"].get("S", "")).split("/", 1)[0]
    if "key" in present:
        return str(present["key"].get("S", "")).split("#", 1)[0]
    return "item"


def _short(table: str) -> str:
    """`dmtp-registry-local-records` -> `records`."""
    return table.rsplit("-", 1)[-1]
