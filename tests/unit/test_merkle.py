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


def _small_tree(size: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(2, "big")) for i in range(size)]


def test_every_inclusion_proof_of_every_small_tree_verifies_and_one_hash_too_many_does_not() -> None:
    for size in range(1, 34):
        leaf_hashes = _small_tree(size)
        tree_root = merkle.root(leaf_hashes)
        for index in range(size):
            path = merkle.inclusion_proof(index, leaf_hashes)
            assert merkle.verify_inclusion(leaf_hashes[index], index, size, path, tree_root), (size, index)
            assert not merkle.verify_inclusion(leaf_hashes[index], index, size, [*path, tree_root], tree_root)


def test_every_consistency_proof_between_small_trees_verifies_and_one_hash_too_many_does_not() -> None:
    for size in range(1, 34):
        leaf_hashes = _small_tree(size)
        new_root = merkle.root(leaf_hashes)
        for old in range(1, size):
            old_root = merkle.root(leaf_hashes[:old])
            proof = merkle.consistency_proof(old, leaf_hashes)
            assert merkle.verify_consistency(old, size, old_root, new_root, proof), (old, size)
            assert not merkle.verify_consistency(old, size, old_root, new_root, [*proof, new_root]), (old, size)


def test_the_empty_and_the_whole_tree_need_no_consistency_proof() -> None:
    leaf_hashes = _small_tree(5)
    assert merkle.consistency_proof(0, leaf_hashes) == [] and merkle.consistency_proof(5, leaf_hashes) == []


@pytest.mark.parametrize("old", [-1, 6])
def test_a_consistency_proof_from_outside_the_tree_is_refused_naming_the_sizes(old: int) -> None:
    with pytest.raises(ValueError, match=rf"^old size {old} is outside 0..5$"):
        merkle.consistency_proof(old, _small_tree(5))


@pytest.mark.parametrize("index", [-1, 5])
def test_an_inclusion_proof_for_a_leaf_outside_the_tree_is_refused_naming_index_and_size(index: int) -> None:
    with pytest.raises(ValueError, match=rf"^leaf index {index} is outside a tree of 5 leaves$"):
        merkle.inclusion_proof(index, _small_tree(5))


def test_an_index_at_the_trees_size_does_not_verify_even_with_an_empty_path() -> None:
    # a one-leaf tree's root is its leaf: index 1 is past its end all the same
    (leaf,) = _small_tree(1)
    assert merkle.verify_inclusion(leaf, 0, 1, [], leaf) and not merkle.verify_inclusion(leaf, 1, 1, [], leaf)


def test_the_empty_tree_is_consistent_with_every_tree_without_a_proof_and_only_without() -> None:
    leaf_hashes = _small_tree(5)
    assert merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, merkle.root(leaf_hashes), [])
    assert not merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, merkle.root(leaf_hashes), [leaf_hashes[0]])


def test_a_tree_is_consistent_with_itself_without_a_proof_and_only_with_its_own_root() -> None:
    tree_root = merkle.root(_small_tree(5))
    assert merkle.verify_consistency(5, 5, tree_root, tree_root, [])
    assert not merkle.verify_consistency(5, 5, tree_root, merkle.EMPTY_ROOT, [])
    assert not merkle.verify_consistency(5, 5, tree_root, tree_root, [tree_root])


def test_sizes_out_of_order_or_a_missing_proof_are_not_consistent() -> None:
    leaf_hashes = _small_tree(5)
    old_root, new_root = merkle.root(leaf_hashes[:3]), merkle.root(leaf_hashes)
    assert not merkle.verify_consistency(6, 5, new_root, new_root, [])
    assert not merkle.verify_consistency(-1, 5, old_root, new_root, [])
    assert not merkle.verify_consistency(3, 5, old_root, new_root, [])


def test_proofs_against_a_node_store_are_made_of_the_stores_nodes() -> None:
    # Given a store that names each range it is asked for instead of hashing it
    def stored(start: int, end: int) -> bytes:
        return f"{start}-{end}".encode()

    leaf_hashes = _small_tree(7)
    # Then every hash of a proof is the store's node for its range, from the leaf (or old tree) up
    assert merkle.inclusion_proof(2, leaf_hashes, stored) == [b"3-4", b"0-2", b"4-7"]
    assert merkle.consistency_proof(3, leaf_hashes, stored) == [b"2-3", b"3-4", b"0-2", b"4-7"]
    assert merkle.consistency_proof(4, leaf_hashes, stored) == [b"4-7"]
    assert merkle.consistency_proof(6, leaf_hashes, stored) == [b"4-6", b"6-7", b"0-4"]
