"""The daily budgets of new on-chain writes: per source and for everyone, all three counters or none, 429 with
Retry-After, a metric the template's alarm watches. Each test counts in a quotas table of its own (moto)."""

import json
import time
import uuid
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from eth_account import Account

from chalicelib import bootstrap
from chalicelib.adapters.quotas import Quotas
from chalicelib.api.signatures import SignatureVerifier
from chalicelib.observability import emf
from chalicelib.observability.emf import WRITE_BUDGET_EXHAUSTED
from dmtp_protocol.errors import QuotaExceeded
from tests.conftest import CHAIN_ID
from tests.integration.test_registry import registry_with
from tests.support.api_fakes import FakeEthRpc
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


# ---------------------------------------------------------------- issue 24: sources by network, the reserve, room


def test_ipv6_neighbours_in_one_slash_64_share_a_daily_write_budget(stack, domain, fresh_table):
    registry = registry_with(stack, domain, quotas=budgets(fresh_table, per_source=1))
    registry.register(registration_body(Account.create(), domain), source="2001:db8:1:2::1")

    with pytest.raises(QuotaExceeded) as refused:
        registry.register(registration_body(Account.create(), domain), source="2001:db8:1:2::2")

    assert refused.value.extra["budget"] == "source"
    assert registry.register(registration_body(Account.create(), domain), source="2001:db8:1:3::1")[0] is True


def test_the_sources_of_one_slash_24_share_a_network_budget(stack, domain, fresh_table):
    quotas = Quotas(fresh_table, 0, 0, source_writes_per_day=5, network_writes_per_day=2)
    registry = registry_with(stack, domain, quotas=quotas)
    for source in ("198.51.100.1", "198.51.100.2"):
        registry.register(registration_body(Account.create(), domain), source=source)

    with pytest.raises(QuotaExceeded) as refused:
        registry.register(registration_body(Account.create(), domain), source="198.51.100.3")

    assert refused.value.extra["budget"] == "network"
    assert registry.register(registration_body(Account.create(), domain), source="198.51.101.3")[0] is True


def reserve(table: Any) -> Quotas:
    """WRITES_PER_DAY 10 with RESERVED_WRITES_SHARE 0.2: new wallets may use 8 (shards of the real adapter)."""
    return Quotas(table, 0, 0, writes_per_day=10, reserved_writes_share=0.2)


def test_an_existing_wallet_can_rotate_and_revoke_when_new_wallets_have_spent_their_share(stack, domain, fresh_table):
    registry = registry_with(stack, domain, quotas=reserve(fresh_table))
    existing = Account.create()
    registry.register(registration_body(existing, domain, version=1), source="a")
    for _ in range(7):
        registry.register(registration_body(Account.create(), domain), source="a")
    with pytest.raises(QuotaExceeded) as refused:  # new wallets have had their 8
        registry.register(registration_body(Account.create(), domain), source="a")
    assert refused.value.extra["budget"] == "global"

    created, key = registry.register(registration_body(existing, domain, version=2), source="a")
    revoked = registry.revoke(existing.address, revocation_body(existing, domain, 2, key["DMTPpubKey"]), source="a")

    assert created and revoked["revoked"] is True


def test_existing_wallets_can_use_the_whole_global_budget_and_no_more(stack, domain, fresh_table):
    registry = registry_with(stack, domain, quotas=reserve(fresh_table))
    wallet = Account.create()
    for version in range(1, 11):  # one new wallet's write, then 9 rotations: the reserve's 2, then the open pool's
        registry.register(registration_body(wallet, domain, version=version), source="a")

    with pytest.raises(QuotaExceeded) as refused:
        registry.register(registration_body(wallet, domain, version=11), source="a")

    assert refused.value.extra["budget"] == "global"
    counts = {item["key"]: int(item["count"]) for item in fresh_table.scan()["Items"] if "#" in item["key"]}
    assert sum(n for key, n in counts.items() if key.startswith(("writes#global#", "writes#reserved#"))) == 10


def test_check_room_refuses_a_spent_budget_and_charges_nothing(stack, domain, fresh_table):
    from chalicelib.api.sources import source_of

    quotas = Quotas(fresh_table, 0, 0, writes_per_day=2, room_cache_s=0)
    registry = registry_with(stack, domain, quotas=quotas)
    now = int(time.time())
    quotas.check_room(Account.create().address, source_of("198.51.100.1"), now)  # room: nothing raised
    for _ in range(2):
        registry.register(registration_body(Account.create(), domain), source="a")
    before = fresh_table.scan()["Items"]

    with pytest.raises(QuotaExceeded) as refused:
        quotas.check_room(Account.create().address, source_of("198.51.100.1"), now)

    assert refused.value.extra["budget"] == "global"
    assert fresh_table.scan()["Items"] == before


def test_forged_contract_wallet_writes_after_the_global_budget_is_spent_make_no_rpc_call(stack, domain, fresh_table):
    """The probe of issue 24: forged registrations for a contract wallet, sent once the day's budget is spent,
    cost no RPC call (they did: eth_blockNumber + eth_getCode + eth_call each, then 401)."""
    smart = Account.create().address
    rpc = FakeEthRpc(contract_wallets={smart: Account.create().address})  # records every call; nobody here owns it
    registry = registry_with(
        stack,
        domain,
        quotas=Quotas(fresh_table, 0, 0, writes_per_day=2),
        verifier=SignatureVerifier(rpc, CHAIN_ID),
    )
    for _ in range(2):
        registry.register(registration_body(Account.create(), domain), source="a")

    statuses = []
    for _ in range(10):
        with pytest.raises(QuotaExceeded) as refused:
            forged = registration_body(SimpleNamespace(address=smart), domain, signer=Account.create())
            registry.register(forged, source="b")
        statuses.append((refused.value.status, refused.value.extra["budget"]))

    assert statuses == [(429, "global")] * 10
    assert rpc.calls == []


def test_a_pool_found_spent_is_skipped_for_the_rest_of_the_day_without_a_read(stack, domain, fresh_table):
    from tests.support.aws_calls import recorded_aws_calls

    registry = registry_with(stack, domain, quotas=reserve(fresh_table))
    wallet = Account.create()
    for version in range(1, 5):  # version 1 (open pool), 2-3 (the reserve's 2), 4 finds the reserve spent
        registry.register(registration_body(wallet, domain, version=version), source="a")

    with recorded_aws_calls() as calls:
        registry.register(registration_body(wallet, domain, version=5), source="a")

    # The spent reserve is neither read nor charged again. (The open pool's shard is drawn at random: a draw of one
    # of its two full shards, which versions 1 and 4 took, costs one more transaction, and two in a row a read of
    # the open pool's shards, before the write lands.)
    reads = [call for call in calls if call.operation == "BatchGetItem" and call.tables == (fresh_table.name,)]
    transactions = [call for call in calls if call.operation == "TransactWriteItems"]
    assert not any("writes#reserved#" in call.body for call in reads + transactions)
    assert 1 <= len(transactions) <= 3
