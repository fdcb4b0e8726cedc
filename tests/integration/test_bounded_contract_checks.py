"""Contract wallets' signature checks cost a bounded amount and blame the right party (issue 24), through the API on
the session's stack (Anvil, moto), with a small JSON-RPC proxy in front of Anvil where a test needs a node that
misbehaves in one way only:

- a wallet whose isValidSignature loops until out of gas: 401, in bounded time, the call capped at 500,000 gas;
- a node that holds the wallet's eth_call (and only that) past the timeout: 401 signature-check-timeout;
- a node that is down or answers HTTP 5xx: 503 dependency-unavailable (the node's fault, not the wallet's);
- an API RPC serving another chain: 503 naming the misconfiguration, and the node asked nothing but its chain id;
- the API checks through its own API_RPC_URL, never the worker's RPC_URL.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client
from eth_abi import encode

from chalicelib import bootstrap
from chalicelib.adapters.rpc import JsonRpc
from chalicelib.api.signatures import CONTRACT_CALL_TIMEOUT_S, ERC1271_GAS_LIMIT
from chalicelib.model import RpcError
from devstack.anvil import DEV_ACCOUNTS, Anvil, free_port
from dmtp_key_registry_client.registry_client import build_registration, wallet_address
from dmtp_protocol.ethsig import to_checksum_address
from dmtp_protocol.smart_wallets import erc1271_calldata
from tests.conftest import CHAIN_ID
from tests.support.node_proxy import NodeProxy

REPO_ROOT = Path(__file__).resolve().parents[2]
JSON = {"Content-Type": "application/json"}


# ---------------------------------------------------------------- the wallets


@pytest.fixture(scope="module")
def compiled() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (REPO_ROOT / "node_modules" / "solc").is_dir():
        pytest.skip("needs node and `npm ci` (solc)")
    request = {"path": "tests/support/contracts/SmartAccounts.sol", "contracts": ["OwnedAccount", "GasBurnerAccount"]}
    done = subprocess.run(
        [node, "tests/support/js/compile_solidity.js"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    compiled: dict[str, Any] = json.loads(done.stdout)
    return compiled


def deployed(stack: Any, bytecode: str) -> str:
    tx_hash = stack.anvil.rpc("eth_sendTransaction", [{"from": DEV_ACCOUNTS[2][0], "data": bytecode}])
    deadline = time.monotonic() + 15
    receipt = stack.anvil.rpc("eth_getTransactionReceipt", [tx_hash])
    while receipt is None and time.monotonic() < deadline:
        time.sleep(0.05)
        receipt = stack.anvil.rpc("eth_getTransactionReceipt", [tx_hash])
    assert receipt is not None and int(receipt["status"], 16) == 1
    return to_checksum_address(receipt["contractAddress"])


def owned_account(stack: Any, compiled: dict[str, Any]) -> tuple[str, str]:
    """A deployed ERC-1271 account whose owner EOA's signatures it accepts: (owner key, account)."""
    owner_key = "0x" + secrets.token_hex(32)
    args = encode(["address"], [wallet_address(owner_key)]).hex()
    return owner_key, deployed(stack, compiled["OwnedAccount"]["bytecode"] + args)


def registration(stack: Any, signer_key: str, wallet: str) -> dict[str, Any]:
    body, _ = build_registration(signer_key, CHAIN_ID, stack.registry_address, wallet=wallet)
    return body


# ---------------------------------------------------------------- a node in front of Anvil


@pytest.fixture()
def proxy(stack: Any) -> Iterator[NodeProxy]:
    node = NodeProxy(stack.anvil.url).start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture()
def api_through(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Client]]:
    """api_through(api_rpc_url, rpc_url=...) -> the app's test client with those endpoints (None: unset)."""
    import app

    clients: list[Client] = []

    def make(api_rpc_url: str | None, rpc_url: str | None = stack.anvil.url) -> Client:
        for name, value in (("API_RPC_URL", api_rpc_url), ("RPC_URL", rpc_url)):
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        bootstrap.reset()
        client = Client(app.app, stage_name=stack.stage)
        clients.append(client)
        return client

    yield make
    bootstrap.reset()


def post(client: Client, body: dict[str, Any]) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    response = client.http.post("/keys", headers=JSON, body=json.dumps(body))
    return response.status_code, json.loads(response.body), time.monotonic() - started


# ---------------------------------------------------------------- the wallet's fault: 401


def test_a_wallet_whose_is_valid_signature_loops_until_out_of_gas_is_401_in_bounded_time(
    stack, compiled, proxy, api_through
):
    burner = deployed(stack, compiled["GasBurnerAccount"]["bytecode"])
    client = api_through(proxy.url)

    status, problem, elapsed = post(client, registration(stack, "0x" + secrets.token_hex(32), burner))

    assert (status, problem["code"]) == (401, "invalid-signature"), problem
    assert elapsed < 3, elapsed
    (call,) = [request for request in proxy.requests if request["method"] == "eth_call"]
    assert call["params"][0]["gas"] == hex(ERC1271_GAS_LIMIT) == hex(500_000)
    # and the gas cap is what stopped it: the node reports running out of gas at that limit
    with pytest.raises(RpcError, match=r"(?i)out ?of ?gas|oog"):
        JsonRpc(stack.anvil.url).eth_call(burner, erc1271_calldata(b"\1" * 32, b"\2" * 65), gas=ERC1271_GAS_LIMIT)


