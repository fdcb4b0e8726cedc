"""GET /log/head, /log/inclusion, /log/consistency, /log/leaves and the `log` object of record views, through the
Chalice app on the session's local stack (moto). Every answer is checked against chalicelib/api/openapi.json, and every
proof with packages/dmtp-protocol/src/dmtp_protocol/merkle.py's verifiers against the roots the API serves."""

import hashlib
import json
from typing import Any

import pytest
from eth_account import Account

from chalicelib import bootstrap
from chalicelib.adapters.records import leaf_of
from dmtp_protocol import merkle
from dmtp_protocol.canonical import canonical_json
from dmtp_protocol.leaves import LEAF_KIND_KEY, leaf_bytes
from tests.integration.test_openapi import check
from tests.support.bundles import registration_body, revocation_body
from tests.support.log_tamper import fresh_log_table, write_log
from tests.support.sequencing import sequence

JSON = {"Content-Type": "application/json"}


def get(api: Any, path: str, status: int = 200) -> Any:
    response = api.http.get(path)
    route = path.split("?")[0]
    route = "/keys/{address}" if route.startswith("/keys/") and route.count("/") == 2 else route
    return check(response, route, "get", status)


def register(api: Any, domain: Any, account: Any, version: int = 1) -> dict[str, Any]:
    response = api.http.post(
        "/keys", headers=JSON, body=json.dumps(registration_body(account, domain, version=version))
    )
    assert response.status_code == 202, response.body
    sequence(account.address)  # as the worker does when it takes the job
    return get(api, f"/keys/{account.address}")


def log() -> Any:
    return bootstrap.record_store(bootstrap.settings()).log


def leaf_hashes(api: Any, size: int) -> list[bytes]:
    hashes: list[bytes] = []
    start = 0
    while start < size:
        page = get(api, f"/log/leaves?start={start}&end={size}")
        hashes += [merkle.leaf_hash(bytes.fromhex(entry["leaf"][2:])) for entry in page["leaves"]]
        start = page["end"]
    return hashes


def test_a_registration_is_a_leaf_and_the_head_is_the_root_of_all_leaves(api, stack, domain):
    account = Account.create()
    record = register(api, domain, account)

    head = get(api, "/log/head")
    index = record["log"]["leafIndex"]
    entry = get(api, f"/log/leaves?start={index}&end={index + 1}")["leaves"][0]

    assert 0 <= index < head["size"]
    assert (entry["kind"], entry["wallet"], entry["version"]) == ("key", account.address, 1)
    assert entry["documentHash"] == "0x" + hashlib.sha256(canonical_json(record["bundle"])).hexdigest()
    stored = bootstrap.record_store(bootstrap.settings()).get(account.address, 1)
    assert entry["leaf"] == "0x" + leaf_of(stored).hex()
    assert bytes.fromhex(head["root"][2:]) == merkle.root(leaf_hashes(api, head["size"]))


def test_an_inclusion_proof_verifies_against_the_served_root(api, domain):
    account = Account.create()
    index = register(api, domain, account)["log"]["leafIndex"]
    head = get(api, "/log/head")
    size = head["size"]

    proof = get(api, f"/log/inclusion?wallet={account.address}&version=1&treeSize={size}")

    assert (proof["leafIndex"], proof["treeSize"]) == (index, size)
    path = [bytes.fromhex(h[2:]) for h in proof["auditPath"]]
    leaf = bytes.fromhex(proof["leaf"][2:])
    assert merkle.verify_inclusion(merkle.leaf_hash(leaf), index, size, path, bytes.fromhex(proof["root"][2:]))
    assert proof["root"] == head["root"]


def test_a_consistency_proof_verifies_between_two_served_roots(api, domain):
    register(api, domain, Account.create())
    old = get(api, "/log/head")
    register(api, domain, Account.create())
    register(api, domain, Account.create())
    new = get(api, "/log/head")

    answer = get(api, f"/log/consistency?from={old['size']}&to={new['size']}")

    assert (answer["fromRoot"], answer["toRoot"]) == (old["root"], new["root"])
    proof = [bytes.fromhex(h[2:]) for h in answer["proof"]]
    assert merkle.verify_consistency(
        old["size"], new["size"], bytes.fromhex(old["root"][2:]), bytes.fromhex(new["root"][2:]), proof
    )


def test_a_revocation_is_a_leaf_of_its_own_after_its_key(api, domain):
    account = Account.create()
    key = register(api, domain, account)
    response = api.http.post(
        f"/keys/{account.address}/revocation",
        headers=JSON,
        body=json.dumps(revocation_body(account, domain, 1, key["DMTPpubKey"])),
    )
    assert response.status_code == 202, response.body
    assert json.loads(response.body)["revocation"]["log"] is None  # accepted; the worker sequences it
    sequence(account.address)
    revocation = get(api, f"/keys/{account.address}")["revocation"]

    index = revocation["log"]["leafIndex"]
    entry = get(api, f"/log/leaves?start={index}&end={index + 1}")["leaves"][0]

    assert index > key["log"]["leafIndex"]
    assert (entry["kind"], entry["wallet"], entry["version"]) == ("revocation", account.address, 2)
    served = canonical_json(revocation["document"])
    assert entry["documentHash"] == "0x" + hashlib.sha256(served).hexdigest()


