"""Ethereum signature primitives on coincurve (libsecp256k1): ~0.1 ms a recovery, and no eth_account import.

coincurve (~0.15 s: cffi parses its C declarations) and pycryptodome's keccak load on first use, not at import,
so a Lambda cold start pays for them only on the request that needs them (bench/api.py measures it).
"""

import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from Crypto.Hash.keccak import Keccak_Hash

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")  # fullmatch: "$" would let a trailing newline through
_HEX_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")


class BadAddress(ValueError):
    pass


class BadSignature(ValueError):
    pass


@lru_cache(maxsize=1)
def _keccak() -> "Callable[..., Keccak_Hash]":
    from Crypto.Hash import keccak

    return keccak.new


def keccak256(data: bytes) -> bytes:
    return _keccak()(digest_bits=256, data=data).digest()


def to_checksum_address(address: str) -> str:
    """EIP-55 form of a 0x-prefixed address; mixed case input must already carry a valid checksum."""
    if not isinstance(address, str) or not _HEX_ADDRESS.fullmatch(address):
        raise BadAddress("address must be 0x followed by 40 hex digits")
    body = address[2:]
    lower = body.lower()
    hashed = keccak256(lower.encode("ascii")).hex()
    # strict=False: the 40 hex digits take the first 40 of the hash's 64 nibbles, one each (EIP-55).
    checksummed = "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(lower, hashed, strict=False))
    if body != lower and body != body.upper() and checksummed != address:
        raise BadAddress("mixed-case address has an invalid EIP-55 checksum")
    return checksummed


def address_from_public_key(uncompressed: bytes) -> str:
    """Address of a 65-byte uncompressed (0x04-prefixed) or 64-byte raw secp256k1 public key."""
    raw = uncompressed[1:] if len(uncompressed) == 65 else uncompressed
    return to_checksum_address("0x" + keccak256(raw)[-20:].hex())


def personal_sign_digest(message: bytes) -> bytes:
    """EIP-191 version 0x45: keccak256("\\x19Ethereum Signed Message:\\n" + len + message)."""
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode("ascii") + message)


def parse_signature(signature: str) -> tuple[int, int, int]:
    """(r, s, recovery_id) of a 65-byte r||s||v hex signature; v may be 27/28 or 0/1. High s is rejected (EIP-2)."""
    if not isinstance(signature, str) or not _HEX_SIGNATURE.fullmatch(signature):
        raise BadSignature("signature must be 0x followed by 130 hex digits (r, s, v)")
    raw = bytes.fromhex(signature[2:])
    r, s, v = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]
    if v in (27, 28):
        v -= 27
    if v not in (0, 1):
        raise BadSignature("signature v must be 27, 28, 0 or 1")
    if not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
        raise BadSignature("signature r or s out of range")
    if s > SECP256K1_N // 2:
        raise BadSignature("signature s is in the upper half of the curve order (EIP-2 forbids it)")
    return r, s, v


def recover_address(digest: bytes, signature: str) -> str:
    r, s, v = parse_signature(signature)
    compact = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])
    from coincurve import PublicKey

    try:
        public_key = PublicKey.from_signature_and_message(compact, digest, hasher=None)
    except Exception as exc:  # coincurve raises a bare Exception for an unrecoverable signature
        raise BadSignature("signature does not recover to any public key") from exc
    return address_from_public_key(public_key.format(compressed=False))
