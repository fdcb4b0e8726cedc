"""Reads at launch scale (issue 22), through the Chalice app on the session's local stack: every GET answered 200
carries a strong ETag of its exact body and a Cache-Control; If-None-Match with that tag is 304 with no body; proofs
and leaves of a fixed range say immutable; errors and writes are no-store; and a warm lookup costs one DynamoDB call,
its log anchor coming from the in-process cache (ANCHOR_CACHE_S)."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account

from chalicelib import bootstrap
from chalicelib.api.http_caching import IMMUTABLE, entity_tag, revalidating
from tests.integration.test_openapi import DOCUMENT, check
from tests.support.aws_calls import AwsCall, recorded_aws_calls
from tests.support.bundles import registration_body
from tests.support.log_tamper import fresh_log_table
from tests.support.sequencing import sequence

JSON = {"Content-Type": "application/json"}


def register(api: Any, domain: Any, account: Any, version: int = 1) -> dict[str, Any]:
    response = api.http.post(
        "/keys", headers=JSON, body=json.dumps(registration_body(account, domain, version=version))
    )
    assert response.status_code == 202, response.body
    sequence(account.address)  # as the worker does when it takes the job
    return json.loads(api.http.get(f"/keys/{account.address}").body)  # the record as sequenced


def changing() -> str:
    config = bootstrap.settings()
    return revalidating(config.read_max_age_s, config.read_stale_while_revalidate_s)


def conditional_get(api: Any, path: str, tag: str) -> Any:
    return api.http.get(path, headers={"If-None-Match": tag})


def assert_not_modified(response: Any, tag: str, cache_control: str, route: str) -> None:
    """A 304 as RFC 9110 15.4.5 and the OpenAPI document say: no body, the 200's ETag and Cache-Control."""
    assert response.status_code == 304, response.body
    assert response.body == b""
    assert (response.headers["ETag"], response.headers["Cache-Control"]) == (tag, cache_control)
    assert "Content-Type" not in response.headers
    documented = DOCUMENT["paths"][route]["get"]["responses"]["304"]
    assert documented == {"$ref": "#/components/responses/NotModified"}
    assert set(DOCUMENT["components"]["responses"]["NotModified"]["headers"]) <= set(response.headers)


@pytest.fixture()
def long_anchor_cache(api: Any, monkeypatch: Any) -> Iterator[None]:
    """The anchor cache kept for an hour, so that no test step outlives it."""
    monkeypatch.setenv("ANCHOR_CACHE_S", "3600")
    bootstrap.reset()
    yield
    bootstrap.reset()


@pytest.fixture()
def own_log(stack: Any, monkeypatch: Any) -> Iterator[Any]:
    """A log table of the test's own (an anchor recorded here must not reach other tests' logs)."""
    table = fresh_log_table(stack.aws_endpoint)
    monkeypatch.setenv("LOG_TABLE", table.name)
    bootstrap.reset()
    yield table
    bootstrap.reset()
    table.delete()


def anchor_the_head(api: Any) -> dict[str, Any]:
    """Record the log's current head as anchored (what the monitor does once its transaction is final)."""
    head = json.loads(api.http.get("/log/head").body)
    log = bootstrap.record_store(bootstrap.settings()).log
    log.record_anchor(head["size"], bytes.fromhex(head["root"][2:]), "0x" + "cd" * 32, 77)
    return {"size": head["size"], "root": head["root"], "txHash": "0x" + "cd" * 32, "blockNumber": 77}


# ---------------------------------------------------------------- ETag, Cache-Control and 304


def test_a_lookup_carries_the_strong_etag_of_its_body_and_a_short_revalidating_cache_control(api, domain, wallet):
    register(api, domain, wallet)

    response = api.http.get(f"/keys/{wallet.address}")

    check(response, "/keys/{address}", "get", 200)
    assert response.headers["ETag"] == entity_tag(response.body)
    assert response.headers["Cache-Control"] == changing() == "public, max-age=5, stale-while-revalidate=10"


