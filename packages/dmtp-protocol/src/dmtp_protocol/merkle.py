"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, inclusion and consistency proofs. Pure: no I/O.

The transparency log (issue 13) is a list of leaves in order of acceptance. Everything here follows RFC 9162
section 2.1 to the letter, so any CT-style verifier can check our proofs:

- leaf hash  = SHA-256(0x00 || leaf bytes)
- node hash  = SHA-256(0x01 || left || right)
- MTH({})    = SHA-256() (the hash of the empty string)
- MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])) with k the largest power of two smaller than n.

Invariants the callers rely on:
- `root(leaf_hashes)` depends only on the leaf hashes, in order; appending never changes the root of a prefix.
- `inclusion_proof(i, leaf_hashes)` verifies with `verify_inclusion` against `root(leaf_hashes)` and nothing
  else; `consistency_proof(m, leaf_hashes)` proves `root(leaf_hashes[:m])` is a prefix of `root(leaf_hashes)`.
- The verifiers never raise on a bad proof: they return False, so a caller can fail closed with a reason.
"""

import hashlib
from collections.abc import Callable, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the leaves whose hashes are given, computed bottom-up in O(n) without recursion."""
    if not leaf_hashes:
        return EMPTY_ROOT
    # Fold level by level; an odd last node is carried up unchanged, which is exactly RFC 9162's split rule.
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _subtree(leaf_hashes: Sequence[bytes], start: int, end: int, memo: Callable[[int, int], bytes] | None) -> bytes:
    if memo is not None:
        return memo(start, end)
    return root(leaf_hashes[start:end])


def inclusion_proof(
    index: int, leaf_hashes: Sequence[bytes], subtree: Callable[[int, int], bytes] | None = None
) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 section 2.1.3.1: the audit path of leaf `index` in a tree of len(leaf_hashes).

    `subtree(start, end)` may supply the hash of any complete range (a store of precomputed nodes); by default
    it is recomputed from the leaves.
    """
    size = len(leaf_hashes)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(_subtree(leaf_hashes, start + k, end, subtree))
            end = start + k
        else:
            path.append(_subtree(leaf_hashes, start, start + k, subtree))
            start = start + k
    path.reverse()  # RFC order: from the leaf's sibling up to the root's child
    return path


def consistency_proof(
    old_size: int, leaf_hashes: Sequence[bytes], subtree: Callable[[int, int], bytes] | None = None
) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 section 2.1.4.1: proves the first `old_size` leaves' tree is a prefix."""
    size = len(leaf_hashes)
    if not 0 <= old_size <= size:
        raise ValueError(f"old size {old_size} is outside 0..{size}")
    if old_size == 0 or old_size == size:
        return []
    return _subproof(old_size, 0, size, True, leaf_hashes, subtree)


def _subproof(
    m: int,
    start: int,
    end: int,
    complete: bool,
    leaf_hashes: Sequence[bytes],
    subtree: Callable[[int, int], bytes] | None,
) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if complete else [_subtree(leaf_hashes, start, end, subtree)]
    k = _split(n)
    if m <= k:
        return [
            *_subproof(m, start, start + k, complete, leaf_hashes, subtree),
            _subtree(leaf_hashes, start + k, end, subtree),
        ]
    return [
        *_subproof(m - k, start + k, end, False, leaf_hashes, subtree),
        _subtree(leaf_hashes, start, start + k, subtree),
    ]


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2, with `leaf` the leaf hash (not the raw leaf)."""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof  # the empty tree is a prefix of every tree
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
