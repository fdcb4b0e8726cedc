"""Every AWS call this process sends, seen where botocore sends it: for the tests that state exactly which calls a
use case makes, or that it writes nothing, however many clients it holds (each DynamoDB table of chalicelib is
built on a boto3 resource, and so a client, of its own: chalicelib/adapters/dynamo.py)."""

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


@dataclass(frozen=True)
class AwsCall:
    service: str  # botocore's service name: "dynamodb", "sqs", ...
    operation: str  # "BatchGetItem", "Query", ...
    tables: tuple[str, ...]  # the DynamoDB tables the call names (sorted), () for other services
    index: str | None = None  # the index a DynamoDB Query or Scan reads (IndexName), None for the table itself
    body: str = field(default="", compare=False)  # the request's parameters as JSON (for searching, not comparing)


def tables_named(params: Mapping[str, Any]) -> tuple[str, ...]:
    """The tables a DynamoDB request names: TableName, the keys of RequestItems (batches), or each transaction
    item's TableName."""
    if "TableName" in params:
        return (params["TableName"],)
    if "RequestItems" in params:
        return tuple(sorted(params["RequestItems"]))
    if "TransactItems" in params:
        return tuple(sorted({action["TableName"] for item in params["TransactItems"] for action in item.values()}))
    return ()


@contextmanager
def recorded_aws_calls() -> Iterator[list[AwsCall]]:
    """Yields the list of calls made by every botocore client of this process (those built before and inside the
    block alike) while the block runs, in the order they were sent."""
    original = BaseClient._make_api_call
    calls: list[AwsCall] = []

    def recording(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls.append(
            AwsCall(
                client.meta.service_model.service_name,
                operation,
                tables_named(params),
                params.get("IndexName"),
                json.dumps(params, default=str, sort_keys=True),
            )
        )
        return original(client, operation, params)

    BaseClient._make_api_call = recording  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
