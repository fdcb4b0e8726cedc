"""The API's JSON-RPC client (chalicelib/adapters/rpc.py) on a fake HTTP session, and URL redaction
(chalicelib/observability/redaction.py): what a failure is called (the node's fault or the wallet's), and that no
message, log line or chained exception names the RPC URL's secret path, query or userinfo (issue 24)."""

import io
import json
import logging
import traceback
from typing import Any

import pytest
import requests

from chalicelib.adapters.rpc import JsonRpc
from chalicelib.model import RpcError, RpcTimeout, RpcUnavailable
from chalicelib.observability.redaction import redact_urls

SECRET = "k3y-5ecret-0f-the-provider"
URL = f"https://user:{SECRET}@base-mainnet.example-rpc.io/v2/{SECRET}?apikey={SECRET}"


class FakeResponse:
    def __init__(self, status_code: int, body: Any) -> None:
        self.status_code = status_code
        self._body = body

    def json(self) -> Any:
        if isinstance(self._body, Exception):
            raise self._body
        return self._body


class FakeSession:
    """requests.Session.post answering `answers` in turn (a response, or an exception to raise)."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.posts: list[dict[str, Any]] = []

    def post(self, url: str, json: dict[str, Any], timeout: float) -> FakeResponse:
        self.posts.append({"url": url, "method": json["method"], "params": json["params"], "timeout": timeout})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def result(value: Any) -> FakeResponse:
    return FakeResponse(200, {"jsonrpc": "2.0", "id": 1, "result": value})


def failure_text(error: BaseException) -> str:
    """Everything a log line or a trace could show of `error`: its message, its traceback, its chain."""
    return "".join(traceback.format_exception(error))


# ---------------------------------------------------------------- what a failure is called


def test_a_node_answering_http_5xx_is_unavailable_not_a_revert():
    rpc = JsonRpc(URL, session=FakeSession(FakeResponse(502, {"jsonrpc": "2.0", "id": 1, "error": {"code": -1}})))

    with pytest.raises(RpcUnavailable, match="HTTP 502"):
        rpc.eth_call("0x" + "11" * 20, b"\x01")


def test_a_provider_quota_429_is_unavailable():
    rpc = JsonRpc(URL, session=FakeSession(FakeResponse(429, "Too Many Requests")))

    with pytest.raises(RpcUnavailable, match="HTTP 429"):
        rpc.block_number()


def test_no_answer_within_the_timeout_is_a_timeout():
    rpc = JsonRpc(URL, session=FakeSession(requests.ReadTimeout(f"Read timed out. (url: /v2/{SECRET})")))

    with pytest.raises(RpcTimeout):
        rpc.eth_call("0x" + "11" * 20, b"\x01", gas=500_000, timeout_s=0.5)


def test_a_json_rpc_error_is_the_calls_own_error():
    answer = FakeResponse(200, {"jsonrpc": "2.0", "id": 1, "error": {"code": 3, "message": "execution reverted"}})
    rpc = JsonRpc(URL, session=FakeSession(answer))

    with pytest.raises(RpcError) as raised:
        rpc.eth_call("0x" + "11" * 20, b"\x01")

    assert not isinstance(raised.value, RpcUnavailable)


def test_an_eth_call_carries_its_gas_limit_and_timeout():
    session = FakeSession(result("0x"))

    JsonRpc(URL, timeout_s=5, session=session).eth_call("0x" + "11" * 20, b"\x01", "0x10", gas=500_000, timeout_s=0.5)

    (post,) = session.posts
    assert post["params"] == [{"to": "0x" + "11" * 20, "data": "0x01", "gas": hex(500_000)}, "0x10"]
    assert post["timeout"] == 0.5


def test_the_chain_id_is_asked_once_per_endpoint():
    endpoint = {"url": URL}
    session = FakeSession(result("0x2105"), result("0x14a34"))
    rpc = JsonRpc(lambda: endpoint["url"], session=session)

    assert [rpc.chain_id(), rpc.chain_id()] == [8453, 8453]
    endpoint["url"] = URL.replace("base-mainnet", "base-sepolia")  # a rotated secret naming another endpoint
    assert rpc.chain_id() == 84532
    assert [post["method"] for post in session.posts] == ["eth_chainId", "eth_chainId"]


# ---------------------------------------------------------------- no secret in what a failure says


@pytest.mark.parametrize(
    "raised",
    [
        requests.ConnectionError(
            f"HTTPSConnectionPool(host='base-mainnet.example-rpc.io', port=443): Max retries exceeded with url: "
            f"/v2/{SECRET}?apikey={SECRET} (Caused by NewConnectionError('Connection refused'))"
        ),
        requests.ReadTimeout(f"HTTPSConnectionPool(host='x', port=443): Read timed out. (url: /v2/{SECRET})"),
        requests.HTTPError(f"500 Server Error: Internal Server Error for url: {URL}"),
    ],
)
def test_a_failed_call_names_no_secret_in_its_message_traceback_or_chain(raised):
    rpc = JsonRpc(URL, session=FakeSession(raised))

    with pytest.raises(RpcUnavailable) as failed:
        rpc.block_number()

    assert SECRET not in failure_text(failed.value)
    assert failed.value.__cause__ is None and failed.value.__context__ is None
    assert type(raised).__name__ in str(failed.value)  # still says what went wrong


def test_a_node_error_message_that_echoes_the_url_is_redacted():
    answer = FakeResponse(200, {"jsonrpc": "2.0", "id": 1, "error": {"message": f"bad key for {URL}"}})

    with pytest.raises(RpcError) as failed:
        JsonRpc(URL, session=FakeSession(answer)).block_number()

    assert SECRET not in str(failed.value) and "base-mainnet.example-rpc.io" in str(failed.value)


def test_redaction_keeps_scheme_host_and_port_and_drops_userinfo_path_query_and_fragment():
    assert redact_urls(f"calling {URL}#frag now") == "calling https://base-mainnet.example-rpc.io/<redacted> now"
    assert redact_urls(f"wss://node.example:8546/ws/{SECRET}") == "wss://node.example:8546/<redacted>"
    assert redact_urls("http://127.0.0.1:8545") == "http://127.0.0.1:8545"
    assert redact_urls(f"Max retries exceeded with url: /v2/{SECRET} (Caused") == (
        "Max retries exceeded with url: /<redacted> (Caused"
    )
    assert redact_urls("no url here: 0xabc / 12") == "no url here: 0xabc / 12"


def test_the_workers_log_lines_are_redacted_message_extras_and_exception_alike():
    from chalicelib.observability.telemetry import logger

    lines = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(lines)
    try:
        try:
            raise ConnectionError(f"Max retries exceeded with url: /v2/{SECRET} ({URL})")
        except ConnectionError as exc:
            logger.exception(f"pass failed on {URL}", extra={"error": str(exc)})
    finally:
        handler.setStream(previous)

    line = lines.getvalue().strip()
    assert SECRET not in line
    assert json.loads(line)["message"] == "pass failed on https://base-mainnet.example-rpc.io/<redacted>"
    assert "ConnectionError" in json.loads(line)["exception"]


def test_the_worker_traces_aws_calls_only():
    from chalicelib.observability.telemetry import TRACED_MODULES

    assert TRACED_MODULES == ("botocore",)
    assert not {"requests", "httplib", "httpx", "aiohttp"} & set(TRACED_MODULES)


def test_an_endpoint_secret_that_cannot_be_read_is_unavailable_naming_no_secret():
    from chalicelib.adapters.secrets import SecretNotSet

    def placeholder() -> str:
        raise SecretNotSet("secret dmtp-registry/prod/api-rpc-url (API_RPC_URL) still holds the placeholder")

    with pytest.raises(RpcUnavailable, match="SecretNotSet") as failed:
        JsonRpc(placeholder, session=FakeSession()).chain_id()

    assert "dmtp-registry" not in failure_text(failed.value)
