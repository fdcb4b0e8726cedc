"""Fixed-window counters in DynamoDB (items expire by TTL): a per-source rate limit, and the daily budgets of new
on-chain writes, which bound what strangers can make the owner spend.

Every new registration or revocation (a record that will become a transaction) is charged, in one DynamoDB
transaction, against three daily counters: its wallet's, its source's (the caller's IP address) and everyone's.
Either all three are counted or none is, so a write refused by one budget uses up nothing of the others. Reads
write nothing here beyond the per-source rate limit.
"""

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import condition_failed
from dmtp_protocol.errors import QuotaExceeded

DAY_S = 86400
BUDGET_WALLET = "wallet"
BUDGET_SOURCE = "source"
BUDGET_GLOBAL = "global"


class Quotas:
    def __init__(
        self,
        table: Any,
        wallet_writes_per_day: int,
        source_requests_per_minute: int,
        writes_per_day: int = 0,
        source_writes_per_day: int = 0,
        on_budget_exhausted: Callable[[str], None] | None = None,
    ) -> None:
        """A limit of 0 (or less) is no limit. `on_budget_exhausted(budget)` is called when the source or global
        budget refuses a write (the API publishes a metric that raises an alarm)."""
        self._table = table
        self._wallet_limit = wallet_writes_per_day
        self._source_limit = source_requests_per_minute
        self._write_limits = {
            BUDGET_WALLET: wallet_writes_per_day,
            BUDGET_SOURCE: source_writes_per_day,
            BUDGET_GLOBAL: writes_per_day,
        }
        self._on_budget_exhausted = on_budget_exhausted

    def charge_wallet(self, wallet: str, now: int) -> None:
        self._charge(
            f"wallet#{wallet.lower()}",
            self._wallet_limit,
            DAY_S,
            now,
            "registrations and revocations per wallet per day",
        )

    def charge_source(self, source: str, now: int) -> None:
        self._charge(f"source#{source}", self._source_limit, 60, now, "requests per source per minute")

    def charge_write(self, wallet: str, source: str, now: int) -> None:
        """One new on-chain write, against the wallet's quota and the source's and everyone's daily budget."""
        window_start = now - now % DAY_S
        retry_after = window_start + DAY_S - now
        subjects = {
            BUDGET_WALLET: f"wallet#{wallet.lower()}#{window_start}",
            BUDGET_SOURCE: f"writes#source#{source}#{window_start}",
            BUDGET_GLOBAL: f"writes#global#{window_start}",
        }
        charged = [(budget, subject) for budget, subject in subjects.items() if self._write_limits[budget] > 0]
        if not charged:
            return
        actions = [
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": {"key": subject},  # the resource's client serializes plain values
                    "UpdateExpression": "ADD #count :one SET expiresAt = :expires",
                    "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
                    "ExpressionAttributeNames": {"#count": "count"},
                    "ExpressionAttributeValues": {
                        ":one": 1,
                        ":limit": self._write_limits[budget],
                        ":expires": window_start + 2 * DAY_S,
                    },
                }
            }
            for budget, subject in charged
        ]
        try:
            self._table.meta.client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            # One reason per action when DynamoDB gives them; strict=False because it may give none (then no budget
            # is named refused and the error is raised again below).
            refused = [
                budget
                for (budget, _), reason in zip(charged, reasons, strict=False)
                if reason.get("Code") == "ConditionalCheckFailed"
            ]
            if not refused:
                raise
            # The wallet's own quota first: it is the one its owner can do something about.
            budget = BUDGET_WALLET if BUDGET_WALLET in refused else refused[0]
            limit = self._write_limits[budget]
            if budget != BUDGET_WALLET and self._on_budget_exhausted is not None:
                self._on_budget_exhausted(budget)
            what = {
                BUDGET_WALLET: "registrations and revocations per wallet per day",
                BUDGET_SOURCE: "new registrations and revocations per source per day",
                BUDGET_GLOBAL: "new registrations and revocations per day for the whole registry",
            }[budget]
            raise QuotaExceeded(
                f"limit of {limit} {what} reached; retry in {retry_after} s", retry_after, limit=limit, budget=budget
            ) from exc

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
