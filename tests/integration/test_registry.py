"""Registry use cases beyond single requests: versions and races, revocation, history, as-of, batch, quotas."""

import json
import threading
import time

import boto3
import pytest
from eth_account import Account

from chalicelib import bootstrap
from chalicelib.adapters.jobs import JobQueue
from chalicelib.adapters.quotas import Quotas
from chalicelib.api.registry import Registry
from chalicelib.api.signatures import SignatureVerifier
from chalicelib.model import STATUS_PINNED, STATUS_QUEUED
from dmtp_protocol.errors import DependencyUnavailable, QuotaExceeded
from tests.conftest import CHAIN_ID
from tests.support.aws_calls import DYNAMODB_WRITES, AwsCall, recorded_aws_calls
from tests.support.bundles import registration_body, revocation_body
from tests.support.sequencing import sequence

JSON = {"Content-Type": "application/json"}


def post(api, path, body):
    return api.http.post(path, headers=JSON, body=json.dumps(body))


def registry_with(stack, domain, queue_name=None, **overrides):
    config = bootstrap.settings()
    sqs = boto3.client("sqs", endpoint_url=stack.aws_endpoint)
    parts = dict(
        records=bootstrap.record_store(config),
        queue=JobQueue(sqs, queue_name or config.jobs_queue_name),
        domain=domain,
        verifier=SignatureVerifier(None, CHAIN_ID),
        quotas=bootstrap.quotas(),
    )
    parts.update(overrides)
    parts.setdefault("log", getattr(parts["records"], "log", None))
    return Registry(**parts)


def test_a_new_key_must_carry_the_next_version(api, domain, wallet):
    assert post(api, "/keys", registration_body(wallet, domain, version=1)).status_code == 202
    second = post(api, "/keys", registration_body(wallet, domain, version=2))
    assert second.status_code == 202
    assert json.loads(api.http.get(f"/keys/{wallet.address}").body)["version"] == 2


def test_a_version_gap_is_rejected_with_409(api, domain, wallet):
    response = post(api, "/keys", registration_body(wallet, domain, version=2))
    problem = json.loads(response.body)
    assert (response.status_code, problem["code"], problem["currentVersion"]) == (409, "version-conflict", 0)


def test_version_n_replayed_after_n_plus_one_is_rejected(api, domain, wallet):
    old = registration_body(wallet, domain, version=1)
    post(api, "/keys", old)
    post(api, "/keys", registration_body(wallet, domain, version=2))
    replay = post(api, "/keys", old)
    problem = json.loads(replay.body)
    assert (replay.status_code, problem["code"], problem["currentVersion"]) == (409, "version-conflict", 2)
    assert json.loads(api.http.get(f"/keys/{wallet.address}").body)["version"] == 2


