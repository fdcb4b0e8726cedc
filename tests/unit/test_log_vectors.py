"""The transparency log's vectors (docs/protocol-vectors.json "transparencyLog", docs/PROTOCOL.md §15): what the
registry's code computes, what a spec-literal RFC 9162 implementation written here from the RFC's definitions
(hashlib only, recursive) computes, and what PROTOCOL.md shows."""

import hashlib
import json
from pathlib import Path

from dmtp_protocol import merkle
from docs.make_log_vectors import build

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "docs" / "protocol-vectors.json").read_text())["transparencyLog"]
DOC = (ROOT / "docs" / "PROTOCOL.md").read_text()


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def k_of(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 2.1.1, word for word."""
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return sha256(b"\x00" + leaves[0])
    k = k_of(len(leaves))
    return sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 2.1.3.1."""
    if len(leaves) == 1:
        return []
    k = k_of(len(leaves))
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    """RFC 9162 2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = k_of(n)
    if m <= k:
        return [*subproof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def raw(hexed: str) -> bytes:
    return bytes.fromhex(hexed.removeprefix("0x"))


LEAVES = [raw(entry["leaf"]) for entry in VECTORS["leaves"]]


def test_the_stored_vectors_are_what_the_registry_code_computes():
    assert build() == VECTORS


def test_each_leaf_is_kind_wallet_version_and_document_hash():
    for entry, leaf in zip(VECTORS["leaves"], LEAVES, strict=True):
        assert len(leaf) == 61
        assert leaf[0] == (2 if entry["kind"] == "revocation" else 1)
        assert "0x" + leaf[1:21].hex() == entry["wallet"].lower()
        assert int.from_bytes(leaf[21:29], "big") == entry["version"]
        assert "0x" + leaf[29:].hex() == entry["documentHash"]
        assert raw(entry["leafHash"]) == sha256(b"\x00" + leaf)


def test_roots_and_proofs_match_a_spec_literal_rfc_9162_implementation():
    for size, root in VECTORS["roots"].items():
        assert raw(root) == mth(LEAVES[: int(size)])
    inclusion, consistency = VECTORS["inclusion"], VECTORS["consistency"]
    assert [raw(h) for h in inclusion["auditPath"]] == path(inclusion["leafIndex"], LEAVES[: inclusion["treeSize"]])
    assert [raw(h) for h in consistency["proof"]] == subproof(consistency["from"], LEAVES[: consistency["to"]], True)


def test_the_proofs_verify_with_the_rfc_verification_algorithms():
    inclusion, consistency = VECTORS["inclusion"], VECTORS["consistency"]
    leaf_hash = raw(VECTORS["leaves"][inclusion["leafIndex"]]["leafHash"])
    assert merkle.verify_inclusion(
        leaf_hash,
        inclusion["leafIndex"],
        inclusion["treeSize"],
        [raw(h) for h in inclusion["auditPath"]],
        raw(inclusion["root"]),
    )
    assert merkle.verify_consistency(
        consistency["from"],
        consistency["to"],
        raw(consistency["fromRoot"]),
        raw(consistency["toRoot"]),
        [raw(h) for h in consistency["proof"]],
    )
    tampered = [raw(h) for h in consistency["proof"]]
    tampered[0] = sha256(tampered[0])
    assert not merkle.verify_consistency(
        consistency["from"], consistency["to"], raw(consistency["fromRoot"]), raw(consistency["toRoot"]), tampered
    )


def test_protocol_md_shows_every_vector():
    section = DOC[DOC.index("## 15. The transparency log") : DOC.index("## Test vectors")]
    shown = [entry["leaf"] for entry in VECTORS["leaves"]] + list(VECTORS["roots"].values())
    shown += VECTORS["inclusion"]["auditPath"] + VECTORS["consistency"]["proof"]
    for value in shown:
        assert f"`{value}`" in section, value
