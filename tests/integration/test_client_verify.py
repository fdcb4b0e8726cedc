"""The client's `verify` against the real stack (API on moto, KMS-signed worker, Anvil with DMTPKeys), and
ERC-1271 smart-contract wallets end to end (tests/support/contracts/SmartWallet.sol, compiled here with solc-js).

Contract state that the registry would never write (another digest, a revocation the API does not know) is
forged in the contract's storage with anvil_setStorageAt, so the owner key's nonces (the worker's) stay untouched.
"""

from __future__ import annotations

import copy
import json
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode

from chalicelib.adapters.ethereum import RegistryChain
from devstack.anvil import DEV_ACCOUNTS, Anvil
from devstack.worker_loop import WorkerLoop
from dmtp_key_registry_client import __main__ as cli
from dmtp_key_registry_client.registry_client import (
    build_registration,
    build_revocation,
    open_private_key,
    wallet_address,
)
from dmtp_key_registry_client.verify import CHECKS, VerificationFailed, verify, verify_answer, verify_batch_entry
from dmtp_protocol.canonical import canonical_json
from dmtp_protocol.cid import cid_for_bytes, digest_from_cid
from dmtp_protocol.ethsig import keccak256, to_checksum_address
from dmtp_protocol.messages import Domain, parse_registration, pinned_document, registration_from_document
from tests.conftest import CHAIN_ID

REPO_ROOT = Path(__file__).resolve().parents[2]
JSON = {"Content-Type": "application/json"}
OTHER_CID = cid_for_bytes(b"not this wallet's document")


# ---------------------------------------------------------------- helpers


PINNING_TAIL = ": pin them by flag or in the configuration file; they are never taken from the registry"


@pytest.fixture()
def no_client_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No client configuration file pins anything (neither $DMTP_CLIENT_CONFIG nor one under $XDG_CONFIG_HOME)."""
    monkeypatch.delenv("DMTP_CLIENT_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))


def usage_error(refused: pytest.ExceptionInfo[SystemExit], capsys: pytest.CaptureFixture[str]) -> str:
    """The message of the CLI's usage error: argparse exits 2 and ends stderr with `<prog>: error: <message>`."""
    assert refused.value.code == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line.startswith("python -m dmtp_key_registry_client: error: "), last_line
    return last_line.removeprefix("python -m dmtp_key_registry_client: error: ")


def new_wallet_key() -> str:
    return "0x" + secrets.token_hex(32)


def post(api, path: str, body: Any):
    return api.http.post(path, headers=JSON, body=json.dumps(body))


def lookup(api, address: str) -> dict[str, Any]:
    response = api.http.get(f"/keys/{address}")
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def register(api, stack, wallet_key: str, **options: Any) -> tuple[dict[str, Any], Any]:
    body, dmtp = build_registration(wallet_key, CHAIN_ID, stack.registry_address, **options)
    response = post(api, "/keys", body)
    assert response.status_code == 202, response.body
    return json.loads(response.body), dmtp


def drain_queue(stack, settle_s: float = 30.0) -> None:
    """Lambda's SQS trigger, by hand: every queued job goes through app.process_jobs (the KMS-signed worker),
    and WorkerLoop runs the transaction monitor after each batch; then the monitor passes again until a pass finds
    no transaction in flight (Anvil's automine can answer a send before its receipt is readable, so the one pass
    right after a batch may not see it on a loaded machine), for at most `settle_s`."""
    import app
    from chalicelib import bootstrap

    loop = WorkerLoop(stack.aws_endpoint, stack.env["JOBS_QUEUE_NAME"], batch_window_s=0)
    while loop.poll_once(app.process_jobs, wait_s=0):
        pass
    deadline = time.monotonic() + settle_s
    while bootstrap.tx_monitor().run_once().in_flight and time.monotonic() < deadline:
        time.sleep(0.05)


def confirmed(api, stack, address: str) -> dict[str, Any]:
    drain_queue(stack)
    answer = lookup(api, address)
    assert answer["status"] == "confirmed", answer
    return answer


# DMTPKeys storage layout (infra/contracts/DMTPKeys.sol): slot 0 owner, 1 DMTPkeys, 2 revokedDigest.
KEYS_SLOT, REVOKED_SLOT = 1, 2