def test_the_same_lookup_with_if_none_match_is_304_with_no_body(api, domain, wallet):
    register(api, domain, wallet)
    first = api.http.get(f"/keys/{wallet.address}")

    again = conditional_get(api, f"/keys/{wallet.address}", first.headers["ETag"])

    assert_not_modified(again, first.headers["ETag"], changing(), "/keys/{address}")


def test_if_none_match_star_or_a_weak_or_listed_tag_is_304_too(api, domain, wallet):
    register(api, domain, wallet)
    tag = api.http.get(f"/keys/{wallet.address}").headers["ETag"]

    for field in ("*", f"W/{tag}", f'"an-older-tag", {tag}'):
        assert conditional_get(api, f"/keys/{wallet.address}", field).status_code == 304, field


def test_a_changed_record_gets_a_new_etag_and_the_old_tag_gets_the_whole_new_answer(api, domain, wallet):
    register(api, domain, wallet, version=1)
    old = api.http.get(f"/keys/{wallet.address}")

    register(api, domain, wallet, version=2)
    new = conditional_get(api, f"/keys/{wallet.address}", old.headers["ETag"])

    assert new.status_code == 200
    assert json.loads(new.body)["version"] == 2
    assert new.headers["ETag"] == entity_tag(new.body) != old.headers["ETag"]


def test_history_as_of_head_config_and_this_document_are_revalidating_with_an_etag(api, domain, wallet):
    created_at = register(api, domain, wallet)["createdAt"]
    for path, route in [
        (f"/keys/{wallet.address}/history", "/keys/{address}/history"),
        (f"/keys/{wallet.address}?asOf={created_at}", "/keys/{address}"),
        ("/log/head", "/log/head"),
        ("/config", "/config"),
        ("/openapi.json", "/openapi.json"),
    ]:
        response = api.http.get(path)
        check(response, route, "get", 200)
        assert response.headers["ETag"] == entity_tag(response.body), path
        assert response.headers["Cache-Control"] == changing(), path
        assert conditional_get(api, path, response.headers["ETag"]).status_code == 304, path


def test_the_explorer_page_keeps_its_no_cache_and_revalidates_with_its_etag(api):
    page = api.http.get("/")

    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-cache"
    assert page.headers["ETag"] == entity_tag(page.body)
    assert_not_modified(conditional_get(api, "/", page.headers["ETag"]), page.headers["ETag"], "no-cache", "/")


def test_errors_are_no_store_without_an_etag_whatever_if_none_match_says(api, wallet):
    for path in (f"/keys/{wallet.address}", "/keys/0x1234", "/log/consistency?from=0&to=1"):
        response = conditional_get(api, path, "*")
        assert response.status_code in (400, 404), path
        assert response.headers["Cache-Control"] == "no-store", path
        assert "ETag" not in response.headers, path


def test_an_undeclared_method_is_no_store_too(api, wallet):
    response = api.http.request("DELETE", f"/keys/{wallet.address}")

    assert (response.status_code, response.headers["Cache-Control"]) == (405, "no-store")


def test_writes_and_batch_lookups_are_no_store_without_an_etag(api, domain, wallet):
    created = api.http.post("/keys", headers=JSON, body=json.dumps(registration_body(wallet, domain)))
    batch = api.http.post("/batch-lookup", headers=JSON, body=json.dumps({"addresses": [wallet.address]}))

    for response in (created, batch):
        assert response.status_code in (200, 202)
        assert response.headers["Cache-Control"] == "no-store"
        assert "ETag" not in response.headers


