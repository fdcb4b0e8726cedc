"""moto corrections for DynamoDB behind the local stack's threaded moto server.

1. The server answers each request on its own thread, and moto's DynamoDB backend checks a condition and
   writes in separate Python steps, so two conditional writes racing on one item can both succeed (DynamoDB
   never allows that), and a cancelled transaction's rollback can undo a write made meanwhile by another
   request. We run DynamoDB requests one at a time, so each is atomic, as in AWS.
2. TransactWriteItems deep-copies every table it touches before applying anything, to roll back on failure:
   O(table) per call (measured: 33 s for a 100-item transaction on a 4,000-item table). We snapshot only the
   items the transaction touches, put those back on failure, and check each condition once, not twice
   (parsed once per expression: devstack/moto_expressions.py).
3. moto's update-expression engine costs about 0.5 ms per `SET` clause per item, so a transaction of 100 status
   changes took half a second, against tens of milliseconds in AWS. Within a transaction, an update that only
   assigns values to top-level attributes of an existing item (`SET #a = :a, #b = :b`) is applied directly;
   anything else still goes through moto's engine.
4. A Query on a table's own key gathers its candidates by listing and sorting every item of the table, to keep
   those of one partition: O(table log table) per Query (measured: moto's CPU at 80% and the chaos soak's intake
   falling from 8 to under 2 writes/s as the records and log tables grew to a few thousand items). It is given
   that one partition only; everything after (range condition, order, paging, limits, filters) is moto's own.
"""
import re
import threading
from typing import Any

from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from devstack.moto_expressions import kept_filter_expression

_LOCK = threading.RLock()
_applied = False
original_call_action = DynamoHandler.call_action
original_query = Table.query


def _call_action_atomically(self: Any) -> Any:
    with _LOCK:
        return original_call_action(self)


_ASSIGNMENTS = re.compile(r"^\s*SET\s+#\w+\s*=\s*:\w+(\s*,\s*#\w+\s*=\s*:\w+)*\s*$")


def _assign(self: DynamoDBBackend, table_name: str, current: Any, expression: str, names: Any, values: Any) -> bool:
    """Apply `SET #a = :a, ...` to an existing item; False when moto's engine must do it."""
    if current is None or not names or not values or not _ASSIGNMENTS.match(expression):
        return False
    table = self.get_table(table_name)
    pairs = []
    for assignment in expression.strip()[3:].split(","):
        name, placeholder = (part.strip() for part in assignment.split("="))
        attribute, value = names.get(name), values.get(placeholder)
        if attribute is None or value is None or attribute in (table.hash_key_attr, table.range_key_attr):
            return False
        pairs.append((attribute, value))
    for attribute, value in pairs:
        current.attrs[attribute] = DynamoType(value)
    return True


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's transact_write_items (5.2.5), with a per-item snapshot instead of a copy of each whole table."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    touched: set[tuple[str, str]] = set()
    snapshots: list[tuple[str, dict[str, Any], Any]] = []  # (table, key, item attributes before, or None)
    errors: list[tuple[Any, Any, Any]] = []

    def restore() -> None:
        for table_name, key, before in reversed(snapshots):
            if before is None:
                if self.get_item(table_name, key) is not None:
                    self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before)

    for action in transact_items:
        if len(action) > 1:
            raise TransactWriteSingleOpException
        original_item = None
        try:
            op_type, op = next(iter(action.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            if op_type == "Put":
                table = self.get_table(table_name)
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            marker = (str(table_name), str(dict(sorted(key.items()))))
            if marker in touched:
                raise MultipleTransactionsException()
            touched.add(marker)

            current = self.get_item(table_name, key)
            if condition is not None:
                if not kept_filter_expression(condition, names, values).expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            if op_type != "ConditionCheck":
                snapshots.append((table_name, key, current.to_json()["Attributes"] if current else None))
            # The condition held just above, under the lock: the write itself need not parse it again.
            if op_type == "Put":
                self.put_item(table_name, op["Item"])
            elif op_type == "Delete":
                self.delete_item(table_name, key)
            elif op_type == "Update" and not _assign(self, table_name, current, op["UpdateExpression"], names, values):
                self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                 expression_attribute_names=names, expression_attribute_values=values)
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            restore()
            raise
        except ConditionalCheckFailed as exc:
            errors.append(("ConditionalCheckFailed", str(exc.message), original_item))
        except Exception as exc:  # as moto does: any other failure cancels the transaction with its reason
            errors.append((type(exc).__name__, str(exc), original_item))

    if any(code is not None for code, _, _ in errors):
        restore()
        raise TransactionCanceledException(errors)


class _OnePartition:
    """A table as moto's Table.query sees it, whose all_items() is the one partition the query names."""

    def __init__(self, table: Table, hash_key: Any) -> None:
        self._table = table
        self._hash_key = hash_key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Any]:
        partition = self._table.items.get(self._hash_key)  # .get: the table's defaultdict must not grow
        if partition is None:
            return []
        if not self._table.range_key_attr:
            return [partition]
        return sorted(partition.values(), key=lambda item: item.range_key)


def _query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
    if index_name or hash_key is None:
        return original_query(self, hash_key, *args, **kwargs)
    return original_query(_OnePartition(self, hash_key), hash_key, *args, **kwargs)  # type: ignore[arg-type]


def register() -> None:
    global _applied
    if _applied:
        return
    DynamoHandler.call_action = _call_action_atomically
    DynamoDBBackend.transact_write_items = _transact_write_items
    Table.query = _query
    _applied = True