def forge_contract_state(stack, slot: int, wallet: str, digest: bytes) -> None:
    """Writes `mapping[wallet] = digest` straight into the contract's storage (anvil_setStorageAt): state the
    registry would never write, without a transaction from the owner key whose nonces the worker manages."""
    key = "0x" + keccak256(bytes.fromhex(wallet[2:]).rjust(32, b"\0") + slot.to_bytes(32, "big")).hex()
    assert stack.anvil.rpc("anvil_setStorageAt", [stack.registry_address, key, "0x" + digest.hex()]) is True


def refit(answer: dict[str, Any]) -> dict[str, Any]:
    """What a consistently lying API would serve after editing the bundle: CID and proof recomputed to match."""
    from chalicelib.api.registry import Registry

    answer["cid"] = cid_for_bytes(canonical_json(answer["bundle"]))
    registration, domain = registration_from_document(answer["bundle"])
    answer["proof"] = Registry._proof(None, registration, domain)  # the server's own proof builder (no state used)
    answer["DMTPpubKey"] = registration.public_key
    return answer


class ApiLog:
    """The registry API's log endpoints through the in-process test client: where `verify` asks for proofs."""

    def __init__(self, api) -> None:
        self.api = api

    def _get(self, path: str) -> dict[str, Any]:
        response = self.api.http.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.body[:300]!r}")
        return json.loads(response.body)

    def log_inclusion(self, wallet: str, version: int, tree_size: int | None = None) -> dict[str, Any]:
        return self._get(
            f"/log/inclusion?wallet={wallet}&version={version}"
            + ("" if tree_size is None else f"&treeSize={tree_size}")
        )

    def log_consistency(self, old_size: int, new_size: int) -> dict[str, Any]:
        return self._get(f"/log/consistency?from={old_size}&to={new_size}")


def pins(stack, wallet: str, api=None) -> dict[str, Any]:
    """What the caller trusts: the wallet it asked about, the chain and the registry of its own configuration."""
    return {
        "wallet": wallet,
        "chain_id": CHAIN_ID,
        "registry": stack.registry_address,
        **({"log": ApiLog(api)} if api else {}),
    }


def failure(answer: dict[str, Any], rpc_url: str | None, **options: Any) -> VerificationFailed:
    options.setdefault("wallet", answer.get("wallet") or answer.get("bundle", {}).get("wallet"))
    options.setdefault("chain_id", CHAIN_ID)
    options.setdefault("registry", answer.get("proof", {}).get("registry") or answer.get("bundle", {}).get("registry"))
    with pytest.raises(VerificationFailed) as excinfo:
        verify(answer, rpc_url, **options)
    return excinfo.value


# ---------------------------------------------------------------- verify: the happy paths


@pytest.mark.parametrize(
    "options",
    [
        dict(signature_type="eip712", envelope="x25519-xsalsa20-poly1305", key_type="x25519"),
        dict(signature_type="eip191", envelope="dmtp-eip191-aes256gcm-hkdf-v1", key_type="secp256k1"),
    ],
    ids=["eip712-x25519", "eip191-secp256k1"],
)
def test_verify_accepts_a_confirmed_registration_and_its_batch_entry(api, stack, options):
    wallet_key = new_wallet_key()
    accepted, dmtp = register(api, stack, wallet_key, **options)
    answer = confirmed(api, stack, accepted["wallet"])

    key = verify(answer, stack.anvil.url, **pins(stack, accepted["wallet"], api))
    assert (key.wallet, key.public_key, key.key_type, key.version) == (
        accepted["wallet"],
        dmtp.public_key_hex,
        options["key_type"],
        1,
    )
    assert (key.cid, key.onchain, key.revoked, key.signer_method, key.signature_type) == (
        accepted["cid"],
        True,
        False,
        "ecdsa",
        options["signature_type"],
    )
    assert key.usable()
    assert open_private_key(answer, wallet_key) == dmtp.private_key_hex

    entries = json.loads(post(api, "/batch-lookup", {"addresses": [accepted["wallet"]]}).body)["results"]
    entry_key = verify_batch_entry(entries[0], stack.anvil.url, **pins(stack, accepted["wallet"], api))
    assert entry_key.cid == accepted["cid"] and entry_key.usable()


