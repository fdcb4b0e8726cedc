"""What checking a smart wallet's signature sends and expects (dmtp_protocol/smart_wallets.py), checked against
eth_abi's encoding (an implementation nobody here wrote). test_protocol_vectors.py checks the ERC-6492 vector."""

import pytest
from eth_abi import encode

from dmtp_protocol.smart_wallets import (
    ERC1271_MAGIC,
    ERC6492_SUFFIX,
    erc1271_calldata,
    erc6492_answer_is_yes,
    erc6492_calldata,
    erc6492_factory,
    erc6492_inner_signature,
    is_erc6492,
    validator_bytecode,
    wrap_erc6492,
)

DIGEST = bytes(range(32))
FACTORY = "0x9406Cc6185a346906296840746125a0E44976454"
SIGNER = "0x881A70f8d7C7E21e7B0D66e15e14C7c0F610553e"


@pytest.mark.parametrize("length", [0, 1, 32, 65, 100])
def test_the_erc1271_call_is_is_valid_signature_of_the_digest_and_the_signature_abi_encoded(length: int) -> None:
    signature = bytes(range(length))
    assert erc1271_calldata(DIGEST, signature) == ERC1271_MAGIC + encode(["bytes32", "bytes"], [DIGEST, signature])


@pytest.mark.parametrize(("calldata_length", "signature_length"), [(0, 65), (68, 65), (64, 1)])
def test_an_erc6492_wrapping_is_factory_calldata_and_signature_abi_encoded_then_the_magic_suffix(
    calldata_length: int, signature_length: int
) -> None:
    calldata, signature = b"\x5f" * calldata_length, b"\x51" * signature_length
    expected = encode(["address", "bytes", "bytes"], [FACTORY, calldata, signature]) + ERC6492_SUFFIX
    assert wrap_erc6492(FACTORY, calldata, signature) == expected


def test_the_deployless_call_is_the_validators_code_then_signer_digest_and_signature_abi_encoded() -> None:
    signature = b"\x51" * 65
    expected = validator_bytecode() + encode(["address", "bytes32", "bytes"], [SIGNER, DIGEST, signature])
    assert erc6492_calldata(SIGNER, DIGEST, signature) == expected


def test_a_signature_is_erc6492_wrapped_when_it_ends_with_the_magic_suffix_even_alone() -> None:
    assert is_erc6492(ERC6492_SUFFIX)
    assert is_erc6492(b"\x00" * 33 + ERC6492_SUFFIX)
    assert not is_erc6492(ERC6492_SUFFIX[1:])
    assert not is_erc6492(b"\x00" * 65)
    assert not is_erc6492(ERC6492_SUFFIX + b"\x00")


def test_the_factory_of_a_wrapped_signature_is_its_first_word_as_an_eip55_address() -> None:
    assert erc6492_factory(wrap_erc6492(FACTORY.lower(), b"\x01", b"\x02")) == FACTORY


def test_a_wrapping_whose_first_word_is_exactly_an_address_still_names_it() -> None:
    # 32 bytes of address word and the suffix: the shortest wrapping that names a factory
    word = b"\x00" * 12 + bytes.fromhex(FACTORY[2:])
    assert erc6492_factory(word + ERC6492_SUFFIX) == FACTORY


def test_no_factory_is_named_by_an_unwrapped_a_too_short_or_a_dirty_address_word() -> None:
    word = b"\x00" * 12 + bytes.fromhex(FACTORY[2:])
    assert erc6492_factory(word + b"\x00" * 32) is None  # no suffix
    assert erc6492_factory(word[1:] + ERC6492_SUFFIX) is None  # 63 bytes
    assert erc6492_factory(b"\x01" + word[1:] + ERC6492_SUFFIX) is None  # not an address: its high bytes are set
    assert erc6492_factory(b"\x00" * 11 + b"\x01" + word[12:] + ERC6492_SUFFIX) is None


def test_only_the_single_byte_one_is_the_validators_yes() -> None:
    assert erc6492_answer_is_yes(b"\x01")
    assert not erc6492_answer_is_yes(b"\x00")
    assert not erc6492_answer_is_yes(b"\x00" * 31 + b"\x01")
    assert not erc6492_answer_is_yes(b"")


@pytest.mark.parametrize(("calldata_length", "signature_length"), [(0, 65), (68, 65), (64, 1), (5, 0), (33, 200)])
def test_the_inner_signature_of_a_wrapping_is_its_third_member(calldata_length: int, signature_length: int) -> None:
    inner = bytes(range(signature_length % 256)) * (signature_length // 256 + 1)
    inner = inner[:signature_length]
    assert erc6492_inner_signature(wrap_erc6492(FACTORY, b"\x5f" * calldata_length, inner)) == inner


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


ADDRESS_WORD = b"\x00" * 12 + bytes.fromhex(FACTORY[2:])


def test_the_heads_alone_decode_when_their_offsets_point_at_a_zero_word() -> None:
    # the zero address, and both offsets 0: each member's length word is the (zero) address word, as abi.decode reads it
    assert erc6492_inner_signature(bytes(96) + ERC6492_SUFFIX) == b""


def test_a_wrapping_whose_members_end_exactly_at_the_suffix_decodes() -> None:
    # two empty members, each a length word right after the heads: the shortest wrapping that decodes
    body = ADDRESS_WORD + _word(96) + _word(128) + _word(0) + _word(0)
    assert erc6492_inner_signature(body + ERC6492_SUFFIX) == b""
    # a member whose bytes end exactly at the suffix (no padding)
    tight = ADDRESS_WORD + _word(96) + _word(128) + _word(0) + _word(3) + b"abc"
    assert erc6492_inner_signature(tight + ERC6492_SUFFIX) == b"abc"


@pytest.mark.parametrize(
    "body",
    [
        ADDRESS_WORD + _word(96) + _word(128) + _word(0) + _word(4) + b"abc",  # a member one byte longer than is left
        ADDRESS_WORD + _word(96) + _word(129) + _word(0) + _word(0),  # an offset whose length word is cut short
        ADDRESS_WORD + _word(129) + _word(128) + _word(0) + _word(0),  # the first member's length word cut short
        ADDRESS_WORD + _word(96) + _word(128) + _word(65) + _word(0),  # the first member longer than the wrapping
        ADDRESS_WORD + _word(96),  # no head for the second member
        ADDRESS_WORD + _word(96) + _word(2**255) + _word(0) + _word(0),  # an offset far outside
        b"\x01" + ADDRESS_WORD[1:] + _word(96) + _word(128) + _word(0) + _word(0),  # not an address word
    ],
)
def test_a_wrapping_that_does_not_decode_has_no_inner_signature(body: bytes) -> None:
    assert erc6492_inner_signature(body + ERC6492_SUFFIX) is None


def test_a_signature_that_is_not_wrapped_has_no_inner_signature() -> None:
    wrapped = wrap_erc6492(FACTORY, b"\x01", b"\x02" * 65)
    assert erc6492_inner_signature(wrapped[:-1]) is None
