"""A few JSON-RPC calls over requests, for the API path (web3 costs ~1 s of cold start there).

What a failure says, so the signature checker can tell the node's fault from the wallet's (api/signatures.py):
- RpcTimeout: the node took the request but gave no answer within the timeout;
- RpcUnavailable: no connection, an HTTP status other than 2xx (a 5xx, a 429 of the provider's quota, a 401 of a
  bad key), or an answer that is not JSON-RPC;
- RpcError: the node answered with a JSON-RPC error (for eth_call: the call reverted or ran out of gas).
No message names the endpoint's path, query or userinfo, where providers keep the API key: texts of requests'
exceptions (which carry the URL) are redacted, and no exception is chained to them (observability/redaction.py).
"""

import itertools
from collections.abc import Callable
from typing import Any

from chalicelib.model import RpcError, RpcTimeout, RpcUnavailable
from chalicelib.observability.redaction import redact_urls


class JsonRpc:
    def __init__(self, url: str | Callable[[], str], timeout_s: float = 5.0, session: Any = None) -> None:
        """`url`: the endpoint, or what gives its current value (a secret re-read every SECRET_MAX_AGE_S)."""
        self._url: Callable[[], str] = url if callable(url) else (lambda: url)
        self._timeout_s = timeout_s
        self._session = session  # made on first use: requests loads only when a request needs it
        self._ids = itertools.count(1)
        self._chain_ids: dict[str, int] = {}  # endpoint -> the chain id it served (asked once per endpoint)

    @property
    def timeout_s(self) -> float:
        return self._timeout_s

    def call(self, method: str, params: list[Any], timeout_s: float | None = None, url: str | None = None) -> Any:
        import requests

        if self._session is None:
            self._session = requests.Session()
        endpoint = url or self._endpoint(method)
        failure: RpcError | None = None
        try:
            response = self._session.post(
                endpoint,
                json={"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params},
                timeout=self._timeout_s if timeout_s is None else timeout_s,
            )
            if not 200 <= response.status_code < 300:
                failure = RpcUnavailable(f"{method}: the node answered HTTP {response.status_code}")
            else:
                answer = response.json()
        except requests.Timeout as exc:
            failure = RpcTimeout(f"{method}: no answer within the timeout ({_described(exc)})")
        except (requests.RequestException, ValueError) as exc:
            failure = RpcUnavailable(f"{method}: RPC unreachable or not JSON ({_described(exc)})")
        if failure is not None:
            raise failure  # raised here, outside the except blocks: no chained exception carries the URL
        if not isinstance(answer, dict) or ("error" not in answer and "result" not in answer):
            raise RpcUnavailable(f"{method}: the node's answer is not JSON-RPC")
        if "error" in answer:
            raise RpcError(f"{method}: {redact_urls(str(answer['error']))}")
        return answer["result"]

    def _endpoint(self, method: str) -> str:
        """The endpoint's current URL. Its secret unreadable (Secrets Manager down) or still the placeholder is the
        deployment's fault, not the caller's: RpcUnavailable, naming neither the secret's value nor its id."""
        try:
            return self._url()
        except Exception as exc:  # whatever the secret source raises (SecretNotSet, botocore's errors)
            failure = RpcUnavailable(f"{method}: the RPC endpoint's setting could not be read ({type(exc).__name__})")
        raise failure

    def chain_id(self) -> int:
        """The chain id the endpoint serves, asked once per endpoint (a rotated secret naming another endpoint is
        asked again) and kept for the life of the process."""
        url = self._endpoint("eth_chainId")
        if url not in self._chain_ids:
            self._chain_ids[url] = int(self.call("eth_chainId", [], url=url), 16)
        return self._chain_ids[url]

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber", []), 16)

    def code(self, address: str, block: str = "latest") -> bytes:
        return bytes.fromhex(self.call("eth_getCode", [address, block]).removeprefix("0x"))

    def eth_call(
        self, to: str, data: bytes, block: str = "latest", gas: int | None = None, timeout_s: float | None = None
    ) -> bytes:
        """eth_call of `to` with `data`, with at most `gas` gas (the node's own cap when None) and `timeout_s`
        seconds of waiting (this client's timeout when None)."""
        request: dict[str, str] = {"to": to, "data": "0x" + data.hex()}
        if gas is not None:
            request["gas"] = hex(gas)
        return bytes.fromhex(self.call("eth_call", [request, block], timeout_s=timeout_s).removeprefix("0x"))

    def eth_call_code(self, data: bytes, block: str, gas: int, timeout_s: float) -> bytes:
        """eth_call with no `to`: runs `data` as creation code (a "deployless" call) and returns what it returns,
        with at most `gas` gas and `timeout_s` seconds of waiting."""
        result = self.call("eth_call", [{"data": "0x" + data.hex(), "gas": hex(gas)}, block], timeout_s=timeout_s)
        return bytes.fromhex(result.removeprefix("0x"))


def _described(exc: Exception) -> str:
    return f"{type(exc).__name__}: {redact_urls(str(exc))}"
