"""The three accepted encryptions of the DMTP private key. The server cannot open them; it checks their shape.

The plaintext of each is the DMTP private key as "0x" + 64 lowercase hex characters (66 bytes of UTF-8),
so each ciphertext has one exact length: 66 bytes plus the 16-byte authentication tag.

* `x25519-xsalsa20-poly1305`: MetaMask eth_getEncryptionPublicKey / eth_decrypt (eth-sig-util `encrypt`);
* `dmtp-eip191-aes256gcm-hkdf-v1`: AES-256-GCM under HKDF of the wallet's personal_sign of an unlock text bound to
  the chain, the registry and the wallet (EOAs: it needs deterministic RFC 6979 signatures);
* `dmtp-scrypt-aes256gcm-v1`: AES-256-GCM under scrypt of a passphrase (any wallet, smart wallets included).

The scrypt cost is bounded on both sides: at least Web3 Secret Storage's n = 2^17, r = 8, p = 1, so a stored
envelope is never cheap to guess, and at most n = 2^20, p = 4, so an envelope cannot make a client that opens it
spend more than 1 GiB (128 * n * r bytes) or a few seconds.
"""

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from dmtp_protocol.errors import InvalidField

X25519_XSALSA20_POLY1305 = "x25519-xsalsa20-poly1305"
EIP191_AES256GCM_HKDF = "dmtp-eip191-aes256gcm-hkdf-v1"
SCRYPT_AES256GCM = "dmtp-scrypt-aes256gcm-v1"
ENVELOPE_VERSIONS = (X25519_XSALSA20_POLY1305, EIP191_AES256GCM_HKDF, SCRYPT_AES256GCM)
PLAINTEXT_BYTES = 66  # "0x" + 64 hex digits of a 32-byte private key
TAG_BYTES = 16
CIPHERTEXT_BYTES = PLAINTEXT_BYTES + TAG_BYTES
SCRYPT_LOG2_N_RANGE = (17, 20)  # n = 2^17 (131072) ... 2^20 (1048576), a power of two
SCRYPT_R = 8
SCRYPT_P_RANGE = (1, 4)
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")  # always fullmatch: "$" lets a trailing newline through
_HEX = re.compile(r"[0-9a-f]+")
FIELD = "DMTPpriKey"

# version -> {field: (encoding, exact decoded length)}; "int" members carry (allowed values) instead
_SHAPES: dict[str, dict[str, tuple[str, Any]]] = {
    X25519_XSALSA20_POLY1305: {
        "nonce": ("base64", 24),
        "ephemPublicKey": ("base64", 32),
        "ciphertext": ("base64", CIPHERTEXT_BYTES),
    },
    EIP191_AES256GCM_HKDF: {
        "salt": ("hex", 32),
        "nonce": ("hex", 12),
        "preKey": ("hex", 32),
        "ciphertext": ("hex", CIPHERTEXT_BYTES),
    },
    SCRYPT_AES256GCM: {
        "n": ("int", tuple(2**e for e in range(SCRYPT_LOG2_N_RANGE[0], SCRYPT_LOG2_N_RANGE[1] + 1))),
        "r": ("int", (SCRYPT_R,)),
        "p": ("int", tuple(range(SCRYPT_P_RANGE[0], SCRYPT_P_RANGE[1] + 1))),
        "salt": ("hex", 32),
        "nonce": ("hex", 12),
        "ciphertext": ("hex", CIPHERTEXT_BYTES),
    },
}


def parse_envelope(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidField(f"{FIELD} must be an object", field=FIELD)
    version = value.get("version")
    if not isinstance(version, str) or version not in _SHAPES:
        raise InvalidField(f"{FIELD}.version must be one of {', '.join(ENVELOPE_VERSIONS)}", field=FIELD)
    shape = _SHAPES[version]
    expected = {"version", *shape}
    if set(value) != expected:
        raise InvalidField(f"{FIELD} ({version}) must have exactly {', '.join(sorted(expected))}", field=FIELD)
    parsed = {name: value[name] for name in sorted(expected)}
    for name, (encoding, rule) in shape.items():
        if encoding == "int":
            parsed[name] = _allowed_int(value[name], f"{FIELD}.{name}", rule)
            continue
        decoded = _DECODERS[encoding](value[name], f"{FIELD}.{name}")
        if len(decoded) != rule:
            raise InvalidField(f"{FIELD}.{name} must decode to {rule} bytes, got {len(decoded)}", field=FIELD)
    return parsed


def _allowed_int(value: Any, name: str, allowed: tuple[int, ...]) -> int:
    """The integer, as JSON means it: 1.0 is the integer 1 (JSON Schema and JavaScript agree), kept as 1."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        shown = str(allowed[0]) if len(allowed) == 1 else f"one of {', '.join(map(str, allowed))}"
        raise InvalidField(f"{name} must be the integer {shown}", field=FIELD)
    return value


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
