"""A local stand-in for Pinata: the same pinFileToIPFS HTTP API, plus GET /ipfs/{cid} to read content back.

It computes CIDs the way Kubo does for a single-chunk file with --cid-version=1. `fault` makes it misbehave
on purpose (answer `status`, a CID of other bytes, or only after `delay_s`, longer than a client's timeout) so
tests can show how the registry reacts.
"""

import json
import threading
import time
from dataclasses import dataclass

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from dmtp_protocol.cid import cid_for_bytes


@dataclass
class Fault:
    status: int | None = None
    wrong_cid: bool = False
    delay_s: float = 0.0  # answer a pin only after this long (a service timing out)


class PinningService:
    def __init__(self, jwt: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.jwt = jwt
        self.pins: dict[str, bytes] = {}
        self.fault = Fault()
        self._server = make_server(host, port, Request.application(self._route), threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="pinning-service", daemon=True)

    def start(self) -> "PinningService":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "PinningService":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _route(self, request: Request) -> Response:
        if request.method == "POST" and request.path == "/pinning/pinFileToIPFS":
            return self._pin(request)
        if request.method == "GET" and request.path.startswith("/ipfs/"):
            content = self.pins.get(request.path.removeprefix("/ipfs/"))
            if content is None:
                return _json({"error": "not pinned here"}, 404)
            return Response(content, 200, content_type="application/octet-stream")
        return _json({"error": "no such route"}, 404)

    def _pin(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.jwt}":
            return _json({"error": {"reason": "INVALID_CREDENTIALS"}}, 401)
        delay_s = self.fault.delay_s
        if delay_s > 0:
            time.sleep(delay_s)
        if self.fault.status is not None:
            return _json({"error": "injected fault"}, self.fault.status)
        upload = request.files.get("file")
        if upload is None:
            return _json({"error": "no file part"}, 400)
        options = json.loads(request.form.get("pinataOptions") or "{}")
        if options.get("cidVersion") != 1:
            return _json({"error": "this stand-in only computes CIDv1 (send pinataOptions.cidVersion=1)"}, 400)
        content = upload.read()
        cid = cid_for_bytes(content + b"\n" if self.fault.wrong_cid else content)
        self.pins[cid] = content
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        return _json({"IpfsHash": cid, "PinSize": len(content), "Timestamp": stamp})


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")
