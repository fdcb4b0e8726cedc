"""The registration protocol: what a wallet signs, what a valid bundle is, and the document we pin.

Pure functions only; docs/PROTOCOL.md states the same rules, with test vectors, for client authors.
Every check fails closed: anything not explicitly allowed is a 4xx.
"""

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dmtp_protocol import eip712
from dmtp_protocol.canonical import canonical_json
from dmtp_protocol.envelopes import parse_envelope
from dmtp_protocol.errors import InvalidAddress, InvalidField, MalformedRequest, SignatureExpired, SignatureNotYetValid
from dmtp_protocol.ethsig import BadAddress, keccak256, personal_sign_digest, to_checksum_address

DOCUMENT_FORMAT = "dmtp-key-bundle/2"


DOMAIN_NAME = "DMTP Key Registry"


DOMAIN_VERSION = "1"


SIGNATURE_EIP712 = "eip712"


SIGNATURE_EIP191 = "eip191"


SIGNATURE_TYPES = (SIGNATURE_EIP712, SIGNATURE_EIP191)


KEY_TYPE_X25519 = "x25519"


KEY_TYPE_SECP256K1 = "secp256k1"


KEY_LENGTHS = {
    KEY_TYPE_X25519: (32,),
    KEY_TYPE_SECP256K1: (33, 65),
}  # secp256k1: compressed (02/03) or uncompressed (04)


MAX_SAFE_INTEGER = 2**53 - 1  # uint64 fields travel as JSON numbers: keep them exact in JavaScript


MAX_SIGNATURE_BYTES = 2048  # ERC-1271 wallets may return long signatures; EOAs sign 65 bytes


_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})*")  # always fullmatch: "$" lets a trailing newline through


REGISTRATION_TYPE = "KeyRegistration"


REGISTRATION_FIELDS: eip712.Fields = (
    ("wallet", "address"),
    ("publicKey", "bytes"),
    ("keyType", "string"),
    ("encryptedPrivateKeyHash", "bytes32"),
    ("version", "uint64"),
    ("issuedAt", "uint64"),
    ("expiresAt", "uint64"),
)


REVOCATION_TYPE = "KeyRevocation"


REVOCATION_FIELDS: eip712.Fields = (
    ("wallet", "address"),
    ("publicKey", "bytes"),
    ("revokedVersion", "uint64"),
    ("version", "uint64"),
    ("issuedAt", "uint64"),
)


REGISTRATION_BODY = {
    "address",
    "keyType",
    "DMTPpubKey",
    "DMTPpriKey",
    "version",
    "issuedAt",
    "signatureType",
    "Signature",
}


REGISTRATION_OPTIONAL = {"expiresAt"}


REVOCATION_BODY = {"address", "revokedVersion", "version", "issuedAt", "signatureType", "Signature"}


@dataclass(frozen=True)
class Registration:
    wallet: str  # EIP-55
    key_type: str
    public_key: str  # 0x + lowercase hex
    envelope: dict[str, Any]
    version: int
    issued_at: int
    expires_at: int  # 0: no expiry
    signature_type: str
    signature: str  # 0x + lowercase hex


@dataclass(frozen=True)
class Revocation:
    wallet: str
    revoked_version: int
    version: int
    issued_at: int
    signature_type: str
    signature: str


@dataclass(frozen=True)
class Domain:
    chain_id: int
    registry: str  # EIP-55 contract address

    def as_eip712(self) -> dict[str, Any]:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": self.registry,
        }


@dataclass(frozen=True)
class ClockRules:
    max_age_s: int = 900
    max_skew_s: int = 120


def parse_registration(body: Any) -> Registration:
    fields = _check_keys(body, REGISTRATION_BODY, REGISTRATION_OPTIONAL)
    key_type = fields["keyType"]
    if not isinstance(key_type, str) or key_type not in KEY_LENGTHS:
        raise InvalidField(f"keyType must be one of {', '.join(KEY_LENGTHS)}", field="keyType")
    return Registration(
        wallet=parse_address(fields["address"]),
        key_type=key_type,
        public_key=parse_public_key(key_type, fields["DMTPpubKey"]),
        envelope=parse_envelope(fields["DMTPpriKey"]),
        version=_positive_int(fields, "version"),
        issued_at=_positive_int(fields, "issuedAt"),
        expires_at=_positive_int(fields, "expiresAt", allow_zero=True) if "expiresAt" in fields else 0,
        signature_type=_signature_type(fields["signatureType"]),
        signature=_signature_hex(fields["Signature"]),
    )


def parse_revocation(body: Any) -> Revocation:
    fields = _check_keys(body, REVOCATION_BODY, set())
    revocation = Revocation(
        wallet=parse_address(fields["address"]),
        revoked_version=_positive_int(fields, "revokedVersion"),
        version=_positive_int(fields, "version"),
        issued_at=_positive_int(fields, "issuedAt"),
        signature_type=_signature_type(fields["signatureType"]),
        signature=_signature_hex(fields["Signature"]),
    )
    return revocation