def test_two_racing_submissions_give_one_202_and_one_409(stack, domain, wallet):
    registry = registry_with(stack, domain)
    bodies = [registration_body(wallet, domain, version=1) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def submit(body):
        barrier.wait()
        try:
            outcomes.append(202 if registry.register(body)[0] else 200)
        except Exception as error:  # RegistryError carries the status
            outcomes.append(getattr(error, "status", 500))

    threads = [threading.Thread(target=submit, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [202, 409]


def test_an_issued_at_outside_the_clock_window_is_rejected(api, domain, wallet):
    stale = post(api, "/keys", registration_body(wallet, domain, issued_at=int(time.time()) - 3600))
    assert (stale.status_code, json.loads(stale.body)["code"]) == (401, "signature-expired")
    future = post(api, "/keys", registration_body(wallet, domain, issued_at=int(time.time()) + 3600))
    assert (future.status_code, json.loads(future.body)["code"]) == (401, "signature-not-yet-valid")


def test_an_expired_signature_is_rejected(stack, domain, wallet):
    body = registration_body(wallet, domain, issued_at=int(time.time()) - 60, expires_at=int(time.time()) - 1)
    with pytest.raises(Exception) as excinfo:
        registry_with(stack, domain).register(body)
    assert excinfo.value.code == "signature-expired"


def test_a_failed_enqueue_keeps_the_record_and_a_resubmission_queues_it(stack, domain, wallet):
    body = registration_body(wallet, domain)
    with pytest.raises(DependencyUnavailable):
        registry_with(stack, domain, queue_name="no-such-queue").register(body)
    records = bootstrap.record_store(bootstrap.settings())
    assert records.latest(wallet.address).status == STATUS_PINNED
    created, record = registry_with(stack, domain).register(body)
    assert (created, record["status"], record["version"]) == (False, STATUS_QUEUED, 1)


def test_a_record_left_pinned_is_queued_by_resubmitting_it_long_after_the_clock_window_closed(stack, domain, wallet):
    # Given a registration stored while the queue was down (its record stays pinned)
    body = registration_body(wallet, domain)
    with pytest.raises(DependencyUnavailable):
        registry_with(stack, domain, queue_name="no-such-queue").register(body)
    # When the client sends the same bundle again an hour later (the signature is far outside the 900 s window)
    later = registry_with(stack, domain, now=lambda: time.time() + 3600)
    created, record = later.register(body)
    # Then it is recognised as the stored bundle before the clock rule, and queued
    assert (created, record["status"], record["version"]) == (False, STATUS_QUEUED, 1)


def test_a_new_bundle_outside_the_clock_window_is_still_rejected_after_the_resubmission_check(stack, domain, wallet):
    registry_with(stack, domain).register(registration_body(wallet, domain))
    with pytest.raises(Exception) as excinfo:
        registry_with(stack, domain, now=lambda: time.time() + 3600).register(
            registration_body(wallet, domain, version=2)
        )
    assert excinfo.value.code == "signature-expired"


def test_a_revocation_shows_in_lookup(api, domain, wallet):
    key = json.loads(post(api, "/keys", registration_body(wallet, domain)).body)
    response = post(api, f"/keys/{wallet.address}/revocation", revocation_body(wallet, domain, 1, key["DMTPpubKey"]))
    assert response.status_code == 202
    found = json.loads(api.http.get(f"/keys/{wallet.address}").body)
    assert found["revoked"] is True
    assert found["revocation"]["version"] == 2


def test_a_revocation_signed_for_another_key_is_rejected(api, domain, wallet):
    post(api, "/keys", registration_body(wallet, domain))
    response = post(api, f"/keys/{wallet.address}/revocation", revocation_body(wallet, domain, 1, "0x" + "22" * 32))
    assert (response.status_code, json.loads(response.body)["code"]) == (401, "invalid-signature")
    assert json.loads(api.http.get(f"/keys/{wallet.address}").body)["revoked"] is False


def test_a_key_registered_after_a_revocation_is_current_and_not_revoked(api, domain, wallet):
    key = json.loads(post(api, "/keys", registration_body(wallet, domain)).body)
    post(api, f"/keys/{wallet.address}/revocation", revocation_body(wallet, domain, 1, key["DMTPpubKey"]))
    assert post(api, "/keys", registration_body(wallet, domain, version=3)).status_code == 202
    found = json.loads(api.http.get(f"/keys/{wallet.address}").body)
    assert (found["version"], found["revoked"]) == (3, False)


def test_history_lists_every_version_newest_first_in_pages(api, domain, wallet):
    for version in (1, 2, 3):
        post(api, "/keys", registration_body(wallet, domain, version=version))
    first = json.loads(api.http.get(f"/keys/{wallet.address}/history?limit=2").body)
    assert [item["version"] for item in first["items"]] == [3, 2]
    second = json.loads(api.http.get(f"/keys/{wallet.address}/history?limit=2&cursor={first['nextCursor']}").body)
    assert [item["version"] for item in second["items"]] == [1]
    assert second["nextCursor"] is None


def test_lookup_as_of_a_past_time_returns_the_key_valid_then(stack, domain, wallet):
    clock = [1_800_000_000.0]
    registry = registry_with(stack, domain, now=lambda: clock[0])
    registry.register(registration_body(wallet, domain, version=1, issued_at=int(clock[0])))
    clock[0] += 100
    registry.register(registration_body(wallet, domain, version=2, issued_at=int(clock[0])))
    assert registry.lookup(wallet.address, str(int(clock[0]) - 50))["version"] == 1
    assert registry.lookup(wallet.address, str(int(clock[0])))["version"] == 2
    with pytest.raises(Exception) as excinfo:
        registry.lookup(wallet.address, str(int(clock[0]) - 500))
    assert excinfo.value.status == 404


def test_lookup_as_of_reads_only_the_pages_down_to_the_first_key_at_or_before_the_moment(
    stack, domain, wallet, monkeypatch
):
    """A wallet with 25 versions, one per second: asOf the 24th reads one page of AS_OF_PAGE (10) versions, asOf the
    first reads all three pages; never a Query per version, never a page below the key."""
    from chalicelib.adapters.records import AS_OF_PAGE

    monkeypatch.setenv("WALLET_WRITES_PER_DAY", "0")
    bootstrap.reset()
    clock = [1_800_000_000.0]
    registry = registry_with(stack, domain, now=lambda: clock[0])
    records_table = bootstrap.settings().records_table
    for version in range(1, 26):
        clock[0] += 1
        registry.register(registration_body(wallet, domain, version=version, issued_at=int(clock[0])))

    def record_queries(moment: int) -> tuple[int, int]:
        with recorded_aws_calls() as calls:
            version = registry.lookup(wallet.address, str(moment))["version"]
        return version, sum(1 for call in calls if call.operation == "Query" and call.tables == (records_table,))

    assert AS_OF_PAGE == 10
    assert record_queries(1_800_000_024) == (24, 1)
    assert record_queries(1_800_000_001) == (1, 3)


def test_batch_lookup_of_100_addresses_is_one_batch_get_of_the_records_and_one_query_of_the_log(
    api, domain, wallet, monkeypatch
):
    """Every DynamoDB call the request makes, on every client: one BatchGetItem of the 100 heads and one Query
    for the log's latest anchor (shared by the whole batch), nothing per address. The anchor cache is off here
    (ANCHOR_CACHE_S=0); with it, a warm batch skips that Query (tests/integration/test_read_caching.py)."""

    monkeypatch.setenv("ANCHOR_CACHE_S", "0")
    bootstrap.reset()
    registered = [Account.create() for _ in range(3)]
    for account in registered:
        post(api, "/keys", registration_body(account, domain))
    addresses = [a.address for a in registered] + [Account.create().address for _ in range(97)]
    config = bootstrap.settings()

    with recorded_aws_calls() as calls:
        response = post(api, "/batch-lookup", {"addresses": addresses})

    assert response.status_code == 200
    result = json.loads(response.body)
    assert (result["countFound"], result["countNotFound"]) == (3, 97)
    assert [r["found"] for r in result["results"][:4]] == [True, True, True, False]
    assert calls == [
        AwsCall("dynamodb", "BatchGetItem", (config.records_table,)),
        AwsCall("dynamodb", "Query", (config.log_table,)),
    ]


def test_batch_lookup_rejects_duplicates(api, wallet):
    response = post(api, "/batch-lookup", {"addresses": [wallet.address, wallet.address.lower()]})
    problem = json.loads(response.body)
    assert (response.status_code, problem["code"], problem["field"]) == (400, "invalid-field", "addresses")
    assert problem["duplicates"] == [wallet.address]


def test_batch_lookup_rejects_more_than_100_addresses(api):

    response = post(api, "/batch-lookup", {"addresses": [Account.create().address for _ in range(101)]})
    problem = json.loads(response.body)
    assert (response.status_code, problem["code"], problem["field"]) == (400, "invalid-field", "addresses")


def test_the_per_wallet_write_quota_answers_429_with_retry_after(stack, domain, wallet):
    table = boto3.resource("dynamodb", endpoint_url=stack.aws_endpoint).Table(bootstrap.settings().quotas_table)
    registry = registry_with(stack, domain, quotas=Quotas(table, wallet_writes_per_day=1, source_requests_per_minute=0))
    registry.register(registration_body(wallet, domain, version=1))
    with pytest.raises(QuotaExceeded) as excinfo:
        registry.register(registration_body(wallet, domain, version=2))
    assert 0 < excinfo.value.retry_after_s <= 86400


def test_an_eoas_writes_are_not_limited_per_minute_only_checks_on_chain_are(api, domain, monkeypatch):
    """SOURCE_REQUESTS_PER_MINUTE counts the write requests whose signature needs the chain (a contract wallet's:
    tests/integration/test_client_verify.py); malformed bodies and EOA signatures cost no RPC call and pass."""
    import app

    monkeypatch.setenv("SOURCE_REQUESTS_PER_MINUTE", "1")
    bootstrap.reset()
    # chalice's test client always reports one source IP, shared by every test: give this test its own.
    source = f"test-source-{time.time_ns()}"
    monkeypatch.setattr(app, "_source", lambda: source)

    statuses = [post(api, "/keys", {}).status_code for _ in range(3)]
    statuses += [post(api, "/keys", registration_body(Account.create(), domain)).status_code for _ in range(3)]

    assert statuses == [400, 400, 400, 202, 202, 202]


def test_reads_write_nothing_and_spend_no_write_budget(api, domain, wallet, monkeypatch):
    """Given a registered wallet and a daily write budget of 1 per source, when one source reads every read route
    of that wallet and of the log many times (under the suite's lifted read limits: each process reports a
    source's reads to the shared count once per tenth of the limit, tests/integration/test_read_limits.py), then
    every read is answered 200, no DynamoDB client makes a write, and the source still has its one write: its
    first passes, its second is refused."""
    import app

    for version in (1, 2):  # registered under the suite's lifted limit; two leaves at least, for a consistency proof
        assert post(api, "/keys", registration_body(wallet, domain, version=version)).status_code == 202
    sequence(wallet.address)  # as the worker does when it takes their jobs
    registered_at = json.loads(api.http.get(f"/keys/{wallet.address}").body)["createdAt"]
    size = json.loads(api.http.get("/log/head").body)["size"]
    monkeypatch.setenv("SOURCE_WRITES_PER_DAY", "1")
    bootstrap.reset()
    # chalice's test client always reports one source IP, shared by every test: this test's one source.
    source = f"reader-{time.time_ns()}"
    monkeypatch.setattr(app, "_source", lambda: source)
    reads = [
        f"/keys/{wallet.address}",
        f"/keys/{wallet.address}?asOf={registered_at}",
        f"/keys/{wallet.address}/history",
        f"/keys/{wallet.address}/history?limit=1&cursor=2",
        "/log/head",
        f"/log/leaves?start=0&end={size}",
        f"/log/inclusion?wallet={wallet.address}&version=1&treeSize={size}",
        f"/log/consistency?from=1&to={size}",
        "/config",
        "/openapi.json",
        "/",
    ]

    with recorded_aws_calls() as calls:
        statuses = [api.http.get(path).status_code for _ in range(5) for path in reads]
        statuses += [post(api, "/batch-lookup", {"addresses": [wallet.address]}).status_code for _ in range(5)]

    assert statuses == [200] * (5 * len(reads) + 5)
    assert {call.operation for call in calls} & DYNAMODB_WRITES == set(), calls
    assert any(call.service == "dynamodb" for call in calls)  # the reads did reach DynamoDB
    assert post(api, "/keys", registration_body(Account.create(), domain)).status_code == 202  # its one write
    limited = post(api, "/keys", registration_body(Account.create(), domain))
    assert (limited.status_code, json.loads(limited.body)["code"]) == (429, "quota-exceeded")


def test_resubmitting_the_current_bundle_creates_no_new_job(stack, domain, wallet):
    body = registration_body(wallet, domain)
    registry = registry_with(stack, domain)
    registry.register(body)
    sqs = boto3.client("sqs", endpoint_url=stack.aws_endpoint)
    sent = []
    sqs.meta.events.register("before-call.sqs.SendMessage", lambda **kwargs: sent.append(1))
    created, _ = registry_with(stack, domain, queue=JobQueue(sqs, bootstrap.settings().jobs_queue_name)).register(body)
    assert (created, sent) == (False, [])
