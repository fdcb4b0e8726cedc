"""A local stand-in for Pinata: the same pinFileToIPFS HTTP API, plus GET /ipfs/{cid} to read content back.

It computes CIDs the way Kubo does with --cid-version=1: a single-chunk file's, and a folder's (a directory upload,
every part named folder/name: chalicelib/adapters/unixfs.py), keeping each file under its own CID. `fault` makes it misbehave
on purpose (answer `status`, a CID of other bytes, or only after `delay_s`, longer than a client's timeout) so
tests can show how the registry reacts. `rate_per_minute` holds it to a plan's rate limit as Pinata does (its
Fiesta plan: 500 requests a minute): a pin request past the rate is answered 429 with Retry-After. It counts the
pin requests it received (`pin_requests`) and those it refused for the rate (`pin_requests_refused`).
"""

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from chalicelib.adapters.unixfs import directory_cid
from dmtp_protocol.cid import cid_for_bytes


@dataclass
class Fault:
    status: int | None = None
    wrong_cid: bool = False
    delay_s: float = 0.0  # answer a pin only after this long (a service timing out)


class TokenBucket:
    """A rate limit of `rate_per_minute` requests, with bursts of up to `burst` (default: one minute's worth).

    Invariant: over any span of t seconds it admits at most burst + rate_per_minute * t / 60 requests. It starts
    full, refills continuously, and a refused request takes nothing. Safe to use from several threads at once."""

    def __init__(
        self, rate_per_minute: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive (no limit: no bucket)")
        self.rate_per_minute = rate_per_minute
        self.burst = float(rate_per_minute if burst is None else burst)
        if self.burst < 1:
            raise ValueError("burst must admit at least one request")
        self._clock = clock
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        """0.0 when a request is admitted (one token taken); otherwise the seconds until one would be."""
        per_second = self.rate_per_minute / 60.0
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * per_second)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / per_second


class PinningService:
    def __init__(self, jwt: str, host: str = "127.0.0.1", port: int = 0, rate_per_minute: float | None = None) -> None:
        """`rate_per_minute`: Pinata's plan limit on pin requests (None: no limit); settable while running."""
        self.jwt = jwt
        self.pins: dict[str, bytes] = {}  # every file pinned, by its own CID
        self.folders: dict[str, dict[str, str]] = {}  # every folder pinned: its CID -> {name: file CID}
        self.fault = Fault()
        self.pin_requests = 0  # POST /pinning/pinFileToIPFS received, refused ones included
        self.pin_requests_refused = 0  # answered 429: past rate_per_minute
        self._counts_lock = threading.Lock()
        self._bucket: TokenBucket | None = None
        self.rate_per_minute = rate_per_minute
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

    @property
    def rate_per_minute(self) -> float | None:
        return self._bucket.rate_per_minute if self._bucket is not None else None

    @rate_per_minute.setter
    def rate_per_minute(self, value: float | None) -> None:
        """A new limit starts with a full bucket (one minute's worth of requests); None lifts it."""
        self._bucket = TokenBucket(value) if value is not None else None

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
        bucket = self._bucket
        wait_s = bucket.take() if bucket is not None else 0.0
        with self._counts_lock:
            self.pin_requests += 1
            if wait_s > 0:
                self.pin_requests_refused += 1
        if wait_s > 0:
            response = _json({"error": {"reason": "RATE_LIMITED", "details": "too many requests"}}, 429)
            response.headers["Retry-After"] = str(max(1, math.ceil(wait_s)))
            return response
        if request.headers.get("Authorization") != f"Bearer {self.jwt}":
            return _json({"error": {"reason": "INVALID_CREDENTIALS"}}, 401)
        delay_s = self.fault.delay_s
        if delay_s > 0:
            time.sleep(delay_s)
        if self.fault.status is not None:
            return _json({"error": "injected fault"}, self.fault.status)
        uploads = request.files.getlist("file")
        if not uploads:
            return _json({"error": "no file part"}, 400)
        options = json.loads(request.form.get("pinataOptions") or "{}")
        if options.get("cidVersion") != 1:
            return _json({"error": "this stand-in only computes CIDv1 (send pinataOptions.cidVersion=1)"}, 400)
        files = [(upload.filename or "", upload.read()) for upload in uploads]
        if len(files) == 1 and "/" not in files[0][0]:  # one file: its own CID, as `ipfs add --cid-version=1`
            content = files[0][1]
            cid = cid_for_bytes(content + b"\n" if self.fault.wrong_cid else content)
            self.pins[cid] = content
            return _pinned(cid, len(content))
        # A folder (Pinata's directory upload: every part's filename is folder/name): Kubo's folder CID.
        folders = {name.split("/", 1)[0] for name, _ in files}
        if len(folders) != 1 or any("/" not in name or name.count("/") != 1 for name, _ in files):
            return _json({"error": "a folder upload names every file folder/name, one folder, no subfolders"}, 400)
        entries = []
        for name, content in files:
            cid = cid_for_bytes(content)
            self.pins[cid] = content
            entries.append((name.split("/", 1)[1], cid, len(content)))
        try:
            folder = directory_cid(entries)
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)
        if self.fault.wrong_cid:
            folder = directory_cid([*entries[:-1], (entries[-1][0], cid_for_bytes(b"other"), 5)])
        self.folders[folder] = {name: cid for name, cid, _ in entries}
        return _pinned(folder, sum(size for _, _, size in entries))


def _pinned(cid: str, size: int) -> Response:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return _json({"IpfsHash": cid, "PinSize": size, "Timestamp": stamp})


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")
