"""EIP-712 hashing for the registry's own struct types, without eth_account (kept off the API's cold start).

Supports the member types the protocol uses: address, bool, bytes, bytes32, string, uint64, uint256.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from dmtp_protocol.ethsig import keccak256

Fields = Sequence[tuple[str, str]]  # (name, type) in declaration order

EIP712_DOMAIN_FIELDS: Fields = (
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
)


def encode_type(primary: str, fields: Fields) -> str:
    return f"{primary}({','.join(f'{kind} {name}' for name, kind in fields)})"


def type_hash(primary: str, fields: Fields) -> bytes:
    return keccak256(encode_type(primary, fields).encode("utf-8"))


def _encode_value(kind: str, value: Any) -> bytes:
    if kind == "string":
        return keccak256(value.encode("utf-8"))
    if kind == "bytes":
        return keccak256(_hex_bytes(value))
    if kind == "bytes32":
        raw = _hex_bytes(value)
        if len(raw) != 32:
            raise ValueError("bytes32 value must be 32 bytes")
        return raw
    if kind == "address":
        raw = _hex_bytes(value)
        if len(raw) != 20:
            raise ValueError("address must be 20 bytes")
        return raw.rjust(32, b"\0")
    if kind == "bool":
        return int(bool(value)).to_bytes(32, "big")
    if kind in ("uint64", "uint256"):
        number = int(value)
        if number < 0 or number >= 1 << int(kind[4:]):
            raise ValueError(f"{kind} out of range")
        return number.to_bytes(32, "big")
    raise ValueError(f"unsupported EIP-712 member type {kind}")


def _hex_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return bytes.fromhex(str(value).removeprefix("0x"))


def hash_struct(primary: str, fields: Fields, values: Mapping[str, Any]) -> bytes:
    encoded = b"".join(_encode_value(kind, values[name]) for name, kind in fields)
    return keccak256(type_hash(primary, fields) + encoded)


def typed_data_digest(domain: Mapping[str, Any], primary: str, fields: Fields, message: Mapping[str, Any]) -> bytes:
    """keccak256(0x19 0x01 || domainSeparator || hashStruct(message)), as eth_signTypedData_v4 signs."""
    separator = hash_struct("EIP712Domain", EIP712_DOMAIN_FIELDS, domain)
    return keccak256(b"\x19\x01" + separator + hash_struct(primary, fields, message))


def typed_data_json(
    domain: Mapping[str, Any], primary: str, fields: Fields, message: Mapping[str, Any]
) -> dict[str, Any]:
    """The eth_signTypedData_v4 / ethers signTypedData payload (integers as decimal strings are accepted by both;
    we keep JSON numbers for uint64 and chainId, which fit in 2^53 here)."""
    return {
        "types": {
            "EIP712Domain": [{"name": n, "type": t} for n, t in EIP712_DOMAIN_FIELDS],
            primary: [{"name": n, "type": t} for n, t in fields],
        },
        "primaryType": primary,
        "domain": dict(domain),
        "message": dict(message),
    }
