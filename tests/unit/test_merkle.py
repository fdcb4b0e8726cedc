"""The transparency log's tree hashing and both proof kinds follow RFC 9162, checked against pymerkle (an
implementation nobody here wrote, in its RFC 9162 'security' mode: leaf prefix 0x00, node prefix 0x01)."""

import hashlib
import random
import warnings

import pytest
from pymerkle import InmemoryTree

from dmtp_protocol import merkle

SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 33, 100, 255, 256, 257, 1023, 1024, 1025, 2000]


def _trees(rng: random.Random) -> list[tuple[list[bytes], InmemoryTree]]:
    sizes = SIZES + [rng.randint(1, 2000) for _ in range(8)]
    out = []
    for size in sizes:
        leaves = [rng.randbytes(rng.randint(0, 80)) for _ in range(size)]
        reference = InmemoryTree(algorithm="sha256")  # security mode on by default: RFC 9162 prefixes
        for leaf in leaves:
            reference.append_entry(leaf)
        out.append(([merkle.leaf_hash(leaf) for leaf in leaves], reference))
    return out


@pytest.fixture(scope="module")
def trees() -> list[tuple[list[bytes], InmemoryTree]]:
    return _trees(random.Random(9162))


def _reference_root(reference: InmemoryTree, size: int) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return reference.get_state(size)


def test_the_empty_tree_hashes_to_sha256_of_nothing() -> None:
    assert merkle.root([]) == hashlib.sha256(b"").digest()


def test_a_leaf_and_a_node_are_hashed_with_the_rfc_9162_prefixes() -> None:
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()


def test_roots_equal_the_reference_for_every_prefix_size(trees: list) -> None:
    for leaf_hashes, reference in trees:
        for size in {1, len(leaf_hashes) // 2 or 1, len(leaf_hashes)}:
            assert merkle.root(leaf_hashes[:size]) == _reference_root(reference, size), size


def test_inclusion_paths_equal_the_reference_and_verify(trees: list) -> None:
    rng = random.Random(1)
    for leaf_hashes, reference in trees:
        size = len(leaf_hashes)
        tree_root = merkle.root(leaf_hashes)
        for index in {0, size - 1, rng.randrange(size)}:
            path = merkle.inclusion_proof(index, leaf_hashes)
            # pymerkle's path is the leaf's own hash followed by the RFC 9162 audit path (1-based index).
            theirs = reference.prove_inclusion(index + 1, size).serialize()["path"]
            assert [h.hex() for h in path] == theirs[1:], (size, index)
            assert merkle.verify_inclusion(leaf_hashes[index], index, size, path, tree_root)


def test_consistency_proofs_verify_against_the_reference_roots(trees: list) -> None:
    rng = random.Random(2)
    for leaf_hashes, reference in trees:
        size = len(leaf_hashes)
        for old in {1, size, rng.randint(1, size), size // 2 or 1}:
            proof = merkle.consistency_proof(old, leaf_hashes)
            old_root, new_root = _reference_root(reference, old), _reference_root(reference, size)
            assert merkle.verify_consistency(old, size, old_root, new_root, proof), (old, size)


def test_a_changed_leaf_fails_inclusion(trees: list) -> None:
    leaf_hashes, _ = trees[-1]
    size = len(leaf_hashes)
    path = merkle.inclusion_proof(3 % size, leaf_hashes)
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"forged"), 3 % size, size, path, merkle.root(leaf_hashes))


def test_an_inclusion_proof_for_another_index_or_size_fails() -> None:
    leaf_hashes = [merkle.leaf_hash(bytes([i])) for i in range(13)]
    tree_root = merkle.root(leaf_hashes)
    path = merkle.inclusion_proof(5, leaf_hashes)
    assert not merkle.verify_inclusion(leaf_hashes[5], 6, 13, path, tree_root)
    assert not merkle.verify_inclusion(leaf_hashes[5], 5, 20, path, tree_root)  # a deeper tree: one hash short
    assert not merkle.verify_inclusion(leaf_hashes[5], 13, 13, path, tree_root)


def test_every_tampered_consistency_proof_fails() -> None:
    leaf_hashes = [merkle.leaf_hash(bytes([i])) for i in range(21)]
    old_root, new_root = merkle.root(leaf_hashes[:6]), merkle.root(leaf_hashes)
    proof = merkle.consistency_proof(6, leaf_hashes)
    for position in range(len(proof)):
        tampered = list(proof)
        tampered[position] = hashlib.sha256(tampered[position]).digest()
        assert not merkle.verify_consistency(6, 21, old_root, new_root, tampered), position
    assert not merkle.verify_consistency(6, 21, old_root, new_root, proof[:-1])
    # A history rewritten below the old head: the same sizes, another old root.
    rewritten = merkle.root([merkle.leaf_hash(b"other"), *leaf_hashes[1:6]])
    assert not merkle.verify_consistency(6, 21, rewritten, new_root, proof)


def test_proofs_against_a_node_store_equal_proofs_from_the_leaves() -> None:
    leaf_hashes = [merkle.leaf_hash(i.to_bytes(2, "big")) for i in range(300)]
    calls: list[tuple[int, int]] = []

    def stored(start: int, end: int) -> bytes:
        calls.append((start, end))
        return merkle.root(leaf_hashes[start:end])

    assert merkle.inclusion_proof(123, leaf_hashes, stored) == merkle.inclusion_proof(123, leaf_hashes)
    assert merkle.consistency_proof(77, leaf_hashes, stored) == merkle.consistency_proof(77, leaf_hashes)
    assert calls, "the node store was asked for the subtrees"
