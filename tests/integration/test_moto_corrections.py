"""moto's speed corrections change no answer: a DynamoDB condition parsed once (devstack/moto_expressions.py)
decides exactly as moto's own parser does, with each request's values, and still refuses what moto refuses; the
serializer's kept member names (devstack/moto_server_speed.py) give back every kind of attribute as stored; and
SQS requests one at a time (devstack/moto_sqs.py) hand each message to one receiver, without errors; and a Query on a
table's own key (devstack/moto_dynamodb.py) reads its one partition and answers as moto's own Query does, as a paged
Scan does that starts after its start key, and as a Query on a global secondary index does given only the items of
the index partition it asks for; and an update that only adds to a counter, sets and removes top-level attributes
(applied without moto's engine) writes what moto's engine writes, alone or in a transaction."""

import random
import sys
import threading
import time
import uuid
from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.types import Binary
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.exceptions import InvalidConditionExpression
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from devstack.moto_expressions import KeptConditionParser

NAMES = {"#s": "status", "#n": "nonce", "#c": "cid", "#k": "kind", "#m": "meta", "#t": "tags", "#l": "depth"}
EXPRESSIONS = [
    "#s IN (:a, :b)",
    "#s IN (:a, :b) AND #n = :n AND #c = :c AND (attribute_not_exists(#k) OR #k = :k)",
    "attribute_not_exists(#n) OR #n < :n",
    "NOT (#s = :a) AND #n <> :n",
    "#n BETWEEN :n AND :m",
    "begins_with(#c, :c) OR size(#c) > :n",
    "#m.#l >= :n AND contains(#t, :a)",
    "attribute_exists(#s) AND attribute_type(#n, :type)",
]


def random_item(rng: random.Random) -> Item:
    attrs = {"wallet": {"S": "0xabc"}, "version": {"N": "1"}}
    if rng.random() < 0.8:
        attrs["status"] = {"S": rng.choice(["queued", "pinned", "submitted"])}
    if rng.random() < 0.8:
        attrs["nonce"] = {"N": str(rng.randint(0, 4))}
    if rng.random() < 0.8:
        attrs["cid"] = {"S": rng.choice(["bafy", "bafk", "ba"])}
    if rng.random() < 0.5:
        attrs["kind"] = {"S": rng.choice(["key", "revocation"])}
    if rng.random() < 0.5:
        attrs["meta"] = {"M": {"depth": {"N": str(rng.randint(0, 4))}}}
    if rng.random() < 0.5:
        attrs["tags"] = {"SS": rng.sample(["queued", "pinned", "x"], 2)}
    return Item(DynamoType({"S": "0xabc"}), DynamoType({"N": "1"}), attrs)


def random_values(rng: random.Random) -> dict:
    return {
        ":a": {"S": rng.choice(["queued", "pinned", "submitted"])},
        ":b": {"S": rng.choice(["queued", "confirmed"])},
        ":n": {"N": str(rng.randint(0, 4))},
        ":m": {"N": str(rng.randint(0, 4))},
        ":c": {"S": rng.choice(["bafy", "bafk", "ba"])},
        ":k": {"S": rng.choice(["key", "revocation"])},
        ":type": {"S": rng.choice(["N", "S"])},
    }


def verdict(parser: ConditionExpressionParser, item: Item) -> object:
    """True or False, or the error moto raises (size() of a missing attribute, say)."""
    try:
        return bool(parser.parse().expr(item))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_a_kept_condition_decides_as_moto_does_with_each_requests_values(expression):
    rng = random.Random(expression)
    agreed = {True: 0, False: 0}
    for _ in range(300):
        item, values = random_item(rng), random_values(rng)
        expected = verdict(ConditionExpressionParser(expression, NAMES, values), item)
        assert verdict(KeptConditionParser(expression, NAMES, values), item) == expected
        agreed[expected is True] += 1
    assert agreed[True] and agreed[False], agreed  # both answers were exercised


def test_a_kept_condition_lists_the_names_and_values_it_uses_every_time():
    expression = "#s IN (:a, :b) AND attribute_not_exists(#n)"
    for _ in range(2):
        parser = KeptConditionParser(expression, {"#s": "status", "#n": "nonce"}, {":a": {"S": "x"}, ":b": {"S": "y"}})
        parser.parse()
        assert sorted(parser.expr_attr_names_found) == ["#n", "#s"]
        assert sorted(parser.expr_attr_values_found) == [":a", ":b"]


