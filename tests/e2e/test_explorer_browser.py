"""The key explorer in a real browser: headless Chromium (Debian's package, driven by playwright) against the
API under `chalice local`, the worker loop, Anvil and the local pinning service. The wallet is an EIP-1193
provider injected into the page and backed by a key this test holds, so the page runs the code a MetaMask user
runs. Each test saves a screenshot of its final state and prints the path.

What verification trusts (chain RPC, chain id, registry) is confirmed by the user: values the page's address names
are accepted with "Use these values" (open_explorer), as a user who checked them would; a poisoned link's values
are not (test_a_poisoned_link_...)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
import requests

from devstack.anvil import free_port
from devstack.stack import REPO_ROOT
from devstack.worker_loop import WorkerLoop
from dmtp_protocol.ethsig import keccak256
from tests.support.browser import (
    CHROMIUM,
    MISSING_CHROMIUM,
    Chromium,
    InjectedWallet,
    RpcProxy,
    screenshot,
    serving,
    static_page_server,
    tampering_proxy,
)
from tests.support.queues import empty_queue

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM)

CHAIN_ID = 31337
VERIFIED_WITHIN_MS = 60_000
CONFIRMED_WITHIN_MS = 120_000
PHONE_WIDTH = 375


@dataclass
class ExplorerApi:
    url: str
    log_path: Path
    rpc_url: str
    registry: str

    def page_url(self, base: str | None = None, **extra: str) -> str:
        """The explorer with what verification trusts pinned in its address, as a careful user would share it."""
        query = {"rpc": self.rpc_url, "chainId": str(CHAIN_ID), "registry": self.registry, **extra}
        return f"{base or self.url}/?{urlencode(query)}"

    def access_log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def explorer_api(stack: Any) -> Iterator[ExplorerApi]:
    """`chalice local` and the worker loop on the session's stack, as `make run` starts them.

    The session's queue is emptied first: jobs other modules left there (they run no worker) are theirs, not ours.
    """
    sqs = boto3.client("sqs", endpoint_url=stack.aws_endpoint)
    empty_queue(sqs, sqs.get_queue_url(QueueName=stack.env["JOBS_QUEUE_NAME"])["QueueUrl"])
    port = free_port()
    chalice = Path(sys.executable).with_name("chalice")
    with tempfile.TemporaryDirectory(prefix="dmtp-explorer-") as scratch:
        log_path = Path(scratch) / "chalice-local.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(chalice),
                    "local",
                    "--no-autoreload",
                    "--stage",
                    stack.stage,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                cwd=REPO_ROOT,
                env={**os.environ, **stack.env, "LOG_LEVEL": "WARNING"},
                stdout=log,
                stderr=log,
            )
        worker = None
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_for(url + "/config", process)
            worker = WorkerLoop(
                stack.aws_endpoint, stack.env["JOBS_QUEUE_NAME"], batch_window_s=0.5, monitor_interval_s=0.5
            ).start()
            yield ExplorerApi(url, log_path, stack.anvil.url, stack.registry_address)
        finally:
            if worker is not None:
                worker.stop()
            process.terminate()
            process.wait(timeout=10)


def _wait_for(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "chalice local exited"
        try:
            requests.get(url, timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise AssertionError("chalice local did not answer within 30 s")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    browser = Chromium()
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture()
def wallet() -> InjectedWallet:
    return InjectedWallet("0x" + secrets.token_hex(32), CHAIN_ID)


def registered_by_the_reference_client(api: ExplorerApi, wallet: InjectedWallet) -> dict[str, Any]:
    """A key for `wallet`, registered through the Python reference client and confirmed on chain."""
    from dmtp_key_registry_client.registry_client import RegistryClient, build_registration

    registry = RegistryClient(api.url)
    body, _ = build_registration(wallet.private_key, CHAIN_ID, api.registry)
    registry.register(body)
    return registry.wait_for_status(wallet.address, ["confirmed"], timeout=CONFIRMED_WITHIN_MS / 1000)


def fits_the_width(page: Any, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


def open_explorer(page: Any, url: str) -> None:
    """Open the explorer at `url`; the trust values its address names are accepted as a user who checked them would
    (values she saved before need no confirmation)."""
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    if page.is_visible("#trust-pending"):
        page.click("#trust-confirm")
    page.wait_for_selector("#trust-pending", state="hidden")


def saved_items(page: Any) -> dict[str, str]:
    return page.evaluate("Object.fromEntries(Object.entries(localStorage))")


# ---------------------------------------------------------------- register through the page


def test_a_wallet_registers_through_the_page_and_sees_its_key_confirmed_and_verified_green(
    chromium, explorer_api, wallet
):
    """Given a MetaMask-like wallet in the page, when its user registers a DMTP key sealed with MetaMask's envelope,
    then the page follows it to `confirmed`, verifies it in the browser against the chain, and shows it green."""
    from dmtp_key_registry_client.keys import DmtpKeyPair
    from dmtp_key_registry_client.registry_client import RegistryClient, open_private_key

    page = chromium.new_page(wallet)
    open_explorer(page, explorer_api.page_url())
    page.select_option("#envelope", "x25519-xsalsa20-poly1305")

    page.click("#register-button")

    page.wait_for_selector("#verdict.good, #verdict.bad, #register-status.error", timeout=CONFIRMED_WITHIN_MS)
    shot = screenshot(page, "explorer-registered-verified")
    assert page.get_attribute("#verdict", "data-usable") == "true", page.inner_text("main")
    assert page.inner_text("#key-status") == "confirmed"
    record = RegistryClient(explorer_api.url).lookup(wallet.address)
    facts = page.inner_text("#key-facts")
    assert record["txHash"] in facts and record["DMTPpubKey"] in facts and "not revoked" in facts
    assert "confirmed" in page.inner_text("#history tbody")
    assert {"eth_requestAccounts", "eth_getEncryptionPublicKey", "eth_signTypedData_v4"} <= set(wallet.calls)
    # The key the page made is the one the wallet can open from the registry's record.
    opened = open_private_key(record, wallet.private_key)
    assert DmtpKeyPair.from_private_key_hex(opened).public_key_hex == record["DMTPpubKey"]
    assert shot.exists()
    assert page.inner_text("#signer-check").startswith("ecdsa") and page.inner_text("#signer-method").startswith(
        "ecdsa"
    )

    page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    screenshot(page, "explorer-registered-verified-phone")
    assert fits_the_width(page, PHONE_WIDTH)


# ---------------------------------------------------------------- an answer tampered in transit


def test_an_answer_whose_key_was_changed_in_transit_shows_red_with_the_reason(chromium, explorer_api, wallet):
    """Given a confirmed key, when a proxy between the page and the API swaps the key in GET /keys answers, then
    the page, verifying in the browser, shows the key as not usable, with the reason."""
    record = registered_by_the_reference_client(explorer_api, wallet)
    genuine_key = record["DMTPpubKey"]
    forged_key = "0x" + secrets.token_hex(32)

    def swap_the_key(method: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        if method != "GET" or not path.startswith("/keys/") or "/history" in path:
            return None
        return _replace_value(body, genuine_key, forged_key)

    with serving(tampering_proxy(explorer_api.url, swap_the_key)) as proxy:
        page = chromium.new_page()
        open_explorer(page, explorer_api.page_url(base=proxy.url))
        page.focus("#lookup-address")  # by keyboard: type the address, Enter submits the form
        page.keyboard.type(wallet.address)
        page.keyboard.press("Enter")

        page.wait_for_selector("#verdict.good, #verdict.bad", timeout=VERIFIED_WITHIN_MS)
        screenshot(page, "explorer-tampered-red")

        assert page.get_attribute("#verdict", "data-usable") == "false"
        assert page.get_attribute("#verdict", "data-reason") == "cid-mismatch"
        verdict = page.inner_text("#verdict")
        assert "Not usable: cid-mismatch" in verdict and record["cid"] in verdict
        assert forged_key in page.inner_text("#key-facts")  # the page shows what it was told, in red


def test_a_wallet_without_a_key_is_said_to_have_none_not_shown_as_an_error(chromium, explorer_api):
    """The client's lookup answers a wallet without a key as a value ({found: false}): the page says so plainly."""
    nobody = "0x" + secrets.token_hex(20)
    page = chromium.new_page()
    open_explorer(page, explorer_api.page_url())
    page.fill("#lookup-address", nobody)

    page.click("#lookup-form button[type=submit]")

    page.wait_for_selector("#lookup-status:has-text('No DMTP key is registered')")
    assert "error" not in (page.get_attribute("#lookup-status", "class") or "").split()
    assert not page.is_visible("#lookup-result")


