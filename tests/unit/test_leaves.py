"""The transparency log's 61-byte leaves (dmtp_protocol/leaves.py, docs/PROTOCOL.md section 15)."""

import hashlib

import pytest

from dmtp_protocol.leaves import LEAF_KIND_KEY, LEAF_KIND_REVOCATION, Leaf, document_hash, leaf_bytes

WALLET = "0x" + "ab" * 19 + "cd"
HASH = bytes(range(32))


def test_a_leaf_is_kind_wallet_big_endian_version_and_document_hash() -> None:
    leaf = leaf_bytes(LEAF_KIND_REVOCATION, WALLET, 0x0102, HASH)
    assert leaf == b"\x02" + bytes.fromhex(WALLET[2:]) + b"\x00" * 6 + b"\x01\x02" + HASH


def test_a_leaf_reads_back_to_its_kind_lowercase_wallet_version_and_document_hash() -> None:
    checksummed = "0x" + "AB" * 19 + "Cd"
    version = 0x0102030405060708  # every one of its 8 bytes counts
    assert Leaf.parse(leaf_bytes(LEAF_KIND_KEY, checksummed, version, HASH)) == Leaf(1, WALLET, version, HASH)


@pytest.mark.parametrize("length", [60, 62])
def test_anything_but_61_bytes_is_no_leaf(length: int) -> None:
    with pytest.raises(ValueError, match=rf"^a leaf is 61 bytes, not {length}$"):
        Leaf.parse(b"\x01" * length)


@pytest.mark.parametrize(
    ("kind", "wallet", "digest"),
    [
        (3, WALLET, HASH),  # no such kind
        (LEAF_KIND_KEY, WALLET + "ee", HASH),  # 21 bytes
        (LEAF_KIND_KEY, WALLET, HASH[:31]),  # a 31-byte hash
    ],
)
def test_a_leaf_needs_a_known_kind_a_20_byte_wallet_and_a_32_byte_hash(kind: int, wallet: str, digest: bytes) -> None:
    with pytest.raises(ValueError, match=r"^a leaf needs kind 1 or 2, a 20-byte wallet and a 32-byte document hash$"):
        leaf_bytes(kind, wallet, 1, digest)


def test_a_documents_hash_is_sha256_of_its_utf8_bytes() -> None:
    assert document_hash('{"name":"naïve"}') == hashlib.sha256('{"name":"naïve"}'.encode()).digest()