VALIDATION_EXCEPTION = "com.amazonaws.dynamodb.v20120810#ValidationException"  # moto answers it with HTTP 400


@pytest.mark.parametrize(
    ("expression", "refusal"),
    [
        (
            "((#s = :a))",
            (
                InvalidConditionExpression,
                "Invalid ConditionExpression: The expression has redundant parentheses;",
                VALIDATION_EXCEPTION,
            ),
        ),
        ("#s = :missing", (KeyError, "':missing'", None)),  # a placeholder the request gives no value for
        ("#s = = :a", (ValueError, "Bad comparison #s = =", None)),
    ],
)
def test_an_expression_moto_refuses_is_refused_every_time(expression, refusal):
    """Refused as moto's own parser refuses it, the same exception with the same message (and DynamoDB error
    type), and again the second time: a refused expression is never kept."""

    def refused_by(parser: type[ConditionExpressionParser]) -> tuple[type, str, str | None]:
        with pytest.raises(refusal[0]) as refused:
            parser(expression, {"#s": "status"}, {":a": {"S": "x"}}).parse()
        error = refused.value
        return type(error), getattr(error, "message", str(error)), getattr(error, "error_type", None)

    assert refused_by(ConditionExpressionParser) == refusal
    assert [refused_by(KeptConditionParser) for _ in range(2)] == [refusal, refusal]


@pytest.fixture()
def table(stack):
    dynamodb = boto3.resource("dynamodb", endpoint_url=stack.aws_endpoint)
    name = f"expressions-{uuid.uuid4().hex[:8]}"
    created = dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield created
    created.delete()


def update(table, item_id: str, expected: str, new: str) -> dict:
    return {
        "Update": {
            "TableName": table.name,
            "Key": {"id": item_id},
            "UpdateExpression": "SET #s = :new",
            "ConditionExpression": "#s = :expected",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":new": new, ":expected": expected},
        }
    }


def test_the_server_checks_a_repeated_condition_against_each_requests_values(table):
    client = table.meta.client
    table.put_item(Item={"id": "a", "status": "queued"})
    table.put_item(Item={"id": "b", "status": "submitted"})
    client.transact_write_items(
        TransactItems=[update(table, "a", "queued", "submitted"), update(table, "b", "submitted", "confirmed")]
    )
    assert table.get_item(Key={"id": "a"})["Item"]["status"] == "submitted"
    assert table.get_item(Key={"id": "b"})["Item"]["status"] == "confirmed"

    with pytest.raises(ClientError) as refused:  # the same expression, now with a value that does not hold
        client.transact_write_items(
            TransactItems=[update(table, "a", "submitted", "confirmed"), update(table, "b", "queued", "x")]
        )
    reasons = [reason["Code"] for reason in refused.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert table.get_item(Key={"id": "a"})["Item"]["status"] == "submitted"  # all or nothing


SET_AND_REMOVE = [
    ("SET #s = :s, #u = :u REMOVE #o", {"#s": "status", "#u": "updatedAt", "#o": "openShard"}),
    ("SET #s = :s REMOVE #o, #gone", {"#s": "status", "#o": "openShard", "#gone": "neverThere"}),
    ("SET #s = :s, #u = :u", {"#s": "status", "#u": "updatedAt"}),
    ("SET #s = :s REMOVE #s2", {"#s": "status", "#s2": "status"}),  # one attribute twice: refused
]


def set_and_remove_outcomes(table) -> list:
    """Each update of SET_AND_REMOVE, in a transaction, on a fresh item: the item after it, or the refusal's code."""
    outcomes = []
    for i, (expression, names) in enumerate(SET_AND_REMOVE):
        item_id = f"sr-{i}-{uuid.uuid4().hex[:6]}"
        table.put_item(Item={"id": item_id, "status": "queued", "updatedAt": 1, "openShard": 3, "doc": "x"})
        values = {":s": "confirmed", ":u": 2} if ":u" in expression else {":s": "confirmed"}
        try:
            table.meta.client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": table.name,
                            "Key": {"id": item_id},
                            "UpdateExpression": expression,
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values,
                        }
                    }
                ]
            )
            item = table.get_item(Key={"id": item_id}, ConsistentRead=True)["Item"]
            outcomes.append({k: v for k, v in item.items() if k != "id"})
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])
    return outcomes


