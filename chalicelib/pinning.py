"""IPFS pinning behind one interface. Pinata's pinFileToIPFS takes the exact bytes we hashed.

The local pinning service (devstack/pinning_service.py) speaks the same HTTP API, so tests and the local
stack change the endpoint, not the code.
"""
import json
from typing import Any, Protocol

import requests

from .errors import PinningFailed


class Pinner(Protocol):
    def pin(self, data: bytes, name: str) -> str:
        """Pin `data` as one file; return the CID the service computed."""


class PinataPinner:
    def __init__(self, api_url: str, jwt: str, timeout_s: float = 10.0, session: Any = None) -> None:
        self._endpoint = api_url.rstrip("/") + "/pinning/pinFileToIPFS"
        self._jwt = jwt
        self._timeout_s = timeout_s
        self._session = session or requests.Session()

    def pin(self, data: bytes, name: str) -> str:
        try:
            answer = self._session.post(
                self._endpoint,
                headers={"Authorization": f"Bearer {self._jwt}"},
                files={"file": (name, data, "application/json")},
                data={
                    "pinataOptions": json.dumps({"cidVersion": 1}),
                    "pinataMetadata": json.dumps({"name": name}),
                },
                timeout=self._timeout_s,
            )
        except requests.RequestException as exc:
            raise PinningFailed(f"pinning service unreachable: {type(exc).__name__}") from exc
        if answer.status_code != 200:
            raise PinningFailed(f"pinning service answered {answer.status_code}")
        try:
            return str(answer.json()["IpfsHash"])
        except (ValueError, KeyError) as exc:
            raise PinningFailed("pinning service answer has no IpfsHash") from exc
