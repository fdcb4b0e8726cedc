"""The clients' own transparency-log verifiers (client/translog.py and clients/js/src/log.js) against pymerkle, an
RFC 9162 implementation nobody here wrote (its default 'security' mode: leaf prefix 0x00, node prefix 0x01), on
random trees of 1 to 2,000 leaves. Neither client imports the server's
packages/dmtp-protocol/src/dmtp_protocol/merkle.py; neither does this test.

Roots and inclusion paths are pymerkle's own (its path minus its first element, the leaf's hash, is the RFC 9162
audit path). pymerkle's consistency proofs use another layout than RFC 9162's, so RFC proofs are assembled here
by the RFC's own SUBPROOF recursion (section 2.1.4.1), every subtree hash taken from pymerkle."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import random
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
from pymerkle import InmemoryTree

from dmtp_key_registry_client import translog

REPO_ROOT = Path(__file__).resolve().parents[2]
SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, 100, 255, 256, 257, 1000, 1023, 1024, 1025, 2000]
NODE = shutil.which("node")


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def rfc_consistency_proof(tree: InmemoryTree, old: int, new: int) -> list[bytes]:
    """PROOF(m, D[n]) exactly as RFC 9162 section 2.1.4.1 defines it; MTH of any range from pymerkle."""

    def subproof(m: int, start: int, end: int, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [tree._get_root(start, end)]
        k = _split(n)
        if m <= k:
            return [*subproof(m, start, start + k, complete), tree._get_root(start + k, end)]
        return [*subproof(m - k, start + k, end, False), tree._get_root(start, start + k)]

    return [] if old in (0, new) else subproof(old, 0, new, True)


def reference_root(tree: InmemoryTree, size: int) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return tree.get_state(size)


def reference_path(tree: InmemoryTree, index: int, size: int) -> list[bytes]:
    return [bytes.fromhex(h) for h in tree.prove_inclusion(index + 1, size).serialize()["path"][1:]]


@pytest.fixture(scope="module")
def trees() -> list[tuple[list[bytes], InmemoryTree]]:
    rng = random.Random(91620)
    out = []
    for size in SIZES + [rng.randint(1, 2000) for _ in range(6)]:
        leaves = [rng.randbytes(61) for _ in range(size)]
        tree = InmemoryTree(algorithm="sha256")
        for leaf in leaves:
            tree.append_entry(leaf)
        out.append((leaves, tree))
    return out


def test_the_client_log_module_does_not_import_the_server():
    source = (REPO_ROOT / "clients" / "python" / "src" / "dmtp_key_registry_client" / "translog.py").read_text()
    imported = {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)} | {
        alias.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import) for alias in node.names
    }
    assert not any(name and name.startswith("chalicelib") for name in imported), imported


def test_a_leaf_is_kind_wallet_version_and_document_hash_in_61_bytes():
    digest = hashlib.sha256(b"document").digest()
    leaf = translog.leaf_bytes(translog.KIND_REVOCATION, "0x" + "Ab" * 20, 258, digest)
    assert leaf == b"\x02" + b"\xab" * 20 + (258).to_bytes(8, "big") + digest and len(leaf) == 61
    assert translog.parse_leaf(leaf) == translog.Leaf(2, "0x" + "ab" * 20, 258, digest)
    for bad in (
        dict(kind=3),
        dict(version=-1),
        dict(version=1 << 64),
        dict(document_hash=b"\0" * 31),
        dict(wallet="0x12"),
    ):
        args = {"kind": 1, "wallet": "0x" + "11" * 20, "version": 1, "document_hash": digest, **bad}
        with pytest.raises(ValueError):
            translog.leaf_bytes(**args)
    with pytest.raises(ValueError):
        translog.parse_leaf(leaf[:-1])


def test_hashing_uses_the_rfc_9162_prefixes_and_the_empty_root():
    assert translog.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert translog.node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    assert translog.root([]) == translog.EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_the_incremental_builder_gives_the_reference_root_at_every_size(trees):
    for leaves, tree in trees:
        builder = translog.TreeBuilder()
        checkpoints = {1, len(leaves), len(leaves) // 3 or 1, (len(leaves) * 2) // 3 or 1} | {
            s for s in range(1, 70) if s <= len(leaves)
        }
        for position, leaf in enumerate(leaves, start=1):
            builder.append(translog.leaf_hash(leaf))
            if position in checkpoints:
                assert builder.root() == reference_root(tree, position), position


def test_reference_inclusion_paths_verify_and_tampered_ones_fail(trees):
    rng = random.Random(5)
    for leaves, tree in trees:
        size = len(leaves)
        root = reference_root(tree, size)
        for index in {0, size - 1, rng.randrange(size), size // 2}:
            path = reference_path(tree, index, size)
            hashed = translog.leaf_hash(leaves[index])
            assert translog.verify_inclusion(hashed, index, size, path, root), (size, index)
            assert not translog.verify_inclusion(translog.leaf_hash(leaves[index] + b"!"), index, size, path, root)
            if size > 1:
                assert not translog.verify_inclusion(hashed, (index + 1) % size, size, path, root)
                tampered = list(path)
                position = rng.randrange(len(tampered))
                tampered[position] = hashlib.sha256(tampered[position]).digest()
                assert not translog.verify_inclusion(hashed, index, size, tampered, root)
                assert not translog.verify_inclusion(hashed, index, size, path[:-1], root)
            assert not translog.verify_inclusion(hashed, index, size, [*path, root], root)
            assert not translog.verify_inclusion(hashed, size, size, path, root)


def test_rfc_consistency_proofs_verify_against_the_reference_roots_and_tampered_ones_fail(trees):
    rng = random.Random(6)
    for leaves, tree in trees:
        size = len(leaves)
        new_root = reference_root(tree, size)
        for old in {1, size, rng.randint(1, size), size // 2 or 1, 1 << (size.bit_length() - 1)}:
            proof = rfc_consistency_proof(tree, old, size)
            old_root = reference_root(tree, old)
            assert translog.verify_consistency(old, size, old_root, new_root, proof), (old, size)
            if old < size:
                tampered = list(proof)
                position = rng.randrange(len(tampered))
                tampered[position] = hashlib.sha256(tampered[position]).digest()
                assert not translog.verify_consistency(old, size, old_root, new_root, tampered), (old, size)
                assert not translog.verify_consistency(old, size, old_root, new_root, proof[:-1])
                assert not translog.verify_consistency(old, size, hashlib.sha256(old_root).digest(), new_root, proof)
                assert not translog.verify_consistency(old, size, old_root, hashlib.sha256(new_root).digest(), proof)
    assert translog.verify_consistency(0, 5, translog.EMPTY_ROOT, b"\1" * 32, [])
    assert not translog.verify_consistency(6, 5, b"\0" * 32, b"\0" * 32, [])


def test_the_js_verifiers_agree_on_vectors_from_the_reference(trees, tmp_path):
    if NODE is None:
        pytest.skip("needs node")
    rng = random.Random(7)
    vectors = []
    for leaves, tree in trees:
        size = len(leaves)
        index = rng.randrange(size)
        old = rng.randint(1, size)
        vectors.append(
            {
                "size": size,
                "leaves": [leaf.hex() for leaf in leaves],
                "roots": {str(s): reference_root(tree, s).hex() for s in {1, old, size}},
                "inclusion": {"index": index, "path": [h.hex() for h in reference_path(tree, index, size)]},
                "consistency": {"old": old, "proof": [h.hex() for h in rfc_consistency_proof(tree, old, size)]},
            }
        )
    path = tmp_path / "log-vectors.json"
    path.write_text(json.dumps(vectors))
    done = subprocess.run(
        [NODE, "--test", "--test-reporter=tap", "clients/js/test/log.test.js"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "DMTP_LOG_VECTORS": str(path)},
    )
    assert done.returncode == 0 and "# fail 0" in done.stdout, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# skipped 0" in done.stdout and "ok 4 - reference vectors" in done.stdout and "# pass 5" in done.stdout


def test_the_client_reproduces_the_documented_log_vectors():
    vectors = json.loads((REPO_ROOT / "docs" / "protocol-vectors.json").read_text())["transparencyLog"]
    builder = translog.TreeBuilder()
    for entry in vectors["leaves"]:
        leaf = translog.leaf_bytes(
            translog.KINDS_BY_NAME[entry["kind"]],
            entry["wallet"],
            entry["version"],
            bytes.fromhex(entry["documentHash"][2:]),
        )
        assert "0x" + leaf.hex() == entry["leaf"] and "0x" + translog.leaf_hash(leaf).hex() == entry["leafHash"]
        builder.append(translog.leaf_hash(leaf))
        assert "0x" + builder.root().hex() == vectors["roots"][str(builder.size)]
    inclusion, consistency = vectors["inclusion"], vectors["consistency"]
    leaf_hash = bytes.fromhex(vectors["leaves"][inclusion["leafIndex"]]["leafHash"][2:])
    path = [bytes.fromhex(h[2:]) for h in inclusion["auditPath"]]
    assert translog.verify_inclusion(
        leaf_hash, inclusion["leafIndex"], inclusion["treeSize"], path, bytes.fromhex(inclusion["root"][2:])
    )
    proof = [bytes.fromhex(h[2:]) for h in consistency["proof"]]
    assert translog.verify_consistency(
        consistency["from"],
        consistency["to"],
        bytes.fromhex(consistency["fromRoot"][2:]),
        bytes.fromhex(consistency["toRoot"][2:]),
        proof,
    )


@pytest.mark.parametrize("size", [0, 1, 2, 3, 7, 8, 9, 255, 1000])
def test_a_builder_resumed_from_its_peaks_goes_on_to_the_same_roots(size):
    """The monitor keeps a builder's frontier (peaks) between runs: resumed from it, appending the next leaves gives
    the roots of the whole tree, as pymerkle computes them."""
    leaves = [i.to_bytes(4, "big") for i in range(size + 20)]
    hashes = [translog.leaf_hash(leaf) for leaf in leaves]
    reference = InmemoryTree(algorithm="sha256")
    for leaf in leaves:
        reference.append_entry(leaf)
    first = translog.TreeBuilder()
    for item in hashes[:size]:
        first.append(item)

    resumed = translog.TreeBuilder.resume(size, first.peaks)
    for item in hashes[size:]:
        resumed.append(item)

    assert len(first.peaks) == bin(size).count("1")
    assert resumed.root() == reference_root(reference, len(leaves))


def test_a_frontier_with_the_wrong_number_of_peaks_is_refused():
    with pytest.raises(ValueError):
        translog.TreeBuilder.resume(3, [bytes(32)])