def test_a_node_that_holds_the_wallets_eth_call_past_the_timeout_is_401_signature_check_timeout(
    stack, compiled, proxy, api_through
):
    # Given a node that answers eth_chainId, eth_blockNumber and eth_getCode at once and holds every eth_call
    owner_key, account = owned_account(stack, compiled)
    proxy.stall_s["eth_call"] = 60
    client = api_through(proxy.url)

    # When the wallet's owner registers (a signature the wallet would accept)
    status, problem, elapsed = post(client, registration(stack, owner_key, account))

    # Then it is 401 with its own code, within the timeout (plus the request's own time), and nothing is stored
    assert (status, problem["code"]) == (401, "signature-check-timeout"), problem
    assert CONTRACT_CALL_TIMEOUT_S <= elapsed < CONTRACT_CALL_TIMEOUT_S + 3, elapsed
    assert proxy.methods()[-1] == "eth_call" and "eth_getCode" in proxy.methods()
    assert client.http.get(f"/keys/{account}").status_code == 404


def test_the_same_wallet_through_a_node_that_answers_is_accepted(stack, compiled, proxy, api_through):
    owner_key, account = owned_account(stack, compiled)

    status, answer, _ = post(api_through(proxy.url), registration(stack, owner_key, account))

    assert (status, answer["signerCheck"]["method"]) == (202, "erc1271"), answer


# ---------------------------------------------------------------- the node's fault: 503


def test_a_node_that_is_down_is_503_dependency_unavailable(stack, compiled, api_through):
    owner_key, account = owned_account(stack, compiled)
    closed = f"http://127.0.0.1:{free_port()}"

    status, problem, _ = post(api_through(closed), registration(stack, owner_key, account))

    assert (status, problem["code"]) == (503, "dependency-unavailable"), problem


@pytest.mark.parametrize("failing", ["eth_blockNumber", "eth_call"])
def test_a_node_answering_http_502_is_503_never_taken_for_the_wallets_no(stack, compiled, proxy, api_through, failing):
    owner_key, account = owned_account(stack, compiled)
    proxy.http_status[failing] = 502

    status, problem, _ = post(api_through(proxy.url), registration(stack, owner_key, account))

    assert (status, problem["code"]) == (503, "dependency-unavailable"), problem


# ---------------------------------------------------------------- the operator's fault: 503 naming it


@pytest.fixture(scope="module")
def other_chain() -> Iterator[Anvil]:
    with Anvil(chain_id=8453) as node:  # Base's chain id: an RPC of another network than the stage's 31337
        yield node


def test_an_api_rpc_serving_another_chain_is_503_naming_the_misconfiguration(stack, compiled, other_chain, api_through):
    owner_key, account = owned_account(stack, compiled)
    proxy = NodeProxy(other_chain.url).start()
    try:
        client = api_through(proxy.url)
        answers = [post(client, registration(stack, owner_key, account))[:2] for _ in range(2)]
        eoa_key = "0x" + secrets.token_hex(32)
        eoa_status, _, _ = post(client, registration(stack, eoa_key, wallet_address(eoa_key)))
    finally:
        proxy.stop()

    for status, problem in answers:
        assert (status, problem["code"]) == (503, "dependency-unavailable"), problem
        assert "misconfigured" in problem["detail"] and "API_RPC_URL" in problem["detail"]
        assert "serves chain 8453, not this registry's chain 31337" in problem["detail"]
    assert proxy.methods() == ["eth_chainId"]  # asked once, and nothing else: no wallet is checked there
    assert eoa_status == 202  # an EOA's signature needs no node


# ---------------------------------------------------------------- whose RPC: the API's own


def test_the_api_checks_through_its_own_rpc_never_the_workers(stack, compiled, proxy, api_through):
    owner_key, account = owned_account(stack, compiled)
    workers = NodeProxy(stack.anvil.url).start()
    try:
        accepted, answer, _ = post(api_through(proxy.url, rpc_url=workers.url), registration(stack, owner_key, account))
        # without an RPC of its own the API checks no contract wallet, even with the worker's RPC_URL set
        other_key, other_account = owned_account(stack, compiled)
        refused, problem, _ = post(
            api_through(None, rpc_url=workers.url), registration(stack, other_key, other_account)
        )
    finally:
        workers.stop()

    assert (accepted, answer["signerCheck"]["method"]) == (202, "erc1271"), answer
    assert "eth_call" in proxy.methods()
    assert (refused, problem["code"]) == (401, "invalid-signature"), problem
    assert workers.requests == []
