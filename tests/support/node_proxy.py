"""A JSON-RPC node that misbehaves in one way at a time: a proxy in front of a real one (Anvil), listening on a free
loopback port and answering on any path (an RPC provider's URL carries its key in the path: /v2/<key>)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

JSON = {"Content-Type": "application/json"}


class NodeProxy:
    """Forwards JSON-RPC to `upstream`, except: `stall_s[method]` holds that method's answer that long (or until
    stop), `http_status[method]` answers that HTTP status (with a JSON-RPC error body) instead. Keeps every request
    it received (the path in `paths`)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.stall_s: dict[str, float] = {}
        self.http_status: dict[str, int] = {}
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self._released = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                request = json.loads(raw)
                proxy.requests.append(request)
                proxy.paths.append(self.path)
                method = request["method"]
                if method in proxy.stall_s:
                    proxy._released.wait(proxy.stall_s[method])
                if method in proxy.http_status:  # a gateway's error, with a JSON-RPC error body as some send
                    error = {"code": -32603, "message": "upstream unavailable"}
                    status = proxy.http_status[method]
                    body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "error": error}).encode()
                else:
                    answer = requests.post(proxy.upstream, data=raw, headers=JSON, timeout=30)
                    status, body = answer.status_code, answer.content
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting, as it should
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def methods(self) -> list[str]:
        return [request["method"] for request in self.requests]

    def start(self) -> NodeProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