def test_without_an_rpc_an_authentic_answer_is_never_usable(api, stack, capsys, no_client_config):
    accepted, _ = register(api, stack, new_wallet_key())
    key = verify(lookup(api, accepted["wallet"]), None, **pins(stack, accepted["wallet"]))
    assert (key.onchain, key.status, key.usable()) == (None, "queued", False)
    confirmed_key = verify(confirmed(api, stack, accepted["wallet"]), None, **pins(stack, accepted["wallet"]))
    assert (confirmed_key.onchain, confirmed_key.revoked, confirmed_key.usable()) == (None, False, False)
    capsys.readouterr()
    with pytest.raises(SystemExit) as refused:  # the CLI will not even look the wallet up without an RPC
        cli.main(
            [
                "verify",
                "--api",
                "http://registry.invalid",
                "--chain-id",
                str(CHAIN_ID),
                "--registry",
                stack.registry_address,
                accepted["wallet"],
            ]
        )
    assert usage_error(refused, capsys) == "verify needs --rpc (rpc)" + PINNING_TAIL


def test_a_record_not_yet_on_chain_fails_and_is_never_usable_even_when_pending_is_allowed(api, stack):
    accepted, _ = register(api, stack, new_wallet_key())
    answer = lookup(api, accepted["wallet"])

    assert failure(answer, stack.anvil.url).code == "not-confirmed"
    pending = verify(answer, stack.anvil.url, require_onchain=False, **pins(stack, accepted["wallet"], api))
    assert (pending.onchain, pending.usable()) == (False, False)
    assert pending.to_json()["usable"] is False
    entry = json.loads(post(api, "/batch-lookup", {"addresses": [accepted["wallet"]]}).body)["results"][0]
    with pytest.raises(VerificationFailed, match="not-onchain"):
        verify_batch_entry(entry, stack.anvil.url, **pins(stack, accepted["wallet"], api))
    assert (
        verify_batch_entry(
            entry, stack.anvil.url, require_onchain=False, **pins(stack, accepted["wallet"], api)
        ).usable()
        is False
    )


VECTORS_PATH = REPO_ROOT / "docs" / "protocol-vectors.json"


@pytest.mark.skipif(not VECTORS_PATH.is_file(), reason="docs/protocol-vectors.json not present")
def test_the_client_verifies_and_opens_the_documented_protocol_vectors():
    vectors = json.loads(VECTORS_PATH.read_text())
    inputs = vectors["inputs"]
    for signature_type, vector in vectors["registrations"].items():
        document = json.loads(vector["document"])
        entry = {"address": inputs["wallet"], "found": True, "bundle": document, "cid": vector["cid"], "revoked": False}
        key = verify_batch_entry(
            entry, None, wallet=inputs["wallet"], chain_id=inputs["chainId"], registry=inputs["registry"]
        )
        assert (key.signature_type, key.public_key, key.cid) == (signature_type, inputs["dmtpPublicKey"], vector["cid"])
        assert not key.usable()  # authentic, but no RPC read the contract
        assert open_private_key(document, inputs["walletPrivateKey"]) == inputs["dmtpPrivateKey"]
    secp = vectors["secp256k1Uncompressed"]
    document = json.loads(secp["registration"]["document"])
    entry = {
        "address": inputs["wallet"],
        "found": True,
        "bundle": document,
        "cid": secp["registration"]["cid"],
        "revoked": False,
    }
    assert (
        verify_batch_entry(
            entry, None, wallet=inputs["wallet"], chain_id=inputs["chainId"], registry=inputs["registry"]
        ).public_key
        == secp["publicKeyUncompressed"]
    )
    passphrase = vectors["envelopes"]["dmtp-scrypt-aes256gcm-v1"]["passphrase"]
    assert open_private_key(document, passphrase=passphrase) == secp["privateKey"]
    domain = {"chain_id": inputs["chainId"], "registry": inputs["registry"]}
    for version, vector in vectors["envelopes"].items():
        opened = open_private_key(
            {"DMTPpriKey": vector["envelope"], "wallet": inputs["wallet"]},
            inputs["walletPrivateKey"],
            passphrase=passphrase,
            **domain,
        )
        assert opened == vector["plaintext"], version


