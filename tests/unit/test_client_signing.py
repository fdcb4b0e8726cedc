"""The client signs as a wallet with coincurve (dmtp_key_registry_client.signing), not eth_account: the signatures
are byte for byte eth_account's (its own EIP-712 / EIP-191 encoding and RFC 6979 signing, kept in the development
venv as the reference) and the ones docs/protocol-vectors.json records, with v = 27/28 and low s."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data

from dmtp_key_registry_client import wallet_envelope
from dmtp_key_registry_client.registry_client import build_registration, build_revocation, wallet_address
from dmtp_key_registry_client.signing import sign_digest, wallet_signature
from dmtp_protocol.ethsig import SECP256K1_N, personal_sign_digest, recover_address
from dmtp_protocol.messages import (
    REGISTRATION_TYPE,
    REVOCATION_TYPE,
    Domain,
    parse_registration,
    registration_message,
    signed_text,
    signing_digest,
    typed_data,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "docs" / "protocol-vectors.json").read_text())
INPUTS = VECTORS["inputs"]
WALLET_KEY = bytes.fromhex(INPUTS["walletPrivateKey"][2:])
DOMAIN = Domain(INPUTS["chainId"], INPUTS["registry"])
SIGNATURE_TYPES = ("eip712", "eip191")
RANDOM_CASES = 64


def eth_account_signature(
    key: bytes, primary: str, message: dict[str, Any], domain: Domain, signature_type: str
) -> str:
    """The reference: eth_account encodes the typed data or the personal_sign text itself, and signs."""
    if signature_type == "eip712":
        signable = encode_typed_data(full_message=typed_data(primary, message, domain))
    else:
        signable = encode_defunct(text=signed_text(primary, message, domain))
    return "0x" + bytes(Account.sign_message(signable, private_key=key).signature).hex()


def random_registration(rng: random.Random) -> tuple[bytes, dict[str, Any], Domain]:
    key = rng.randbytes(32)
    domain = Domain(rng.choice([1, 10, 8453, 31337, 2**63]), "0x" + rng.randbytes(20).hex())
    message = {
        "wallet": wallet_address("0x" + key.hex()),
        "publicKey": "0x" + rng.randbytes(rng.choice([32, 33, 65])).hex(),
        "keyType": rng.choice(["x25519", "secp256k1"]),
        "encryptedPrivateKeyHash": "0x" + rng.randbytes(32).hex(),
        "version": rng.randrange(1, 2**32),
        "issuedAt": rng.randrange(1, 2**40),
        "expiresAt": rng.choice([0, rng.randrange(1, 2**40)]),
    }
    return key, message, domain


def rs_v(signature: str) -> tuple[int, int, int]:
    raw = bytes.fromhex(signature[2:])
    assert len(raw) == 65
    return int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]


@pytest.mark.parametrize(
    "vector",
    [
        VECTORS["registrations"]["eip712"],
        VECTORS["registrations"]["eip191"],
        VECTORS["secp256k1Uncompressed"]["registration"],
    ],
    ids=["eip712", "eip191", "secp256k1-uncompressed"],
)
def test_registration_signatures_are_the_protocol_vectors(vector):
    signature_type = vector["body"]["signatureType"]
    message = registration_message(parse_registration(copy.deepcopy(vector["body"])))
    assert message == vector["message"]
    assert wallet_signature(WALLET_KEY, REGISTRATION_TYPE, message, DOMAIN, signature_type) == vector["signature"]


@pytest.mark.parametrize("signature_type", SIGNATURE_TYPES)
def test_revocation_bodies_carry_the_protocol_vectors_signatures(signature_type):
    vector = VECTORS["revocation"]
    body = build_revocation(
        INPUTS["walletPrivateKey"],
        INPUTS["chainId"],
        INPUTS["registry"],
        revoked_version=vector["message"]["revokedVersion"],
        revoked_public_key=vector["message"]["publicKey"],
        signature_type=signature_type,
        issued_at=vector["message"]["issuedAt"],
    )
    expected = vector["signature"] if signature_type == "eip712" else vector["eip191"]["signature"]
    assert body["Signature"] == expected
    if signature_type == "eip712":
        assert body == vector["body"]


@pytest.mark.parametrize("signature_type", SIGNATURE_TYPES)
def test_random_keys_and_messages_sign_byte_for_byte_as_eth_account(signature_type):
    rng = random.Random(f"client-signing-{signature_type}")
    for _ in range(RANDOM_CASES):
        key, message, domain = random_registration(rng)
        ours = wallet_signature(key, REGISTRATION_TYPE, message, domain, signature_type)
        assert ours == eth_account_signature(key, REGISTRATION_TYPE, message, domain, signature_type)


def test_signatures_are_low_s_with_v_27_or_28_and_recover_to_the_wallet():
    rng = random.Random("client-signing-shape")
    seen_v = set()
    for _ in range(RANDOM_CASES):
        key, message, domain = random_registration(rng)
        signature = wallet_signature(key, REGISTRATION_TYPE, message, domain, "eip712")
        r, s, v = rs_v(signature)
        assert 0 < r < SECP256K1_N and 0 < s <= SECP256K1_N // 2 and v in (27, 28)
        seen_v.add(v)
        digest = signing_digest(REGISTRATION_TYPE, message, domain, "eip712")
        assert recover_address(digest, signature) == message["wallet"]
    assert seen_v == {27, 28}  # both recovery ids occur, and each is written as eth_account writes it


@pytest.mark.parametrize("signature_type", SIGNATURE_TYPES)
def test_a_built_registration_is_signed_as_eth_account_signs_its_message(signature_type):
    key_hex = "0x" + random.Random("client-signing-body").randbytes(32).hex()
    body, _ = build_registration(
        key_hex,
        INPUTS["chainId"],
        INPUTS["registry"],
        signature_type=signature_type,
        envelope="dmtp-eip191-aes256gcm-hkdf-v1",
    )
    message = registration_message(parse_registration(copy.deepcopy(body)))
    assert body["Signature"] == eth_account_signature(
        bytes.fromhex(key_hex[2:]), REGISTRATION_TYPE, message, DOMAIN, signature_type
    )


def test_a_revocation_is_signed_as_eth_account_signs_it():
    rng = random.Random("client-signing-revocation")
    for _ in range(8):
        key = rng.randbytes(32)
        public_key = "0x" + rng.randbytes(32).hex()
        body = build_revocation(
            "0x" + key.hex(), INPUTS["chainId"], INPUTS["registry"], 3, public_key, issued_at=1800000000
        )
        message = {
            "wallet": wallet_address("0x" + key.hex()),
            "publicKey": public_key,
            "revokedVersion": 3,
            "version": 4,
            "issuedAt": 1800000000,
        }
        assert body["Signature"] == eth_account_signature(key, REVOCATION_TYPE, message, DOMAIN, "eip712")


def test_the_unlock_signature_of_the_wallet_envelope_is_eth_accounts_personal_sign():
    vector = VECTORS["envelopes"]["dmtp-eip191-aes256gcm-hkdf-v1"]
    ours = wallet_envelope.personal_sign(WALLET_KEY, vector["unlockText"])
    assert "0x" + ours.hex() == vector["unlockSignature"]
    theirs = Account.sign_message(encode_defunct(text=vector["unlockText"]), private_key=WALLET_KEY).signature
    assert ours == bytes(theirs)


@pytest.mark.parametrize("digest", [b"", b"\x01" * 31, b"\x01" * 33, "0x" + "01" * 32])
def test_only_a_32_byte_digest_is_signed(digest):
    with pytest.raises(ValueError, match="32 bytes"):
        sign_digest(WALLET_KEY, digest)


@pytest.mark.parametrize("key", [b"\0" * 32, SECP256K1_N.to_bytes(32, "big"), b"\xff" * 32])
def test_a_key_outside_the_curve_order_signs_nothing(key):
    with pytest.raises(ValueError, match="secp256k1 private key"):
        sign_digest(key, personal_sign_digest(b"hello"))


def test_an_unknown_signature_type_signs_nothing():
    with pytest.raises(ValueError, match="signature type"):
        wallet_signature(
            WALLET_KEY, REGISTRATION_TYPE, VECTORS["registrations"]["eip712"]["message"], DOMAIN, "eth_sign"
        )


def test_registering_and_revoking_load_neither_eth_account_nor_eth_abi():
    script = (
        "import sys\n"
        "from dmtp_key_registry_client.registry_client import build_registration, build_revocation\n"
        f"body, pair = build_registration({INPUTS['walletPrivateKey']!r}, 31337, {INPUTS['registry']!r})\n"
        f"build_revocation({INPUTS['walletPrivateKey']!r}, 31337, {INPUTS['registry']!r}, 1, pair.public_key_hex)\n"
        "loaded = sorted(name for name in sys.modules if name.split('.')[0] in ('eth_account', 'eth_abi', 'eth_keys', 'web3'))\n"
        "print(loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]", done.stdout