def test_before_an_anchor_covers_a_record_its_view_says_so_and_inclusion_without_tree_size_is_404(api, domain):
    account = Account.create()
    record = register(api, domain, account)

    assert record["log"]["anchoredHead"] is None
    problem = get(api, f"/log/inclusion?wallet={account.address}&version=1", 404)
    assert problem["code"] == "not-anchored"


@pytest.fixture()
def own_log(api: Any, stack: Any, monkeypatch: Any) -> Any:
    """A log table of the test's own (an anchor recorded here must not reach other tests' logs), its anchor read on
    every request (ANCHOR_CACHE_S=0): the test records an anchor and reads it back at once."""
    table = fresh_log_table(stack.aws_endpoint)
    monkeypatch.setenv("LOG_TABLE", table.name)
    monkeypatch.setenv("ANCHOR_CACHE_S", "0")
    bootstrap.reset()
    yield table
    bootstrap.reset()
    table.delete()


def test_once_a_head_is_anchored_lookups_name_it_and_inclusion_defaults_to_it(api, domain, own_log):
    account = Account.create()
    index = register(api, domain, account)["log"]["leafIndex"]
    head = get(api, "/log/head")
    log().record_anchor(head["size"], bytes.fromhex(head["root"][2:]), "0x" + "ab" * 32, 4242)
    anchored = {"size": head["size"], "root": head["root"], "txHash": "0x" + "ab" * 32, "blockNumber": 4242}

    assert get(api, "/log/head")["anchored"] == anchored
    assert get(api, f"/keys/{account.address}")["log"] == {"leafIndex": index, "anchoredHead": anchored}
    batch = api.http.post("/batch-lookup", headers=JSON, body=json.dumps({"addresses": [account.address]}))
    assert check(batch, "/batch-lookup", "post", 200)["results"][0]["log"] == {
        "leafIndex": index,
        "anchoredHead": anchored,
    }
    history = api.http.get(f"/keys/{account.address}/history")
    assert check(history, "/keys/{address}/history", "get", 200)["items"][0]["log"] == {
        "leafIndex": index,
        "anchoredHead": anchored,
    }
    proof = get(api, f"/log/inclusion?wallet={account.address}&version=1")
    assert (proof["treeSize"], proof["root"], proof["anchored"]) == (head["size"], head["root"], anchored)


@pytest.mark.parametrize(
    "query",
    [
        "/log/inclusion?version=1",
        "/log/inclusion?wallet=0x1234&version=1",
        "/log/inclusion?wallet={wallet}",
        "/log/inclusion?wallet={wallet}&version=0",
        "/log/inclusion?wallet={wallet}&version=1&treeSize={index}",
        "/log/inclusion?wallet={wallet}&version=1&treeSize={too_big}",
        "/log/inclusion?wallet={wallet}&version=1&treeSize=-1",
        "/log/consistency?from=0&to=1",
        "/log/consistency?from=2&to=1",
        "/log/consistency?from=1&to={too_big}",
        "/log/consistency?from=1",
        "/log/consistency?from=1e3&to=2",
        "/log/leaves?start=0",
        "/log/leaves?start=1&end=1",
        "/log/leaves?start={size}&end={too_big}",
        "/log/leaves?start=0&end={too_big}",
        "/log/leaves?start= 1&end=2",
    ],
)
def test_bad_log_queries_are_400_problems(api, domain, query):
    account = Account.create()
    index = register(api, domain, account)["log"]["leafIndex"]
    size = get(api, "/log/head")["size"]
    path = query.format(wallet=account.address, index=index, size=size, too_big=size + 1)

    problem = get(api, path, 400)

    assert problem["code"] in ("invalid-field", "invalid-address")


def test_inclusion_of_an_unknown_record_is_404(api):
    problem = get(api, f"/log/inclusion?wallet={Account.create().address}&version=1", 404)

    assert problem["code"] == "not-found"


def test_a_page_of_leaves_stops_at_1000_and_says_where(api, own_log):
    # Given a log of 1,001 leaves (written straight into the test's own log table, as 1,001 appends leave it)
    leaves = [
        leaf_bytes(LEAF_KIND_KEY, "0x" + f"{i % 256:02x}" * 20, i + 1, hashlib.sha256(b"%d" % i).digest())
        for i in range(1001)
    ]
    write_log(own_log, leaves)
    head = get(api, "/log/head")
    assert (head["size"], head["root"]) == (1001, "0x" + merkle.root([merkle.leaf_hash(leaf) for leaf in leaves]).hex())

    # When an auditor asks for all of them at once
    page = get(api, "/log/leaves?start=0&end=1001")

    # Then the page holds leaves 0 to 999, and its end says where the next page starts
    assert (page["start"], page["end"]) == (0, 1000)
    assert [entry["index"] for entry in page["leaves"]] == list(range(1000))
    assert [entry["leaf"] for entry in page["leaves"]] == ["0x" + leaf.hex() for leaf in leaves[:1000]]
    rest = get(api, f"/log/leaves?start={page['end']}&end=1001")
    assert (rest["start"], rest["end"], [entry["leaf"] for entry in rest["leaves"]]) == (
        1000,
        1001,
        ["0x" + leaves[1000].hex()],
    )
