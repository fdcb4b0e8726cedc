"""CORS on every route: browsers on the stage's allowed origin can call the API and read its answers, errors
included, and their preflights are answered (here by Chalice's local gateway, in API Gateway by the OPTIONS
methods `chalice package` generates: tests/infra/test_infra.py). The real browser's view is
tests/e2e/test_explorer_browser.py."""

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib.settings import DEFAULT_CORS_ALLOW_ORIGIN
from devstack.anvil import free_port
from devstack.stack import REPO_ROOT, stage_environment

ORIGIN = "http://127.0.0.1:9"  # any other origin: the default allows every one
JSON = {"Content-Type": "application/json", "Origin": ORIGIN}


def exposed(response) -> set[str]:
    return {name.strip().lower() for name in response.headers.get("Access-Control-Expose-Headers", "").split(",")}


def assert_readable_cross_origin(response) -> None:
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert {"location", "retry-after", "etag"} <= exposed(response)
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_every_route_carries_the_cors_configuration():
    import app

    for path, methods in app.app.routes.items():
        for method, entry in methods.items():
            assert entry.cors is not None, f"{method} {path} has no CORS"
            headers = entry.cors.get_access_control_headers()
            assert headers["Access-Control-Allow-Origin"] == os.environ.get(
                "CORS_ALLOW_ORIGIN", DEFAULT_CORS_ALLOW_ORIGIN
            )
            assert "Content-Type" in headers["Access-Control-Allow-Headers"].split(",")
            assert headers["Access-Control-Expose-Headers"] == "Location,Retry-After,ETag"
            assert "If-None-Match" in headers["Access-Control-Allow-Headers"].split(",")


def test_every_stage_sets_its_allowed_origin_and_none_allows_credentials():
    config = json.loads((REPO_ROOT / ".chalice" / "config.json").read_text())
    for stage in config["stages"]:
        assert stage_environment(stage)["CORS_ALLOW_ORIGIN"], stage


def test_the_allowed_origin_follows_the_stage_environment_at_import_time():
    """Given a stage that allows one origin, when the app is imported as `chalice deploy` imports it, then every
    route allows exactly that origin."""
    code = "import app, json; print(json.dumps(sorted({e.cors.allow_origin for m in app.app.routes.values() for e in m.values()})))"
    env = {**os.environ, "CORS_ALLOW_ORIGIN": "https://dapp.example"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )

    assert json.loads(result.stdout) == ["https://dapp.example"]


def test_a_successful_answer_is_readable_cross_origin(api):
    response = api.http.get("/config", headers={"Origin": ORIGIN})

    assert response.status_code == 200
    assert_readable_cross_origin(response)


@pytest.mark.parametrize(
    "method, path, body, headers, status",
    [
        ("GET", "/keys/not-an-address", None, {}, 400),
        ("GET", "/keys/0x00000000000000000000000000000000000000a1", None, {}, 404),
        ("POST", "/keys", "{", JSON, 400),
        ("POST", "/keys", "{}", {**JSON, "Content-Type": "text/plain"}, 415),
        ("POST", "/keys", "x", {**JSON, "Content-Type": "image/png"}, 415),  # Chalice's own 415
        ("GET", "/static/..%2Fapp.py", None, {}, 404),
    ],
)
def test_error_answers_are_readable_cross_origin(api, method, path, body, headers, status):
    response = api.http.request(method, path, headers={"Origin": ORIGIN, **headers}, body=body)

    assert response.status_code == status
    assert_readable_cross_origin(response)


def test_a_rate_limited_answer_exposes_retry_after(api, domain, monkeypatch):
    from eth_account import Account

    import app
    from chalicelib import bootstrap
    from tests.support.bundles import registration_body

    monkeypatch.setenv("SOURCE_WRITES_PER_DAY", "1")
    bootstrap.reset()
    source = f"cors-test-{time.time_ns()}"
    monkeypatch.setattr(app, "_source", lambda: source)
    # Reads are limited at the edge (API Gateway), writes in DynamoDB per source: the second write is refused.

    def write() -> Any:
        body = json.dumps(registration_body(Account.create(), domain))
        return api.http.post("/keys", headers={"Origin": ORIGIN, "Content-Type": "application/json"}, body=body)

    assert write().status_code == 202
    limited = write()

    assert limited.status_code == 429
    assert_readable_cross_origin(limited)
    assert int(limited.headers["Retry-After"]) > 0


@pytest.fixture(scope="module")
def chalice_local(stack) -> Iterator[str]:
    """`chalice local` on the session's stack, as `make run` starts it; its log goes to a file."""
    port = free_port()
    chalice = Path(sys.executable).with_name("chalice")
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [
                str(chalice),
                "local",
                "--no-autoreload",
                "--stage",
                stack.stage,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=REPO_ROOT,
            env={**os.environ, **stack.env},
            stdout=log,
            stderr=log,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None and time.monotonic() < deadline, "chalice local did not start"
                try:
                    requests.get(url + "/config", timeout=5)
                    break
                except (requests.ConnectionError, requests.Timeout):
                    time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


SAMPLE_PATH_VALUES = {"address": "0x00000000000000000000000000000000000000a1", "name": "explorer.js"}


def test_chalice_local_answers_the_preflight_of_every_route_without_calling_the_handler(chalice_local):
    import app

    for route, methods in app.app.routes.items():
        path = route.format(**SAMPLE_PATH_VALUES)
        for method in methods:
            response = requests.options(
                chalice_local + path,
                headers={
                    "Origin": ORIGIN,
                    "Access-Control-Request-Method": method,
                    "Access-Control-Request-Headers": "content-type",
                },
                timeout=10,
            )

            assert response.status_code == 200, (method, path)
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            assert set(response.headers["Access-Control-Allow-Methods"].split(",")) == set(methods) | {"OPTIONS"}
            assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower().split(",")
            assert response.headers["Access-Control-Max-Age"] == "600"
            assert response.content == b""