def test_a_set_and_remove_in_a_transaction_writes_what_motos_engine_writes(table, monkeypatch):
    from moto.dynamodb.models import DynamoDBBackend

    from devstack import moto_dynamodb

    engine_calls = []
    original = DynamoDBBackend.update_item
    monkeypatch.setattr(
        DynamoDBBackend, "update_item", lambda self, *a, **k: engine_calls.append(1) or original(self, *a, **k)
    )
    applied_directly = set_and_remove_outcomes(table)
    assert len(engine_calls) == 1  # only the refused one went through moto's engine
    monkeypatch.setattr(moto_dynamodb, "_assign", lambda *args: False)  # every update through moto's engine

    assert set_and_remove_outcomes(table) == applied_directly
    assert applied_directly[0] == {"status": "confirmed", "updatedAt": 2, "doc": "x"}


DIRECT_UPDATES = [  # (update, names, values, condition or None, whether the item exists first)
    ("ADD #c :one", {"#c": "count"}, {":one": 1}, None, False),
    ("ADD #c :one", {"#c": "count"}, {":one": 3}, None, True),
    ("ADD #c :one SET #u = :u", {"#c": "count", "#u": "updatedAt"}, {":one": 1, ":u": 7}, None, False),
    ("ADD #c :one", {"#c": "count"}, {":one": 1}, "attribute_not_exists(#c) OR #c < :cap", True),
    ("ADD #c :one", {"#c": "count"}, {":one": 1, ":cap": 2}, "#c < :cap", True),  # refused: count is 5
    ("SET #s = :s, updatedAt = :u", {"#s": "status"}, {":s": "confirmed", ":u": 2}, None, True),
    ("SET #s = :s REMOVE #o", {"#s": "status", "#o": "openShard"}, {":s": "confirmed"}, "#s = :q", True),
    ("SET #s = :s", {"#s": "status"}, {":s": "confirmed"}, None, False),
    ("REMOVE #o", {"#o": "openShard"}, None, None, False),
    ("ADD #s :one", {"#s": "status"}, {":one": 1}, None, True),  # a number added to a string: refused
    ("ADD #c :one SET #c = :u", {"#c": "count"}, {":one": 1, ":u": 2}, None, True),  # one attribute twice
]


def direct_update_outcomes(table, in_transaction: bool) -> list:
    """Each of DIRECT_UPDATES, alone or in a transaction, on a fresh key: the item after it, or the refusal."""
    outcomes = []
    for i, (expression, names, values, condition, exists) in enumerate(DIRECT_UPDATES):
        item_id = f"du-{i}-{uuid.uuid4().hex[:6]}"
        if exists:
            table.put_item(Item={"id": item_id, "status": "queued", "count": 5, "openShard": 3})
        values = dict(values or {})
        if condition is not None:
            values.setdefault(":cap", 9)
            values.setdefault(":q", "queued")
            values = {k: v for k, v in values.items() if k in expression or k in condition}
        update = {"Key": {"id": item_id}, "UpdateExpression": expression, "ExpressionAttributeNames": names}
        if values:
            update["ExpressionAttributeValues"] = values
        if condition is not None:
            update["ConditionExpression"] = condition
        try:
            if in_transaction:
                table.meta.client.transact_write_items(TransactItems=[{"Update": {"TableName": table.name, **update}}])
            else:
                table.update_item(**update)
            item = table.get_item(Key={"id": item_id}, ConsistentRead=True).get("Item")
            outcomes.append(item and {k: v for k, v in item.items() if k != "id"})
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])
    return outcomes


@pytest.mark.parametrize("in_transaction", [False, True], ids=["update_item", "transaction"])
def test_an_add_set_and_remove_applied_directly_writes_what_motos_engine_writes(table, monkeypatch, in_transaction):
    from devstack import moto_dynamodb

    applied_directly = direct_update_outcomes(table, in_transaction)
    monkeypatch.setattr(moto_dynamodb, "_assign", lambda *args: False)  # every update through moto's engine

    assert direct_update_outcomes(table, in_transaction) == applied_directly
    assert applied_directly[0] == {"count": 1}  # created by the ADD, as DynamoDB does
    assert applied_directly[1]["count"] == 8


def test_a_counter_update_alone_skips_motos_engine(table, monkeypatch):
    from devstack import moto_dynamodb

    engine_calls = []
    monkeypatch.setattr(
        moto_dynamodb,
        "original_update_item",
        lambda *a, _original=moto_dynamodb.original_update_item, **k: engine_calls.append(1) or _original(*a, **k),
    )
    table.update_item(
        Key={"id": "counter"},
        UpdateExpression="ADD #c :one",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":one": 1},
    )
    assert engine_calls == []
    assert table.get_item(Key={"id": "counter"})["Item"]["count"] == 1