def check_revocation_version(revocation: Revocation) -> None:
    """version = revokedVersion + 1: a rule between two members, checked once the revoked key is known to exist."""
    if revocation.version != revocation.revoked_version + 1:
        raise InvalidField("a revocation's version must be revokedVersion + 1", field="version")


def _check_keys(body: Any, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedRequest("body must be a JSON object")
    missing = sorted(required - body.keys())
    if missing:
        raise MalformedRequest(f"missing field(s): {', '.join(missing)}", fields=missing)
    unknown = sorted(body.keys() - required - optional)
    if unknown:
        raise MalformedRequest(f"unknown field(s): {', '.join(unknown)}", fields=unknown)
    return body


def parse_address(value: Any) -> str:
    try:
        return to_checksum_address(value)
    except BadAddress as exc:
        raise InvalidAddress(str(exc)) from exc


def parse_public_key(key_type: str, value: Any) -> str:
    """The key as submitted, lowercased: a secp256k1 key stays in the form the wallet signed (33-byte compressed or
    65-byte uncompressed, as DMTP's own SDK makes it); it is checked on the curve, never re-encoded."""
    lengths = KEY_LENGTHS[key_type]
    if not isinstance(value, str) or not _HEX.fullmatch(value) or (len(value) - 2) // 2 not in lengths:
        forms = " or ".join(f"{length}-byte" for length in lengths)
        raise InvalidField(f"DMTPpubKey must be a {forms} {key_type} key as 0x + hex", field="DMTPpubKey")
    raw = bytes.fromhex(value[2:])
    if key_type == KEY_TYPE_X25519 and _is_small_order_x25519(raw):
        raise InvalidField("DMTPpubKey is a small-order X25519 point (no shared secret possible)", field="DMTPpubKey")
    if key_type == KEY_TYPE_SECP256K1:
        if len(raw) == 33 and raw[0] not in (2, 3):
            raise InvalidField(
                "a 33-byte secp256k1 DMTPpubKey must be compressed (prefix 02 or 03)", field="DMTPpubKey"
            )
        if len(raw) == 65 and raw[0] != 4:
            raise InvalidField("a 65-byte secp256k1 DMTPpubKey must be uncompressed (prefix 04)", field="DMTPpubKey")
    return value.lower()


def check_point(registration: Registration) -> None:
    """A secp256k1 key must be a point on the curve. Checked apart from parsing, after the signature: whether a
    random x has a y is a rule no request schema can state, so a client learns it only once its signature holds."""
    if registration.key_type != KEY_TYPE_SECP256K1:
        return
    from coincurve import PublicKey  # loaded on first use (ethsig.py says why)

    try:
        PublicKey(bytes.fromhex(registration.public_key[2:]))
    except ValueError as exc:
        raise InvalidField("DMTPpubKey is not a point on secp256k1", field="DMTPpubKey") from exc


def _is_small_order_x25519(raw: bytes) -> bool:
    """RFC 7748 section 6.1: a small-order point gives the all-zero shared secret, which cryptography refuses."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

    try:
        X25519PrivateKey.generate().exchange(X25519PublicKey.from_public_bytes(raw))
    except ValueError:
        return True
    return False


def _positive_int(fields: Mapping[str, Any], name: str, allow_zero: bool = False) -> int:
    value = fields[name]
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_SAFE_INTEGER:
        value = int(value)  # JSON (and JSON Schema's "integer") does not tell 7 from 7.0
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < (0 if allow_zero else 1)
        or value > MAX_SAFE_INTEGER
    ):
        raise InvalidField(f"{name} must be an integer from {0 if allow_zero else 1} to 2^53-1", field=name)
    return value


def _signature_type(value: Any) -> str:
    if not isinstance(value, str) or value not in SIGNATURE_TYPES:
        raise InvalidField(f"signatureType must be one of {', '.join(SIGNATURE_TYPES)}", field="signatureType")
    return value


def _signature_hex(value: Any) -> str:
    if not isinstance(value, str) or not _HEX.fullmatch(value) or not 2 < len(value) <= 2 + 2 * MAX_SIGNATURE_BYTES:
        raise InvalidField(f"Signature must be 0x + hex, 1 to {MAX_SIGNATURE_BYTES} bytes", field="Signature")
    return value.lower()


def check_clock(issued_at: int, expires_at: int, now: int, rules: ClockRules) -> None:
    """The signature's validity window. Every failure is a 401 (like a bad signature): the schema of the request
    cannot state rules relative to the server's clock, so they belong with the signature checks."""
    if issued_at > now + rules.max_skew_s:
        raise SignatureNotYetValid(
            f"issuedAt is more than {rules.max_skew_s} s in the future; check the clock", field="issuedAt"
        )
    if issued_at < now - rules.max_age_s:
        raise SignatureExpired(f"issuedAt is older than {rules.max_age_s} s; sign again", field="issuedAt")
    if expires_at:
        if expires_at <= issued_at:
            raise SignatureExpired(
                "expiresAt must be after issuedAt (the signature was never valid)", field="expiresAt"
            )
        if expires_at <= now:
            raise SignatureExpired("the signature has expired (expiresAt is in the past)", field="expiresAt")


def envelope_hash(envelope: Mapping[str, Any]) -> str:
    return "0x" + keccak256(canonical_json(envelope)).hex()


def registration_message(registration: Registration) -> dict[str, Any]:
    """The EIP-712 message (and the fields of the personal_sign text)."""
    return {
        "wallet": registration.wallet,
        "publicKey": registration.public_key,
        "keyType": registration.key_type,
        "encryptedPrivateKeyHash": envelope_hash(registration.envelope),
        "version": registration.version,
        "issuedAt": registration.issued_at,
        "expiresAt": registration.expires_at,
    }


def revocation_message(revocation: Revocation, revoked_public_key: str) -> dict[str, Any]:
    return {
        "wallet": revocation.wallet,
        "publicKey": revoked_public_key,
        "revokedVersion": revocation.revoked_version,
        "version": revocation.version,
        "issuedAt": revocation.issued_at,
    }


def _iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def registration_text(message: Mapping[str, Any], domain: Domain) -> str:
    """The human-readable EIP-191 personal_sign form of a registration (SIWE-like, one field a line)."""
    expiry = _iso(message["expiresAt"]) if message["expiresAt"] else "never"
    return (
        "DMTP Key Registry: register this DMTP messaging key for my wallet.\n"
        "\n"
        f"Wallet: {message['wallet']}\n"
        f"Public key: {message['publicKey']}\n"
        f"Key type: {message['keyType']}\n"
        f"Encrypted private key hash: {message['encryptedPrivateKeyHash']}\n"
        f"Version: {message['version']}\n"
        f"Chain ID: {domain.chain_id}\n"
        f"Registry: {domain.registry}\n"
        f"Issued At: {_iso(message['issuedAt'])}\n"
        f"Expiration Time: {expiry}"
    )


def revocation_text(message: Mapping[str, Any], domain: Domain) -> str:
    return (
        "DMTP Key Registry: revoke this DMTP messaging key of my wallet.\n"
        "\n"
        f"Wallet: {message['wallet']}\n"
        f"Public key: {message['publicKey']}\n"
        f"Revoked version: {message['revokedVersion']}\n"
        f"Version: {message['version']}\n"
        f"Chain ID: {domain.chain_id}\n"
        f"Registry: {domain.registry}\n"
        f"Issued At: {_iso(message['issuedAt'])}"
    )


_KINDS = {
    REGISTRATION_TYPE: (REGISTRATION_FIELDS, registration_text),
    REVOCATION_TYPE: (REVOCATION_FIELDS, revocation_text),
}


def typed_data(primary: str, message: Mapping[str, Any], domain: Domain) -> dict[str, Any]:
    return eip712.typed_data_json(domain.as_eip712(), primary, _KINDS[primary][0], message)


def signed_text(primary: str, message: Mapping[str, Any], domain: Domain) -> str:
    return _KINDS[primary][1](message, domain)


def signing_digest(primary: str, message: Mapping[str, Any], domain: Domain, signature_type: str) -> bytes:
    """The 32 bytes the wallet's signature covers, for either allowed signature type."""
    if signature_type == SIGNATURE_EIP712:
        return eip712.typed_data_digest(domain.as_eip712(), primary, _KINDS[primary][0], message)
    if signature_type == SIGNATURE_EIP191:
        return personal_sign_digest(signed_text(primary, message, domain).encode("utf-8"))
    raise InvalidField(f"signatureType must be one of {', '.join(SIGNATURE_TYPES)}", field="signatureType")


def pinned_document(registration: Registration, domain: Domain) -> bytes:
    """The bytes pinned to IPFS: everything a third party needs to re-verify the bundle with docs/PROTOCOL.md."""
    return canonical_json(
        {
            "format": DOCUMENT_FORMAT,
            "wallet": registration.wallet,
            "keyType": registration.key_type,
            "DMTPpubKey": registration.public_key,
            "DMTPpriKey": registration.envelope,
            "version": registration.version,
            "issuedAt": registration.issued_at,
            "expiresAt": registration.expires_at,
            "signatureType": registration.signature_type,
            "Signature": registration.signature,
            "chainId": domain.chain_id,
            "registry": domain.registry,
        }
    )


def registration_from_document(document: Mapping[str, Any]) -> tuple[Registration, Domain]:
    """Reads a pinned document back (third-party verification); raises on anything malformed."""
    if document.get("format") != DOCUMENT_FORMAT:
        raise InvalidField(f"document format must be {DOCUMENT_FORMAT}", field="format")
    body = {
        "address": document["wallet"],
        "keyType": document["keyType"],
        "DMTPpubKey": document["DMTPpubKey"],
        "DMTPpriKey": document["DMTPpriKey"],
        "version": document["version"],
        "issuedAt": document["issuedAt"],
        "expiresAt": document["expiresAt"],
        "signatureType": document["signatureType"],
        "Signature": document["Signature"],
    }
    registration = parse_registration(body)
    check_point(registration)
    return registration, Domain(int(document["chainId"]), parse_address(document["registry"]))
