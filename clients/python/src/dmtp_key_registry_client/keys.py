"""A DMTP key pair, written as 0x-prefixed lowercase hex: X25519 (NaCl box) or secp256k1.

The private key is 32 bytes for both types; its "0x" + 64 lowercase hex form is the exact plaintext sealed into
`DMTPpriKey`. The public key is 32 bytes for X25519; for secp256k1 the 33-byte compressed point, or with
`compressed=False` the 65-byte uncompressed point (04 || x || y) that DMTP's SDK (dmtp-sdk-react) makes. The registry
keeps and pins exactly the form that was signed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

KEY_TYPE_X25519 = "x25519"
KEY_TYPE_SECP256K1 = "secp256k1"
KEY_TYPES = (KEY_TYPE_X25519, KEY_TYPE_SECP256K1)
_HEX_32 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


def _x25519_private_key() -> Any:
    """PyNaCl's X25519 private key class (the [sign] extra's), or an error naming the extra."""
    try:
        from nacl.public import PrivateKey
    except ModuleNotFoundError as exc:
        from dmtp_key_registry_client.extras import missing

        raise missing("an X25519 DMTP key", exc) from exc
    return PrivateKey


def _check_key_type(key_type: str) -> str:
    if key_type not in KEY_TYPES:
        raise ValueError(f"key type must be one of {', '.join(KEY_TYPES)}, not {key_type!r}")
    return key_type


@dataclass(frozen=True)
class DmtpKeyPair:
    """`DmtpKeyPair.generate(key_type)` is a fresh random pair."""

    secret: bytes  # the 32 private-key bytes
    key_type: str = KEY_TYPE_X25519
    compressed: bool = True  # secp256k1 only: False registers the 65-byte uncompressed point

    def __post_init__(self) -> None:
        _check_key_type(self.key_type)
        if not isinstance(self.secret, bytes) or len(self.secret) != 32:
            raise ValueError("DMTP private key must be exactly 32 bytes")
        if self.key_type != KEY_TYPE_SECP256K1 and not self.compressed:
            raise ValueError("only secp256k1 keys have an uncompressed form")
        if self.key_type == KEY_TYPE_SECP256K1:
            from coincurve import PrivateKey

            try:
                PrivateKey(self.secret)  # rejects 0 and values >= the curve order
            except ValueError as exc:
                raise ValueError("not a valid secp256k1 private key (0 or >= the curve order)") from exc

    def __repr__(self) -> str:  # never print the secret
        return f"DmtpKeyPair(key_type={self.key_type!r}, public_key={self.public_key_hex!r})"

    @classmethod
    def generate(cls, key_type: str = KEY_TYPE_X25519, compressed: bool = True) -> DmtpKeyPair:
        _check_key_type(key_type)
        if key_type == KEY_TYPE_SECP256K1:
            from coincurve import PrivateKey as Secp256k1PrivateKey

            return cls(Secp256k1PrivateKey().secret, key_type, compressed)
        return cls(bytes(_x25519_private_key().generate()), key_type)

    @classmethod
    def from_private_key_hex(
        cls, private_key_hex: str, key_type: str = KEY_TYPE_X25519, compressed: bool = True
    ) -> DmtpKeyPair:
        """From 64 hex digits, with or without 0x (e.g. a DMTP SDK user's existing private key)."""
        if not isinstance(private_key_hex, str) or not _HEX_32.match(private_key_hex):
            raise ValueError("DMTP private key must be 32 bytes as 64 hex digits (0x optional)")
        return cls(bytes.fromhex(private_key_hex.removeprefix("0x")), key_type, compressed)

    @property
    def public_key_bytes(self) -> bytes:
        if self.key_type == KEY_TYPE_SECP256K1:
            from coincurve import PrivateKey as Secp256k1PrivateKey

            return Secp256k1PrivateKey(self.secret).public_key.format(compressed=self.compressed)
        return bytes(_x25519_private_key()(self.secret).public_key)

    @property
    def public_key_hex(self) -> str:
        """The registered `DMTPpubKey`: 0x + lowercase hex (32 bytes X25519; 33 or 65 bytes secp256k1)."""
        return "0x" + self.public_key_bytes.hex()

    def has_public_key(self, public_key_hex: str) -> bool:
        """Whether `public_key_hex` is this pair's public key, in either secp256k1 point form."""
        wanted = str(public_key_hex).lower()
        if self.key_type == KEY_TYPE_SECP256K1:
            return wanted in {DmtpKeyPair(self.secret, self.key_type, form).public_key_hex for form in (True, False)}
        return wanted == self.public_key_hex

    @property
    def private_key_hex(self) -> str:
        """0x + 64 lowercase hex; this exact string is the plaintext sealed into `DMTPpriKey`."""
        return "0x" + self.secret.hex()

    def to_json(self) -> dict[str, str]:
        """What `keygen` prints. The raw private key is `dmtpPrivateKeyHex`, never `DMTPpriKey`: in a registration
        that name is the sealed envelope, and this hex must never be sent as it is (`register --dmtp-key` seals it)."""
        return {"keyType": self.key_type, "DMTPpubKey": self.public_key_hex, "dmtpPrivateKeyHex": self.private_key_hex}
