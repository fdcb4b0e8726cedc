"""bench/intake.py's own counting: which DynamoDB items a request writes, when an item is hot, and the percentile
it reports. (The benchmark's run is smoke-tested in tests/e2e/test_bench_intake.py.)"""

import json
from types import SimpleNamespace

from bench.intake import AwsTap, percentile, source_ip, written_item_keys

SCHEMAS = {"records": ["version", "wallet"], "quotas": ["key"], "log": ["part", "pos"]}


def key_names(table: str) -> list[str]:
    return SCHEMAS[table]


def test_a_put_item_is_known_by_its_key_attributes_only():
    payload = {"TableName": "quotas", "Item": {"key": {"S": "a"}, "count": {"N": "1"}}}

    assert written_item_keys("PutItem", payload, key_names) == ['quotas {"key": {"S": "a"}}']


def test_a_transaction_counts_each_item_it_writes_and_not_its_condition_checks():
    payload = {
        "TransactItems": [
            {
                "Put": {
                    "TableName": "records",
                    "Item": {"wallet": {"S": "0xa"}, "version": {"N": "1"}, "cid": {"S": "c"}},
                }
            },
            {"Update": {"TableName": "log", "Key": {"part": {"S": "head"}, "pos": {"N": "0"}}}},
            {"Delete": {"TableName": "quotas", "Key": {"key": {"S": "old"}}}},
            {"ConditionCheck": {"TableName": "quotas", "Key": {"key": {"S": "checked"}}}},
        ]
    }

    keys = written_item_keys("TransactWriteItems", payload, key_names)

    assert keys == [
        'records {"version": {"N": "1"}, "wallet": {"S": "0xa"}}',
        'log {"part": {"S": "head"}, "pos": {"N": "0"}}',
        'quotas {"key": {"S": "old"}}',
    ]


def test_a_batch_write_counts_each_request_and_reads_write_nothing():
    payload = {
        "RequestItems": {
            "quotas": [{"PutRequest": {"Item": {"key": {"S": "a"}}}}, {"DeleteRequest": {"Key": {"key": {"S": "b"}}}}]
        }
    }

    assert len(written_item_keys("BatchWriteItem", payload, key_names)) == 2
    assert written_item_keys("GetItem", {"TableName": "quotas", "Key": {"key": {"S": "a"}}}, key_names) == []


def send(tap: AwsTap, label: str, wallet: str, operation: str, payload: dict) -> None:
    request = SimpleNamespace(body=json.dumps(payload).encode())
    with tap.acting(label, wallet):
        tap._before_send(request, f"before-send.dynamodb.{operation}")


def update(table: str, key: dict) -> dict:
    return {"TableName": table, "Key": key}


def test_an_item_written_for_two_wallets_is_hot_and_every_write_to_it_counts():
    tap = AwsTap(0.0, key_names)
    head = update("log", {"part": {"S": "head"}, "pos": {"N": "0"}})

    send(tap, "handler", "0xa", "UpdateItem", head)
    send(tap, "handler", "0xa", "UpdateItem", head)  # a retry by the same wallet
    send(tap, "handler", "0xb", "UpdateItem", head)

    hot, by_item, share = tap.hot_writes("handler", 2)
    assert hot == 3
    assert by_item == {'log {"part": {"S": "head"}, "pos": {"N": "<n>"}}': 3}
    assert share == 1.5


def test_a_shard_shared_by_wallets_but_taking_a_small_share_of_the_writes_is_not_hot():
    tap = AwsTap(0.0, key_names)
    for n in range(100):
        shard = update("quotas", {"key": {"S": f"writes#global#day#{n % 64}"}})
        send(tap, "handler", f"0x{n}", "UpdateItem", shard)

    hot, by_item, share = tap.hot_writes("handler", 100)
    assert (hot, by_item) == (0, {})
    assert share == 0.02  # two writes of the hundred, on the busiest shard


def test_items_written_for_one_wallet_only_are_not_hot_however_often():
    tap = AwsTap(0.0, key_names)
    for _ in range(5):
        send(tap, "handler", "0xa", "UpdateItem", update("quotas", {"key": {"S": "wallet#0xa"}}))
    send(tap, "handler", "0xb", "UpdateItem", update("quotas", {"key": {"S": "wallet#0xb"}}))

    assert tap.hot_writes("handler", 6) == (0, {}, 0.0)
    assert tap.count("handler", "dynamodb") == 6


def test_requests_outside_an_acting_thread_are_not_counted():
    tap = AwsTap(0.0, key_names)
    request = SimpleNamespace(body=json.dumps(update("quotas", {"key": {"S": "x"}})).encode())

    tap._before_send(request, "before-send.dynamodb.UpdateItem")

    assert tap.count("handler") == 0


def test_percentile_is_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]

    assert (percentile(values, 0.5), percentile(values, 0.99), percentile([7.0], 0.99)) == (50.0, 99.0, 7.0)


def test_each_registration_has_a_source_address_of_its_own_unless_sources_are_few():
    assert len({source_ip(i, 0) for i in range(70_000)}) == 70_000
    assert {source_ip(i, 3) for i in range(30)} == {"10.0.0.1", "10.0.1.1", "10.0.2.1"}


def test_the_first_65536_sources_are_each_in_a_24_of_their_own():
    assert len({source_ip(i, 0).rsplit(".", 1)[0] for i in range(65_536)}) == 65_536


def test_the_tally_counts_requests_and_items_written_per_table_per_registration():
    from bench.aws_tally import AwsTally

    tally = AwsTally()
    transaction = {
        "TransactItems": [
            {
                "Put": {
                    "TableName": "dmtp-registry-local-records",
                    "Item": {"wallet": {"S": "0xa"}, "version": {"N": "1"}},
                }
            },
            {"Update": {"TableName": "dmtp-registry-local-quotas", "Key": {"key": {"S": "wallet#0xa"}}}},
            {"ConditionCheck": {"TableName": "dmtp-registry-local-records", "Key": {"wallet": {"S": "0xb"}}}},
            {"Put": {"TableName": "dmtp-registry-local-log", "Item": {"part": {"S": "node/3"}, "pos": {"N": "7"}}}},
        ]
    }
    tally._before_send(
        SimpleNamespace(body=json.dumps(transaction).encode()), "before-send.dynamodb.TransactWriteItems"
    )
    tally._before_send(SimpleNamespace(body=b"Action=SendMessage"), "before-send.sqs.SendMessage")

    assert tally.per(2) == {
        "requests": {"dynamodb.TransactWriteItems": 0.5, "sqs.SendMessage": 0.5},
        "dynamodb_items_written": {"records": 0.5, "quotas": 0.5, "log": 0.5},
        "dynamodb_items_written_by_kind": {
            "records record in a transaction": 0.5,
            "quotas wallet in a transaction": 0.5,
            "log node in a transaction": 0.5,
        },
    }
