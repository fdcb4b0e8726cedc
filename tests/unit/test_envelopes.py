"""The private-key envelopes' shapes (dmtp_protocol/envelopes.py): every refusal is a 400 invalid-field naming
DMTPpriKey, with a detail that says which member and why. test_protocol.py specifies the accepted shapes."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from dmtp_protocol.envelopes import EIP191_AES256GCM_HKDF, SCRYPT_AES256GCM, X25519_XSALSA20_POLY1305, parse_envelope
from dmtp_protocol.errors import InvalidField

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "docs" / "protocol-vectors.json").read_text())
VERSIONS = "x25519-xsalsa20-poly1305, dmtp-eip191-aes256gcm-hkdf-v1, dmtp-scrypt-aes256gcm-v1"


def envelope(form: str, **changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = copy.deepcopy(VECTORS["envelopes"][form]["envelope"])
    value.update(changes)
    return value


def refusal(value: Any) -> dict[str, Any]:
    """The problem+json a refused envelope gives a client."""
    with pytest.raises(InvalidField) as refused:
        parse_envelope(value)
    return refused.value.to_problem()


def invalid(detail: str) -> dict[str, Any]:
    return InvalidField(detail, field="DMTPpriKey").to_problem()


@pytest.mark.parametrize("value", [None, [], "x25519-xsalsa20-poly1305", 7])
def test_an_envelope_that_is_not_an_object_is_refused(value: Any) -> None:
    assert refusal(value) == invalid("DMTPpriKey must be an object")


def test_an_unknown_envelope_version_is_refused_naming_the_three_versions() -> None:
    assert refusal(envelope(X25519_XSALSA20_POLY1305, version="v2")) == invalid(
        f"DMTPpriKey.version must be one of {VERSIONS}"
    )


def test_an_envelope_with_a_missing_or_extra_member_is_refused_naming_the_members_it_must_have() -> None:
    value = envelope(X25519_XSALSA20_POLY1305, mac="00")
    assert refusal(value) == invalid(
        "DMTPpriKey (x25519-xsalsa20-poly1305) must have exactly ciphertext, ephemPublicKey, nonce, version"
    )


def test_a_member_of_the_wrong_length_is_refused_naming_it_and_both_lengths() -> None:
    value = envelope(EIP191_AES256GCM_HKDF, nonce="00" * 11)
    assert refusal(value) == invalid("DMTPpriKey.nonce must decode to 12 bytes, got 11")


NONCE = VECTORS["envelopes"][X25519_XSALSA20_POLY1305]["envelope"]["nonce"]


@pytest.mark.parametrize("nonce", [None, 12, "not base64!", "AAA\n", "AAAAA", NONCE + "===="])
def test_a_base64_member_that_is_not_standard_padded_base64_is_refused_naming_it(nonce: Any) -> None:
    assert refusal(envelope(X25519_XSALSA20_POLY1305, nonce=nonce)) == invalid(
        "DMTPpriKey.nonce must be standard padded base64"
    )


@pytest.mark.parametrize("salt", [None, 32, "0x" + "ab" * 31, "AB" * 32, "abc"])
def test_a_hex_member_that_is_not_lowercase_hex_is_refused_naming_it(salt: Any) -> None:
    assert refusal(envelope(SCRYPT_AES256GCM, salt=salt)) == invalid("DMTPpriKey.salt must be lowercase hex without 0x")


def test_a_scrypt_cost_outside_its_set_is_refused_naming_the_allowed_values() -> None:
    assert refusal(envelope(SCRYPT_AES256GCM, p=5)) == invalid("DMTPpriKey.p must be the integer one of 1, 2, 3, 4")
    assert refusal(envelope(SCRYPT_AES256GCM, n=2**16)) == invalid(
        "DMTPpriKey.n must be the integer one of 131072, 262144, 524288, 1048576"
    )


def test_a_scrypt_r_other_than_8_is_refused_naming_8() -> None:
    assert refusal(envelope(SCRYPT_AES256GCM, r=16)) == invalid("DMTPpriKey.r must be the integer 8")


def test_true_is_not_the_scrypt_parallelism_1() -> None:
    # JSON true is no number, though Python's True == 1
    assert refusal(envelope(SCRYPT_AES256GCM, p=True)) == invalid("DMTPpriKey.p must be the integer one of 1, 2, 3, 4")