# ---------------------------------------------------------------- verify: what it must refuse


def test_verify_refuses_a_tampered_cid_document_or_proof(api, stack):
    accepted, _ = register(api, stack, new_wallet_key())
    answer = confirmed(api, stack, accepted["wallet"])

    assert failure({**answer, "cid": OTHER_CID}, stack.anvil.url).code == "cid-mismatch"
    edited = copy.deepcopy(answer)
    edited["bundle"]["DMTPpubKey"] = "0x" + "42" * 32
    assert failure(edited, stack.anvil.url).code == "cid-mismatch"
    extra = refit({**copy.deepcopy(answer), "bundle": {**answer["bundle"], "note": "unsigned"}})
    assert failure(extra, None).code == "non-canonical-document"
    proof = copy.deepcopy(answer)
    proof["proof"]["typedData"]["message"]["version"] = 7
    assert failure(proof, None).code == "proof-mismatch"
    assert failure({**answer, "DMTPpubKey": "0x" + "42" * 32}, None).code == "answer-mismatch"
    assert failure(answer, None, wallet=wallet_address(new_wallet_key())).code == "wallet-mismatch"


def test_verify_refuses_a_tampered_signature_even_with_matching_cid_and_proof(api, stack):
    accepted, _ = register(api, stack, new_wallet_key())
    answer = confirmed(api, stack, accepted["wallet"])

    forged = copy.deepcopy(answer)
    signature = forged["bundle"]["Signature"]
    forged["bundle"]["Signature"] = signature[:10] + ("0" if signature[10] != "0" else "1") + signature[11:]
    assert failure(refit(forged), stack.anvil.url).code == "bad-signature"
    swapped = copy.deepcopy(answer)  # a valid-looking bundle for another key, signed by nobody
    swapped["bundle"]["DMTPpubKey"] = "0x" + "42" * 32
    assert failure(refit(swapped), None).code == "bad-signature"


def test_verify_refuses_when_the_contract_holds_another_digest(api, stack):
    accepted, _ = register(api, stack, new_wallet_key())
    answer = confirmed(api, stack, accepted["wallet"])
    forge_contract_state(stack, KEYS_SLOT, accepted["wallet"], digest_from_cid(OTHER_CID))
    assert RegistryChain(stack.anvil.url, stack.registry_address, CHAIN_ID).get_key(accepted["wallet"]) == OTHER_CID

    reason = failure(answer, stack.anvil.url)
    assert reason.code == "contract-mismatch" and OTHER_CID in reason.reason
    offline = verify(answer, None, **pins(stack, accepted["wallet"]))
    assert (offline.onchain, offline.usable()) == (None, False)  # offline, nothing to compare with: never usable


def test_verify_refuses_a_revocation_the_api_hides(api, stack):
    accepted, _ = register(api, stack, new_wallet_key())
    answer = confirmed(api, stack, accepted["wallet"])
    forge_contract_state(stack, REVOKED_SLOT, accepted["wallet"], digest_from_cid(accepted["cid"]))

    assert failure(answer, stack.anvil.url).code == "revocation-mismatch"


def test_an_api_revocation_verifies_once_it_is_on_chain(api, stack):
    wallet_key = new_wallet_key()
    accepted, _ = register(api, stack, wallet_key)
    confirmed(api, stack, accepted["wallet"])
    body = build_revocation(wallet_key, CHAIN_ID, stack.registry_address, 1, accepted["DMTPpubKey"])
    assert post(api, f"/keys/{accepted['wallet']}/revocation", body).status_code == 202

    pending = lookup(api, accepted["wallet"])
    assert pending["revoked"] is True
    assert failure(pending, stack.anvil.url).code == "revocation-mismatch"  # not on chain yet
    allowed = verify(pending, stack.anvil.url, require_onchain=False, **pins(stack, accepted["wallet"], api))
    assert (allowed.revoked, allowed.usable()) == (True, False)
    drain_queue(stack)
    key = verify(lookup(api, accepted["wallet"]), stack.anvil.url, **pins(stack, accepted["wallet"], api))
    assert (key.revoked, key.onchain, key.usable()) == (True, True, False)
    assert key.unusable_reason() == "revoked" and key.to_json()["reason"] == "revoked"


