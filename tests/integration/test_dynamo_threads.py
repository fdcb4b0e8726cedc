"""A DynamoDB table used by several threads at once (chalice local answers each connection in a thread of its own;
the API's services share one table object) on the local stack's moto server.

Found in the chaos soak: one POST /keys in about a thousand answered 500 after DynamoDB refused its Query ("Query
condition missed key schema element: wallet"). boto3 builds a Key/Attr condition's placeholders (#n0, :v0, ...)
with counters kept on the resource and reset at the start of every call; a call from another thread in the middle
of a build reset them, the build gave two attributes the same placeholder, and the query named only one of them.
Here the other thread's call is made at exactly that moment, so the race happens every time."""

import threading
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import dynamodb_table
from chalicelib.adapters.records import HEAD_VERSION

WALLET = "0x" + "ab" * 20


class KeyReadMidBuild(Key):
    """A key attribute whose name, when boto3 reads it to give it a placeholder, first lets another thread make a
    whole call through the same table (as a thread switch at that moment does)."""

    def __init__(self, name: str, table: Any) -> None:
        self._table = table
        self._interrupted = False
        super().__init__(name)

    def __deepcopy__(self, memo: dict[int, Any]) -> "KeyReadMidBuild":  # boto3 copies a call's parameters first
        return self

    @property  # type: ignore[override]
    def name(self) -> str:
        if not self._interrupted:
            self._interrupted = True
            other = threading.Thread(target=lambda: self._table.get_item(Key={"wallet": WALLET, "version": 1}))
            other.start()
            other.join(timeout=30)
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value


def newest_versions(table: Any) -> list[dict[str, Any]]:
    """RecordStore.newest's query, with the other thread's call made while its second key is being built."""
    condition = Key("wallet").eq(WALLET) & KeyReadMidBuild("version", table).gt(HEAD_VERSION)
    return table.query(KeyConditionExpression=condition, ScanIndexForward=False, Limit=1, ConsistentRead=True)["Items"]


def test_a_plain_boto3_table_builds_a_broken_query_when_another_thread_calls_mid_build(stack):
    table = boto3.resource("dynamodb", endpoint_url=stack.aws_endpoint).Table(stack.env["RECORDS_TABLE"])

    with pytest.raises(ClientError, match="Query condition missed key schema element"):
        newest_versions(table)


def test_a_table_from_dynamodb_table_builds_each_threads_conditions_apart(stack):
    table = dynamodb_table(stack.env["RECORDS_TABLE"], stack.aws_endpoint)

    assert newest_versions(table) == []
