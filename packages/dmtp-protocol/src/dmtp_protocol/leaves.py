"""The transparency log's leaves (docs/PROTOCOL.md section 15): 61 bytes, kind (0x01 key, 0x02 revocation) ||
wallet (20 bytes) || version (uint64 big-endian) || documentHash (SHA-256 of the exact stored document bytes).
"""

import hashlib
from dataclasses import dataclass

LEAF_KIND_KEY = 0x01


LEAF_KIND_REVOCATION = 0x02


LEAF_LENGTH = 61


def leaf_bytes(kind: int, wallet: str, version: int, document_hash: bytes) -> bytes:
    """The 61-byte leaf: kind || wallet || uint64 version || documentHash."""
    address = bytes.fromhex(wallet.removeprefix("0x"))
    if kind not in (LEAF_KIND_KEY, LEAF_KIND_REVOCATION) or len(address) != 20 or len(document_hash) != 32:
        raise ValueError("a leaf needs kind 1 or 2, a 20-byte wallet and a 32-byte document hash")
    return bytes([kind]) + address + version.to_bytes(8, "big") + document_hash


@dataclass(frozen=True)
class Leaf:
    kind: int
    wallet: str  # 0x + 40 lowercase hex
    version: int
    document_hash: bytes

    @classmethod
    def parse(cls, leaf: bytes) -> "Leaf":
        if len(leaf) != LEAF_LENGTH:
            raise ValueError(f"a leaf is {LEAF_LENGTH} bytes, not {len(leaf)}")
        return cls(leaf[0], "0x" + leaf[1:21].hex(), int.from_bytes(leaf[21:29], "big"), leaf[29:61])


def document_hash(document: str) -> bytes:
    return hashlib.sha256(document.encode("utf-8")).digest()