# ---------------------------------------------------------------- verify_answer: the JS client's result, never raising


def test_verify_answer_calls_a_confirmed_key_usable_with_every_check_passed(api, stack):
    # Given: a key registered and confirmed on chain
    accepted, dmtp = register(api, stack, new_wallet_key())
    answer = confirmed(api, stack, accepted["wallet"])

    # When: a third party verifies the lookup answer through its own RPC
    result = verify_answer(answer, stack.anvil.url, **pins(stack, accepted["wallet"], api))

    # Then: usable, every check True, and the key and log position the JS client reports
    assert (result.usable, result.reason, result.detail) == (True, None, None)
    assert result.checks == dict.fromkeys(CHECKS, True)
    assert result.key is not None and (result.key.public_key, result.key.signer_method) == (
        dmtp.public_key_hex,
        "ecdsa",
    )
    assert result.log is not None and result.log.included is True
    assert set(result.to_json()) == {"usable", "reason", "detail", "checks", "key", "log"}


def test_verify_answer_reports_a_revoked_key_as_revoked_before_and_after_the_revocation_reaches_the_chain(api, stack):
    # Given: a confirmed key whose owner revokes it
    wallet_key = new_wallet_key()
    accepted, _ = register(api, stack, wallet_key)
    confirmed(api, stack, accepted["wallet"])
    body = build_revocation(wallet_key, CHAIN_ID, stack.registry_address, 1, accepted["DMTPpubKey"])
    assert post(api, f"/keys/{accepted['wallet']}/revocation", body).status_code == 202

    # When: it is verified while the revocation is only the registry's word, then once the chain holds it
    before = verify_answer(lookup(api, accepted["wallet"]), stack.anvil.url, **pins(stack, accepted["wallet"], api))
    drain_queue(stack)
    after = verify_answer(lookup(api, accepted["wallet"]), stack.anvil.url, **pins(stack, accepted["wallet"], api))

    # Then: both times usable=False, reason 'revoked', the notRevoked check the one that failed
    for result in (before, after):
        assert (result.usable, result.reason) == (False, "revoked"), result.detail
        assert (result.checks["onchain"], result.checks["notRevoked"], result.checks["history"]) == (True, False, None)
    assert "contract says" in after.detail and accepted["wallet"] in after.detail


def test_verify_answer_reports_a_record_not_on_chain_yet_as_not_onchain_and_another_key_as_not_current(api, stack):
    accepted, _ = register(api, stack, new_wallet_key())
    pending = verify_answer(lookup(api, accepted["wallet"]), stack.anvil.url, **pins(stack, accepted["wallet"], api))
    assert (pending.usable, pending.reason, pending.checks["signature"]) == (False, "not-onchain", True)

    answer = confirmed(api, stack, accepted["wallet"])
    forge_contract_state(stack, KEYS_SLOT, accepted["wallet"], digest_from_cid(OTHER_CID))
    other = verify_answer(answer, stack.anvil.url, **pins(stack, accepted["wallet"], api))
    assert (other.usable, other.reason) == (False, "not-current") and OTHER_CID in (other.detail or "")


def test_verify_refuses_an_rpc_of_another_chain(api, stack):
    accepted, _ = register(api, stack, new_wallet_key())
    answer = lookup(api, accepted["wallet"])
    with Anvil(chain_id=CHAIN_ID + 1) as other:
        reason = failure(answer, other.url)
    assert reason.code == "chain-mismatch" and str(CHAIN_ID + 1) in reason.reason