RICH_ITEM = {
    "id": "rich",
    "text": "ünïcode",
    "number": 12,
    "fraction": Decimal("0.5"),
    "blob": Binary(b"\x00\xffbytes"),
    "flag": True,
    "nothing": None,
    "strings": {"a", "b"},
    "numbers": {1, 2},
    "blobs": {Binary(b"x"), Binary(b"y")},
    "list": [1, "two", {"three": [Binary(b"4")]}],
    "map": {"nested": {"deeper": ["x", 1, False]}},
}


def test_every_kind_of_attribute_comes_back_as_stored_twice_over(table):
    table.put_item(Item=RICH_ITEM)
    client = table.meta.client
    for _ in range(2):  # the second answer is serialized with the member names kept from the first
        assert table.get_item(Key={"id": "rich"}, ConsistentRead=True)["Item"] == RICH_ITEM
        answer = client.batch_get_item(RequestItems={table.name: {"Keys": [{"id": "rich"}], "ConsistentRead": True}})
        assert answer["Responses"][table.name] == [RICH_ITEM]
        assert table.scan()["Items"] == [RICH_ITEM]


@pytest.fixture()
def queue_url(stack):
    sqs = boto3.client("sqs", endpoint_url=stack.aws_endpoint)
    url = sqs.create_queue(QueueName=f"corrections-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


def test_concurrent_receivers_and_deleters_never_share_a_message_or_fail(stack, queue_url):
    sqs = boto3.client("sqs", endpoint_url=stack.aws_endpoint, config=Config(retries={"max_attempts": 1}))
    for start in range(0, 600, 10):
        sqs.send_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": str(start + i)} for i in range(10)]
        )
    received: list[str] = []
    errors: list[BaseException] = []
    # The server runs in this process (tests/conftest.py): switching threads every microsecond, instead of every
    # 5 ms, makes the interleavings that broke moto's SQS common rather than rare.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)

    def drain() -> None:
        client = boto3.client("sqs", endpoint_url=stack.aws_endpoint, config=Config(retries={"max_attempts": 1}))
        taken = []
        try:
            while True:  # keep every message in flight until the queue is empty, then delete them
                messages = client.receive_message(
                    QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=120
                ).get("Messages", [])
                if not messages:
                    break
                received.extend(m["Body"] for m in messages)
                taken += messages
                if len(taken) >= 50:
                    client.delete_message_batch(
                        QueueUrl=queue_url,
                        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(taken[:10])],
                    )
                    taken = taken[10:]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=drain) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        sys.setswitchinterval(interval)

    assert errors == []
    assert sorted(received, key=int) == [str(i) for i in range(600)]  # each once


def test_a_long_poll_is_woken_by_a_send_while_it_waits(stack, queue_url):
    sqs = boto3.client("sqs", endpoint_url=stack.aws_endpoint)
    answer: dict = {}
    waiter = threading.Thread(target=lambda: answer.update(sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5)))
    waiter.start()
    time.sleep(0.3)
    sender = boto3.client("sqs", endpoint_url=stack.aws_endpoint)
    sender.send_message(QueueUrl=queue_url, MessageBody="wake up")  # would wait out the poll if the lock were held
    waiter.join(timeout=10)

    assert [m["Body"] for m in answer.get("Messages", [])] == ["wake up"]


