"""The React example (examples/react-dapp: Vite + React + wagmi's injected connector + @dmtp/key-registry-react),
built here with its own pinned lockfile (`npm ci`, then `vite build`, once per session) and driven in headless Chromium
against the local stack (`chalice local`, the worker loop, Anvil). The wallet is an EIP-1193 provider injected into the
page (tests/support/browser.py's InjectedWallet: it signs with a key this test holds, and passes every other request to
Anvil). Each step's time is printed and saved to .devstack/react-dapp-timings.json."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from devstack.stack import REPO_ROOT
from tests.e2e.test_explorer_browser import (  # noqa: F401 (module fixtures: the API on the stack, one Chromium)
    CHAIN_ID,
    ExplorerApi,
    chromium,
    explorer_api,
)
from tests.support.browser import CHROMIUM, MISSING_CHROMIUM, Chromium, InjectedWallet, LoopbackServer, screenshot

DAPP = REPO_ROOT / "examples" / "react-dapp"
NPM = shutil.which("npm")
TIMINGS_FILE = REPO_ROOT / ".devstack" / "react-dapp-timings.json"
CONFIRMED_WITHIN_MS = 120_000
GREEN = "rgb(0, 128, 0)"
SETTLED_QUIET_MS = 2500  # more than twice the dapp's pollMs: a tab that polled a settled key would be seen

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
    pytest.mark.skipif(NPM is None, reason="needs npm (Node 20) to build examples/react-dapp"),
    pytest.mark.skipif(
        not (REPO_ROOT / "clients" / "js" / "node_modules" / "@noble" / "curves").is_dir(),
        reason="needs `npm ci --prefix clients/js` (make setup): the example links the client from the repository",
    ),
]

TIMINGS: dict[str, float] = {}


@contextmanager
def timed(step: str) -> Iterator[None]:
    """Record how long `step` took (seconds), in TIMINGS and in the timings file."""
    started = time.monotonic()
    try:
        yield
    finally:
        TIMINGS[step] = round(time.monotonic() - started, 3)
        TIMINGS_FILE.parent.mkdir(parents=True, exist_ok=True)
        TIMINGS_FILE.write_text(json.dumps(TIMINGS, indent=2) + "\n")
        print(f"\n[react-dapp] {step}: {TIMINGS[step]:.2f} s")


def _run(command: list[str]) -> None:
    done = subprocess.run(command, cwd=DAPP, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


@pytest.fixture(scope="session")
def dapp_dist() -> Path:
    """examples/react-dapp built once per session: `npm ci` from its own package-lock.json (skipped while
    node_modules holds an install of that very lockfile), then `vite build` (which reads the linked clients' sources)."""
    assert NPM is not None
    lock = hashlib.sha256((DAPP / "package-lock.json").read_bytes()).hexdigest()
    stamp = DAPP / "node_modules" / ".installed-lock-sha256"
    with timed("npm ci (cached when the lockfile is unchanged)"):
        if not stamp.is_file() or stamp.read_text() != lock:
            _run([NPM, "ci", "--no-audit", "--no-fund"])
            stamp.write_text(lock)
    with timed("vite build"):
        _run([str(DAPP / "node_modules" / ".bin" / "vite"), "build", "--logLevel", "warn"])
    dist = DAPP / "dist"
    assert (dist / "index.html").is_file()
    return dist


@pytest.fixture(scope="module")
def dapp_url(dapp_dist: Path) -> Iterator[str]:
    """The built dapp on its own loopback origin."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(dapp_dist), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = LoopbackServer(Handler)
    try:
        yield server.url
    finally:
        server.stop()


class ForwardingWallet(InjectedWallet):
    """The test wallet (it signs with its key), which passes what a wallet does not sign (eth_blockNumber, ...) to
    the chain, as MetaMask passes them to its node."""

    def __init__(self, private_key: str, chain_id: int, rpc_url: str) -> None:
        super().__init__(private_key, chain_id)
        self.rpc_url = rpc_url

    def handle(self, method: str, params: list[Any]) -> Any:
        if method.startswith(("eth_sign", "personal_", "eth_getEncryption", "eth_decrypt", "eth_accounts", "eth_req")):
            return super().handle(method, params)
        if method in ("eth_chainId",):
            return super().handle(method, params)
        if method.startswith("wallet_"):
            return super().handle(method, params)  # refused (4200): the dapp needs no permissions API
        answer = requests.post(
            self.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=30
        ).json()
        if "error" in answer:
            raise RuntimeError(answer["error"].get("message"))
        return answer["result"]


def open_dapp(browser: Chromium, wallet: InjectedWallet, url: str) -> Any:
    """A tab of the dapp, connected to the wallet (connecting if wagmi did not reconnect it)."""
    page = browser.new_page(wallet)
    page.goto(url)
    page.wait_for_selector("#connect, #account")
    if page.is_visible("#connect"):
        page.click("#connect")
    page.wait_for_selector("#account")
    return page


def wait_for_key(page: Any, version: int) -> None:
    """Until the tab shows key `version` confirmed and verified (or an error)."""
    page.wait_for_function(
        """(version) => {
             const verdict = document.querySelector('#verdict');
             return document.querySelector('#error') !== null || (verdict && verdict.dataset.usable === 'true'
               && document.querySelector('#version').textContent === String(version)
               && document.querySelector('#status').textContent === 'confirmed');
           }""",
        arg=version,
        timeout=CONFIRMED_WITHIN_MS,
    )
    errors = page.locator("#error")
    assert errors.count() == 0, errors.first.inner_text()


def wait_for_revocation(page: Any, version: int) -> None:
    """Until the tab shows its key revoked by revocation `version`, confirmed on chain, and not verified (red)."""
    page.wait_for_function(
        """(version) => {
             const verdict = document.querySelector('#verdict');
             return document.querySelector('#error') !== null || (verdict && verdict.dataset.reason === 'revoked'
               && document.querySelector('#revocation').textContent === `version ${version} confirmed`);
           }""",
        arg=version,
        timeout=CONFIRMED_WITHIN_MS,
    )
    errors = page.locator("#error")
    assert errors.count() == 0, errors.first.inner_text()
    assert page.get_attribute("#verdict", "data-usable") == "false"


def test_register_confirmed_and_verified_green_a_rotation_in_a_second_tab_shows_in_the_first_and_a_revocation_back(
    chromium: Chromium,  # noqa: F811
    explorer_api: ExplorerApi,  # noqa: F811
    dapp_url: str,
) -> None:
    """Given the built dapp and a wallet in the browser: when its user connects and registers, then the tab shows the
    key confirmed and verified (green); and when she rotates it from a second tab, then the first tab, which neither
    reloads nor polls a settled key, shows the new version verified: its watcher (useWatchDmtpKey) saw the change;
    and a revocation made in the first tab shows in the second, red."""
    wallet = ForwardingWallet("0x" + secrets.token_hex(32), CHAIN_ID, explorer_api.rpc_url)
    query = {"api": explorer_api.url, "rpc": explorer_api.rpc_url, "chainId": CHAIN_ID}
    url = f"{dapp_url}/?" + urlencode({**query, "registry": explorer_api.registry, "watchMs": 1000})

    with timed("open the dapp and connect the wallet"):
        first = open_dapp(chromium, wallet, url)
    assert first.inner_text("#account").lower() == wallet.address.lower()
    assert first.inner_text("#status") in ("loading", "no key")

    with timed("register: click to accepted"):
        first.click("#register")
        first.wait_for_selector("#registered, #error")
    assert first.locator("#error").count() == 0, first.inner_text("#error")
    with timed("register: accepted to confirmed and verified green"):
        wait_for_key(first, 1)
    assert first.inner_text("#status") == "confirmed"
    assert first.eval_on_selector("#verdict", "e => getComputedStyle(e).color") == GREEN
    assert first.inner_text("#verdict") == "verified"
    assert {"eth_requestAccounts", "personal_sign", "eth_signTypedData_v4"} <= set(wallet.calls)
    registered_key = first.inner_text("#public-key")
    screenshot(first, "react-dapp-registered-verified")

    with timed("second tab: open, connect and show the key verified"):
        second = open_dapp(chromium, wallet, url)
        wait_for_key(second, 1)
    first.evaluate("window.__sameDocument = true")  # gone if the first tab reloaded
    seen_before = int(first.get_attribute("#changes", "data-count") or "0")
    lookups: list[str] = []
    first.on("request", lambda request: lookups.append(request.url) if "/keys/" in request.url else None)
    first.wait_for_timeout(SETTLED_QUIET_MS)
    assert lookups == [], f"the first tab polls a settled key: {lookups}"

    with timed("rotate: click in the second tab to the new version confirmed and verified in the first"):
        with timed("rotate: click in the second tab to accepted (the mutation, then its tab's refetch)"):
            second.click("#rotate")
            second.wait_for_selector("#registered, #error")
        assert second.locator("#error").count() == 0, second.inner_text("#error")
        wait_for_key(first, 2)
    screenshot(first, "react-dapp-rotated-seen-by-the-first-tab")

    assert first.evaluate("window.__sameDocument === true")
    assert first.inner_text("#public-key") != registered_key
    assert first.eval_on_selector("#verdict", "e => getComputedStyle(e).color") == GREEN
    assert int(first.get_attribute("#changes", "data-count") or "0") > seen_before
    assert "key v2" in first.inner_text("#changes")
    assert 1 <= len(lookups) <= 3, lookups  # the refetch the watcher's invalidation asked for

    # And back: a revocation in the first tab shows in the second, red, through its own watcher.
    with timed("revoke: click in the first tab to the revocation confirmed on chain in the second"):
        first.click("#revoke")
        wait_for_revocation(second, 3)
    wait_for_revocation(first, 3)
    assert second.eval_on_selector("#verdict", "e => getComputedStyle(e).color") != GREEN
    assert "revocation v3" in second.inner_text("#changes")
    screenshot(second, "react-dapp-revoked-seen-by-the-second-tab")
    print(f"\n[react-dapp] timings: {json.dumps(TIMINGS)}")
    assert os.path.exists(TIMINGS_FILE)
