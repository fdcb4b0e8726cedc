"""A DMTP key pair, written as 0x-prefixed lowercase hex: X25519 (NaCl box) or secp256k1 (compressed point).

The private key is 32 bytes for both types; its "0x" + 64 lowercase hex form is the exact plaintext sealed into
`DMTPpriKey`. The public key is 32 bytes for X25519 and the 33-byte compressed point for secp256k1.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

KEY_TYPE_X25519 = "x25519"
KEY_TYPE_SECP256K1 = "secp256k1"
KEY_TYPES = (KEY_TYPE_X25519, KEY_TYPE_SECP256K1)
_HEX_32 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


def _check_key_type(key_type: str) -> str:
    if key_type not in KEY_TYPES:
        raise ValueError(f"key type must be one of {', '.join(KEY_TYPES)}, not {key_type!r}")
    return key_type


@dataclass(frozen=True)
class DmtpKeyPair:
    """`DmtpKeyPair.generate(key_type)` is a fresh random pair."""

    secret: bytes  # the 32 private-key bytes
    key_type: str = KEY_TYPE_X25519

    def __post_init__(self) -> None:
        _check_key_type(self.key_type)
        if not isinstance(self.secret, bytes) or len(self.secret) != 32:
            raise ValueError("DMTP private key must be exactly 32 bytes")
        if self.key_type == KEY_TYPE_SECP256K1:
            from coincurve import PrivateKey

            try:
                PrivateKey(self.secret)  # rejects 0 and values >= the curve order
            except ValueError as exc:
                raise ValueError("not a valid secp256k1 private key (0 or >= the curve order)") from exc

    def __repr__(self) -> str:  # never print the secret
        return f"DmtpKeyPair(key_type={self.key_type!r}, public_key={self.public_key_hex!r})"

    @classmethod
    def generate(cls, key_type: str = KEY_TYPE_X25519) -> "DmtpKeyPair":
        _check_key_type(key_type)
        if key_type == KEY_TYPE_SECP256K1:
            from coincurve import PrivateKey as Secp256k1PrivateKey

            return cls(Secp256k1PrivateKey().secret, key_type)
        from nacl.public import PrivateKey as X25519PrivateKey

        return cls(bytes(X25519PrivateKey.generate()), key_type)

    @classmethod
    def from_private_key_hex(cls, private_key_hex: str, key_type: str = KEY_TYPE_X25519) -> "DmtpKeyPair":
        """From 64 hex digits, with or without 0x."""
        if not isinstance(private_key_hex, str) or not _HEX_32.match(private_key_hex):
            raise ValueError("DMTP private key must be 32 bytes as 64 hex digits (0x optional)")
        return cls(bytes.fromhex(private_key_hex.removeprefix("0x")), key_type)

    @property
    def public_key_bytes(self) -> bytes:
        if self.key_type == KEY_TYPE_SECP256K1:
            from coincurve import PrivateKey as Secp256k1PrivateKey

            return Secp256k1PrivateKey(self.secret).public_key.format(compressed=True)
        from nacl.public import PrivateKey as X25519PrivateKey

        return bytes(X25519PrivateKey(self.secret).public_key)

    @property
    def public_key_hex(self) -> str:
        """The registered `DMTPpubKey`: 0x + lowercase hex (32 bytes X25519, 33 bytes compressed secp256k1)."""
        return "0x" + self.public_key_bytes.hex()

    @property
    def private_key_hex(self) -> str:
        """0x + 64 lowercase hex; this exact string is the plaintext sealed into `DMTPpriKey`."""
        return "0x" + self.secret.hex()

    def to_json(self) -> dict[str, str]:
        return {"keyType": self.key_type, "DMTPpubKey": self.public_key_hex, "DMTPpriKey": self.private_key_hex}
