"""DMTPKeys contract, its committed artifact and the deploy script, against a real Anvil node."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import keccak
from web3 import Web3
from web3.exceptions import ContractCustomError

from devstack.anvil import DEV_ACCOUNTS, Anvil
from infra.deploy_contract import deploy, load_artifact, transfer_ownership

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = REPO_ROOT / "chalicelib" / "contracts" / "DMTPKeys.json"
SOURCE = REPO_ROOT / "infra" / "contracts" / "DMTPKeys.sol"

# A realistic CIDv1 (raw codec, sha2-256, base32): 59 characters.
CID = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"

(OWNER, OWNER_KEY), (ALICE, ALICE_KEY), (BOB, BOB_KEY) = DEV_ACCOUNTS


def selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def anvil():
    with Anvil() as node:
        yield node


@pytest.fixture(scope="module")
def w3(anvil):
    return Web3(Web3.HTTPProvider(anvil.url))


@pytest.fixture
def registry(anvil, w3):
    """A freshly deployed DMTPKeys owned by OWNER."""
    address = deploy(anvil.url, OWNER_KEY)
    return w3.eth.contract(address=address, abi=load_artifact()["abi"])


def transact(w3, fn, key: str):
    """Sign and send a contract call with `key`; return the mined receipt."""
    sender = w3.eth.account.from_key(key).address
    tx = fn.build_transaction({"from": sender, "nonce": w3.eth.get_transaction_count(sender)})
    signed = w3.eth.account.sign_transaction(tx, key)
    return w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))


def assert_custom_error(excinfo, expected: str) -> None:
    data = excinfo.value.data
    assert isinstance(data, str) and data.startswith("0x"), data
    assert data == expected, (data, expected)


# ---------------------------------------------------------------- artifact


def test_committed_artifact_matches_a_fresh_compile():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    fresh = subprocess.run(
        [node, "infra/compile_contract.js", "--stdout"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert fresh.returncode == 0, fresh.stderr
    committed = ARTIFACT.read_text(encoding="utf-8")
    assert json.loads(fresh.stdout) == json.loads(committed)
    assert json.loads(committed)["sourceSha256"] == hashlib.sha256(SOURCE.read_bytes()).hexdigest()


# ---------------------------------------------------------------- contract behaviour


def test_owner_can_add_and_read_a_key(w3, registry):
    receipt = transact(w3, registry.functions.addKey(ALICE, CID), OWNER_KEY)

    assert receipt["status"] == 1
    assert registry.functions.getKey(ALICE).call() == CID
    events = registry.events.KeyAdded().process_receipt(receipt)
    assert len(events) == 1
    assert events[0]["args"]["user"] == ALICE
    assert events[0]["args"]["cid"] == CID
    # Reported, not asserted: cost of one first-time addKey with a 59-char CIDv1.
    print(f"\naddKey gas used (first write, {len(CID)}-char CID): {receipt['gasUsed']}")


def test_non_owner_cannot_add_a_key(w3, registry):
    with pytest.raises(ContractCustomError) as excinfo:
        transact(w3, registry.functions.addKey(ALICE, CID), ALICE_KEY)

    assert_custom_error(
        excinfo, selector("NotOwner(address)") + encode(["address"], [ALICE]).hex()
    )
    assert registry.functions.getKey(ALICE).call() == ""


def test_add_key_rejects_the_zero_address(w3, registry):
    zero = "0x" + "00" * 20
    with pytest.raises(ContractCustomError) as excinfo:
        transact(w3, registry.functions.addKey(zero, CID), OWNER_KEY)

    assert_custom_error(excinfo, selector("ZeroAddress()"))


def test_add_key_rejects_an_empty_cid(w3, registry):
    with pytest.raises(ContractCustomError) as excinfo:
        transact(w3, registry.functions.addKey(ALICE, ""), OWNER_KEY)

    assert_custom_error(excinfo, selector("EmptyCid()"))


def test_ownership_transfer_moves_write_rights(anvil, w3, registry):
    transfer_ownership(anvil.url, registry.address, OWNER_KEY, BOB)

    assert registry.functions.owner().call() == BOB
    with pytest.raises(ContractCustomError):
        transact(w3, registry.functions.addKey(ALICE, CID), OWNER_KEY)
    assert transact(w3, registry.functions.addKey(ALICE, CID), BOB_KEY)["status"] == 1
    assert registry.functions.getKey(ALICE).call() == CID


def test_unknown_wallet_reads_empty_string(registry):
    assert registry.functions.getKey(Web3.to_checksum_address("0x" + "ab" * 20)).call() == ""


# ---------------------------------------------------------------- deploy script


def test_deploy_script_refuses_to_redeploy_over_a_live_registry(anvil, w3, registry):
    nonce_before = w3.eth.get_transaction_count(OWNER)
    env = {k: v for k, v in os.environ.items() if k != "DEPLOYER_PRIVATE_KEY"}
    result = subprocess.run(
        [
            sys.executable, "-m", "infra.deploy_contract",
            "--rpc-url", anvil.url,
            "--deployer-key", OWNER_KEY,
            "--existing", registry.address,
        ],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )

    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "refusing to deploy" in result.stderr
    assert result.stdout == ""
    assert w3.eth.get_transaction_count(OWNER) == nonce_before
