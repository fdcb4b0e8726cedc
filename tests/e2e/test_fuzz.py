"""The HTTP API through `chalice local` on the local stack: no input gets a 5xx, every error is problem+json, the
document says what the API accepts (a bounded schemathesis run with every check), and the server keeps answering
after tens of thousands of requests (its output goes to a log file, not a pipe)."""

import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from bench.fuzz import FUZZ_LIMITS, fuzz
from devstack.stack import LocalStack

ZERO = "0x" + "00" * 20
BUNDLE = {
    "address": ZERO,
    "keyType": "x25519",
    "DMTPpubKey": "0x" + "11" * 32,
    "DMTPpriKey": {
        "version": "x25519-xsalsa20-poly1305",
        "nonce": "A" * 32,
        "ephemPublicKey": "A" * 43 + "=",
        "ciphertext": "A" * 110 + "==",
    },
    "version": 1,
    "issuedAt": 1,
    "signatureType": "eip712",
    "Signature": "0x" + "11" * 65,
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The API under chalice local, limits raised as for the fuzzer (their counters still run). A stack of its
    own: moto in a process of its own (the session's is in this one), its own Anvil and chalice local."""
    from chalicelib import bootstrap

    saved = dict(os.environ)
    try:
        logs = tmp_path_factory.mktemp("logs")  # not .devstack/logs/, which a `make run` may be writing
        with LocalStack(with_worker=False, moto_in_process=False, overrides=FUZZ_LIMITS, log_dir=logs) as local:
            yield local
    finally:
        os.environ.clear()
        os.environ.update(saved)
        bootstrap.reset()


def send(
    served: LocalStack, method: str, path: str, body: Any = None, raw: bytes | None = None, **headers: str
) -> requests.Response:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    if data is not None:
        headers.setdefault("Content-Type", "application/json")
    return requests.request(method, served.api_url + path, data=data, headers=headers, timeout=30)


def assert_problem(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["type"] == "urn:dmtp:problem:" + problem["code"]
    return problem


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"keyType": ["x"]}, "keyType"),
        ({"keyType": {"a": 1}}, "keyType"),
        ({"signatureType": ["eip712"]}, "signatureType"),
        ({"DMTPpriKey": {**BUNDLE["DMTPpriKey"], "version": ["x"]}}, "DMTPpriKey"),
        ({"DMTPpriKey": {**BUNDLE["DMTPpriKey"], "version": {"x": 1}}}, "DMTPpriKey"),
        ({"address": ZERO + "\n"}, None),
        ({"Signature": "0x" + "11" * 65 + "\n"}, "Signature"),
        ({"DMTPpubKey": "0x" + "11" * 32 + "\n"}, "DMTPpubKey"),
        (
            {
                "DMTPpriKey": {
                    "version": "eip191-aes256-gcm-hkdf-sha256",
                    "salt": "ab" * 32 + "\n",
                    "nonce": "ab" * 12,
                    "preKey": "ab" * 32,
                    "ciphertext": "ab" * 82,
                }
            },
            "DMTPpriKey",
        ),
    ],
)
def test_a_malformed_member_is_a_400_problem_never_a_500(served, changes, field):
    problem = assert_problem(send(served, "POST", "/keys", {**BUNDLE, **changes}), 400)
    assert problem.get("field") == field


def test_json_nested_five_thousand_deep_is_a_400_problem(served):
    assert_problem(send(served, "POST", "/keys", raw=b"[" * 5000), 400)


@pytest.mark.parametrize(
    "path",
    [
        f"/keys/{ZERO}%0A",  # a trailing newline: "$" in a regex would let it through
        f"/keys/{ZERO}/history?limit=0",
        f"/keys/{ZERO}/history?limit=%D9%A1",  # an Arabic-Indic digit one: int() would take it
        f"/keys/{ZERO}/history?limit=1_0",
        f"/keys/{ZERO}?asOf=%201",
    ],
)
def test_a_malformed_path_or_query_is_a_400_problem(served, path):
    assert_problem(send(served, "GET", path), 400)


def test_a_revocation_issued_far_in_the_future_is_a_401_problem(served):
    body = {
        "address": ZERO,
        "revokedVersion": 1,
        "version": 2,
        "issuedAt": 2**53 - 1,
        "signatureType": "eip712",
        "Signature": "0x11",
    }
    assert (
        assert_problem(send(served, "POST", f"/keys/{ZERO}/revocation", body), 401)["code"] == "signature-not-yet-valid"
    )


@pytest.mark.parametrize(
    ("path", "allowed"), [("/keys", "POST"), (f"/keys/{ZERO}", "GET"), ("/config", "GET"), ("/batch-lookup", "POST")]
)
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_a_method_no_route_has_is_405_problem_with_allow(served, path, allowed, method):
    response = send(served, method, path)
    assert assert_problem(response, 405)["code"] == "method-not-allowed"
    assert response.headers["Allow"] == allowed


def test_a_stray_content_type_on_a_get_is_ignored(served):
    assert send(served, "GET", "/config", **{"Content-Type": "text/xml"}).status_code == 200


@pytest.mark.timeout(900)  # a guard against a hang, not a speed target: bench.fuzz reports the time
def test_a_bounded_schemathesis_run_finds_no_5xx_no_non_problem_error_and_no_failed_check(served):
    result = fuzz(served.api_url, cases=1500, seed=1, workers=2, timeout_s=900, parallel=2)

    assert result["cases"] >= 1500
    assert (result["server_errors"], result["non_problem_errors"]) == (0, 0), result["examples"]
    assert result["check_failures"] == 0, result["schemathesis_output"]


@pytest.mark.timeout(900)  # a guard against the old hang (a full pipe), not a speed target
def test_chalice_local_still_answers_after_20000_requests_and_logs_them_to_a_file(served):
    """Its access log once went to a pipe nobody read: after a few hundred requests every request thread blocked."""
    log_path = served.log_paths["chalice-local"]
    before = log_path.read_text(errors="replace").count('"PUT /config')

    def burst(_: int) -> list[int]:
        with requests.Session() as session:  # keep-alive, as a browser would
            return [session.put(served.api_url + "/config", timeout=10).status_code for _ in range(2500)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [status for statuses in pool.map(burst, range(8)) for status in statuses]

    assert len(statuses) == 20_000 and set(statuses) == {405}
    assert requests.get(served.api_url + "/config", timeout=10).status_code == 200
    assert (
        log_path.parent == served.log_dir
        and log_path.read_text(errors="replace").count('"PUT /config') - before == 20_000
    )
