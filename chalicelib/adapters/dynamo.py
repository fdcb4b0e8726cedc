"""What the DynamoDB modules share: telling a failed condition apart from every other error, and tables that
several threads may use at once."""

import threading
from typing import Any

from boto3.dynamodb.conditions import ConditionExpressionBuilder
from boto3.dynamodb.transform import TransformationInjector
from botocore.exceptions import ClientError

# boto3's handler that turns Key/Attr conditions into expressions with placeholders (#n0, :v0, ...).
_CONDITION_EVENT = "before-parameter-build.dynamodb"
_CONDITION_HANDLER_ID = "dynamodb-condition-expression"


def condition_failed(exc: ClientError) -> bool:
    """True when DynamoDB refused a write because its ConditionExpression did not hold."""
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


class PerThreadConditionBuilder(ConditionExpressionBuilder):
    """boto3's condition builder with its placeholder counters kept per thread.

    boto3 keeps one builder per resource and resets its counters at the start of every call. Two threads using
    one table (chalice local answers each connection in a thread of its own) then share them: a reset by one call
    while another is half way through its expression gives that one the same placeholder twice, so its query
    names the wrong attributes (DynamoDB: "Query condition missed key schema element: wallet"; the API: 500)."""

    def __init__(self) -> None:
        self._counts = threading.local()
        super().__init__()

    @property
    def _name_count(self) -> int:
        return getattr(self._counts, "names", 0)

    @_name_count.setter
    def _name_count(self, value: int) -> None:
        self._counts.names = value

    @property
    def _value_count(self) -> int:
        return getattr(self._counts, "values", 0)

    @_value_count.setter
    def _value_count(self, value: int) -> None:
        self._counts.values = value


def dynamodb_table(name: str, endpoint_url: str | None = None, resource: Any = None) -> Any:
    """The table `name` (of `resource`, or of a new DynamoDB resource), safe to use from several threads at once:
    its client builds Key/Attr conditions with a PerThreadConditionBuilder."""
    if resource is None:
        import boto3

        resource = boto3.resource("dynamodb", endpoint_url=endpoint_url)
    events = resource.meta.client.meta.events
    events.unregister(_CONDITION_EVENT, unique_id=_CONDITION_HANDLER_ID)
    injector = TransformationInjector(condition_builder=PerThreadConditionBuilder())
    # First, as boto3 registers it: the values it generates are serialized by the handler that follows.
    events.register_first(_CONDITION_EVENT, injector.inject_condition_expressions, unique_id=_CONDITION_HANDLER_ID)
    return resource.Table(name)
