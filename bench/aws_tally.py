"""A tally of the AWS requests made through boto3's default session, for the benchmarks' per-registration figures:
requests by `service.Operation`, and DynamoDB items written by table (one per PutItem/UpdateItem/DeleteItem, one per
Put/Update/Delete of a TransactWriteItems, one per request of a BatchWriteItem; bench.intake's counting).

It counts what the clients send (retries included), not what AWS bills: docs/SCALING.md turns the counts into
request units with the items' sizes."""

import json
import threading
from collections import Counter
from typing import Any

from bench.intake import written_item_keys


class AwsTally:
    """A botocore `before-send` hook on boto3's default session: install it before the clients it should see are
    made (a client copies the session's handlers when it is created)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.items_written: Counter[str] = Counter()  # table -> items written

    def install(self, events: Any) -> None:
        events.register("before-send", self._before_send, unique_id="bench-aws-tally")

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.items_written.clear()

    def per(self, count: int) -> dict[str, Any]:
        """The tally divided by `count` (registrations), rounded to 3 places, largest first."""
        with self._lock:
            requests = {name: round(n / count, 3) for name, n in self.requests.most_common()}
            items = {table: round(n / count, 3) for table, n in self.items_written.most_common()}
        return {"requests": requests, "dynamodb_items_written": items}

    def _before_send(self, request: Any, event_name: str, **_: Any) -> None:
        service, operation = event_name.split(".", 2)[1:]
        tables: list[str] = []
        if service == "dynamodb" and request.body:
            keys = written_item_keys(operation, json.loads(request.body), lambda table: [])
            tables = [key.split(" ", 1)[0] for key in keys]
        with self._lock:
            self.requests[f"{service}.{operation}"] += 1
            for table in tables:
                self.items_written[_short(table)] += 1


def _short(table: str) -> str:
    """`dmtp-registry-local-records` -> `records`."""
    return table.rsplit("-", 1)[-1]
