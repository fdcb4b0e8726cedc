"""What a client sees when a registration or revocation is refused (dmtp_protocol/messages.py): the problem+json
of each refusal, its code, detail and the field it names, and the boundaries of the accepted values.
test_protocol.py specifies the accepted bundles and the signatures."""

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from coincurve import PrivateKey

from dmtp_protocol.errors import (
    InvalidAddress,
    InvalidField,
    MalformedRequest,
    RegistryError,
    SignatureExpired,
    SignatureNotYetValid,
)
from dmtp_protocol.messages import (
    MAX_SAFE_INTEGER,
    REGISTRATION_TYPE,
    ClockRules,
    Domain,
    Registration,
    Revocation,
    check_clock,
    check_point,
    check_revocation_version,
    parse_address,
    parse_public_key,
    parse_registration,
    parse_revocation,
    registration_from_document,
    registration_message,
    registration_text,
    signing_digest,
)

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "docs" / "protocol-vectors.json").read_text())
DOMAIN = Domain(VECTORS["inputs"]["chainId"], VECTORS["inputs"]["registry"])
RULES = ClockRules(max_age_s=900, max_skew_s=120)
NOW = 1_800_000_000
SIGNATURE = "0x" + "ab" * 65


def body(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = copy.deepcopy(VECTORS["registrations"]["eip712"]["body"])
    value.update(changes)
    return value


def revocation_body(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = copy.deepcopy(VECTORS["revocation"]["body"])
    value.update(changes)
    return value


def problem(call: Any, *args: Any) -> dict[str, Any]:
    """The problem+json of the refusal `call(*args)` raises."""
    with pytest.raises(RegistryError) as refused:
        call(*args)
    return refused.value.to_problem()


def registration(key_type: str, public_key: str) -> Registration:
    return Registration(VECTORS["inputs"]["wallet"], key_type, public_key, {}, 1, NOW, 0, "eip712", SIGNATURE)


# ---------------------------------------------------------------- the body's members


@pytest.mark.parametrize("value", [None, [], "{}", 1])
def test_a_body_that_is_not_an_object_is_malformed(value: Any) -> None:
    assert problem(parse_registration, value) == MalformedRequest("body must be a JSON object").to_problem()


def test_missing_members_are_malformed_and_listed() -> None:
    value = body()
    del value["Signature"], value["address"]
    assert (
        problem(parse_registration, value)
        == MalformedRequest("missing field(s): Signature, address", fields=["Signature", "address"]).to_problem()
    )


def test_unknown_members_are_malformed_and_listed() -> None:
    assert (
        problem(parse_revocation, revocation_body(a=1, b=2))
        == MalformedRequest("unknown field(s): a, b", fields=["a", "b"]).to_problem()
    )


def test_an_unknown_key_type_is_refused_naming_the_two() -> None:
    assert (
        problem(parse_registration, body(keyType="ed25519"))
        == InvalidField("keyType must be one of x25519, secp256k1", field="keyType").to_problem()
    )


def test_a_malformed_address_is_refused_as_an_invalid_address_saying_why() -> None:
    assert (
        problem(parse_address, "0x1234") == InvalidAddress("address must be 0x followed by 40 hex digits").to_problem()
    )


def test_an_unknown_signature_type_is_refused_naming_the_two() -> None:
    assert (
        problem(parse_registration, body(signatureType="eth_sign"))
        == InvalidField("signatureType must be one of eip712, eip191", field="signatureType").to_problem()
    )


def test_a_revocation_is_read_member_by_member() -> None:
    parsed = parse_revocation(revocation_body(signatureType="eip191", Signature=SIGNATURE.upper().replace("0X", "0x")))
    assert parsed == Revocation(VECTORS["inputs"]["wallet"], 1, 2, 1_800_000_600, "eip191", SIGNATURE)


def test_a_revocations_version_other_than_revoked_version_plus_one_is_refused_naming_version() -> None:
    revocation = Revocation(VECTORS["inputs"]["wallet"], 1, 3, NOW, "eip712", SIGNATURE)
    assert (
        problem(check_revocation_version, revocation)
        == InvalidField("a revocation's version must be revokedVersion + 1", field="version").to_problem()
    )


# ---------------------------------------------------------------- integers


def test_the_largest_safe_integer_written_as_a_float_is_that_integer() -> None:
    parsed = parse_registration(body(version=float(MAX_SAFE_INTEGER)))
    assert parsed.version == MAX_SAFE_INTEGER and isinstance(parsed.version, int)


def test_a_version_out_of_range_is_refused_naming_its_range() -> None:
    assert (
        problem(parse_registration, body(version=0))
        == InvalidField("version must be an integer from 1 to 2^53-1", field="version").to_problem()
    )


def test_an_expiry_out_of_range_is_refused_naming_its_range_from_zero() -> None:
    assert (
        problem(parse_registration, body(expiresAt=-1))
        == InvalidField("expiresAt must be an integer from 0 to 2^53-1", field="expiresAt").to_problem()
    )


# ---------------------------------------------------------------- the signature's bytes

SIGNATURE_REFUSED = InvalidField("Signature must be 0x + hex, 1 to 2048 bytes", field="Signature").to_problem()


@pytest.mark.parametrize("value", ["0x", "0x" + "ab" * 2049, "0xzz", "0x" + "zz" * 65, None, 65])
def test_a_signature_that_is_not_1_to_2048_bytes_of_hex_is_refused_naming_signature(value: Any) -> None:
    assert problem(parse_registration, body(Signature=value)) == SIGNATURE_REFUSED


@pytest.mark.parametrize("length", [1, 2048])
def test_a_signature_of_1_or_2048_bytes_is_accepted(length: int) -> None:
    assert parse_registration(body(Signature="0x" + "ab" * length)).signature == "0x" + "ab" * length


# ---------------------------------------------------------------- public keys


def test_an_x25519_key_of_the_wrong_shape_is_refused_naming_its_length() -> None:
    assert (
        problem(parse_public_key, "x25519", "0x" + "11" * 31)
        == InvalidField("DMTPpubKey must be a 32-byte x25519 key as 0x + hex", field="DMTPpubKey").to_problem()
    )


def test_a_secp256k1_key_of_the_wrong_shape_is_refused_naming_both_lengths() -> None:
    assert (
        problem(parse_public_key, "secp256k1", "0x" + "11" * 32)
        == InvalidField(
            "DMTPpubKey must be a 33-byte or 65-byte secp256k1 key as 0x + hex", field="DMTPpubKey"
        ).to_problem()
    )


def test_a_small_order_x25519_key_is_refused_saying_why() -> None:
    assert (
        problem(parse_public_key, "x25519", "0x" + "00" * 32)
        == InvalidField(
            "DMTPpubKey is a small-order X25519 point (no shared secret possible)", field="DMTPpubKey"
        ).to_problem()
    )


def test_a_33_byte_secp256k1_key_without_the_compressed_prefix_is_refused_saying_so() -> None:
    assert (
        problem(parse_public_key, "secp256k1", "0x04" + "11" * 32)
        == InvalidField(
            "a 33-byte secp256k1 DMTPpubKey must be compressed (prefix 02 or 03)", field="DMTPpubKey"
        ).to_problem()
    )


def test_a_65_byte_secp256k1_key_without_the_uncompressed_prefix_is_refused_saying_so() -> None:
    assert (
        problem(parse_public_key, "secp256k1", "0x02" + "11" * 64)
        == InvalidField(
            "a 65-byte secp256k1 DMTPpubKey must be uncompressed (prefix 04)", field="DMTPpubKey"
        ).to_problem()
    )


@pytest.mark.parametrize("compressed", [True, False])
def test_a_secp256k1_key_on_the_curve_passes_the_point_check(compressed: bool) -> None:
    key = "0x" + PrivateKey().public_key.format(compressed=compressed).hex()
    check_point(registration("secp256k1", key))  # raises InvalidField for a key off the curve


def test_a_secp256k1_key_off_the_curve_is_refused_naming_the_key() -> None:
    off_curve = "0x02" + "00" * 31 + "05"  # x = 5: x^3 + 7 = 132 is no square mod p
    assert (
        problem(check_point, registration("secp256k1", off_curve))
        == InvalidField("DMTPpubKey is not a point on secp256k1", field="DMTPpubKey").to_problem()
    )


# ---------------------------------------------------------------- the clock


def test_an_issued_at_beyond_the_skew_is_not_yet_valid_naming_issued_at() -> None:
    assert (
        problem(check_clock, NOW + 121, 0, NOW, RULES)
        == SignatureNotYetValid(
            "issuedAt is more than 120 s in the future; check the clock", field="issuedAt"
        ).to_problem()
    )


def test_an_issued_at_older_than_the_maximum_age_is_expired_naming_issued_at() -> None:
    assert (
        problem(check_clock, NOW - 901, 0, NOW, RULES)
        == SignatureExpired("issuedAt is older than 900 s; sign again", field="issuedAt").to_problem()
    )


def test_an_expiry_not_after_issued_at_is_expired_as_never_valid_naming_expires_at() -> None:
    assert (
        problem(check_clock, NOW, NOW, NOW, RULES)
        == SignatureExpired(
            "expiresAt must be after issuedAt (the signature was never valid)", field="expiresAt"
        ).to_problem()
    )


def test_an_expiry_in_the_past_is_expired_naming_expires_at() -> None:
    assert (
        problem(check_clock, NOW - 10, NOW - 5, NOW, RULES)
        == SignatureExpired("the signature has expired (expiresAt is in the past)", field="expiresAt").to_problem()
    )


# ---------------------------------------------------------------- what is signed and pinned


def test_the_signed_text_of_a_registration_with_an_expiry_names_it_in_utc() -> None:
    parsed = parse_registration(body(expiresAt=NOW + 3600))
    text = registration_text(registration_message(parsed), DOMAIN)
    expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW + 3600))
    assert expiry == "2027-01-15T09:00:00Z" and text.endswith(f"\nExpiration Time: {expiry}")


def test_the_digest_of_an_unknown_signature_type_is_refused_naming_signature_type() -> None:
    message = VECTORS["registrations"]["eip712"]["message"]
    assert (
        problem(signing_digest, REGISTRATION_TYPE, message, DOMAIN, "eth_sign")
        == InvalidField("signatureType must be one of eip712, eip191", field="signatureType").to_problem()
    )


def test_a_document_of_another_format_is_refused_naming_the_format() -> None:
    assert (
        problem(registration_from_document, {"format": "dmtp-key-bundle/1"})
        == InvalidField("document format must be dmtp-key-bundle/2", field="format").to_problem()
    )