@pytest.fixture()
def versions_table(stack):
    dynamodb = boto3.resource("dynamodb", endpoint_url=stack.aws_endpoint)
    created = dynamodb.create_table(
        TableName=f"partitions-{uuid.uuid4().hex[:8]}",
        KeySchema=[{"AttributeName": "wallet", "KeyType": "HASH"}, {"AttributeName": "version", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "wallet", "AttributeType": "S"},
            {"AttributeName": "version", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for wallet in ("0xa", "0xb", "0xc"):
        for version in range(1, 8):
            created.put_item(
                Item={"wallet": wallet, "version": version, "status": "confirmed" if version % 2 else "queued"}
            )
    yield created
    created.delete()


QUERIES = [
    {"KeyConditionExpression": "wallet = :w"},
    {"KeyConditionExpression": "wallet = :w AND version > :v"},
    {"KeyConditionExpression": "wallet = :w AND version BETWEEN :v AND :u"},
    {"KeyConditionExpression": "wallet = :w", "ScanIndexForward": False, "Limit": 3},
    {"KeyConditionExpression": "wallet = :w", "Limit": 2, "ExclusiveStartKey": {"wallet": "0xb", "version": 3}},
    {
        "KeyConditionExpression": "wallet = :w",
        "ScanIndexForward": False,
        "ExclusiveStartKey": {"wallet": "0xb", "version": 5},
    },
    {
        "KeyConditionExpression": "wallet = :w",
        "FilterExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
    },
    {"KeyConditionExpression": "wallet = :w", "ProjectionExpression": "version"},
]


def all_answers(table, wallets=("0xb", "0xnone")) -> list:
    values = {":v": 3, ":u": 6, ":s": "queued"}
    answers = []
    for wallet in wallets:
        for query in QUERIES:
            used = {k: v for k, v in values.items() if k in str(query)}
            answer = table.query(**query, ExpressionAttributeValues={":w": wallet, **used}, ConsistentRead=True)
            answers.append({k: answer.get(k) for k in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")})
    return answers


def test_a_query_on_the_tables_key_answers_as_moto_does(versions_table, monkeypatch):
    from moto.dynamodb.models.table import Table

    from devstack import moto_dynamodb

    monkeypatch.setattr(Table, "query", moto_dynamodb.original_query)
    mine = moto_dynamodb._query
    by_moto = all_answers(versions_table)
    monkeypatch.setattr(Table, "query", mine)
    assert all_answers(versions_table) == by_moto
    assert [len(a["Items"]) for a in by_moto[: len(QUERIES)]] == [7, 4, 4, 3, 2, 4, 3, 7]


def test_a_query_on_the_tables_key_never_lists_the_whole_table(versions_table, monkeypatch):
    from moto.dynamodb.models.table import Table

    from devstack import moto_dynamodb

    monkeypatch.setattr(Table, "query", moto_dynamodb._query)

    def whole_table(self):
        raise AssertionError("the whole table was listed for a query of one partition")

    monkeypatch.setattr(Table, "all_items", whole_table)
    answer = versions_table.query(
        KeyConditionExpression="wallet = :w", ExpressionAttributeValues={":w": "0xc"}, ConsistentRead=True
    )
    assert [int(item["version"]) for item in answer["Items"]] == list(range(1, 8))


def scan_pages(table, **query) -> list:
    pages = []
    while True:
        answer = table.scan(ConsistentRead=True, **query)
        pages.append({k: answer.get(k) for k in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")})
        if "LastEvaluatedKey" not in answer:
            return pages
        query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


SCANS = [
    {"Limit": 4},
    {
        "Limit": 5,
        "FilterExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": "queued"},
    },
    {"Limit": 6, "ProjectionExpression": "wallet, version"},
    {"ExclusiveStartKey": {"wallet": "0xb", "version": 2}},
    {"ExclusiveStartKey": {"wallet": "0xa", "version": 99}, "Limit": 3},  # a start key no item has
]


def test_a_paged_scan_answers_as_moto_does(versions_table, monkeypatch):
    from moto.dynamodb.models.table import Table

    from devstack import moto_dynamodb

    versions_table.put_item(
        Item={"wallet": "0xa", "version": 100, "status": "queued"}
    )  # 100 > 99 > 7 as numbers, not as text
    monkeypatch.setattr(Table, "scan", moto_dynamodb.original_scan)
    by_moto = [scan_pages(versions_table, **dict(scan)) for scan in SCANS]
    monkeypatch.setattr(Table, "scan", moto_dynamodb._scan)
    assert [scan_pages(versions_table, **dict(scan)) for scan in SCANS] == by_moto
    assert [sum(page["Count"] for page in pages) for pages in by_moto] == [22, 10, 22, 12, 15]


def test_a_scan_page_starts_after_its_start_key_without_walking_the_items_before_it(versions_table, monkeypatch):
    from moto.dynamodb.models.table import Table

    from devstack import moto_dynamodb

    monkeypatch.setattr(Table, "scan", moto_dynamodb._scan)
    compared = []
    original = Table._item_comes_before_dct
    monkeypatch.setattr(
        Table, "_item_comes_before_dct", lambda self, *args: compared.append(1) or original(self, *args)
    )
    answer = versions_table.scan(ExclusiveStartKey={"wallet": "0xc", "version": 5}, ConsistentRead=True)
    assert [(item["wallet"], int(item["version"])) for item in answer["Items"]] == [("0xc", 6), ("0xc", 7)]
    assert len(compared) <= 1  # moto checks the first item it is given; the 19 before the key are never visited


@pytest.fixture()
def open_index_table(stack):
    """A table with a sparse index like the records' open index: items with and without its partition key, several
    items per partition, and ties on its sort key (told apart by the table's key)."""
    dynamodb = boto3.resource("dynamodb", endpoint_url=stack.aws_endpoint)
    created = dynamodb.create_table(
        TableName=f"open-index-{uuid.uuid4().hex[:8]}",
        KeySchema=[{"AttributeName": "wallet", "KeyType": "HASH"}, {"AttributeName": "version", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "wallet", "AttributeType": "S"},
            {"AttributeName": "version", "AttributeType": "N"},
            {"AttributeName": "openShard", "AttributeType": "N"},
            {"AttributeName": "updatedAt", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "open",
                "KeySchema": [
                    {"AttributeName": "openShard", "KeyType": "HASH"},
                    {"AttributeName": "updatedAt", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    rng = random.Random(7)
    for wallet in ("0xa", "0xb", "0xc", "0xd"):
        for version in range(1, 7):
            item = {"wallet": wallet, "version": version, "updatedAt": rng.choice([100, 200, 300, 1000]), "doc": "x"}
            if version % 3:  # a third of them final: not in the index
                item.update(openShard=rng.randrange(3), status=rng.choice(["pinned", "queued", "submitted"]))
            else:
                item["status"] = "confirmed"
            created.put_item(Item=item)
    yield created
    created.delete()


INDEX_QUERIES = [
    {"KeyConditionExpression": "openShard = :s"},
    {"KeyConditionExpression": "openShard = :s AND updatedAt < :t"},
    {"KeyConditionExpression": "openShard = :s AND updatedAt BETWEEN :t AND :u"},
    {"KeyConditionExpression": "openShard = :s", "ScanIndexForward": False, "Limit": 3},
    {"KeyConditionExpression": "openShard = :s AND updatedAt < :u", "Limit": 2},
    {
        "KeyConditionExpression": "openShard = :s",
        "FilterExpression": "#st = :st",
        "ExpressionAttributeNames": {"#st": "status"},
    },
    {"KeyConditionExpression": "openShard = :s", "ProjectionExpression": "wallet, version, updatedAt"},
]


def index_pages(table, query: dict) -> list:
    """Every page of the query on the open index, each page starting from the last one's LastEvaluatedKey."""
    pages = []
    while True:
        answer = table.query(IndexName="open", **query)
        pages.append({k: answer.get(k) for k in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")})
        if "LastEvaluatedKey" not in answer:
            return pages
        query = {**query, "ExclusiveStartKey": answer["LastEvaluatedKey"]}


def all_index_answers(table) -> list:
    values = {":t": 200, ":u": 1000, ":st": "queued"}
    return [
        index_pages(
            table,
            {
                **query,
                "ExpressionAttributeValues": {":s": shard, **{k: v for k, v in values.items() if k in str(query)}},
            },
        )
        for shard in (0, 1, 2, 9)
        for query in INDEX_QUERIES
    ]


def test_a_query_on_a_global_secondary_index_answers_as_moto_does(open_index_table, monkeypatch):
    from moto.dynamodb.models.table import Table

    from devstack import moto_dynamodb

    monkeypatch.setattr(Table, "query", moto_dynamodb.original_query)
    by_moto = all_index_answers(open_index_table)
    monkeypatch.setattr(Table, "query", moto_dynamodb._query)
    assert all_index_answers(open_index_table) == by_moto
    indexed = sum(
        len(page["Items"]) for pages in by_moto[: len(INDEX_QUERIES) * 3 : len(INDEX_QUERIES)] for page in pages
    )
    assert indexed == 16  # every item with an openShard (two thirds of 24), none without
    assert any(len(pages) > 1 for pages in by_moto)  # some answers were paged through ExclusiveStartKey


def test_a_query_on_a_global_secondary_index_never_sorts_the_whole_table(open_index_table, monkeypatch):
    from moto.dynamodb.models.table import Table

    from devstack import moto_dynamodb

    monkeypatch.setattr(Table, "query", moto_dynamodb._query)

    def whole_table(self):
        raise AssertionError("the whole table was listed for a query of one index partition")

    monkeypatch.setattr(Table, "all_items", whole_table)
    answer = open_index_table.query(
        IndexName="open", KeyConditionExpression="openShard = :s", ExpressionAttributeValues={":s": 1}
    )
    assert answer["Items"] and {int(item["openShard"]) for item in answer["Items"]} == {1}