def test_the_same_key_answered_untouched_is_green_and_found_by_the_batch_lookup(chromium, explorer_api, wallet):
    """The control for the tampering test: the same kind of key, answered untouched, verifies. The batch box,
    driven by keyboard alone, finds it and reports an unknown wallet as not found."""
    record = registered_by_the_reference_client(explorer_api, wallet)
    unknown = InjectedWallet("0x" + secrets.token_hex(32), CHAIN_ID).address
    page = chromium.new_page(width=PHONE_WIDTH, height=800)
    open_explorer(page, explorer_api.page_url(address=wallet.address))
    page.wait_for_selector("#verdict.good, #verdict.bad", timeout=VERIFIED_WITHIN_MS)
    assert page.get_attribute("#verdict", "data-usable") == "true", page.inner_text("#verdict")

    page.focus("#batch-addresses")
    page.keyboard.type(f"{wallet.address}\n{unknown}")
    page.keyboard.press("Tab")  # to the "Look up all" button
    assert page.evaluate("document.activeElement.textContent") == "Look up all"
    page.keyboard.press("Enter")

    page.wait_for_selector("#batch-wrap:not([hidden])")
    screenshot(page, "explorer-green-and-batch-phone")
    rows = page.locator("#batch-results tbody tr")
    assert rows.count() == 2
    cells = [
        [cell.get_attribute("title") or cell.inner_text() for cell in rows.nth(i).locator("td").all()] for i in range(2)
    ]
    assert cells[0][:4] == [wallet.address, "yes", str(record["version"]), record["DMTPpubKey"]]
    assert cells[1][:2] == [unknown, "no"]
    assert page.inner_text("#batch-status") == "1 found, 1 not found."
    assert fits_the_width(page, PHONE_WIDTH)


