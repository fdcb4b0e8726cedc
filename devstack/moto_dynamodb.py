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
   changes took half a second, against tens of milliseconds in AWS. An update, in a transaction or alone
   (UpdateItem), that only adds a number to one top-level attribute (`ADD #count :one`: a budget counter), assigns
   values to top-level attributes (`SET #a = :a, b = :b`) and removes others (`REMOVE #c`: a record's open-index
   attribute goes so when it becomes final), in that order, is applied directly, creating the item when it does not
   exist as DynamoDB does (an ADD or SET on a missing item); an UpdateItem's condition is checked with the parsed
   condition of item 2 first. Anything else (another clause, a nested path, a reserved word as a plain name, a
   non-number ADD, two clauses on one attribute, which DynamoDB refuses, or ReturnValues asked for) still goes
   through moto's engine.
4. A Query on a table's own key gathers its candidates by listing and sorting every item of the table, to keep
   those of one partition: O(table log table) per Query (measured: moto's CPU at 80% and the chaos soak's intake
   falling from 8 to under 2 writes/s as the records and log tables grew to a few thousand items). It is given
   that one partition only; everything after (range condition, order, paging, limits, filters) is moto's own.
5. A Scan page sorts every item of the table by comparing DynamoType objects, then walks past every item before
   its ExclusiveStartKey: O(table log table) per 1 MB page, so a Scan of the whole table grows as its square (the
   sweeper's Scan of 8,000 records took 72-86% of the moto server's samples for over a minute of the chaos soak,
   every other DynamoDB request waiting under the lock of item 1; in-process, 2.2-2.7 s before, 1.6-1.9 s after).
   It is given the items sorted once by their keys' plain values (the order moto's own comparisons give: they
   compare those values) and starting after the start key; the page itself is moto's.
