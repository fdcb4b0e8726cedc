"""The slice of the Solidity contract ABI the client reads DMTPKeys with: calldata for a view function taking static
arguments (address, bool, uintN, bytesN), and its results decoded (those types, string and bytes).

DMTPKeys' view functions the client calls are `getKey(address) -> string`, `isRevoked(address) -> bool` and
`logHead() -> (uint64, bytes32)`; this is those few rules of the ABI specification
(https://docs.soliditylang.org/en/latest/abi-spec.html), not a general codec (eth-abi is one).

Decoding is strict, and fails closed: every failure is AbiDecodeError. A static value must fit its type (an address
or uintN with nonzero high bytes, a bool other than 0/1, a bytesN with nonzero low bytes are refused); a string or
bytes must lie inside the data, past the head, its padding zero, a string valid UTF-8. Data past what the types
describe is ignored; less is an error (an empty answer: no contract). These are eth-abi's strict rules
(tests/unit/test_client_abi.py compares the two on valid and malformed data).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from dmtp_protocol.ethsig import keccak256, to_checksum_address

WORD = 32
_UINT = re.compile(r"uint(\d{1,3})")
_BYTES_N = re.compile(r"bytes(\d{1,2})")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_DYNAMIC = ("string", "bytes")


class AbiDecodeError(ValueError):
    """The data is not a strict ABI encoding of the types asked for."""


def selector(name: str, input_types: Sequence[str]) -> bytes:
    """The 4-byte function selector: keccak256 of `name(type1,type2,...)`."""
    return keccak256(f"{name}({','.join(input_types)})".encode("ascii"))[:4]


def encode_call(name: str, input_types: Sequence[str], args: Sequence[Any]) -> bytes:
    """Calldata of `name(input_types)` with `args`: selector + one 32-byte word per static argument."""
    if len(input_types) != len(args):
        raise ValueError(f"{name} takes {len(input_types)} arguments, not {len(args)}")
    return selector(name, input_types) + b"".join(
        _encode_static(kind, value) for kind, value in zip(input_types, args, strict=True)
    )


def decode(types: Sequence[str], data: bytes) -> tuple[Any, ...]:
    """The values of `types` ABI-encoded (as a tuple, the way a function returns them) in `data`."""
    head_size = WORD * len(types)
    if len(data) < head_size:
        raise AbiDecodeError(f"{len(data)} bytes cannot hold {len(types)} ABI words")
    values: list[Any] = []
    for position, kind in enumerate(types):
        word = data[WORD * position : WORD * (position + 1)]
        if kind in _DYNAMIC:
            raw = _dynamic_bytes(data, _uint(word, 256), head_size)
            if kind == "string":
                try:
                    values.append(raw.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    raise AbiDecodeError("a string that is not UTF-8") from exc
            else:
                values.append(raw)
        else:
            values.append(_decode_static(kind, word))
    return tuple(values)


def _encode_static(kind: str, value: Any) -> bytes:
    if kind == "address":
        if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
            raise ValueError(f"an address must be 0x and 40 hex digits, not {value!r}")
        return bytes.fromhex(value[2:]).rjust(WORD, b"\0")
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"a bool argument must be True or False, not {value!r}")
        return int(value).to_bytes(WORD, "big")
    uint = _UINT.fullmatch(kind)
    if uint:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2 ** _bits(kind, uint):
            raise ValueError(f"{value!r} is not a {kind}")
        return value.to_bytes(WORD, "big")
    fixed = _BYTES_N.fullmatch(kind)
    if fixed:
        size = _size(kind, fixed)
        if not isinstance(value, bytes) or len(value) != size:
            raise ValueError(f"a {kind} argument must be {size} bytes")
        return value.ljust(WORD, b"\0")
    raise ValueError(f"ABI type {kind!r} is not one this client encodes")


def _decode_static(kind: str, word: bytes) -> Any:
    if kind == "address":
        if any(word[:12]):
            raise AbiDecodeError("an address word with nonzero high bytes")
        return to_checksum_address("0x" + word[12:].hex())
    if kind == "bool":
        value = int.from_bytes(word, "big")
        if value > 1:
            raise AbiDecodeError(f"a bool word holding {value}")
        return value == 1
    uint = _UINT.fullmatch(kind)
    if uint:
        return _uint(word, _bits(kind, uint))
    fixed = _BYTES_N.fullmatch(kind)
    if fixed:
        size = _size(kind, fixed)
        if any(word[size:]):
            raise AbiDecodeError(f"a {kind} word with nonzero padding")
        return word[:size]
    raise AbiDecodeError(f"ABI type {kind!r} is not one this client decodes")


def _uint(word: bytes, bits: int) -> int:
    value = int.from_bytes(word, "big")
    if value >> bits:
        raise AbiDecodeError(f"a uint{bits} word holding a larger number")
    return value


def _dynamic_bytes(data: bytes, offset: int, head_size: int) -> bytes:
    """The bytes of a string/bytes value whose length word is at `offset`: inside `data`, padded with zeros."""
    if offset < head_size or offset + WORD > len(data):
        raise AbiDecodeError(f"a dynamic value's offset {offset} does not point past the head inside the data")
    length = int.from_bytes(data[offset : offset + WORD], "big")
    start = offset + WORD
    padded_end = start + -(-length // WORD) * WORD
    if padded_end > len(data):
        raise AbiDecodeError(f"a dynamic value of {length} bytes runs past the end of the data")
    if any(data[start + length : padded_end]):
        raise AbiDecodeError("a dynamic value with nonzero padding")
    return data[start : start + length]


def _bits(kind: str, match: re.Match[str]) -> int:
    bits = int(match.group(1))
    if bits % 8 or not 8 <= bits <= 256:
        raise ValueError(f"{kind} is not an ABI type")
    return bits


def _size(kind: str, match: re.Match[str]) -> int:
    size = int(match.group(1))
    if not 1 <= size <= WORD:
        raise ValueError(f"{kind} is not an ABI type")
    return size