def _replace_value(node: Any, old: str, new: str) -> Any:
    if isinstance(node, dict):
        return {key: _replace_value(value, old, new) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace_value(value, old, new) for value in node]
    return new if isinstance(node, str) and node.lower() == old.lower() else node


# ---------------------------------------------------------------- a poisoned link

LOG_HEAD_CALL = "0x" + keccak256(b"logHead()")[:4].hex()


def lying_about_the_log_head(registry: str, size: int) -> Any:
    """An RPC that passes everything to the real chain except the registry's logHead(): there it answers a head of
    `size` leaves with a made-up root, small enough that a record at leaf `size` looks newer than the head (so a
    verifier that trusts this RPC says usable) and remembers the made-up head."""
    made_up_root = "11" * 32

    def rewrite(request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any] | None:
        if request.get("method") != "eth_call":
            return None
        call = request["params"][0]
        if str(call.get("to", "")).lower() != registry.lower() or not str(call.get("data", "")).startswith(
            LOG_HEAD_CALL
        ):
            return None
        return {**answer, "result": "0x" + size.to_bytes(32, "big").hex() + made_up_root}

    return rewrite


def a_key_past_the_first_leaf(api: ExplorerApi) -> tuple[InjectedWallet, dict[str, Any]]:
    """A confirmed key whose leaf index is at least 1 (a made-up head of that size is then not empty)."""
    while True:
        wallet = InjectedWallet("0x" + secrets.token_hex(32), CHAIN_ID)
        record = registered_by_the_reference_client(api, wallet)
        if record["log"]["leafIndex"] >= 1:
            return wallet, record


