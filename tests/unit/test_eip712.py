"""EIP-712 hashing of the member types the protocol supports (dmtp_protocol/eip712.py), checked against
eth_account's encode_typed_data (an implementation nobody here wrote), and the values it refuses."""

from typing import Any

import pytest
from eth_account.messages import encode_typed_data

from dmtp_protocol import eip712
from dmtp_protocol.ethsig import keccak256

DOMAIN = {"name": "Test", "version": "1", "chainId": 31337, "verifyingContract": "0x" + "5f" * 20}
FIELDS = (
    ("flag", "bool"),
    ("data", "bytes"),
    ("id", "bytes32"),
    ("who", "address"),
    ("name", "string"),
    ("big", "uint256"),
    ("small", "uint64"),
)


def message(**changes: Any) -> dict[str, Any]:
    value = {
        "flag": True,
        "data": b"\x00\x01\xfe",
        "id": "0x" + "11" * 32,
        "who": "0x" + "ab" * 20,
        "name": "naïve",
        "big": 2**256 - 1,
        "small": 2**64 - 1,
    }
    value.update(changes)
    return value


def reference(value: dict[str, Any]) -> tuple[bytes, bytes]:
    """(domain separator, hashStruct(message)) as eth_account computes them."""
    signable = encode_typed_data(full_message=eip712.typed_data_json(DOMAIN, "Everything", FIELDS, value))
    return signable.header, signable.body


@pytest.mark.parametrize("flag", [True, False])
def test_every_supported_member_type_hashes_as_eth_account_does(flag: bool) -> None:
    value = message(flag=flag)
    separator, struct = reference(value)
    assert eip712.hash_struct("Everything", FIELDS, value) == struct
    assert eip712.typed_data_digest(DOMAIN, "Everything", FIELDS, value) == keccak256(b"\x19\x01" + separator + struct)


def test_bytes_given_as_bytes_or_as_hex_hash_the_same() -> None:
    assert eip712.hash_struct("Everything", FIELDS, message(data=b"\xab\xcd")) == eip712.hash_struct(
        "Everything", FIELDS, message(data="0xabcd")
    )


@pytest.mark.parametrize(("kind", "value"), [("uint64", 2**64), ("uint64", -1), ("uint256", 2**256)])
def test_an_unsigned_integer_outside_its_width_is_refused_naming_the_type(kind: str, value: int) -> None:
    with pytest.raises(ValueError, match=rf"^{kind} out of range$"):
        eip712.hash_struct("One", (("n", kind),), {"n": value})


def test_a_bytes32_member_of_another_length_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^bytes32 value must be 32 bytes$"):
        eip712.hash_struct("One", (("id", "bytes32"),), {"id": "0x" + "11" * 31})


def test_an_address_member_of_another_length_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^address must be 20 bytes$"):
        eip712.hash_struct("One", (("who", "address"),), {"who": "0x" + "ab" * 21})


def test_a_member_type_the_protocol_does_not_use_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"^unsupported EIP-712 member type int8$"):
        eip712.hash_struct("One", (("n", "int8"),), {"n": 1})
