"""A few JSON-RPC calls over requests, for the API path (web3 costs ~1 s of cold start there)."""

import itertools
from collections.abc import Callable
from typing import Any

from chalicelib.model import RpcError, RpcTimeout, RpcUnavailable


class JsonRpc:
    def __init__(self, url: str | Callable[[], str], timeout_s: float = 5.0, session: Any = None) -> None:
        """`url`: the endpoint, or what gives its current value (a secret re-read every SECRET_MAX_AGE_S)."""
        self._url: Callable[[], str] = url if callable(url) else (lambda: url)
        self._timeout_s = timeout_s
        self._session = session  # made on first use: requests loads only when a request needs it
        self._ids = itertools.count(1)

    @property
    def timeout_s(self) -> float:
        return self._timeout_s

    def call(self, method: str, params: list[Any], timeout_s: float | None = None) -> Any:
        import requests

        if self._session is None:
            self._session = requests.Session()
        try:
            answer = self._session.post(
                self._url(),
                json={"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params},
                timeout=self._timeout_s if timeout_s is None else timeout_s,
            ).json()
        except requests.Timeout as exc:
            raise RpcTimeout(f"{method}: no answer within the timeout ({type(exc).__name__})") from exc
        except (requests.RequestException, ValueError) as exc:
            raise RpcUnavailable(f"{method}: RPC unreachable or not JSON ({type(exc).__name__})") from exc
        if "error" in answer:
            raise RpcError(f"{method}: {answer['error']}")
        return answer["result"]

    def chain_id(self) -> int:
        return int(self.call("eth_chainId", []), 16)

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber", []), 16)

    def code(self, address: str, block: str = "latest") -> bytes:
        return bytes.fromhex(self.call("eth_getCode", [address, block]).removeprefix("0x"))

    def eth_call(self, to: str, data: bytes, block: str = "latest") -> bytes:
        return bytes.fromhex(self.call("eth_call", [{"to": to, "data": "0x" + data.hex()}, block]).removeprefix("0x"))

    def eth_call_code(self, data: bytes, block: str, gas: int, timeout_s: float) -> bytes:
        """eth_call with no `to`: runs `data` as creation code (a "deployless" call) and returns what it returns,
        with at most `gas` gas and `timeout_s` seconds of waiting."""
        result = self.call("eth_call", [{"data": "0x" + data.hex(), "gas": hex(gas)}, block], timeout_s=timeout_s)
        return bytes.fromhex(result.removeprefix("0x"))
