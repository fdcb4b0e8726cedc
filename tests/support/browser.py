"""Real headless Chromium for page tests: Debian's /usr/bin/chromium driven by Python playwright (no browser
download), an EIP-1193 wallet injected into the page and backed by a key this process holds, small loopback
HTTP servers (a page on another origin, a tampering proxy, a chain node that lies), and screenshots under
.devstack/screenshots/."""

from __future__ import annotations

import http.client
import http.server
import json
import shutil
import tempfile
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.stack import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = REPO_ROOT / ".devstack" / "screenshots"
MISSING_CHROMIUM = f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run installs it) to run the browser tests"


class Chromium:
    """One headless Chromium with a fresh profile directory, removed on close. `fresh_profile()` opens another one
    (nothing saved in this one's storage) on the same playwright, which allows one instance per thread."""

    def __init__(self, playwright: Any = None) -> None:
        from playwright.sync_api import sync_playwright

        self._profile = tempfile.mkdtemp(prefix="dmtp-chromium-")
        self._owns_playwright = playwright is None
        self._playwright = playwright or sync_playwright().start()
        try:
            self.context = self._playwright.chromium.launch_persistent_context(
                self._profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1100, "height": 900},
            )
        except BaseException:
            if self._owns_playwright:
                self._playwright.stop()
            shutil.rmtree(self._profile, ignore_errors=True)
            raise

    def fresh_profile(self) -> Chromium:
        """Another Chromium with an empty profile of its own (close it when done)."""
        return Chromium(self._playwright)

    def new_page(self, wallet: InjectedWallet | None = None, width: int = 1100, height: int = 900) -> Any:
        page = self.context.new_page()
        page.set_viewport_size({"width": width, "height": height})
        page.set_default_timeout(30_000)
        if wallet is not None:
            wallet.install(page)
        return page

    def close(self) -> None:
        try:
            self.context.close()
        finally:
            if self._owns_playwright:
                self._playwright.stop()
            shutil.rmtree(self._profile, ignore_errors=True)


def screenshot(page: Any, name: str) -> Path:
    """A full-page PNG of the page's current state; the path is printed for whoever runs the tests."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"\nscreenshot: {path}")
    return path


# ---------------------------------------------------------------- the injected wallet

_PROVIDER_SCRIPT = """
(() => {
  const call = window.__dmtpTestWallet;
  const listeners = {};
  window.ethereum = {
    isMetaMask: true,
    async request({ method, params }) {
      const answer = JSON.parse(await call(method, JSON.stringify(params === undefined ? [] : params)));
      if (answer.error) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
      return answer.result;
    },
    on(name, listener) { (listeners[name] = listeners[name] || []).push(listener); return this; },
    removeListener(name, listener) { listeners[name] = (listeners[name] || []).filter((l) => l !== listener); return this; },
  };
})();
"""


@dataclass
class InjectedWallet:
    """An EIP-1193 provider in the page whose every request is answered here, with a private key the test holds:
    the page's own code path is the one a MetaMask user runs (connect, eth_chainId, EIP-712, personal_sign,
    eth_getEncryptionPublicKey / eth_decrypt for the x25519-xsalsa20-poly1305 envelope)."""

    private_key: str
    chain_id: int
    calls: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        from eth_account import Account

        return Account.from_key(self.private_key).address

    def install(self, page: Any) -> None:
        page.expose_function("__dmtpTestWallet", self._answer)
        page.add_init_script(_PROVIDER_SCRIPT)

    def _answer(self, method: str, params_json: str) -> str:
        self.calls.append(method)
        try:
            return json.dumps({"result": self.handle(method, json.loads(params_json))})
        except WalletRefusal as refusal:
            return json.dumps({"error": {"code": refusal.code, "message": str(refusal)}})
        except Exception as exc:  # a bug in the page's request: hand it back as the wallet would
            return json.dumps({"error": {"code": -32603, "message": f"{type(exc).__name__}: {exc}"}})

    def handle(self, method: str, params: list[Any]) -> Any:
        from eth_account import Account
        from eth_account.messages import encode_defunct

        from dmtp_key_registry_client import envelope

        if method in ("eth_requestAccounts", "eth_accounts"):
            return [self.address]
        if method == "eth_chainId":
            return hex(self.chain_id)
        if method == "eth_signTypedData_v4":
            self._own(params[0])
            data = params[1] if isinstance(params[1], dict) else json.loads(params[1])
            return "0x" + Account.sign_typed_data(self.private_key, full_message=data).signature.hex().removeprefix(
                "0x"
            )
        if method == "personal_sign":
            self._own(params[1])
            message = params[0]
            signable = encode_defunct(hexstr=message) if message.startswith("0x") else encode_defunct(text=message)
            return "0x" + Account.sign_message(signable, self.private_key).signature.hex().removeprefix("0x")
        if method == "eth_getEncryptionPublicKey":
            self._own(params[0])
            return envelope.encryption_public_key(self.private_key)
        if method == "eth_decrypt":
            self._own(params[1])
            sealed = json.loads(bytes.fromhex(params[0].removeprefix("0x")).decode("utf-8"))
            return envelope.decrypt(sealed, self.private_key)
        raise WalletRefusal(4200, f"this test wallet does not support {method}")

    def _own(self, address: str) -> None:
        if address.lower() != self.address.lower():
            raise WalletRefusal(4100, f"{address} is not this wallet's account")


class WalletRefusal(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------- loopback servers


class LoopbackServer:
    """A threaded HTTP server on a free 127.0.0.1 port, stopped by stop()."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name=f"loopback-{self.url}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=10)