6. A Query on a global secondary index (the sweeper's, of the open records: chalicelib/adapters/records.py) sorts
   every item of the table too, then keeps those of the index partition asked for: O(table log table) per Query,
   16 of them a sweep. It is given the items whose index partition key attributes hold the values asked for, found
   in one pass over the table without sorting (in-process, a sweep's 16 Queries over 8,000 records, 160 of them
   open: 1.3-1.7 s before, 0.5 s after); everything after (which of them the index holds, order, range condition,
   paging, limits, projection) is moto's own.
"""

import bisect
import re
import threading
from decimal import Decimal
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
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from devstack.moto_expressions import kept_filter_expression

_LOCK = threading.RLock()
_applied = False
original_call_action = DynamoHandler.call_action
original_query = Table.query
original_scan = Table.scan
original_update_item = DynamoDBBackend.update_item


def _call_action_atomically(self: Any) -> Any:
    with _LOCK:
        return original_call_action(self)


_NAME = r"#?\w+"
_DIRECT = re.compile(
    rf"^\s*(?:ADD\s+(?P<add>{_NAME}\s+:\w+)\s*)?"
    rf"(?:SET\s+(?P<set>{_NAME}\s*=\s*:\w+(?:\s*,\s*{_NAME}\s*=\s*:\w+)*)\s*)?"
    rf"(?:REMOVE\s+(?P<remove>{_NAME}(?:\s*,\s*{_NAME})*))?\s*$",
    re.IGNORECASE,
)


def _attribute(name: str, names: Any) -> str | None:
    """The attribute a name in an expression stands for: a #placeholder's, or a plain name that is no reserved word
    (moto's engine, like DynamoDB, refuses those)."""
    from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

    name = name.strip()
    if name.startswith("#"):
        return (names or {}).get(name)
    return None if name.upper() in ReservedKeywords.get_reserved_keywords() else name


def _assign(
    self: DynamoDBBackend, table_name: str, current: Any, expression: str, names: Any, values: Any, key: Any = None
) -> bool:
    """Apply `ADD #n :v SET #a = :a, ... REMOVE #b, ...` (each clause optional, in that order) to an item, created
    with `key` when it does not exist; False when moto's engine must do it."""
    match = _DIRECT.match(expression or "")
    if match is None or not any(match.group(g) for g in ("add", "set", "remove")):
        return False
    if current is None and (key is None or not (match["add"] or match["set"])):
        return False
    table = self.get_table(table_name)
    keys = (table.hash_key_attr, table.range_key_attr)
    added = None
    if match["add"]:
        name, placeholder = match["add"].split()
        attribute, value = _attribute(name, names), (values or {}).get(placeholder)
        if attribute is None or attribute in keys or not isinstance(value, dict) or set(value) != {"N"}:
            return False
        before = current.attrs.get(attribute) if current is not None else None
        if before is not None and before.type != "N":
            return False
        added = (attribute, Decimal(value["N"]) + (Decimal(before.value) if before is not None else 0))
    pairs = []
    for assignment in match["set"].split(",") if match["set"] else []:
        name, placeholder = (part.strip() for part in assignment.split("="))
        attribute, value = _attribute(name, names), (values or {}).get(placeholder)
        if attribute is None or value is None or attribute in keys:
            return False
        pairs.append((attribute, value))
    removed = []
    for name in match["remove"].split(",") if match["remove"] else []:
        attribute = _attribute(name, names)
        if attribute is None or attribute in keys:
            return False
        removed.append(attribute)
    named = [attribute for attribute, _ in pairs] + removed + ([added[0]] if added else [])
    if len(set(named)) < len(named):
        return False  # one attribute in two clauses: DynamoDB refuses it, and so does moto's engine
    if current is None:
        self.put_item(table_name, dict(key))
        current = self.get_item(table_name, key)
    if added is not None:
        current.attrs[added[0]] = DynamoType({"N": str(added[1])})
    for attribute, value in pairs:
        current.attrs[attribute] = DynamoType(value)
    for attribute in removed:
        current.attrs.pop(attribute, None)
    return True


def _update_item(
    self: DynamoDBBackend,
    table_name: str,
    key: dict[str, dict[str, Any]],
    update_expression: str,
    expression_attribute_names: dict[str, Any],
    expression_attribute_values: dict[str, Any],
    attribute_updates: dict[str, Any] | None = None,
    expected: dict[str, Any] | None = None,
    condition_expression: str | None = None,
    return_values_on_condition_check_failure: str | None = None,
) -> Item:
    """moto's update_item, with an update item 3 applies directly checked and applied without its engine."""
    names, values = expression_attribute_names, expression_attribute_values
    if not attribute_updates and not expected and _DIRECT.match(update_expression or ""):
        current = self.get_item(table_name, key)
        if condition_expression is not None and not kept_filter_expression(condition_expression, names, values).expr(
            current
        ):
            if return_values_on_condition_check_failure == "ALL_OLD" and current is not None:
                raise ConditionalCheckFailed(item=current.to_json()["Attributes"])
            raise ConditionalCheckFailed
        if _assign(self, table_name, current, update_expression, names, values, key):
            updated = self.get_item(table_name, key)
            assert updated is not None  # _assign created it when it was missing
            return updated
    return original_update_item(
        self,
        table_name,
        key,
        update_expression,
        expression_attribute_names,
        expression_attribute_values,
        attribute_updates,
        expected,
        condition_expression,
        return_values_on_condition_check_failure,
    )


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
            if condition is not None and not kept_filter_expression(condition, names, values).expr(current):
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
            elif op_type == "Update" and not _assign(
                self, table_name, current, op["UpdateExpression"], names, values, key
            ):
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
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


class _TableView:
    """A table as moto's Table.query or Table.scan sees it, whose all_items() is the given list."""

    def __init__(self, table: Table, items: list[Any]) -> None:
        self._table = table
        self._items = items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Any]:
        return self._items


def _one_partition(table: Table, hash_key: Any) -> list[Any]:
    """The partition's items, unordered: Table.query sorts its candidates by range key itself."""
    partition = table.items.get(hash_key)  # .get: the table's defaultdict must not grow
    if partition is None:
        return []
    return list(partition.values()) if table.range_key_attr else [partition]


def _plain(key: DynamoType) -> Any:
    """A key attribute's value as DynamoType.cast_value gives it (a key is S, N or B), without its type tests."""
    return Decimal(key.value) if key.type == "N" else key.value


def _after_start_key(table: Table, exclusive_start_key: Any) -> list[Any] | None:
    """The table's items in moto's order (hash key, then range key), from the first after `exclusive_start_key`;
    None when that key does not name both of the table's key attributes (moto's own scan then decides)."""
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    start: tuple[Any, ...] | None = None
    if exclusive_start_key:
        if any(not isinstance(exclusive_start_key.get(name), dict) for name in names):
            return None
        start = tuple(_plain(DynamoType(exclusive_start_key[name])) for name in names)
    keyed = []
    # With a range key moto keeps a dict of items per partition key, else the item itself.
    for partition in table.items.values():
        for item in partition.values() if table.range_key_attr else (partition,):
            keyed.append(
                (
                    (_plain(item.hash_key), _plain(item.range_key))  # type: ignore[union-attr]
                    if table.range_key_attr
                    else (_plain(item.hash_key),),  # type: ignore[union-attr]
                    item,
                )
            )
    keyed.sort(key=lambda pair: pair[0])
    first = 0 if start is None else bisect.bisect_right(keyed, start, key=lambda pair: pair[0])
    return [item for _, item in keyed[first:]]


def _index_partition(table: Table, hash_key_conditions: list[tuple[str, DynamoType]]) -> list[Item]:
    """The items whose attributes hold every (name, value) of `hash_key_conditions`, unordered: Table.query checks
    and sorts its candidates for an index itself."""
    (name, expected), *more = hash_key_conditions
    found: list[Item] = []
    for partition in table.items.values():
        # With a range key moto keeps a dict of items per partition key, else the item itself.
        for item in partition.values() if isinstance(partition, dict) else (partition,):
            value = item.attrs.get(name)
            if value is not None and value == expected:
                found.append(item)
    for name, expected in more:  # an index keyed on several attributes
        found = [item for item in found if (value := item.attrs.get(name)) is not None and value == expected]
    return found


def _query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
    if index_name:
        conditions = kwargs.get("hash_key_conditions")
        if not conditions or index_name not in {index.name for index in self.global_indexes or []}:
            return original_query(self, hash_key, *args, **kwargs)
        return original_query(_TableView(self, _index_partition(self, conditions)), hash_key, *args, **kwargs)  # type: ignore[arg-type]
    if hash_key is None:
        return original_query(self, hash_key, *args, **kwargs)
    return original_query(_TableView(self, _one_partition(self, hash_key)), hash_key, *args, **kwargs)  # type: ignore[arg-type]


def _scan(
    self: Table,
    filters: Any,
    limit: Any,
    exclusive_start_key: Any,
    filter_expression: Any = None,
    index_name: str | None = None,
    consistent_read: bool = False,
    projection_expression: Any = None,
    segments: Any = (None, None),
) -> Any:
    items = None if index_name else _after_start_key(self, exclusive_start_key)
    table = self if items is None else _TableView(self, items)
    return original_scan(
        table,  # type: ignore[arg-type]  # a _TableView answers what scan reads of a Table
        filters,
        limit,
        exclusive_start_key,
        filter_expression,
        index_name,
        consistent_read,
        projection_expression,
        segments=segments,
    )


def register() -> None:
    global _applied
    if _applied:
        return
    DynamoHandler.call_action = _call_action_atomically  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _update_item  # type: ignore[method-assign]
    Table.query = _query  # type: ignore[method-assign]
    Table.scan = _scan  # type: ignore[method-assign]
    _applied = True
