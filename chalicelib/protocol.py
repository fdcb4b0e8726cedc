"""The registration protocol, v1: what a wallet signs, what a valid bundle is, and the document we pin.

Pure functions only. docs/PROTOCOL.md describes the same rules for client authors.
"""
import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import InvalidAddress, InvalidField, InvalidSignature, MalformedRequest
from .ethsig import BadAddress, BadSignature, personal_sign_digest, recover_address, to_checksum_address

DOCUMENT_FORMAT = "dmtp-key-bundle/1"
SIGNATURE_TYPE_PERSONAL_SIGN = "eip191-personal-sign"
KEY_TYPE_X25519 = "x25519"
ENVELOPE_X25519_XSALSA20_POLY1305 = "x25519-xsalsa20-poly1305"
NACL_NONCE_BYTES = 24
X25519_KEY_BYTES = 32
POLY1305_TAG_BYTES = 16
_HEX_32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
ENVELOPE_FIELDS = ("version", "nonce", "ephemPublicKey", "ciphertext")
BUNDLE_FIELDS = {"address", "DMTPpubKey", "DMTPpriKey", "Signature"}


@dataclass(frozen=True)
class Bundle:
    wallet: str  # EIP-55
    dmtp_public_key: str  # 0x + 64 lowercase hex
    encrypted_private_key: dict[str, str]
    signature: str  # 0x + 130 lowercase hex


def registration_message(wallet: str, dmtp_public_key: str, chain_id: int, registry: str) -> str:
    """The exact text the wallet signs with personal_sign (EIP-191)."""
    return (
        "DMTP Key Registry: register this DMTP public key for my wallet.\n"
        "\n"
        f"Wallet: {to_checksum_address(wallet)}\n"
        f"DMTP public key: {dmtp_public_key.lower()}\n"
        f"Key type: {KEY_TYPE_X25519}\n"
        f"Chain ID: {chain_id}\n"
        f"Registry: {to_checksum_address(registry)}"
    )


def parse_bundle(body: Any) -> Bundle:
    """Shape and encoding checks of a POST /keys body; raises a 4xx RegistryError."""
    if not isinstance(body, dict):
        raise MalformedRequest("body must be a JSON object")
    missing = sorted(BUNDLE_FIELDS - body.keys())
    if missing:
        raise MalformedRequest(f"missing field(s): {', '.join(missing)}", fields=missing)
    unknown = sorted(body.keys() - BUNDLE_FIELDS)
    if unknown:
        raise MalformedRequest(f"unknown field(s): {', '.join(unknown)}", fields=unknown)
    wallet = parse_address(body["address"])
    public_key = body["DMTPpubKey"]
    if not isinstance(public_key, str) or not _HEX_32.match(public_key):
        raise InvalidField("DMTPpubKey must be a 32-byte X25519 public key as 0x + 64 hex digits", field="DMTPpubKey")
    envelope = parse_envelope(body["DMTPpriKey"])
    signature = body["Signature"]
    if not isinstance(signature, str):
        raise InvalidField("Signature must be a string", field="Signature")
    return Bundle(wallet, public_key.lower(), envelope, signature.lower() if signature.startswith("0x") else signature)


def parse_address(value: Any) -> str:
    try:
        return to_checksum_address(value)
    except BadAddress as exc:
        raise InvalidAddress(str(exc)) from exc


def parse_envelope(value: Any) -> dict[str, str]:
    """MetaMask / eth-sig-util encryption envelope: NaCl box with an ephemeral X25519 key, base64 fields."""
    field = "DMTPpriKey"
    if not isinstance(value, dict) or set(value.keys()) != set(ENVELOPE_FIELDS):
        raise InvalidField(f"{field} must be an object with exactly {', '.join(ENVELOPE_FIELDS)}", field=field)
    if value["version"] != ENVELOPE_X25519_XSALSA20_POLY1305:
        raise InvalidField(f"{field}.version must be {ENVELOPE_X25519_XSALSA20_POLY1305}", field=field)
    expected_lengths = {"nonce": NACL_NONCE_BYTES, "ephemPublicKey": X25519_KEY_BYTES}
    for name in ("nonce", "ephemPublicKey", "ciphertext"):
        decoded = _decode_base64(value[name], f"{field}.{name}")
        if name in expected_lengths and len(decoded) != expected_lengths[name]:
            raise InvalidField(f"{field}.{name} must decode to {expected_lengths[name]} bytes", field=field)
        if name == "ciphertext" and len(decoded) <= POLY1305_TAG_BYTES:
            raise InvalidField(f"{field}.ciphertext is shorter than its authentication tag", field=field)
    return {name: value[name] for name in ENVELOPE_FIELDS}


def _decode_base64(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not _BASE64.match(value) or len(value) % 4:
        raise InvalidField(f"{name} must be standard padded base64", field=name.split(".")[0])
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise InvalidField(f"{name} must be standard padded base64", field=name.split(".")[0]) from exc


def verify_bundle(bundle: Bundle, chain_id: int, registry: str) -> str:
    """The signed message, once the signature is shown to come from the bundle's wallet."""
    message = registration_message(bundle.wallet, bundle.dmtp_public_key, chain_id, registry)
    try:
        signer = recover_address(personal_sign_digest(message.encode("utf-8")), bundle.signature)
    except BadSignature as exc:
        raise InvalidSignature(str(exc)) from exc
    if signer != bundle.wallet:
        raise InvalidSignature("signature was not made by this wallet over the registration message for this key")
    return message


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant whitespace, UTF-8: the same bytes for the same document, every time."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def pinned_document(bundle: Bundle, message: str, chain_id: int, registry: str) -> bytes:
    """The bytes pinned to IPFS: the seed's fields plus everything a third party needs to re-verify them."""
    return canonical_json(
        {
            "format": DOCUMENT_FORMAT,
            "wallet": bundle.wallet,
            "DMTPpubKey": bundle.dmtp_public_key,
            "keyType": KEY_TYPE_X25519,
            "DMTPpriKey": bundle.encrypted_private_key,
            "Signature": bundle.signature,
            "signatureType": SIGNATURE_TYPE_PERSONAL_SIGN,
            "message": message,
            "chainId": chain_id,
            "registry": to_checksum_address(registry),
        }
    )
