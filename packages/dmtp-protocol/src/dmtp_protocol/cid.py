"""CIDs of pinned documents: CIDv1, raw codec, sha2-256, base32 (what `ipfs add --cid-version=1` prints).

Kubo chunks files at 256 KiB by default; a larger file would become a dag-pb tree with another CID,
so this module refuses anything bigger rather than returning a CID that Kubo would not.
"""

import base64
import hashlib

CID_VERSION_1 = 0x01
RAW_CODEC = 0x55
SHA2_256 = 0x12
DIGEST_LENGTH = 32
KUBO_DEFAULT_CHUNK_SIZE = 256 * 1024
_PREFIX = bytes([CID_VERSION_1, RAW_CODEC, SHA2_256, DIGEST_LENGTH])
CID_STRING_LENGTH = 59


class InvalidCid(ValueError):
    pass


def cid_for_bytes(data: bytes) -> str:
    if len(data) > KUBO_DEFAULT_CHUNK_SIZE:
        raise ValueError(f"{len(data)} bytes exceed one Kubo chunk ({KUBO_DEFAULT_CHUNK_SIZE}); CID would differ")
    return cid_from_digest(hashlib.sha256(data).digest())


def cid_from_digest(digest: bytes) -> str:
    if len(digest) != DIGEST_LENGTH:
        raise ValueError("sha2-256 digest must be 32 bytes")
    encoded = base64.b32encode(_PREFIX + digest).decode("ascii").rstrip("=").lower()
    return "b" + encoded


def digest_from_cid(cid: str) -> bytes:
    """The sha2-256 digest inside a CIDv1 raw sha2-256 base32 string; InvalidCid for anything else."""
    if len(cid) != CID_STRING_LENGTH or not cid.startswith("b"):
        raise InvalidCid("not a base32 CIDv1")
    body = cid[1:].upper()
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except ValueError as exc:
        raise InvalidCid("not valid base32") from exc
    if raw[:4] != _PREFIX or len(raw) != 4 + DIGEST_LENGTH:
        raise InvalidCid("not a raw sha2-256 CIDv1")
    if cid_from_digest(raw[4:]) != cid:
        raise InvalidCid("not in canonical lowercase base32")
    return raw[4:]