def test_a_poisoned_link_is_shown_unconfirmed_verifies_nothing_saves_no_head_and_breaks_no_later_lookup(
    chromium, explorer_api
):
    """Given a genuine key, and a link to the genuine page that names another API (?api=) and an RPC that lies about
    the log head: when a user opens it in a fresh browser, then the page talks to no other API, shows the link's
    values unconfirmed, verifies nothing with them (the lying RPC is never asked) and saves no head; and when she
    then looks the key up with her own values in the same browser, it is green (no log-inconsistent).

    On the page before the confirm step (main at 4fdaa73) the same link showed the key green through the lying RPC,
    saved its made-up head under (chain id, registry), and the later honest lookup turned red with log-inconsistent."""
    wallet, record = a_key_past_the_first_leaf(explorer_api)
    leaf_index = record["log"]["leafIndex"]
    asked_of_the_other_api: list[str] = []

    def record_the_request(method: str, path: str, body: dict[str, Any]) -> None:
        asked_of_the_other_api.append(f"{method} {path}")

    browser = chromium.fresh_profile()  # the link is the first thing this browser sees
    try:
        with (
            serving(tampering_proxy(explorer_api.url, record_the_request)) as other_api,
            serving(RpcProxy(explorer_api.rpc_url, lying_about_the_log_head(explorer_api.registry, leaf_index))) as rpc,
        ):
            assert isinstance(rpc, RpcProxy)
            poisoned = f"{explorer_api.url}/?" + urlencode(
                {
                    "api": other_api.url,
                    "rpc": rpc.url,
                    "chainId": str(CHAIN_ID),
                    "registry": explorer_api.registry,
                    "address": wallet.address,
                }
            )
            page = browser.new_page()
            page.goto(poisoned)
            page.wait_for_selector("#verdict.good, #verdict.bad, #verdict.unconfirmed", timeout=VERIFIED_WITHIN_MS)
            screenshot(page, "explorer-poisoned-link-unconfirmed")

            assert page.get_attribute("#verdict", "data-usable") != "true", "a link's values verified the key green"
            assert asked_of_the_other_api == [], f"the page called the API the link named: {asked_of_the_other_api}"
            assert rpc.requests == [], f"the page verified with the link's RPC before it was confirmed: {rpc.requests}"
            assert page.get_attribute("#verdict", "data-reason") == "unconfirmed"
            assert page.input_value("#rpc-url") == rpc.url
            assert page.get_attribute("#rpc-url", "data-confirmed") == "false"
            assert page.is_visible("#trust-pending") and rpc.url in page.inner_text("#trust-pending")
            saved = saved_items(page)
            assert not [key for key in saved if key.startswith("dmtp.logHead.")], saved
            assert rpc.url not in saved.values(), saved

            # Later, in the same browser, she looks the key up with the values she trusts, typed by hand.
            honest = browser.new_page()
            honest.goto(explorer_api.url + "/")
            honest.wait_for_selector("body[data-ready=true]")
            honest.fill("#rpc-url", explorer_api.rpc_url)
            honest.fill("#chain-id", str(CHAIN_ID))
            honest.fill("#registry", explorer_api.registry)
            honest.fill("#lookup-address", wallet.address)
            honest.click("#lookup-form button[type=submit]")
            honest.wait_for_selector("#verdict.good, #verdict.bad", timeout=VERIFIED_WITHIN_MS)
            screenshot(honest, "explorer-after-poisoned-link-honest-green")

            assert honest.get_attribute("#verdict", "data-reason") != "log-inconsistent"
            assert honest.get_attribute("#verdict", "data-usable") == "true", honest.inner_text("#verdict")
            heads = [key for key in saved_items(honest) if key.startswith("dmtp.logHead.")]
            assert heads == [f"dmtp.logHead.{CHAIN_ID}.{explorer_api.registry.lower()}.{explorer_api.rpc_url}"]
    finally:
        browser.close()


