"""The daily budgets of new on-chain writes: per source and for everyone, all three counters or none, 429 with
Retry-After, a metric the template's alarm watches. Each test counts in a quotas table of its own (moto)."""

import json
import uuid
from typing import Any

import boto3
import pytest
from eth_account import Account

from chalicelib import bootstrap
from chalicelib.adapters.quotas import Quotas
from chalicelib.observability import emf
from chalicelib.observability.emf import WRITE_BUDGET_EXHAUSTED
from dmtp_protocol.errors import QuotaExceeded
from tests.integration.test_registry import registry_with
from tests.support.bundles import registration_body, revocation_body
from tests.support.cfn import TEMPLATE_PATH, load_yaml


@pytest.fixture()
def fresh_table(stack: Any) -> Any:
    """An empty table shaped like the template's QuotasTable."""
    dynamodb = boto3.resource("dynamodb", endpoint_url=stack.aws_endpoint)
    table = dynamodb.create_table(
        TableName=f"quotas-{uuid.uuid4().hex[:12]}",
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield table
    table.delete()


def budgets(
    table: Any, *, per_source: int = 0, everyone: int = 0, per_wallet: int = 0, exhausted: list | None = None
) -> Quotas:
    return Quotas(
        table,
        wallet_writes_per_day=per_wallet,
        source_requests_per_minute=0,
        writes_per_day=everyone,
        source_writes_per_day=per_source,
        on_budget_exhausted=None if exhausted is None else exhausted.append,
    )


def test_a_source_past_its_daily_budget_gets_429_and_other_sources_do_not(stack, domain, fresh_table):
    exhausted: list[str] = []
    registry = registry_with(stack, domain, quotas=budgets(fresh_table, per_source=2, exhausted=exhausted))
    for _ in range(2):
        registry.register(registration_body(Account.create(), domain), source="203.0.113.7")

    with pytest.raises(QuotaExceeded) as refused:
        registry.register(registration_body(Account.create(), domain), source="203.0.113.7")

    assert refused.value.status == 429 and 0 < refused.value.retry_after_s <= 86400
    assert refused.value.extra["budget"] == "source" and refused.value.extra["limit"] == 2
    assert exhausted == ["source"]
    assert registry.register(registration_body(Account.create(), domain), source="198.51.100.1")[0] is True


def test_the_global_daily_budget_refuses_every_source_once_spent(stack, domain, fresh_table):
    exhausted: list[str] = []
    registry = registry_with(stack, domain, quotas=budgets(fresh_table, everyone=3, per_source=10, exhausted=exhausted))
    for source in ("a", "b", "c"):
        registry.register(registration_body(Account.create(), domain), source=source)

    with pytest.raises(QuotaExceeded) as refused:
        registry.register(registration_body(Account.create(), domain), source="d")

    assert refused.value.extra["budget"] == "global" and exhausted == ["global"]


def test_a_write_refused_by_one_budget_uses_up_nothing_of_the_others(stack, domain, fresh_table):
    registry = registry_with(stack, domain, quotas=budgets(fresh_table, everyone=2, per_source=1))
    registry.register(registration_body(Account.create(), domain), source="a")
    with pytest.raises(QuotaExceeded):  # source "a" is spent: the global counter must not move
        registry.register(registration_body(Account.create(), domain), source="a")

    assert registry.register(registration_body(Account.create(), domain), source="b")[0] is True  # global: 2 of 2


def test_resubmitting_the_current_bundle_costs_no_budget(stack, domain, fresh_table):
    registry = registry_with(stack, domain, quotas=budgets(fresh_table, everyone=1))
    body = registration_body(Account.create(), domain)
    registry.register(body, source="a")

    assert registry.register(body, source="a")[0] is False  # no new record, no new transaction, no 429


def test_a_revocation_is_a_new_write_and_counts(stack, domain, fresh_table):
    wallet = Account.create()
    registry = registry_with(stack, domain, quotas=budgets(fresh_table, per_source=1))
    _, record = registry.register(registration_body(wallet, domain), source="a")

    with pytest.raises(QuotaExceeded):
        registry.revoke(wallet.address, revocation_body(wallet, domain, 1, record["DMTPpubKey"]), source="a")


def test_the_api_answers_a_spent_budget_with_429_problem_json_and_retry_after(
    api, stack, domain, fresh_table, monkeypatch, capsys
):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    bootstrap.reset()
    quotas = Quotas(
        fresh_table, 0, 0, writes_per_day=1, source_writes_per_day=0, on_budget_exhausted=emf.write_budget_exhausted
    )
    monkeypatch.setattr(bootstrap, "quotas", lambda: quotas)
    monkeypatch.setattr(bootstrap.registry(), "_quotas", quotas)

    def post(body):
        return api.http.post("/keys", headers={"Content-Type": "application/json"}, body=json.dumps(body))

    assert post(registration_body(Account.create(), domain)).status_code == 202

    refused = post(registration_body(Account.create(), domain))

    problem = json.loads(refused.body)
    assert refused.status_code == 429 and refused.headers["Content-Type"] == "application/problem+json"
    assert 0 < int(refused.headers["Retry-After"]) <= 86400 and problem["retryAfter"] == int(
        refused.headers["Retry-After"]
    )
    assert (problem["code"], problem["budget"], problem["limit"]) == ("quota-exceeded", "global", 1)
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if WRITE_BUDGET_EXHAUSTED in line]
    assert len(metrics) == 1 and metrics[0][WRITE_BUDGET_EXHAUSTED] == 1 and metrics[0]["budget"] == "global"
    declared = metrics[0]["_aws"]["CloudWatchMetrics"][0]
    alarm = load_yaml(TEMPLATE_PATH)["Resources"]["WriteBudgetExhaustedAlarm"]["Properties"]
    assert (declared["Namespace"], declared["Metrics"][0]["Name"]) == (alarm["Namespace"], alarm["MetricName"])
    assert sorted(declared["Dimensions"][0]) == sorted(d["Name"] for d in alarm["Dimensions"])
