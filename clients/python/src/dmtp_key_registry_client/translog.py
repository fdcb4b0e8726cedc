"""The client's own check of the registry's transparency log (RFC 9162 section 2.1; docs/PROTOCOL.md, the log).

Deliberately standalone: standard library only, no import of the server's code (chalicelib), so what the client
trusts is this file and the RFC, not the registry it checks.

- leaf bytes (61, fixed): kind (0x01 key registration, 0x02 revocation) || wallet (20) || version (uint64 BE)
  || documentHash (32: SHA-256 of the record's exact document bytes);
- leaf hash = SHA-256(0x00 || leaf bytes); node hash = SHA-256(0x01 || left || right); empty root = SHA-256("").

The verifiers return False for any bad proof (never raise on what the registry sent), so callers fail closed
with their own reason. `TreeBuilder` rebuilds roots incrementally (O(log n) state) for the auditor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

KIND_KEY = 0x01
KIND_REVOCATION = 0x02
KIND_NAMES = {KIND_KEY: "key", KIND_REVOCATION: "revocation"}
KINDS_BY_NAME = {name: kind for kind, name in KIND_NAMES.items()}
LEAF_LENGTH = 1 + 20 + 8 + 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_VERSION = (1 << 64) - 1


@dataclass(frozen=True)
class Leaf:
    kind: int  # KIND_KEY or KIND_REVOCATION
    wallet: str  # 0x + 40 lowercase hex (compare case-insensitively with EIP-55 forms)
    version: int
    document_hash: bytes  # 32 bytes

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]

    def to_bytes(self) -> bytes:
        return leaf_bytes(self.kind, self.wallet, self.version, self.document_hash)


def _address_bytes(wallet: str) -> bytes:
    if not isinstance(wallet, str) or len(wallet) != 42 or wallet[:2] not in ("0x", "0X"):
        raise ValueError(f"not an address: {wallet!r}")
    return bytes.fromhex(wallet[2:])


def leaf_bytes(kind: int, wallet: str, version: int, document_hash: bytes) -> bytes:
    """The 61-byte leaf the log holds for a record; ValueError when a part is out of range."""
    if kind not in KIND_NAMES:
        raise ValueError(f"leaf kind must be 1 (key) or 2 (revocation), not {kind!r}")
    if not isinstance(version, int) or not 0 <= version <= MAX_VERSION:
        raise ValueError(f"version must be a uint64, not {version!r}")
    if not isinstance(document_hash, (bytes, bytearray)) or len(document_hash) != 32:
        raise ValueError("documentHash must be 32 bytes")
    return bytes([kind]) + _address_bytes(wallet) + version.to_bytes(8, "big") + bytes(document_hash)


def parse_leaf(raw: bytes) -> Leaf:
    """The parts of a 61-byte leaf; ValueError on any other length or an unknown kind."""
    if len(raw) != LEAF_LENGTH:
        raise ValueError(f"a leaf is {LEAF_LENGTH} bytes, not {len(raw)}")
    if raw[0] not in KIND_NAMES:
        raise ValueError(f"unknown leaf kind {raw[0]}")
    return Leaf(raw[0], "0x" + raw[1:21].hex(), int.from_bytes(raw[21:29], "big"), raw[29:61])


def document_hash(document_bytes: bytes) -> bytes:
    return hashlib.sha256(document_bytes).digest()


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class TreeBuilder:
    """Appends leaf hashes one by one and gives the RFC 9162 root of everything appended so far.

    Keeps only the roots of the perfect subtrees the current size decomposes into (one per set bit of the
    size, largest first), so memory is O(log n) whatever the log's length."""

    def __init__(self) -> None:
        self.size = 0
        self._peaks: list[bytes] = []  # roots of perfect subtrees, left to right, strictly decreasing sizes

    @classmethod
    def resume(cls, size: int, peaks: Sequence[bytes]) -> TreeBuilder:
        """A builder holding `size` leaves whose frontier is `peaks` (as `peaks` gave it); ValueError unless there
        is one 32-byte peak per set bit of `size`."""
        if not isinstance(size, int) or size < 0 or len(peaks) != bin(size).count("1"):
            raise ValueError(f"a frontier of {size} leaves has {bin(max(size, 0)).count('1')} peaks, not {len(peaks)}")
        if any(not isinstance(peak, (bytes, bytearray)) or len(peak) != 32 for peak in peaks):
            raise ValueError("a peak is 32 bytes")
        builder = cls()
        builder.size = size
        builder._peaks = [bytes(peak) for peak in peaks]
        return builder

    @property
    def peaks(self) -> list[bytes]:
        """The frontier: the roots of the perfect subtrees the leaves so far decompose into, largest first."""
        return list(self._peaks)

    def append(self, leaf_hash_: bytes) -> None:
        node = leaf_hash_
        size = self.size
        while size & 1:  # merge equal-sized perfect subtrees, as binary addition carries
            node = node_hash(self._peaks.pop(), node)
            size >>= 1
        self._peaks.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self._peaks:
            return EMPTY_ROOT
        node = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):  # RFC 9162's split puts the smaller subtrees on the right
            node = node_hash(peak, node)
        return node


def root(leaf_hashes: Iterable[bytes]) -> bytes:
    builder = TreeBuilder()
    for item in leaf_hashes:
        builder.append(item)
    return builder.root()


def root_from_inclusion(leaf_hash_: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root an inclusion proof leads to (RFC 9162 section 2.1.3.2), or None when the proof cannot be one
    for leaf `index` of a tree of `size` (wrong length, index out of range)."""
    if not (isinstance(index, int) and isinstance(size, int)) or not 0 <= index < size:
        return None
    fn, sn = index, size - 1
    node = leaf_hash_
    for sibling in path:
        if not isinstance(sibling, (bytes, bytearray)) or len(sibling) != 32 or sn == 0:
            return None
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    return node if sn == 0 else None


def verify_inclusion(leaf_hash_: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes) -> bool:
    return root_from_inclusion(leaf_hash_, index, size, path) == expected_root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2: the tree of `old_size` leaves with `old_root` is a prefix of the tree of
    `new_size` leaves with `new_root`. An empty old tree is a prefix of every tree."""
    if not (isinstance(old_size, int) and isinstance(new_size, int)) or not 0 <= old_size <= new_size:
        return False
    if any(not isinstance(item, (bytes, bytearray)) or len(item) != 32 for item in proof):
        return False
    if old_size == new_size:
        return len(proof) == 0 and old_root == new_root
    if old_size == 0:
        return len(proof) == 0
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the proof's implicit first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_node = new_node = path[0]
    for item in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old_node = node_hash(item, old_node)
            new_node = node_hash(item, new_node)
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            new_node = node_hash(new_node, item)
        fn >>= 1
        sn >>= 1
    return sn == 0 and old_node == old_root and new_node == new_root


def hex32(value: object) -> bytes | None:
    """`0x` + 64 hex digits as 32 bytes, else None (a hash field of a log answer)."""
    if not isinstance(value, str) or len(value) != 66 or value[:2] != "0x":
        return None
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        return None
