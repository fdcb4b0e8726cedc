"""CIDs agree with Kubo: `ipfs add --cid-version=1` of a single-chunk file is CIDv1 raw sha2-256 base32."""

import os

import pytest

from dmtp_protocol.cid import KUBO_DEFAULT_CHUNK_SIZE, InvalidCid, cid_for_bytes, cid_from_digest, digest_from_cid

# Published by Kubo and other IPFS implementations' tests: `echo -n <content> | ipfs add --cid-version=1 -Q`.
KUBO_VECTORS = [
    (b"", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"),
    (b"hello world", "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"),
]


@pytest.mark.parametrize(("content", "cid"), KUBO_VECTORS)
def test_cid_matches_kubo(content, cid):
    assert cid_for_bytes(content) == cid


def test_digest_round_trips_through_the_cid_string():
    digest = os.urandom(32)
    assert digest_from_cid(cid_from_digest(digest)) == digest


def test_a_file_larger_than_one_kubo_chunk_is_refused():
    with pytest.raises(ValueError):
        cid_for_bytes(b"x" * (KUBO_DEFAULT_CHUNK_SIZE + 1))


def test_a_file_of_exactly_one_chunk_gets_a_raw_cid():
    assert cid_for_bytes(b"x" * KUBO_DEFAULT_CHUNK_SIZE).startswith("bafkrei")


@pytest.mark.parametrize(
    "text",
    [
        "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o",  # CIDv0 (dag-pb)
        "BAFKREIFZJUT3TE2NHYEKKLSS27NH3K72YSCO7Y32KOAO5EEI66WOF36N5E",  # not the lowercase base32 form
        "bafyreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",  # dag-cbor codec
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5",  # truncated
    ],
)
def test_other_cid_forms_are_rejected(text):
    with pytest.raises(InvalidCid):
        digest_from_cid(text)


def test_a_file_larger_than_one_kubo_chunk_is_refused_saying_the_cid_would_differ():
    with pytest.raises(ValueError, match=r"^262145 bytes exceed one Kubo chunk \(262144\); CID would differ$"):
        cid_for_bytes(b"x" * (KUBO_DEFAULT_CHUNK_SIZE + 1))


@pytest.mark.parametrize("length", [31, 33])
def test_a_digest_of_another_length_than_32_bytes_makes_no_cid(length):
    with pytest.raises(ValueError, match=r"^sha2-256 digest must be 32 bytes$"):
        cid_from_digest(b"\x01" * length)


HELLO = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a" + HELLO[1:], "not a base32 CIDv1"),  # the right length, another multibase prefix
        (HELLO[:-1], "not a base32 CIDv1"),
        (HELLO[:-1] + "1", "not valid base32"),  # 1 is no base32 digit
        ("bafyreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e", "not a raw sha2-256 CIDv1"),  # dag-cbor
        (HELLO[:10] + HELLO[10:].upper(), "not in canonical lowercase base32"),
    ],
)
def test_a_malformed_cid_is_refused_saying_why(text, reason):
    with pytest.raises(InvalidCid, match=rf"^{reason}$"):
        digest_from_cid(text)
