"""The reference client (client/) against JS clients nobody here wrote: ethers v6 and @metamask/eth-sig-util.

Each JS call is one short `node tests/js/<script>` process fed a JSON request on stdin (npm devDependencies).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from chalicelib.errors import InvalidSignature
from chalicelib.ethsig import personal_sign_digest, recover_address
from chalicelib.protocol import parse_bundle, parse_envelope, pinned_document, registration_message, verify_bundle
from client.envelope import decrypt, encrypt, encryption_public_key
from client.keys import DmtpKeyPair
from client.registry_client import build_registration, open_private_key

REPO_ROOT = Path(__file__).resolve().parent.parent
NODE = shutil.which("node")

# Anvil's first two dev accounts: well-known test keys, never funded anywhere that matters.
WALLET_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OTHER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
CHAIN_ID = 31337
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

pytestmark = pytest.mark.skipif(
    NODE is None or not (REPO_ROOT / "node_modules" / "ethers").is_dir()
    or not (REPO_ROOT / "node_modules" / "@metamask" / "eth-sig-util").is_dir(),
    reason="needs node and `npm ci` (ethers, @metamask/eth-sig-util)",
)


def node(script: str, request: dict[str, Any]) -> dict[str, Any]:
    """Run tests/js/<script> with `request` on stdin; its JSON answer, or AssertionError with its error."""
    done = subprocess.run(
        [NODE, f"tests/js/{script}"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=30,
    )
    assert done.returncode == 0, f"{script} failed ({done.returncode}): {done.stdout} {done.stderr}"
    return json.loads(done.stdout)


def wallet_bytes(key_hex: str) -> bytes:
    return bytes.fromhex(key_hex[2:])


def signed_body(signer_key: str, wallet: str, dmtp: DmtpKeyPair) -> dict[str, Any]:
    """A POST body for `wallet` whose signature ethers made with `signer_key` over the v1 message."""
    message = registration_message(wallet, dmtp.public_key_hex, CHAIN_ID, REGISTRY)
    signature = node("sign_message.js", {"privateKey": signer_key, "message": message})["signature"]
    envelope = encrypt(encryption_public_key(wallet_bytes(WALLET_KEY)), dmtp.private_key_hex)
    return {"address": wallet, "DMTPpubKey": dmtp.public_key_hex, "DMTPpriKey": envelope, "Signature": signature}


def test_ethers_signature_over_the_registration_message_recovers_the_wallet_and_verifies():
    dmtp = DmtpKeyPair.generate()
    body = signed_body(WALLET_KEY, WALLET, dmtp)
    message = registration_message(WALLET, dmtp.public_key_hex, CHAIN_ID, REGISTRY)

    assert recover_address(personal_sign_digest(message.encode("utf-8")), body["Signature"]) == WALLET
    assert verify_bundle(parse_bundle(body), CHAIN_ID, REGISTRY) == message


def test_ethers_signature_by_another_wallet_fails_verification():
    body = signed_body(OTHER_KEY, WALLET, DmtpKeyPair.generate())

    with pytest.raises(InvalidSignature):
        verify_bundle(parse_bundle(body), CHAIN_ID, REGISTRY)


def test_encryption_public_key_matches_eth_sig_util_get_encryption_public_key():
    theirs = node("eth_sig_util.js", {"op": "getEncryptionPublicKey", "privateKey": WALLET_KEY})["publicKey"]

    assert encryption_public_key(wallet_bytes(WALLET_KEY)) == theirs


def test_envelope_from_eth_sig_util_encrypt_opens_with_our_decrypt():
    plaintext = DmtpKeyPair.generate().private_key_hex + " ✓ ünïcode"
    public_key = encryption_public_key(wallet_bytes(WALLET_KEY))
    envelope = node("eth_sig_util.js", {"op": "encrypt", "publicKey": public_key, "data": plaintext})["envelope"]

    assert decrypt(envelope, wallet_bytes(WALLET_KEY)) == plaintext


def test_envelope_from_our_encrypt_opens_with_eth_sig_util_decrypt():
    plaintext = DmtpKeyPair.generate().private_key_hex
    envelope = encrypt(encryption_public_key(wallet_bytes(WALLET_KEY)), plaintext)

    answer = node("eth_sig_util.js", {"op": "decrypt", "envelope": envelope, "privateKey": WALLET_KEY})
    assert answer["data"] == plaintext


def test_our_envelope_passes_the_server_envelope_checks():
    envelope = encrypt(encryption_public_key(wallet_bytes(WALLET_KEY)), DmtpKeyPair.generate().private_key_hex)

    assert parse_envelope(envelope) == envelope


def test_decrypt_with_another_wallet_key_raises_value_error():
    envelope = encrypt(encryption_public_key(wallet_bytes(WALLET_KEY)), "secret")

    with pytest.raises(ValueError, match="decryption failed"):
        decrypt(envelope, wallet_bytes(OTHER_KEY))


def test_build_registration_verifies_for_its_chain_and_registry_and_round_trips_the_private_key():
    body, dmtp = build_registration(WALLET_KEY, CHAIN_ID, REGISTRY)
    bundle = parse_bundle(body)
    message = verify_bundle(bundle, CHAIN_ID, REGISTRY)
    lookup_answer = {"status": "confirmed", "bundle": json.loads(pinned_document(bundle, message, CHAIN_ID, REGISTRY))}

    assert body["address"] == WALLET
    assert open_private_key(lookup_answer, WALLET_KEY) == dmtp.private_key_hex


def test_build_registration_fails_verification_for_another_chain_id():
    body, _ = build_registration(WALLET_KEY, CHAIN_ID, REGISTRY)

    with pytest.raises(InvalidSignature):
        verify_bundle(parse_bundle(body), CHAIN_ID + 1, REGISTRY)
