"""A DMTP key pair: an X25519 (NaCl box) key pair, written as 0x-prefixed lowercase hex."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from nacl.public import PrivateKey

_HEX_32 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class DmtpKeyPair:
    """`DmtpKeyPair()` is a fresh random pair (PyNaCl `PrivateKey.generate()`)."""

    private_key: PrivateKey = field(default_factory=PrivateKey.generate, repr=False)

    @classmethod
    def generate(cls) -> "DmtpKeyPair":
        return cls(PrivateKey.generate())

    @classmethod
    def from_private_key_hex(cls, private_key_hex: str) -> "DmtpKeyPair":
        """From 64 hex digits, with or without 0x."""
        if not isinstance(private_key_hex, str) or not _HEX_32.match(private_key_hex):
            raise ValueError("DMTP private key must be 32 bytes as 64 hex digits (0x optional)")
        digits = private_key_hex[2:] if private_key_hex.startswith("0x") else private_key_hex
        return cls(PrivateKey(bytes.fromhex(digits)))

    @property
    def public_key_hex(self) -> str:
        """The registered `DMTPpubKey`: 0x + 64 lowercase hex."""
        return "0x" + bytes(self.private_key.public_key).hex()

    @property
    def private_key_hex(self) -> str:
        """0x + 64 lowercase hex; this exact string is the plaintext sealed into `DMTPpriKey`."""
        return "0x" + bytes(self.private_key).hex()

    def to_json(self) -> dict[str, str]:
        return {"DMTPpubKey": self.public_key_hex, "DMTPpriKey": self.private_key_hex}