def static_page_server(html: str) -> LoopbackServer:
    """Serves `html` at / (another origin than the API's: its own port)."""
    body = html.encode("utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return LoopbackServer(Handler)


Rewrite = Callable[[str, str, dict[str, Any]], dict[str, Any] | None]


def tampering_proxy(upstream: str, rewrite: Rewrite) -> LoopbackServer:
    """A proxy in front of `upstream` that passes every request through, and lets `rewrite(method, path, body)`
    replace the JSON body of a 200 answer (return None to leave it). Headers pass through (CORS included)."""
    target = urllib.parse.urlsplit(upstream)
    hop_by_hop = {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "proxy-connection",
        "server",
        "date",
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            headers = {name: value for name, value in self.headers.items() if name.lower() not in hop_by_hop | {"host"}}
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
            connection.close()
            if answer.status == 200 and "json" in (answer.getheader("Content-Type") or ""):
                replaced = rewrite(self.command, self.path, json.loads(payload))
                if replaced is not None:
                    payload = json.dumps(replaced).encode("utf-8")
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in hop_by_hop:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_OPTIONS = _forward

        def log_message(self, *args: Any) -> None:
            pass

    return LoopbackServer(Handler)


RpcRewrite = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any] | None]


class RpcProxy(LoopbackServer):
    """A JSON-RPC endpoint on its own origin in front of `upstream` (a chain node): every request is passed on, and
    `rewrite(request, answer)` may replace the answer (None leaves it). It answers CORS preflights as public nodes do.
    `requests` lists the methods asked, in order."""

    def __init__(self, upstream: str, rewrite: RpcRewrite) -> None:
        proxy = self
        self.requests: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _cors(self) -> None:
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", "content-type")

            def do_OPTIONS(self) -> None:
                self.send_response(204)
                self._cors()
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                import requests

                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                proxy.requests.append(str(request.get("method")))
                answer = requests.post(upstream, json=request, timeout=30).json()
                payload = json.dumps(rewrite(request, answer) or answer).encode("utf-8")
                self.send_response(200)
                self._cors()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Handler)


@contextmanager
def serving(server: LoopbackServer) -> Iterator[LoopbackServer]:
    try:
        yield server
    finally:
        server.stop()
