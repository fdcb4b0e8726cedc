"""IPFS pinning through Pinata's pinFileToIPFS: a batch of documents in one request, as one folder.

The chain worker pins the documents of the keys it is about to write on chain, all in one folder upload: one
request per batch, not per registration (Pinata allows 60 to 500 requests a minute by plan). Each document is one
file named by its own CID; small enough to be a single raw block, it keeps inside the folder the CID it has
alone (CIDv1, raw, sha2-256), the one written on chain. The service answers the folder's CID, which is checked
against the one computed here (unixfs.py): equal only if every file's CID is as expected.

The local pinning service (devstack/pinning_service.py) speaks the same HTTP API, so tests and the local stack
change the endpoint, not the code.
"""

import json
from collections.abc import Callable, Sequence
from typing import Any

from chalicelib.adapters.unixfs import directory_cid
from dmtp_protocol.cid import cid_for_bytes
from dmtp_protocol.errors import PinningFailed

FOLDER = "dmtp-batch"  # the folder's name in the upload (not part of its CID)


class PinataPinner:
    def __init__(
        self, api_url: str, jwt: str | Callable[[], str], timeout_s: float = 15.0, session: Any = None
    ) -> None:
        """`jwt`: the token, or what gives its current value (a secret re-read every SECRET_MAX_AGE_S)."""
        self._endpoint = api_url.rstrip("/") + "/pinning/pinFileToIPFS"
        self._jwt: Callable[[], str] = jwt if callable(jwt) else (lambda: jwt)
        self._timeout_s = timeout_s
        self._session = session  # made on first use: requests loads only when a request needs it

    def pin_batch(self, documents: Sequence[bytes]) -> str:
        """Pin `documents` in one request, each under its own CID; returns the folder's CID. PinningFailed when
        the service is unreachable, refuses (429 past its plan's rate, 5xx) or answers another folder CID."""
        import requests

        unique = {cid_for_bytes(document): document for document in documents}
        expected = directory_cid([(cid, cid, len(document)) for cid, document in unique.items()])
        if self._session is None:
            self._session = requests.Session()
        files = [("file", (f"{FOLDER}/{cid}", document, "application/json")) for cid, document in unique.items()]
        try:
            answer = self._session.post(
                self._endpoint,
                headers={"Authorization": f"Bearer {self._jwt()}"},
                files=files,
                data={
                    "pinataOptions": json.dumps({"cidVersion": 1}),
                    "pinataMetadata": json.dumps({"name": f"{FOLDER}-{expected}"}),
                },
                timeout=self._timeout_s,
            )
        except requests.RequestException as exc:
            raise PinningFailed(f"pinning service unreachable: {type(exc).__name__}") from exc
        if answer.status_code != 200:
            raise PinningFailed(f"pinning service answered {answer.status_code}", status=answer.status_code)
        try:
            pinned = str(answer.json()["IpfsHash"])
        except (ValueError, KeyError) as exc:
            raise PinningFailed("pinning service answer has no IpfsHash") from exc
        if pinned != expected:
            raise PinningFailed(
                f"pinning service computed {pinned}, expected {expected}", expected=expected, got=pinned
            )
        return pinned
