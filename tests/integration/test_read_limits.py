"""Per-source read limits through the app (Chalice test client, moto): every GET costs one read, POST
/batch-lookup one per address; past SOURCE_READS_PER_MINUTE a source gets 429 with Retry-After. The shared counts
(Quotas.add_reads) in the template's quotas table. Each test reads from a source of its own (chalice's test client
reports one address for every test)."""

import json
import time
import uuid
from typing import Any

import boto3
import pytest
from eth_account import Account

from chalicelib import bootstrap
from chalicelib.adapters.quotas import Quotas

JSON = {"Content-Type": "application/json"}


@pytest.fixture()
def own_source(monkeypatch: Any) -> str:
    """A source address of this test's own (a fresh /24 and /64 per call: no test shares another's buckets)."""
    import app

    n = time.time_ns()
    source = f"10.{n % 250}.{(n // 250) % 250}.{(n // 62500) % 250}"
    monkeypatch.setattr(app, "_source", lambda: source)
    return source


def limited(monkeypatch: Any, source: int, network: int = 0) -> None:
    monkeypatch.setenv("SOURCE_READS_PER_MINUTE", str(source))
    monkeypatch.setenv("NETWORK_READS_PER_MINUTE", str(network))
    bootstrap.reset()


def batch(api: Any, count: int) -> Any:
    body = {"addresses": [Account.create().address for _ in range(count)]}
    return api.http.post("/batch-lookup", headers=JSON, body=json.dumps(body))


def test_batch_lookups_past_the_source_read_limit_get_429_with_retry_after(api, own_source, monkeypatch):
    limited(monkeypatch, source=100)

    statuses = [batch(api, 50).status_code for _ in range(2)]
    refused = batch(api, 50)

    assert statuses == [200, 200]
    problem = json.loads(refused.body)
    assert (refused.status_code, problem["code"], problem["budget"], problem["limit"]) == (
        429,
        "quota-exceeded",
        "source-reads",
        100,
    )
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) == problem["retryAfter"] > 0


def test_gets_past_the_source_read_limit_get_429_and_other_sources_do_not(api, own_source, monkeypatch):
    import app

    limited(monkeypatch, source=100)
    statuses = [api.http.get("/config").status_code for _ in range(100)]

    refused = api.http.get("/config")
    monkeypatch.setattr(app, "_source", lambda: "192.0.2.250")
    other = api.http.get("/config")

    assert statuses == [200] * 100
    assert (refused.status_code, refused.headers["Cache-Control"], other.status_code) == (429, "no-store", 200)


def test_a_source_reports_its_reads_to_the_shared_count_once_per_tenth_of_the_limit(api, own_source, monkeypatch):
    from tests.support.aws_calls import recorded_aws_calls

    limited(monkeypatch, source=100)
    with recorded_aws_calls() as calls:
        for _ in range(25):
            assert api.http.get("/config").status_code == 200

    updates = [call for call in calls if call.operation == "UpdateItem"]
    assert len(updates) == 2  # at 10 and 20 reads of 100


@pytest.fixture()
def quotas_table(stack: Any) -> Any:
    dynamodb = boto3.resource("dynamodb", endpoint_url=stack.aws_endpoint)
    table = dynamodb.create_table(
        TableName=f"quotas-{uuid.uuid4().hex[:12]}",
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield table
    table.delete()


def test_add_reads_adds_to_one_count_per_key_and_minute_and_returns_the_total(quotas_table):
    quotas = Quotas(quotas_table, 0, 0)

    totals = [quotas.add_reads("ip4:198.51.100.7", 1_800_000_000, units) for units in (10, 60)]
    other_minute = quotas.add_reads("ip4:198.51.100.7", 1_800_000_060, 5)

    assert (totals, other_minute) == ([10, 70], 5)
    item = quotas_table.get_item(Key={"key": "reads#ip4:198.51.100.7#1800000000"})["Item"]
    assert int(item["expiresAt"]) == 1_800_000_120  # gone by TTL after the next minute


def test_a_history_page_costs_one_read_per_version_asked_for(api, own_source, monkeypatch):
    limited(monkeypatch, source=100)
    wallet = Account.create().address

    statuses = [api.http.get(f"/keys/{wallet}/history?limit=50").status_code for _ in range(3)]

    assert statuses == [404, 404, 429]  # 50 + 50 units, then none left (a 404 costs its units too)


def test_log_leaves_cost_one_read_per_hundred_leaves_asked_for():
    import app

    assert [app.leaves_reads(q) for q in ({"start": "0", "end": "1"}, {"start": "0", "end": "1000"})] == [1, 10]
    assert app.leaves_reads({"start": "0", "end": "99999"}) == 10  # at most 1,000 are answered
    assert [app.leaves_reads(q) for q in ({}, {"start": "x", "end": "9"}, {"start": "5", "end": "1"})] == [1, 1, 1]