def test_a_head_seen_through_an_rpc_the_user_accepted_is_kept_apart_from_her_own_rpcs(chromium, explorer_api):
    """Given a user who accepts a link's lying RPC (the head it shows is saved, if at all, under that RPC), when she
    later looks the key up through her own RPC, then that lookup is not broken by it: heads are kept per RPC."""
    wallet, record = a_key_past_the_first_leaf(explorer_api)
    browser = chromium.fresh_profile()
    try:
        with serving(
            RpcProxy(explorer_api.rpc_url, lying_about_the_log_head(explorer_api.registry, record["log"]["leafIndex"]))
        ) as rpc:
            page = browser.new_page()
            page.goto(explorer_api.page_url(rpc=rpc.url, address=wallet.address))
            page.wait_for_selector("#verdict.unconfirmed", timeout=VERIFIED_WITHIN_MS)
            page.click("#trust-confirm")
            page.wait_for_selector("#verdict.good, #verdict.bad", timeout=VERIFIED_WITHIN_MS)
            assert page.get_attribute("#rpc-url", "data-confirmed") == "true"
            assert page.evaluate("localStorage.getItem('dmtp.rpcUrl')") == rpc.url  # she accepted it: it is hers now

            honest = browser.new_page()
            honest.goto(explorer_api.url + "/")
            honest.wait_for_selector("body[data-ready=true]")
            assert honest.input_value("#rpc-url") == rpc.url and not honest.is_visible("#trust-pending")
            honest.fill("#rpc-url", explorer_api.rpc_url)
            honest.fill("#lookup-address", wallet.address)
            honest.click("#lookup-form button[type=submit]")
            honest.wait_for_selector("#verdict.good, #verdict.bad", timeout=VERIFIED_WITHIN_MS)

            assert honest.get_attribute("#verdict", "data-usable") == "true", honest.inner_text("#verdict")
            for key in saved_items(honest):
                if key.startswith("dmtp.logHead."):
                    assert key.endswith("." + explorer_api.rpc_url) or key.endswith("." + rpc.url), key
    finally:
        browser.close()


# ---------------------------------------------------------------- watch my key


def test_the_watch_view_reports_a_key_registered_behind_the_connected_wallets_back(chromium, explorer_api, wallet):
    """Given a wallet that registered its key through the page (recorded in this browser), when its user watches her
    key, then nothing is reported; when the registry then registers a key for her wallet without her and the worker
    puts it on chain and in the log, then the watch view lists it with its transaction, block and log leaf."""
    from dmtp_key_registry_client.registry_client import RegistryClient
    from tests.support.behind_the_back import on_this_stage

    page = chromium.new_page(wallet)
    open_explorer(page, explorer_api.page_url())
    page.click("#register-button")
    page.wait_for_selector("#verdict.good, #verdict.bad, #register-status.error", timeout=CONFIRMED_WITHIN_MS)
    assert page.get_attribute("#verdict", "data-usable") == "true", page.inner_text("main")

    page.click("#watch-button")
    page.wait_for_selector("#watch-status[data-state]", timeout=VERIFIED_WITHIN_MS)
    assert page.get_attribute("#watch-status", "data-state") == "clean", page.inner_text("#watch-status")

    on_this_stage(wallet.address, 2)
    registry = RegistryClient(explorer_api.url)
    deadline = time.monotonic() + CONFIRMED_WITHIN_MS / 1000
    while (rogue := registry.lookup(wallet.address))["version"] != 2 or rogue["status"] != "confirmed":
        assert time.monotonic() < deadline, rogue
        time.sleep(0.5)
    assert rogue["log"]["leafIndex"] is not None

    page.click("#watch-button")
    page.wait_for_selector("#watch-status[data-state=changed]", timeout=VERIFIED_WITHIN_MS)
    screenshot(page, "explorer-watch-changed")

    rows = page.locator("#watch-changes tbody tr")
    assert rows.count() == 1
    cells = [cell.get_attribute("title") or cell.inner_text() for cell in rows.nth(0).locator("td").all()]
    assert cells == [
        "2",
        "key",
        "not made from this browser",
        rogue["txHash"],
        str(rogue["blockNumber"]),
        str(rogue["log"]["leafIndex"]),
    ]
    assert "1 change you did not make" in page.inner_text("#watch-status")


