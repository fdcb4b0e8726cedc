"""The client's ABI slice (dmtp_key_registry_client.abi) reads what DMTPKeys' view functions return exactly as eth-abi
does (kept in the development venv as the reference), and refuses every malformed answer eth-abi's strict mode
refuses: the client no longer depends on eth-abi."""

from __future__ import annotations

import random

import pytest
from eth_abi import decode as eth_abi_decode
from eth_abi import encode as eth_abi_encode

from dmtp_key_registry_client import abi
from dmtp_protocol import contracts
from dmtp_protocol.ethsig import keccak256, to_checksum_address

ADDRESS = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


VALID = [
    (["string"], [CID]),
    (["string"], [""]),
    (["string"], ["a" * 31]),
    (["string"], ["b" * 32]),
    (["string"], ["c" * 33]),
    (["string"], ["clé ☃ 🔑"]),
    (["bool"], [True]),
    (["bool"], [False]),
    (["uint64", "bytes32"], [0, b"\0" * 32]),
    (["uint64", "bytes32"], [2**64 - 1, bytes(range(32))]),
    (["address"], [ADDRESS]),
    (["bytes32", "bool"], [keccak256(b"x"), True]),
    (["bytes"], [b"\x00\x01\x02" * 20]),
    (["string", "uint64", "string"], ["first", 7, "second"]),
]


@pytest.mark.parametrize(("types", "values"), VALID, ids=[f"{t}-{i}" for i, (t, _) in enumerate(VALID)])
def test_a_canonical_encoding_decodes_to_what_eth_abi_decodes(types, values):
    data = eth_abi_encode(types, values)
    ours = abi.decode(types, data)
    theirs = eth_abi_decode(types, data)  # addresses in lowercase; the client writes them EIP-55, as everywhere
    assert ours == tuple(to_checksum_address(v) if t == "address" else v for t, v in zip(types, theirs, strict=True))
    assert ours == tuple(to_checksum_address(v) if t == "address" else v for t, v in zip(types, values, strict=True))


def test_random_strings_and_heads_decode_as_eth_abi_decodes():
    rng = random.Random("client-abi")
    for _ in range(200):
        text = "".join(rng.choice("ab☃🔑\n") for _ in range(rng.randrange(0, 80)))
        head = (rng.randrange(0, 2**64), rng.randbytes(32))
        assert abi.decode(["string"], eth_abi_encode(["string"], [text])) == (text,)
        assert abi.decode(["uint64", "bytes32"], eth_abi_encode(["uint64", "bytes32"], list(head))) == head


@pytest.mark.parametrize(
    ("name", "types", "args"),
    [("getKey", ["address"], [ADDRESS]), ("isRevoked", ["address"], [ADDRESS.lower()]), ("logHead", [], [])],
)
def test_calldata_is_the_selector_and_eth_abis_argument_encoding(name, types, args):
    expected = keccak256(f"{name}({','.join(types)})".encode())[:4] + eth_abi_encode(types, args)
    assert abi.encode_call(name, types, args) == expected


def test_the_view_functions_the_client_calls_have_the_types_the_slice_handles():
    views = {
        entry["name"]: ([i["type"] for i in entry["inputs"]], [o["type"] for o in entry["outputs"]])
        for entry in contracts.abi(contracts.DMTP_KEYS)
        if entry.get("type") == "function"
    }
    assert views["getKey"] == (["address"], ["string"])
    assert views["isRevoked"] == (["address"], ["bool"])
    assert views["logHead"] == ([], ["uint64", "bytes32"])


MALFORMED = {
    "no answer (no contract)": (["string"], b""),
    "a bool of 2": (["bool"], word(2)),
    "a uint64 with high bits": (["uint64", "bytes32"], word(2**64) + b"\x11" * 32),
    "too short for the head": (["uint64", "bytes32"], word(1)),
    "an address with high bytes": (["address"], b"\x01" + b"\0" * 11 + b"\x22" * 20),
    "an offset past the end": (["string"], word(0x40)),
    "an offset into the head": (["string"], word(0) + word(3) + b"abc".ljust(32, b"\0")),
    "a length past the end": (["string"], word(32) + word(100) + b"abc".ljust(32, b"\0")),
    "missing padding": (["string"], word(32) + word(3) + b"abc"),
    "nonzero padding": (["string"], word(32) + word(3) + b"abc" + b"\x01" * 29),
    "a string that is not UTF-8": (["string"], word(32) + word(2) + b"\xff\xfe".ljust(32, b"\0")),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_answer_is_refused_as_eth_abi_refuses_it(case):
    types, data = MALFORMED[case]
    with pytest.raises(Exception):  # noqa: B017 - eth-abi raises several kinds
        eth_abi_decode(types, data)
    with pytest.raises(abi.AbiDecodeError):
        abi.decode(types, data)


@pytest.mark.parametrize(
    ("types", "args"),
    [(["address"], ["0x1234"]), (["address"], [None]), (["bool"], [1]), (["uint64"], [2**64]), (["address"], [])],
)
def test_an_argument_that_is_not_its_type_makes_no_calldata(types, args):
    with pytest.raises(ValueError):
        abi.encode_call("f", types, args)