def test_cli_verify_prints_the_key_or_the_reason(api, stack, monkeypatch, capsys):
    accepted, _ = register(api, stack, new_wallet_key())
    answer = confirmed(api, stack, accepted["wallet"])
    served = {"answer": answer}
    monkeypatch.setattr(cli.RegistryClient, "lookup", lambda self, address, as_of=None: served["answer"])
    log = ApiLog(api)
    monkeypatch.setattr(cli.RegistryClient, "log_inclusion", lambda self, *args: log.log_inclusion(*args))
    capsys.readouterr()  # drop what the worker logged to stdout while confirming
    flags = [
        "verify",
        "--api",
        "http://registry.invalid",
        "--rpc",
        stack.anvil.url,
        "--chain-id",
        str(CHAIN_ID),
        "--registry",
        stack.registry_address,
    ]

    assert cli.main([*flags, accepted["wallet"]]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["usable"], printed["reason"], printed["key"]["cid"], printed["checks"]["onchain"]) == (
        True,
        None,
        accepted["cid"],
        True,
    )
    served["answer"] = {**answer, "cid": OTHER_CID}
    assert cli.main([*flags, accepted["wallet"]]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert printed == verify_answer(served["answer"], None, **pins(stack, accepted["wallet"])).to_json()
    assert (printed["usable"], printed["reason"], printed["checks"]["cid"]) == (False, "cid-mismatch", False)


# ---------------------------------------------------------------- the caller's pins, never the server's word


def test_verify_needs_the_wallet_chain_and_registry_pinned_by_the_caller(api, stack):
    accepted, _ = register(api, stack, new_wallet_key())
    answer = confirmed(api, stack, accepted["wallet"])
    with pytest.raises(TypeError):
        verify(answer, stack.anvil.url)  # no pins at all: not a call the client accepts
    for missing in ("wallet", "chain_id", "registry"):
        options = {**pins(stack, accepted["wallet"], api), missing: None}
        assert failure(answer, stack.anvil.url, **options).code == "missing-pin", missing


def test_a_document_for_another_registry_or_chain_than_the_pinned_one_is_refused(api, stack):
    accepted, _ = register(api, stack, new_wallet_key())
    answer = confirmed(api, stack, accepted["wallet"])
    other_registry = wallet_address(new_wallet_key())
    reason = failure(answer, stack.anvil.url, **{**pins(stack, accepted["wallet"], api), "registry": other_registry})
    assert (
        reason.code == "registry-mismatch" and other_registry in reason.reason and accepted["wallet"] in reason.reason
    )
    reason = failure(answer, stack.anvil.url, **{**pins(stack, accepted["wallet"], api), "chain_id": CHAIN_ID + 1})
    assert reason.code == "chain-mismatch" and str(CHAIN_ID + 1) in reason.reason


def test_a_batch_entry_is_checked_against_the_wallet_the_caller_asked_about_not_its_own_address(api, stack):
    asked, _ = register(api, stack, new_wallet_key())
    other, _ = register(api, stack, new_wallet_key())
    drain_queue(stack)
    entries = json.loads(post(api, "/batch-lookup", {"addresses": [other["wallet"]]}).body)["results"]
    # A registry answering the question about `asked` with `other`'s (authentic, on-chain) entry, listed under other's address:
    with pytest.raises(VerificationFailed) as excinfo:
        verify_batch_entry(entries[0], stack.anvil.url, **pins(stack, asked["wallet"], api))
    reason = excinfo.value
    assert reason.code in ("answer-mismatch", "wallet-mismatch") and asked["wallet"] in reason.reason
    # ... or relabelled with the asked-about address: still the other wallet's document.
    with pytest.raises(VerificationFailed) as excinfo:
        verify_batch_entry(
            {**entries[0], "address": asked["wallet"]}, stack.anvil.url, **pins(stack, asked["wallet"], api)
        )
    assert excinfo.value.code in ("answer-mismatch", "wallet-mismatch")


def _cli_register(stack, api_url: str, wallet_key: str, *extra: str) -> int:
    import os

    saved = os.environ.get("DMTP_WALLET_KEY")
    os.environ["DMTP_WALLET_KEY"] = wallet_key
    try:
        return cli.main(["register", "--api", api_url, *extra])
    finally:
        os.environ.pop("DMTP_WALLET_KEY") if saved is None else os.environ.__setitem__("DMTP_WALLET_KEY", saved)


def test_the_cli_refuses_to_register_unless_config_is_what_the_user_pinned(
    stack, monkeypatch, capsys, tmp_path, no_client_config
):
    served_config = {"chainId": CHAIN_ID, "registry": stack.registry_address}
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(cli.RegistryClient, "config", lambda self: dict(served_config))
    monkeypatch.setattr(cli.RegistryClient, "next_version", lambda self, address: 1)
    monkeypatch.setattr(
        cli.RegistryClient,
        "register",
        lambda self, body: sent.append(body) or {"wallet": body["address"], "status": "queued"},
    )
    wallet_key = new_wallet_key()

    with pytest.raises(SystemExit) as refused:  # nothing pinned: refused before any request
        _cli_register(stack, "http://registry.invalid", wallet_key)
    assert usage_error(refused, capsys) == "register needs --chain-id (chainId), --registry (registry)" + PINNING_TAIL
    with pytest.raises(SystemExit) as refused:  # a chain id alone is not enough
        _cli_register(stack, "http://registry.invalid", wallet_key, "--chain-id", str(CHAIN_ID))
    assert usage_error(refused, capsys) == "register needs --registry (registry)" + PINNING_TAIL
    assert sent == []

    served_config["registry"] = wallet_address(new_wallet_key())  # the registry now names another contract
    assert (
        _cli_register(
            stack,
            "http://registry.invalid",
            wallet_key,
            "--chain-id",
            str(CHAIN_ID),
            "--registry",
            stack.registry_address,
        )
        == 1
    )
    assert "refusing to sign" in capsys.readouterr().err and sent == []
    served_config.update(registry=stack.registry_address, chainId=CHAIN_ID + 1)  # ... or another chain
    assert (
        _cli_register(
            stack,
            "http://registry.invalid",
            wallet_key,
            "--chain-id",
            str(CHAIN_ID),
            "--registry",
            stack.registry_address,
        )
        == 1
    )
    assert sent == []

    served_config["chainId"] = CHAIN_ID  # /config matches the pins, given in the client's configuration file
    config_file = tmp_path / "client.json"
    config_file.write_text(json.dumps({"chainId": CHAIN_ID, "registry": stack.registry_address.lower()}))
    assert _cli_register(stack, "http://registry.invalid", wallet_key, "--config", str(config_file)) == 0
    assert len(sent) == 1 and sent[0]["address"] == wallet_address(wallet_key)


def test_cli_verify_has_no_registry_default_from_the_document(stack, capsys, no_client_config):
    with pytest.raises(SystemExit) as refused:
        cli.main(
            [
                "verify",
                "--api",
                "http://registry.invalid",
                "--rpc",
                stack.anvil.url,
                "--chain-id",
                str(CHAIN_ID),
                wallet_address(new_wallet_key()),
            ]
        )
    assert usage_error(refused, capsys) == "verify needs --registry (registry)" + PINNING_TAIL


# ---------------------------------------------------------------- ERC-1271 smart-contract wallets


@pytest.fixture(scope="module")
def compiled() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (REPO_ROOT / "node_modules" / "solc").is_dir():
        pytest.skip("needs node and `npm ci` (solc)")
    request = {"path": "tests/support/contracts/SmartWallet.sol", "contracts": ["SmartWallet", "EchoFallback"]}
    done = subprocess.run(
        [node, "tests/support/js/compile_solidity.js"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def deploy(stack, bytecode: str, constructor: bytes = b"") -> str:
    deployer = DEV_ACCOUNTS[2][0]  # unlocked in Anvil; not the registry's deployer or owner
    tx_hash = stack.anvil.rpc("eth_sendTransaction", [{"from": deployer, "data": bytecode + constructor.hex()}])
    deadline = time.monotonic() + 15
    receipt = stack.anvil.rpc("eth_getTransactionReceipt", [tx_hash])
    while receipt is None and time.monotonic() < deadline:  # mined on arrival, but the receipt can lag a moment
        time.sleep(0.05)
        receipt = stack.anvil.rpc("eth_getTransactionReceipt", [tx_hash])
    assert receipt is not None and int(receipt["status"], 16) == 1
    return to_checksum_address(receipt["contractAddress"])


def test_a_smart_contract_wallet_registers_through_erc1271_and_verifies(api, stack, compiled):
    owner_key = new_wallet_key()
    contract_wallet = deploy(
        stack, compiled["SmartWallet"]["bytecode"], encode(["address"], [wallet_address(owner_key)])
    )

    accepted, dmtp = register(api, stack, owner_key, wallet=contract_wallet, signature_type="eip712")
    assert accepted["wallet"] == contract_wallet
    check = accepted["signerCheck"]
    assert (check["method"], check["chainId"]) == ("erc1271", CHAIN_ID) and isinstance(check["blockNumber"], int)

    answer = confirmed(api, stack, contract_wallet)
    key = verify(answer, stack.anvil.url, **pins(stack, contract_wallet, api))
    assert (key.signer_method, key.onchain, key.public_key) == ("erc1271", True, dmtp.public_key_hex)
    assert key.signer_block is not None and key.signer_block >= check["blockNumber"]
    offline = failure(answer, None)
    assert offline.code == "bad-signature" and "ERC-1271" in offline.reason
    assert open_private_key(answer, owner_key) == dmtp.private_key_hex  # sealed for the owner key that signed

    personal = build_registration(
        owner_key, CHAIN_ID, stack.registry_address, version=2, wallet=contract_wallet, signature_type="eip191"
    )[0]
    assert post(api, "/keys", personal).status_code == 202


def test_a_smart_contract_wallet_refuses_a_signature_by_another_eoa(api, stack, compiled):
    contract_wallet = deploy(
        stack, compiled["SmartWallet"]["bytecode"], encode(["address"], [wallet_address(new_wallet_key())])
    )
    body, _ = build_registration(new_wallet_key(), CHAIN_ID, stack.registry_address, wallet=contract_wallet)

    response = post(api, "/keys", body)
    assert (response.status_code, json.loads(response.body)["code"]) == (401, "invalid-signature")


def test_a_source_past_its_checks_on_chain_per_minute_gets_429_while_its_eoa_writes_pass(
    api, stack, compiled, monkeypatch
):
    import app
    from chalicelib import bootstrap

    contract_wallet = deploy(
        stack, compiled["SmartWallet"]["bytecode"], encode(["address"], [wallet_address(new_wallet_key())])
    )
    monkeypatch.setenv("SOURCE_REQUESTS_PER_MINUTE", "2")
    bootstrap.reset()
    source = f"chain-checks-{time.time_ns()}"  # chalice's test client reports one source for every test
    monkeypatch.setattr(app, "_source", lambda: source)
    forged = [
        build_registration(new_wallet_key(), CHAIN_ID, stack.registry_address, wallet=contract_wallet)[0]
        for _ in range(3)
    ]

    answers = [post(api, "/keys", body) for body in forged]
    eoa = post(api, "/keys", build_registration(new_wallet_key(), CHAIN_ID, stack.registry_address)[0])

    assert [answer.status_code for answer in answers] == [401, 401, 429]
    problem = json.loads(answers[2].body)
    assert (problem["code"], problem["limit"]) == ("quota-exceeded", 2)
    assert 0 < int(answers[2].headers["Retry-After"]) <= 60
    assert eoa.status_code == 202  # its signature needs no check on chain


def test_a_contract_whose_fallback_echoes_calldata_is_not_taken_for_an_erc1271_yes(api, stack, compiled):
    echo = deploy(stack, compiled["EchoFallback"]["bytecode"])
    body, _ = build_registration(new_wallet_key(), CHAIN_ID, stack.registry_address, wallet=echo)
    answer = stack.anvil.rpc("eth_call", [{"to": echo, "data": "0x1626ba7e" + "ab" * 32}, "latest"])
    assert answer.startswith("0x1626ba7e")  # what a check of the first 4 bytes would take for a yes

    response = post(api, "/keys", body)
    assert (response.status_code, json.loads(response.body)["code"]) == (401, "invalid-signature")
    document = json.loads(pinned_document(parse_registration(body), Domain(CHAIN_ID, stack.registry_address)))
    served = refit({"bundle": document, "revoked": False, "status": "confirmed"})  # as if an API had stored it
    assert failure(served, stack.anvil.url).code == "bad-signature"