def test_a_browser_may_read_the_etag_cross_origin(api, domain, wallet):
    register(api, domain, wallet)

    response = api.http.get(f"/keys/{wallet.address}")

    exposed = {name.strip().lower() for name in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert "etag" in exposed


# ---------------------------------------------------------------- immutable proofs and leaves


def test_consistency_proofs_and_leaves_of_a_fixed_range_say_immutable(api, domain):
    register(api, domain, Account.create())
    register(api, domain, Account.create())
    size = json.loads(api.http.get("/log/head").body)["size"]

    for path, route in [
        (f"/log/consistency?from=1&to={size}", "/log/consistency"),
        (f"/log/leaves?start=0&end={size}", "/log/leaves"),
    ]:
        response = api.http.get(path)
        check(response, route, "get", 200)
        assert response.headers["Cache-Control"] == IMMUTABLE == "public, max-age=31536000, immutable"
        assert_not_modified(
            conditional_get(api, path, response.headers["ETag"]), response.headers["ETag"], IMMUTABLE, route
        )


def test_an_inclusion_proof_for_a_named_tree_size_says_immutable_once_that_size_is_the_anchored_head(
    api, domain, own_log, monkeypatch
):
    """Given a leaf, a proof for a named treeSize is `changing` while no anchor of that size is recorded (its
    `anchored` may still become that head); once the head of that size is anchored the answer names it and is
    immutable. Without treeSize the proof follows the latest anchor: `changing`."""
    monkeypatch.setenv("ANCHOR_CACHE_S", "0")  # the anchor recorded below is read back at once
    bootstrap.reset()
    account = Account.create()
    register(api, domain, account)
    size = json.loads(api.http.get("/log/head").body)["size"]
    named = f"/log/inclusion?wallet={account.address}&version=1&treeSize={size}"

    before = api.http.get(named)
    anchored = anchor_the_head(api)
    after = api.http.get(named)
    latest = api.http.get(f"/log/inclusion?wallet={account.address}&version=1")

    assert check(before, "/log/inclusion", "get", 200)["anchored"] is None
    assert before.headers["Cache-Control"] == changing()
    assert check(after, "/log/inclusion", "get", 200)["anchored"] == anchored
    assert after.headers["Cache-Control"] == IMMUTABLE
    assert check(latest, "/log/inclusion", "get", 200)["anchored"] == anchored
    assert latest.headers["Cache-Control"] == changing()


# ---------------------------------------------------------------- one DynamoDB read per lookup


def test_a_warm_lookup_makes_exactly_one_dynamodb_call(api, domain, wallet, long_anchor_cache):
    """Given the anchor cached by an earlier request of this process, a lookup makes one Query of the records
    table and nothing else, on any AWS client."""
    register(api, domain, wallet)
    api.http.get(f"/keys/{wallet.address}")
    records_table = bootstrap.settings().records_table

    with recorded_aws_calls() as calls:
        response = api.http.get(f"/keys/{wallet.address}")

    assert response.status_code == 200
    assert calls == [AwsCall("dynamodb", "Query", (records_table,))]


def test_warm_history_and_batch_lookups_read_only_the_records(api, domain, wallet, long_anchor_cache):
    register(api, domain, wallet)
    config = bootstrap.settings()

    with recorded_aws_calls() as calls:
        history = api.http.get(f"/keys/{wallet.address}/history")
        batch = api.http.post("/batch-lookup", headers=JSON, body=json.dumps({"addresses": [wallet.address]}))

    assert (history.status_code, batch.status_code) == (200, 200)
    assert calls == [
        AwsCall("dynamodb", "Query", (config.records_table,)),
        AwsCall("dynamodb", "BatchGetItem", (config.records_table,)),
    ]


def test_an_anchor_recorded_while_one_is_cached_shows_once_the_cache_is_read_again(
    api, domain, own_log, long_anchor_cache
):
    """The staleness adapters/anchor_cache.py states: within ANCHOR_CACHE_S a lookup names the anchor read before
    (here none); a process that reads again (a new container, or the TTL passed) names the new one."""
    account = Account.create()
    index = register(api, domain, account)["log"]["leafIndex"]  # reads the anchor: none yet
    anchored = anchor_the_head(api)

    cached = json.loads(api.http.get(f"/keys/{account.address}").body)["log"]
    bootstrap.reset()  # a fresh process: its cache is empty
    fresh = json.loads(api.http.get(f"/keys/{account.address}").body)["log"]

    assert cached == {"leafIndex": index, "anchoredHead": None}
    assert fresh == {"leafIndex": index, "anchoredHead": anchored}
