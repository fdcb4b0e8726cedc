"""The CID Kubo gives a folder of small files: a UnixFS directory node (dag-pb) linking each file by name.

A batch of pinned documents goes to the pinning service as one folder upload (pinning.py); each document is one
file, small enough to be a single raw block, so inside the folder it keeps the CID it has alone (CIDv1, raw,
sha2-256: dmtp_protocol.cid). The folder's own CID is what `ipfs add -r --cid-version=1` prints for it (CIDv1
implies raw leaves): CIDv1, dag-pb, sha2-256 of the directory node, whose bytes are fixed by the dag-pb spec
(https://ipld.io/specs/codecs/dag-pb/spec/): the links, sorted by name bytes, each {Hash, Name, Tsize}, then the
UnixFS Data {Type: Directory}. Comparing the service's answer with this CID therefore checks every file's CID
at once. tests/unit/test_unixfs.py holds it against ipfs-unixfs-importer, the reference JavaScript importer.

A folder of more than a few thousand entries would be sharded (HAMT) by Kubo and get another CID: MAX_ENTRIES
keeps every batch far below that (and below the 1 MiB block size a plain directory node must fit).
"""

import base64
import hashlib
from collections.abc import Sequence

from dmtp_protocol.cid import digest_from_cid

CID_VERSION_1 = 0x01
DAG_PB = 0x70
SHA2_256 = 0x12
MAX_ENTRIES = (
    1000  # Kubo shards a directory whose node would exceed 256 KiB (HAMTDirectory); 1,000 links stay far below
)
_UNIXFS_DIRECTORY = b"\x08\x01"  # UnixFS Data {Type: Directory}


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def raw_cid_bytes(cid: str) -> bytes:
    """The binary CID of a document's CIDv1 raw sha2-256 string (as a dag-pb link's Hash holds it)."""
    return bytes([CID_VERSION_1, 0x55, SHA2_256, 32]) + digest_from_cid(cid)


def directory_node(entries: Sequence[tuple[str, str, int]]) -> bytes:
    """The dag-pb bytes of a directory of (name, raw CID, size) entries: links sorted by name, then the Data."""
    if not entries:
        raise ValueError("an empty folder is not a batch")
    if len(entries) > MAX_ENTRIES:
        raise ValueError(f"at most {MAX_ENTRIES} entries in one folder (Kubo would shard a larger one)")
    names = [name for name, _, _ in entries]
    if len(set(names)) != len(names) or any(not name or "/" in name for name in names):
        raise ValueError("entry names must be distinct, non-empty and without '/'")
    links = b""
    for name, cid, size in sorted(entries, key=lambda entry: entry[0].encode("utf-8")):
        link = _field(1, raw_cid_bytes(cid)) + _field(2, name.encode("utf-8")) + _varint(3 << 3) + _varint(size)
        links += _field(2, link)
    return links + _field(1, _UNIXFS_DIRECTORY)


def directory_cid(entries: Sequence[tuple[str, str, int]]) -> str:
    """CIDv1 (dag-pb, sha2-256, base32) of the directory of (name, raw CID, size) entries."""
    digest = hashlib.sha256(directory_node(entries)).digest()
    binary = bytes([CID_VERSION_1, DAG_PB, SHA2_256, 32]) + digest
    return "b" + base64.b32encode(binary).decode("ascii").rstrip("=").lower()
