"""IPFS pinning behind one interface. Pinata's pinFileToIPFS takes the exact bytes we hashed.

The local pinning service (devstack/pinning_service.py) speaks the same HTTP API, so tests and the local
stack change the endpoint, not the code.
"""

import json
from collections.abc import Callable
from typing import Any

from dmtp_protocol.errors import PinningFailed


class PinataPinner:
    def __init__(
        self, api_url: str, jwt: str | Callable[[], str], timeout_s: float = 10.0, session: Any = None
    ) -> None:
        """`jwt`: the token, or what gives its current value (a secret re-read every SECRET_MAX_AGE_S)."""
        self._endpoint = api_url.rstrip("/") + "/pinning/pinFileToIPFS"
        self._jwt: Callable[[], str] = jwt if callable(jwt) else (lambda: jwt)
        self._timeout_s = timeout_s
        self._session = session  # made on first use: requests loads only when a request needs it

    def pin(self, data: bytes, name: str) -> str:
        import requests

        if self._session is None:
            self._session = requests.Session()
        try:
            answer = self._session.post(
                self._endpoint,
                headers={"Authorization": f"Bearer {self._jwt()}"},
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
