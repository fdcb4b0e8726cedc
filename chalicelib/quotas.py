"""Fixed-window counters in DynamoDB (items expire by TTL): a per-wallet write quota, a per-source rate limit."""
from typing import Any

from botocore.exceptions import ClientError

from .dynamo import condition_failed
from .errors import QuotaExceeded


class Quotas:
    def __init__(self, table: Any, wallet_writes_per_day: int, source_requests_per_minute: int) -> None:
        self._table = table
        self._wallet_limit = wallet_writes_per_day
        self._source_limit = source_requests_per_minute

    def charge_wallet(self, wallet: str, now: int) -> None:
        self._charge(f"wallet#{wallet.lower()}", self._wallet_limit, 86400, now, "registrations and revocations per wallet per day")

    def charge_source(self, source: str, now: int) -> None:
        self._charge(f"source#{source}", self._source_limit, 60, now, "requests per source per minute")

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
                raise QuotaExceeded(f"limit of {limit} {what} reached; retry in {retry_after} s", retry_after, limit=limit) from exc
            raise
