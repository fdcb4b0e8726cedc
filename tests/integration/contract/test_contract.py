"""DMTPKeys contract, its committed artifact and the deploy script, against a real Anvil node."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest
from eth_abi import encode
from web3 import Web3
from web3.exceptions import ContractCustomError

from dmtp_protocol.cid import cid_from_digest
from infra.deploy_contract import transfer_ownership
from tests.support.contract import (
    ALICE,
    ALICE_KEY,
    ARTIFACT,
    BOB,
    BOB_KEY,
    CID,
    OWNER,
    OWNER_KEY,
    REPO_ROOT,
    SOURCE,
    assert_custom_error,
    selector,
    transact,
)

# ---------------------------------------------------------------- artifact


def test_committed_artifact_matches_a_fresh_compile():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    fresh = subprocess.run(
        [node, "infra/compile_contract.js", "--stdout"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert fresh.returncode == 0, fresh.stderr
    committed = ARTIFACT.read_text(encoding="utf-8")
    assert json.loads(fresh.stdout) == json.loads(committed)
    assert json.loads(committed)["sourceSha256"] == hashlib.sha256(SOURCE.read_bytes()).hexdigest()


# ---------------------------------------------------------------- contract behaviour


def test_owner_can_add_a_key_by_cid_string_and_read_it_back(w3, registry):
    receipt = transact(w3, registry.functions.addKey(ALICE, CID), OWNER_KEY)
    assert receipt["status"] == 1
    assert registry.functions.getKey(ALICE).call() == CID


def test_every_write_emits_the_user_digest_and_version(w3, registry):
    digest = os.urandom(32)
    receipt = transact(w3, registry.functions.setKey(ALICE, digest, 7), OWNER_KEY)
    (event,) = registry.events.KeyUpdated().process_receipt(receipt)
    assert (event["args"]["user"], event["args"]["digest"], event["args"]["version"]) == (ALICE, digest, 7)


def test_set_key_by_digest_reads_back_as_the_cid_string(w3, registry):
    digest = os.urandom(32)
    transact(w3, registry.functions.setKey(ALICE, digest, 1), OWNER_KEY)
    assert registry.functions.getKey(ALICE).call() == cid_from_digest(digest)


def test_batch_write_stores_every_wallet(w3, registry):
    users = [Web3.to_checksum_address("0x" + os.urandom(20).hex()) for _ in range(5)]
    digests = [os.urandom(32) for _ in users]
    receipt = transact(w3, registry.functions.setKeys(users, digests, [1] * 5), OWNER_KEY)
    assert len(registry.events.KeyUpdated().process_receipt(receipt)) == 5
    assert [registry.functions.getKey(user).call() for user in users] == [cid_from_digest(d) for d in digests]


def test_batch_write_with_mismatched_lengths_reverts(w3, registry):
    with pytest.raises(ContractCustomError) as excinfo:
        transact(w3, registry.functions.setKeys([ALICE, BOB], [os.urandom(32)], [1, 1]), OWNER_KEY)
    assert_custom_error(excinfo, selector("LengthMismatch()"))


def test_view_encoding_matches_the_python_cid_code_for_random_digests(registry):
    for _ in range(25):
        digest = os.urandom(32)
        assert registry.functions.cidOf(digest).call() == cid_from_digest(digest)
        assert registry.functions.digestOf(cid_from_digest(digest)).call() == digest


@pytest.mark.parametrize(
    "text",
    [
        "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o",
        "bafyreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",  # dag-cbor codec
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5f",  # non-zero padding bits
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5E",  # not lowercase
        "",
    ],
)
def test_add_key_refuses_anything_but_a_canonical_raw_sha256_cid(w3, registry, text):
    with pytest.raises(ContractCustomError) as excinfo:
        transact(w3, registry.functions.addKey(ALICE, text), OWNER_KEY)
    assert_custom_error(excinfo, selector("InvalidCid()"))


def test_non_owner_cannot_add_a_key(w3, registry):
    with pytest.raises(ContractCustomError) as excinfo:
        transact(w3, registry.functions.addKey(ALICE, CID), ALICE_KEY)
    assert_custom_error(excinfo, selector("NotOwner(address)") + encode(["address"], [ALICE]).hex())
    assert registry.functions.getKey(ALICE).call() == ""


def test_add_key_rejects_the_zero_address(w3, registry):
    zero = "0x" + "00" * 20
    with pytest.raises(ContractCustomError) as excinfo:
        transact(w3, registry.functions.addKey(zero, CID), OWNER_KEY)
    assert_custom_error(excinfo, selector("ZeroAddress()"))


def test_set_key_rejects_an_empty_digest(w3, registry):
    with pytest.raises(ContractCustomError) as excinfo:
        transact(w3, registry.functions.setKey(ALICE, b"\0" * 32, 1), OWNER_KEY)
    assert_custom_error(excinfo, selector("EmptyDigest()"))


def test_revoking_the_current_key_shows_in_the_views(w3, registry):
    digest = os.urandom(32)
    transact(w3, registry.functions.setKey(ALICE, digest, 1), OWNER_KEY)
    receipt = transact(w3, registry.functions.revokeKey(ALICE, digest, 2), OWNER_KEY)
    (event,) = registry.events.KeyRevoked().process_receipt(receipt)
    assert event["args"]["version"] == 2
    assert registry.functions.isRevoked(ALICE).call() is True
    assert registry.functions.keyOf(ALICE).call() == [digest, True]


def test_a_new_key_after_revocation_is_not_revoked(w3, registry):
    old = os.urandom(32)
    transact(w3, registry.functions.setKey(ALICE, old, 1), OWNER_KEY)
    transact(w3, registry.functions.revokeKey(ALICE, old, 2), OWNER_KEY)
    transact(w3, registry.functions.setKey(ALICE, os.urandom(32), 3), OWNER_KEY)
    assert registry.functions.isRevoked(ALICE).call() is False


def test_revoking_a_key_that_is_not_current_reverts(w3, registry):
    current = os.urandom(32)
    transact(w3, registry.functions.setKey(ALICE, current, 1), OWNER_KEY)
    with pytest.raises(ContractCustomError) as excinfo:
        transact(w3, registry.functions.revokeKey(ALICE, os.urandom(32), 2), OWNER_KEY)
    assert_custom_error(excinfo, selector("NotCurrentKey(bytes32)") + current.hex())


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
    env["RPC_URL"] = anvil.url  # the environment, never the command line
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.deploy_contract",
            "--deployer-key",
            OWNER_KEY,
            "--existing",
            registry.address,
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "refusing to deploy" in result.stderr
    assert result.stdout == ""
    assert w3.eth.get_transaction_count(OWNER) == nonce_before
