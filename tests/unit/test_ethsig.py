"""Ethereum signature primitives (dmtp_protocol/ethsig.py): EIP-55 addresses, r/s/v bounds and recovery, checked
against eth_account (an implementation nobody here wrote). test_protocol.py covers v and the EIP-2 rule."""

from typing import Any

import pytest
from coincurve import PrivateKey
from eth_account import Account
from eth_account.messages import encode_defunct

from dmtp_protocol.ethsig import (
    SECP256K1_N,
    BadAddress,
    BadSignature,
    address_from_public_key,
    parse_signature,
    personal_sign_digest,
    recover_address,
    to_checksum_address,
)

EIP55 = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's own example
R = 0x1B2C
S = 0x3D4E


def signature(r: int, s: int, v: int = 27) -> str:
    return "0x" + r.to_bytes(32, "big").hex() + s.to_bytes(32, "big").hex() + bytes([v]).hex()


def test_an_address_in_lowercase_or_uppercase_gets_its_eip55_checksum() -> None:
    assert to_checksum_address(EIP55.lower()) == EIP55
    assert to_checksum_address("0x" + EIP55[2:].upper()) == EIP55


def test_a_mixed_case_address_with_a_wrong_checksum_is_refused() -> None:
    wrong = EIP55[:3] + EIP55[3].swapcase() + EIP55[4:]  # the first letter's case flipped
    with pytest.raises(BadAddress, match=r"^mixed-case address has an invalid EIP-55 checksum$"):
        to_checksum_address(wrong)


@pytest.mark.parametrize("value", [None, 1234, "0x1234", EIP55[2:], EIP55 + "\n", "0x" + "g" * 40])
def test_anything_but_0x_and_40_hex_digits_is_no_address(value: Any) -> None:
    with pytest.raises(BadAddress, match=r"^address must be 0x followed by 40 hex digits$"):
        to_checksum_address(value)


def test_the_address_of_a_public_key_is_the_same_with_or_without_the_04_prefix() -> None:
    key = PrivateKey()
    uncompressed = key.public_key.format(compressed=False)
    expected = Account.from_key(key.secret).address
    assert address_from_public_key(uncompressed) == address_from_public_key(uncompressed[1:]) == expected


def test_a_personal_sign_digest_is_eip191_of_the_messages_length_and_bytes() -> None:
    message = b"DMTP" * 30  # 120 bytes: a length of three digits
    account = Account.create()
    signed = account.sign_message(encode_defunct(message))
    assert recover_address(personal_sign_digest(message), "0x" + signed.signature.hex()) == account.address


@pytest.mark.parametrize("value", [None, 65, "0x" + "ab" * 64, "0x" + "ab" * 66, "ab" * 65, "0x" + "zz" * 65])
def test_anything_but_0x_and_130_hex_digits_is_no_signature(value: Any) -> None:
    with pytest.raises(BadSignature, match=r"^signature must be 0x followed by 130 hex digits \(r, s, v\)$"):
        parse_signature(value)


def test_a_signature_is_read_as_r_s_and_the_recovery_id() -> None:
    assert parse_signature(signature(R, S, 28)) == (R, S, 1)
    assert parse_signature(signature(R, S, 0)) == (R, S, 0)


def test_an_unknown_v_is_refused_naming_the_four_allowed() -> None:
    with pytest.raises(BadSignature, match=r"^signature v must be 27, 28, 0 or 1$"):
        parse_signature(signature(R, S, 29))


@pytest.mark.parametrize(("r", "s"), [(0, S), (SECP256K1_N, S), (R, 0), (R, SECP256K1_N)])
def test_r_and_s_must_each_lie_strictly_between_0_and_the_curve_order(r: int, s: int) -> None:
    with pytest.raises(BadSignature, match=r"^signature r or s out of range$"):
        parse_signature(signature(r, s))


def test_the_smallest_r_and_s_and_the_largest_r_are_in_range() -> None:
    assert parse_signature(signature(1, 1)) == (1, 1, 0)
    assert parse_signature(signature(SECP256K1_N - 1, 1)) == (SECP256K1_N - 1, 1, 0)


def test_s_up_to_half_the_curve_order_is_accepted_and_one_more_is_refused() -> None:
    # n is odd: the lower half ends at n // 2 (EIP-2), in exact integer arithmetic
    assert parse_signature(signature(R, SECP256K1_N // 2))[1] == SECP256K1_N // 2
    with pytest.raises(
        BadSignature, match=r"^signature s is in the upper half of the curve order \(EIP-2 forbids it\)$"
    ):
        parse_signature(signature(R, SECP256K1_N // 2 + 1))


def test_a_signature_that_recovers_no_public_key_is_refused() -> None:
    # r = 5: no point on secp256k1 has x = 5 (125 + 7 = 132 is no square mod p)
    with pytest.raises(BadSignature, match=r"^signature does not recover to any public key$"):
        recover_address(b"\x01" * 32, signature(5, 1))