# ---------------------------------------------------------------- CORS from another origin

_CROSS_ORIGIN_CALLS = """
async ([api, registration]) => {
  const read = async (response) => ({
    status: response.status,
    type: response.headers.get('content-type'),
    location: response.headers.get('location'),
    body: await response.json(),
  });
  const results = {};
  const json = { 'Content-Type': 'application/json' };  // not a simple request: the browser preflights it
  results.batch = await read(await fetch(api + '/batch-lookup', {
    method: 'POST', headers: json, body: JSON.stringify({ addresses: [registration.address] }),
  }));
  results.register = await read(await fetch(api + '/keys', { method: 'POST', headers: json, body: JSON.stringify(registration) }));
  results.problem = await read(await fetch(api + '/keys/not-an-address'));
  try {
    await fetch(api + '/no-such-route');  // the local gateway's own 403 carries no CORS headers
    results.control = 'read';
  } catch (error) {
    results.control = 'blocked: ' + error.message;
  }
  const summary = Object.entries(results).map(([name, r]) => typeof r === 'string' ? `${name}: ${r}`
    : `${name}: HTTP ${r.status} ${r.type}${r.location ? ` Location: ${r.location}` : ''}${r.body.code ? ` code: ${r.body.code}` : ''}`);
  document.body.innerHTML = '<h1></h1><pre></pre>';
  document.querySelector('h1').textContent = `Cross-origin calls from ${location.origin} to ${api}`;
  document.querySelector('pre').textContent = summary.join('\\n');
  return results;
}
"""


def test_a_page_on_another_origin_calls_the_api_through_a_cors_preflight(chromium, explorer_api, wallet):
    """Given a dapp page served from another port, when it POSTs JSON to the API (which the browser preflights),
    then the preflight passes and the page reads the answers: the Location header, and problem+json errors too."""
    from dmtp_key_registry_client.registry_client import build_registration

    registration, _ = build_registration(wallet.private_key, CHAIN_ID, explorer_api.registry)

    with serving(static_page_server("<!doctype html><title>dapp</title><p>another origin</p>")) as dapp:
        page = chromium.new_page()
        page.goto(dapp.url + "/")
        results = page.evaluate(_CROSS_ORIGIN_CALLS, [explorer_api.url, registration])
        screenshot(page, "cors-from-another-origin")

    assert dapp.url != explorer_api.url
    assert results["batch"]["status"] == 200 and results["batch"]["body"]["countNotFound"] == 1
    assert results["register"]["status"] == 202
    assert results["register"]["location"] == f"/keys/{wallet.address}"
    assert results["problem"]["status"] == 400
    assert (
        results["problem"]["type"] == "application/problem+json"
        and results["problem"]["body"]["code"] == "invalid-address"
    )
    assert results["control"].startswith("blocked"), (
        "the browser read an answer without CORS headers: the test proves nothing"
    )
    preflights = [
        line
        for line in explorer_api.access_log().splitlines()
        if '"OPTIONS /batch-lookup' in line or '"OPTIONS /keys ' in line
    ]
    assert len(preflights) >= 2 and all('" 200 ' in line for line in preflights), preflights
