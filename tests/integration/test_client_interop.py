"""The reference client (client/) and the server's protocol v2 rules against JS clients nobody here wrote:
ethers v6 (EIP-712 typed data, personal_sign) and @metamask/eth-sig-util (x25519-xsalsa20-poly1305), plus the
`dmtp-eip191-aes256gcm-hkdf-v1` and `dmtp-scrypt-aes256gcm-v1` envelopes written in Node from their specification alone.

Each JS call is one short `node tests/support/js/<script>` process fed a JSON request on stdin (npm devDependencies).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from chalicelib.api.signatures import SignatureVerifier
from dmtp_key_registry_client import passphrase_envelope, wallet_envelope
from dmtp_key_registry_client.envelope import decrypt, encrypt, encryption_public_key, open_envelope, seal
from dmtp_key_registry_client.keys import DmtpKeyPair
from dmtp_key_registry_client.registry_client import build_registration, build_revocation, open_private_key
from dmtp_protocol import eip712
from dmtp_protocol.envelopes import EIP191_AES256GCM_HKDF, SCRYPT_AES256GCM, X25519_XSALSA20_POLY1305, parse_envelope
from dmtp_protocol.errors import InvalidSignature
from dmtp_protocol.ethsig import recover_address
from dmtp_protocol.messages import (
    REGISTRATION_FIELDS,
    REGISTRATION_TYPE,
    REVOCATION_FIELDS,
    REVOCATION_TYPE,
    Domain,
    parse_registration,
    parse_revocation,
    pinned_document,
    registration_message,
    revocation_message,
    signed_text,
    signing_digest,
    typed_data,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")

# Anvil's first two dev accounts: well-known test keys, never funded anywhere that matters.
WALLET_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OTHER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
CHAIN_ID = 31337
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DOMAIN = Domain(CHAIN_ID, REGISTRY)
ENVELOPES = (X25519_XSALSA20_POLY1305, EIP191_AES256GCM_HKDF, SCRYPT_AES256GCM)
UNLOCK = {"chain_id": CHAIN_ID, "registry": REGISTRY, "wallet": WALLET}  # the registration the envelope belongs to
JS_UNLOCK = {"chainId": CHAIN_ID, "registry": REGISTRY, "wallet": WALLET}
PASSPHRASE = "tulip ladder ochre gravity 42 zeppelin"
SIGNATURE_TYPES = ("eip712", "eip191")

pytestmark = pytest.mark.skipif(
    NODE is None
    or not (REPO_ROOT / "node_modules" / "ethers").is_dir()
    or not (REPO_ROOT / "node_modules" / "@metamask" / "eth-sig-util").is_dir(),
    reason="needs node and `npm ci` (ethers, @metamask/eth-sig-util)",
)


def node(script: str, request: dict[str, Any]) -> dict[str, Any]:
    """Run tests/support/js/<script> with `request` on stdin; its JSON answer, or AssertionError with its error."""
    done = subprocess.run(
        [NODE, f"tests/support/js/{script}"],
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


def server_accepts(body: dict[str, Any], domain: Domain = DOMAIN) -> str:
    """What POST /keys does before storing: parse, rebuild the digest for `domain`, check the signer (EOA)."""
    registration = parse_registration(body)
    digest = signing_digest(REGISTRATION_TYPE, registration_message(registration), domain, registration.signature_type)
    return SignatureVerifier(None, domain.chain_id).verify(registration.wallet, digest, registration.signature).method


def registration_typed_data(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    message = registration_message(parse_registration(body))
    return message, typed_data(REGISTRATION_TYPE, message, DOMAIN)


# ---------------------------------------------------------------- signatures: ethers v6


def test_ethers_sign_typed_data_over_a_registration_recovers_the_wallet_through_the_server_path():
    body, _ = build_registration(WALLET_KEY, CHAIN_ID, REGISTRY, version=2, expires_at=int(time.time()) + 3600)
    message, typed = registration_typed_data(body)
    theirs = node("ethers_wallet.js", {"op": "signTypedData", "privateKey": WALLET_KEY, "typedData": typed})

    digest = signing_digest(REGISTRATION_TYPE, message, DOMAIN, "eip712")
    assert theirs["hash"] == "0x" + digest.hex()
    assert (
        theirs["hash"]
        == "0x" + eip712.typed_data_digest(DOMAIN.as_eip712(), REGISTRATION_TYPE, REGISTRATION_FIELDS, message).hex()
    )
    assert recover_address(digest, theirs["signature"]) == WALLET
    # RFC 6979 on both sides: ethers' signature is byte for byte the one the Python client made.
    assert theirs["signature"] == body["Signature"]
    assert server_accepts({**body, "Signature": theirs["signature"]}) == "ecdsa"


def test_ethers_typed_data_hash_of_a_revocation_equals_ours_and_its_signature_recovers():
    public_key = DmtpKeyPair.generate().public_key_hex
    body = build_revocation(WALLET_KEY, CHAIN_ID, REGISTRY, 4, public_key)
    message = revocation_message(parse_revocation(body), public_key)
    typed = typed_data(REVOCATION_TYPE, message, DOMAIN)
    theirs = node("ethers_wallet.js", {"op": "signTypedData", "privateKey": WALLET_KEY, "typedData": typed})

    digest = eip712.typed_data_digest(DOMAIN.as_eip712(), REVOCATION_TYPE, REVOCATION_FIELDS, message)
    assert (
        theirs["hash"] == "0x" + digest.hex() == "0x" + signing_digest(REVOCATION_TYPE, message, DOMAIN, "eip712").hex()
    )
    assert recover_address(digest, theirs["signature"]) == WALLET
    assert theirs["signature"] == body["Signature"]


def test_ethers_sign_message_over_the_personal_sign_text_recovers_through_the_eip191_digest():
    body, _ = build_registration(WALLET_KEY, CHAIN_ID, REGISTRY, signature_type="eip191", key_type="secp256k1")
    message, _ = registration_typed_data(body)
    text = signed_text(REGISTRATION_TYPE, message, DOMAIN)
    theirs = node("ethers_wallet.js", {"op": "signMessage", "privateKey": WALLET_KEY, "message": text})

    assert recover_address(signing_digest(REGISTRATION_TYPE, message, DOMAIN, "eip191"), theirs["signature"]) == WALLET
    assert theirs["signature"] == body["Signature"]
    assert server_accepts({**body, "Signature": theirs["signature"]}) == "ecdsa"


def test_an_ethers_signature_by_another_wallet_is_refused():
    body, _ = build_registration(WALLET_KEY, CHAIN_ID, REGISTRY)
    _, typed = registration_typed_data(body)
    theirs = node("ethers_wallet.js", {"op": "signTypedData", "privateKey": OTHER_KEY, "typedData": typed})

    with pytest.raises(InvalidSignature):
        server_accepts({**body, "Signature": theirs["signature"]})


# ---------------------------------------------------------------- x25519-xsalsa20-poly1305: eth-sig-util


def test_encryption_public_key_matches_eth_sig_util_get_encryption_public_key():
    theirs = node("eth_sig_util.js", {"op": "getEncryptionPublicKey", "privateKey": WALLET_KEY})["publicKey"]

    assert encryption_public_key(wallet_bytes(WALLET_KEY)) == theirs


def test_envelope_from_eth_sig_util_encrypt_opens_with_our_decrypt_and_passes_the_server_checks():
    dmtp_key = DmtpKeyPair.generate().private_key_hex
    public_key = encryption_public_key(wallet_bytes(WALLET_KEY))
    envelope = node("eth_sig_util.js", {"op": "encrypt", "publicKey": public_key, "data": dmtp_key})["envelope"]

    assert decrypt(envelope, wallet_bytes(WALLET_KEY)) == dmtp_key
    assert parse_envelope(envelope) == envelope


def test_envelope_from_our_encrypt_opens_with_eth_sig_util_decrypt():
    plaintext = DmtpKeyPair.generate().private_key_hex
    envelope = encrypt(encryption_public_key(wallet_bytes(WALLET_KEY)), plaintext)

    answer = node("eth_sig_util.js", {"op": "decrypt", "envelope": envelope, "privateKey": WALLET_KEY})
    assert answer["data"] == plaintext


# ---------------------------------------------------------------- dmtp-eip191-aes256gcm-hkdf-v1: Node from the spec


def test_eip191_envelope_sealed_by_the_node_implementation_opens_in_python():
    dmtp_key = DmtpKeyPair.generate("secp256k1").private_key_hex
    envelope = node("eip191_envelope.js", {"op": "seal", "privateKey": WALLET_KEY, "plaintext": dmtp_key, **JS_UNLOCK})[
        "envelope"
    ]

    assert parse_envelope(envelope) == dict(sorted(envelope.items()))
    assert wallet_envelope.decrypt(envelope, WALLET_KEY, **UNLOCK) == dmtp_key
    assert open_envelope(envelope, wallet_bytes(WALLET_KEY), chain_id=CHAIN_ID, registry=REGISTRY) == dmtp_key
    with pytest.raises(ValueError, match="decryption failed"):
        wallet_envelope.decrypt(envelope, OTHER_KEY, **UNLOCK)


def test_eip191_envelope_sealed_in_python_opens_in_the_node_implementation():
    dmtp_key = DmtpKeyPair.generate().private_key_hex
    envelope = wallet_envelope.encrypt(WALLET_KEY, dmtp_key, **UNLOCK)

    assert (
        node("eip191_envelope.js", {"op": "open", "privateKey": WALLET_KEY, "envelope": envelope, **JS_UNLOCK})[
            "plaintext"
        ]
        == dmtp_key
    )


def test_the_unlock_text_names_the_wallet_chain_and_registry_and_its_signature_is_the_one_ethers_makes():
    pre_key = bytes(range(32))
    text = wallet_envelope.unlock_text(pre_key, CHAIN_ID, REGISTRY.lower(), WALLET.lower())
    theirs = node("ethers_wallet.js", {"op": "signMessage", "privateKey": WALLET_KEY, "message": text})

    assert text == node("eip191_envelope.js", {"op": "unlockText", "preKey": pre_key.hex(), **JS_UNLOCK})["text"]
    assert text == (
        "DMTP Key Registry: unlock my DMTP private key.\n\n"
        "Sign this only in a DMTP app: this signature opens your DMTP private key.\n\n"
        f"Wallet: {WALLET}\nChain ID: {CHAIN_ID}\nRegistry: {REGISTRY}\nKey: 0x{pre_key.hex()}"
    )
    assert "0x" + wallet_envelope.personal_sign(WALLET_KEY, text).hex() == theirs["signature"]


@pytest.mark.parametrize(
    "other",
    [{"chain_id": CHAIN_ID + 1}, {"registry": "0x" + "11" * 20}, {"wallet": "0x" + "22" * 20}],
    ids=["another chain", "another registry", "another wallet named"],
)
def test_eip191_envelope_does_not_open_with_a_signature_made_for_another_deployment_or_wallet(other):
    envelope = wallet_envelope.encrypt(WALLET_KEY, DmtpKeyPair.generate().private_key_hex, **UNLOCK)

    with pytest.raises(ValueError, match="decryption failed"):
        wallet_envelope.decrypt(envelope, WALLET_KEY, **{**UNLOCK, **other})


def test_a_signature_of_the_old_unbound_unlock_text_does_not_open_the_envelope():
    envelope = wallet_envelope.encrypt(WALLET_KEY, DmtpKeyPair.generate().private_key_hex, **UNLOCK)
    old_text = (
        "DMTP Key Registry: unlock my DMTP private key.\n\nKey: 0x" + envelope["preKey"]
    )  # the same text Push-style

    def signs_the_old_text(_text: str) -> bytes:
        return wallet_envelope.personal_sign(WALLET_KEY, old_text)

    with pytest.raises(ValueError, match="decryption failed"):
        wallet_envelope.decrypt(envelope, signs_the_old_text, **UNLOCK)


# ---------------------------------------------------------------- dmtp-scrypt-aes256gcm-v1: Node from the spec


def test_passphrase_envelope_sealed_by_the_node_implementation_opens_in_python():
    dmtp_key = DmtpKeyPair.generate("secp256k1").private_key_hex
    envelope = node("passphrase_envelope.js", {"op": "seal", "passphrase": PASSPHRASE, "plaintext": dmtp_key})[
        "envelope"
    ]

    assert parse_envelope(envelope) == dict(sorted(envelope.items()))
    assert passphrase_envelope.decrypt(envelope, PASSPHRASE) == dmtp_key
    assert open_envelope(envelope, passphrase=PASSPHRASE) == dmtp_key
    with pytest.raises(ValueError, match="decryption failed"):
        passphrase_envelope.decrypt(envelope, PASSPHRASE + "!")


def test_passphrase_envelope_sealed_in_python_opens_in_the_node_implementation():
    dmtp_key = DmtpKeyPair.generate().private_key_hex
    envelope = passphrase_envelope.encrypt(
        "caf\u00e9 " + PASSPHRASE, dmtp_key
    )  # composed é; Node is given it decomposed

    assert (
        node("passphrase_envelope.js", {"op": "open", "passphrase": "cafe\u0301 " + PASSPHRASE, "envelope": envelope})[
            "plaintext"
        ]
        == dmtp_key
    )


def test_passphrase_envelope_refuses_costs_beyond_its_bounds_before_any_work():
    envelope = passphrase_envelope.encrypt(PASSPHRASE, DmtpKeyPair.generate().private_key_hex)
    for changes in ({"n": 2**21}, {"n": 2**16}, {"r": 16}, {"p": 5}):
        with pytest.raises(ValueError, match="scrypt"):
            passphrase_envelope.decrypt({**envelope, **changes}, PASSPHRASE)


def test_passphrase_envelope_refuses_a_short_passphrase_when_sealing():
    with pytest.raises(ValueError, match="at least 8"):
        passphrase_envelope.encrypt("hunter2", DmtpKeyPair.generate().private_key_hex)


# ---------------------------------------------------------------- every envelope, Python only


@pytest.mark.parametrize("version", ENVELOPES)
def test_our_envelopes_pass_the_server_checks_and_only_open_for_the_wallet(version):
    dmtp_key = DmtpKeyPair.generate().private_key_hex
    envelope = seal(
        version, wallet_bytes(WALLET_KEY), dmtp_key, chain_id=CHAIN_ID, registry=REGISTRY, passphrase=PASSPHRASE
    )

    assert parse_envelope(envelope) == dict(sorted(envelope.items()))
    assert (
        open_envelope(envelope, wallet_bytes(WALLET_KEY), chain_id=CHAIN_ID, registry=REGISTRY, passphrase=PASSPHRASE)
        == dmtp_key
    )
    with pytest.raises(ValueError, match="decryption failed"):
        open_envelope(
            envelope,
            wallet_bytes(OTHER_KEY),
            chain_id=CHAIN_ID,
            registry=REGISTRY,
            wallet=WALLET,
            passphrase=PASSPHRASE + "?",
        )


def test_a_tampered_eip191_envelope_does_not_open():
    envelope = wallet_envelope.encrypt(WALLET_KEY, DmtpKeyPair.generate().private_key_hex, **UNLOCK)
    for name in ("salt", "nonce", "preKey", "ciphertext"):
        flipped = envelope[name][:-1] + ("0" if envelope[name][-1] != "0" else "1")
        with pytest.raises(ValueError, match="decryption failed"):
            wallet_envelope.decrypt({**envelope, name: flipped}, WALLET_KEY, **UNLOCK)


# ---------------------------------------------------------------- build_registration against the server's checks


@pytest.mark.parametrize("signature_type", SIGNATURE_TYPES)
@pytest.mark.parametrize("envelope", ENVELOPES)
@pytest.mark.parametrize("key_type", ("x25519", "secp256k1"))
def test_build_registration_passes_the_server_checks_and_round_trips_the_private_key(
    signature_type, envelope, key_type
):
    body, dmtp = build_registration(
        WALLET_KEY,
        CHAIN_ID,
        REGISTRY,
        version=1,
        signature_type=signature_type,
        envelope=envelope,
        key_type=key_type,
        passphrase=PASSPHRASE,
    )
    assert server_accepts(body) == "ecdsa"
    assert body["address"] == WALLET and body["keyType"] == key_type and body["signatureType"] == signature_type
    assert (
        body["Signature"].startswith("0x")
        and body["Signature"] == body["Signature"].lower()
        and len(body["Signature"]) == 132
    )
    assert len(body["DMTPpubKey"]) == {"x25519": 66, "secp256k1": 68}[key_type]
    document = json.loads(pinned_document(parse_registration(body), DOMAIN))
    assert (
        open_private_key({"status": "confirmed", "bundle": document}, WALLET_KEY, passphrase=PASSPHRASE)
        == dmtp.private_key_hex
    )


def test_build_registration_of_an_uncompressed_secp256k1_key_signs_and_pins_the_65_byte_form():
    dmtp = DmtpKeyPair.generate("secp256k1", compressed=False)
    body, _ = build_registration(WALLET_KEY, CHAIN_ID, REGISTRY, dmtp=dmtp, key_type="secp256k1")

    assert server_accepts(body) == "ecdsa"
    assert (
        body["DMTPpubKey"] == dmtp.public_key_hex
        and len(body["DMTPpubKey"]) == 2 + 130
        and body["DMTPpubKey"].startswith("0x04")
    )
    document = json.loads(pinned_document(parse_registration(body), DOMAIN))
    assert document["DMTPpubKey"] == dmtp.public_key_hex
    assert open_private_key(document, WALLET_KEY) == dmtp.private_key_hex


@pytest.mark.parametrize("signature_type", SIGNATURE_TYPES)
@pytest.mark.parametrize(
    "other", [Domain(CHAIN_ID + 1, REGISTRY), Domain(CHAIN_ID, "0x" + "11" * 20)], ids=["chain", "registry"]
)
def test_build_registration_is_refused_for_another_chain_or_registry(signature_type, other):
    body, _ = build_registration(WALLET_KEY, CHAIN_ID, REGISTRY, signature_type=signature_type)

    with pytest.raises(InvalidSignature):
        server_accepts(body, other)


def test_open_private_key_refuses_a_key_that_is_not_the_registered_one():
    body, _ = build_registration(WALLET_KEY, CHAIN_ID, REGISTRY)
    document = json.loads(pinned_document(parse_registration(body), DOMAIN))
    document["DMTPpubKey"] = DmtpKeyPair.generate().public_key_hex

    with pytest.raises(ValueError, match="does not belong"):
        open_private_key(document, WALLET_KEY)
