"""The worker's persistent pause switch: one item in TransactionsTable, read by the worker once per batch.

The item lives at hash key `signer` = "worker-control", range key `nonce` = 0. Every real signer item is keyed by a
lowercase hex address ("0x" and 40 hex digits), which "worker-control" can never be, so the switch shares the
table with the nonce counters and transactions without touching any of them (nothing scans the table; every
read of a signer's items is a query on its own partition).

While paused, the worker takes no job off the queue for good: each batch goes back to SQS as it came (and a job
on its last delivery is queued again as a fresh message), so nothing reaches the dead-letter queue and nothing
is marked failed. The worker pauses itself (by="worker") when the contract says its signer is not the owner;
an operator resumes it once the cause is fixed (docs/DEPLOY.md).
"""

from typing import Any

from chalicelib.model import RUNNING, PauseState

CONTROL_SIGNER = "worker-control"


CONTROL_NONCE = 0


class WorkerControl:
    def __init__(self, table: Any) -> None:
        self._table = table

    def state(self) -> PauseState:
        item = self._table.get_item(Key={"signer": CONTROL_SIGNER, "nonce": CONTROL_NONCE}, ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            return RUNNING
        since = item.get("since")
        return PauseState(
            paused=bool(item.get("paused", False)),
            reason=str(item.get("reason", "")),
            since=int(since) if since is not None else None,
            by=str(item.get("by", "")),
        )

    def pause(self, reason: str, by: str, now: int) -> None:
        """Pause (again): the newest reason and author win; `since` keeps the start of an ongoing pause."""
        self._table.update_item(
            Key={"signer": CONTROL_SIGNER, "nonce": CONTROL_NONCE},
            UpdateExpression="SET #paused = :true, #reason = :reason, #by = :by, #since = if_not_exists(#since, :now), #updatedAt = :now",
            ExpressionAttributeNames={
                "#paused": "paused",
                "#reason": "reason",
                "#by": "by",
                "#since": "since",
                "#updatedAt": "updatedAt",
            },
            ExpressionAttributeValues={":true": True, ":reason": reason, ":by": by, ":now": int(now)},
        )

    def resume(self, by: str, now: int) -> None:
        self._table.update_item(
            Key={"signer": CONTROL_SIGNER, "nonce": CONTROL_NONCE},
            UpdateExpression="SET #paused = :false, #reason = :empty, #by = :by, #updatedAt = :now REMOVE #since",
            ExpressionAttributeNames={
                "#paused": "paused",
                "#reason": "reason",
                "#by": "by",
                "#since": "since",
                "#updatedAt": "updatedAt",
            },
            ExpressionAttributeValues={":false": False, ":empty": "", ":by": by, ":now": int(now)},
        )
