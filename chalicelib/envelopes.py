"""The two accepted encryptions of the DMTP private key. The server cannot open them; it checks their shape.

The plaintext of both is the DMTP private key as "0x" + 64 lowercase hex characters (66 bytes of UTF-8),
so each ciphertext has one exact length: 66 bytes plus the 16-byte authentication tag.
"""
import base64
import binascii
import re
from typing import Any, Callable

from .errors import InvalidField

X25519_XSALSA20_POLY1305 = "x25519-xsalsa20-poly1305"
EIP191_AES256_GCM_HKDF_SHA256 = "eip191-aes256-gcm-hkdf-sha256"
ENVELOPE_VERSIONS = (X25519_XSALSA20_POLY1305, EIP191_AES256_GCM_HKDF_SHA256)
PLAINTEXT_BYTES = 66  # "0x" + 64 hex digits of a 32-byte private key
TAG_BYTES = 16
CIPHERTEXT_BYTES = PLAINTEXT_BYTES + TAG_BYTES
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")  # always fullmatch: "$" lets a trailing newline through
_HEX = re.compile(r"[0-9a-f]+")
FIELD = "DMTPpriKey"

# version -> {field: (encoding, exact decoded length)}
_SHAPES: dict[str, dict[str, tuple[str, int]]] = {
    X25519_XSALSA20_POLY1305: {
        "nonce": ("base64", 24),
        "ephemPublicKey": ("base64", 32),
        "ciphertext": ("base64", CIPHERTEXT_BYTES),
    },
    EIP191_AES256_GCM_HKDF_SHA256: {
        "salt": ("hex", 32),
        "nonce": ("hex", 12),
        "preKey": ("hex", 32),
        "ciphertext": ("hex", CIPHERTEXT_BYTES),
    },
}


def parse_envelope(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidField(f"{FIELD} must be an object", field=FIELD)
    version = value.get("version")
    if not isinstance(version, str) or version not in _SHAPES:
        raise InvalidField(f"{FIELD}.version must be one of {', '.join(ENVELOPE_VERSIONS)}", field=FIELD)
    shape = _SHAPES[version]
    expected = {"version", *shape}
    if set(value) != expected:
        raise InvalidField(f"{FIELD} ({version}) must have exactly {', '.join(sorted(expected))}", field=FIELD)
    for name, (encoding, length) in shape.items():
        decoded = _DECODERS[encoding](value[name], f"{FIELD}.{name}")
        if len(decoded) != length:
            raise InvalidField(f"{FIELD}.{name} must decode to {length} bytes, got {len(decoded)}", field=FIELD)
    return {name: value[name] for name in sorted(expected)}


def _base64(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not _BASE64.fullmatch(value) or len(value) % 4:
        raise InvalidField(f"{name} must be standard padded base64", field=FIELD)
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise InvalidField(f"{name} must be standard padded base64", field=FIELD) from exc


def _hex(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) % 2:
        raise InvalidField(f"{name} must be lowercase hex without 0x", field=FIELD)
    return bytes.fromhex(value)


_DECODERS: dict[str, Callable[[Any, str], bytes]] = {"base64": _base64, "hex": _hex}
