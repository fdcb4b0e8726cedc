"""The pure rules of docs/PROTOCOL.md, one behaviour a test (no network, no AWS, no chain)."""

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from coincurve import PrivateKey as Secp256k1Key
from eth_account import Account
from eth_account.messages import encode_typed_data

from chalicelib.api.signatures import SignatureVerifier
from dmtp_protocol.canonical import canonical_json
from dmtp_protocol.envelopes import EIP191_AES256GCM_HKDF, SCRYPT_AES256GCM, X25519_XSALSA20_POLY1305, parse_envelope
from dmtp_protocol.errors import (
    InvalidField,
    InvalidSignature,
    MalformedRequest,
    SignatureExpired,
    SignatureNotYetValid,
)
from dmtp_protocol.ethsig import SECP256K1_N, BadSignature, parse_signature, recover_address
from dmtp_protocol.messages import (
    MAX_SAFE_INTEGER,
    REGISTRATION_TYPE,
    ClockRules,
    Domain,
    check_clock,
    check_point,
    check_revocation_version,
    parse_registration,
    parse_revocation,
    registration_message,
    signing_digest,
    typed_data,
)

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "docs" / "protocol-vectors.json").read_text())
WALLET_KEY = VECTORS["inputs"]["walletPrivateKey"]
DOMAIN = Domain(VECTORS["inputs"]["chainId"], VECTORS["inputs"]["registry"])
RULES = ClockRules(max_age_s=900, max_skew_s=120)
NOW = 1_800_000_000


def body(signature_type: str = "eip712", **changes: Any) -> dict[str, Any]:
    """A well-formed registration body (the test vector's), with `changes` applied."""
    value = copy.deepcopy(VECTORS["registrations"][signature_type]["body"])
    value.update(changes)
    return value


def revocation(**changes: Any) -> dict[str, Any]:
    value = copy.deepcopy(VECTORS["revocation"]["body"])
    value.update(changes)
    return value


def envelope(form: str) -> dict[str, str]:
    return copy.deepcopy(VECTORS["envelopes"][form]["envelope"])


def field_error(call: Any, *args: Any) -> InvalidField:
    with pytest.raises(InvalidField) as excinfo:
        call(*args)
    return excinfo.value


# ---------------------------------------------------------------- signature types


@pytest.mark.parametrize("value", ["eth_sign", "EIP712", "eip-712", "personal_sign", "", None, 712])
def test_an_unknown_signature_type_is_rejected(value):
    assert field_error(parse_registration, body(signatureType=value)).extra["field"] == "signatureType"


def test_a_missing_signature_type_is_rejected():
    value = body()
    del value["signatureType"]
    with pytest.raises(MalformedRequest):
        parse_registration(value)


def test_the_digest_of_an_unknown_signature_type_is_refused():
    with pytest.raises(InvalidField):
        signing_digest(REGISTRATION_TYPE, VECTORS["registrations"]["eip712"]["message"], DOMAIN, "eth_sign")


def test_a_signature_is_checked_only_against_its_declared_type():
    eip712_signed = body("eip712")
    declared_as_eip191 = parse_registration({**eip712_signed, "signatureType": "eip191"})
    digest = signing_digest(REGISTRATION_TYPE, registration_message(declared_as_eip191), DOMAIN, "eip191")
    with pytest.raises(InvalidSignature):
        SignatureVerifier(None, DOMAIN.chain_id).verify(declared_as_eip191.wallet, digest, declared_as_eip191.signature)


# ---------------------------------------------------------------- signatures (ethsig)


def _vector_signature() -> tuple[bytes, bytes]:
    vector = VECTORS["registrations"]["eip712"]
    return bytes.fromhex(vector["digest"][2:]), bytes.fromhex(vector["signature"][2:])


def test_a_high_s_signature_is_rejected():
    _, raw = _vector_signature()
    s = int.from_bytes(raw[32:64], "big")
    twin = raw[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - raw[64]])  # 27 <-> 28
    with pytest.raises(BadSignature, match="EIP-2"):
        parse_signature("0x" + twin.hex())


def test_v_may_be_27_28_or_0_1():
    digest, raw = _vector_signature()
    as_0_1 = raw[:64] + bytes([raw[64] - 27])
    assert (
        recover_address(digest, "0x" + raw.hex())
        == recover_address(digest, "0x" + as_0_1.hex())
        == VECTORS["inputs"]["wallet"]
    )


@pytest.mark.parametrize("v", [2, 26, 29, 35])
def test_any_other_v_is_rejected(v):
    _, raw = _vector_signature()
    with pytest.raises(BadSignature):
        parse_signature("0x" + (raw[:64] + bytes([v])).hex())


# ---------------------------------------------------------------- keys


def test_a_compressed_secp256k1_key_on_the_curve_is_accepted():
    key = "0x" + Secp256k1Key().public_key.format(compressed=True).hex()
    assert parse_registration(body(keyType="secp256k1", DMTPpubKey=key)).public_key == key


def test_a_secp256k1_key_that_is_not_on_the_curve_is_rejected():
    off_curve = "0x02" + (5).to_bytes(32, "big").hex()  # x = 5: x^3 + 7 has no square root mod p
    registration = parse_registration(body(keyType="secp256k1", DMTPpubKey=off_curve))  # shape only
    assert "not a point" in field_error(check_point, registration).detail


def test_a_secp256k1_key_with_another_prefix_is_rejected():
    compressed = Secp256k1Key().public_key.format(compressed=True)
    assert (
        field_error(parse_registration, body(keyType="secp256k1", DMTPpubKey="0x04" + compressed[1:].hex())).extra[
            "field"
        ]
        == "DMTPpubKey"
    )


def test_an_uncompressed_secp256k1_key_on_the_curve_is_accepted_exactly_as_submitted():
    uncompressed = "0x" + Secp256k1Key().public_key.format(compressed=False).hex()
    assert len(uncompressed) == 2 + 130 and uncompressed.startswith("0x04")
    parsed = parse_registration(body(keyType="secp256k1", DMTPpubKey="0x" + uncompressed[2:].upper()))
    assert parsed.public_key == uncompressed  # lowercased, never re-encoded to the compressed form
    assert registration_message(parsed)["publicKey"] == uncompressed


def test_an_uncompressed_secp256k1_key_that_is_not_on_the_curve_is_rejected():
    point = Secp256k1Key().public_key.format(compressed=False)
    off_curve = "0x" + (point[:-1] + bytes([point[-1] ^ 1])).hex()  # y changed: no longer on the curve
    registration = parse_registration(body(keyType="secp256k1", DMTPpubKey=off_curve))  # shape only
    assert "not a point" in field_error(check_point, registration).detail


@pytest.mark.parametrize("prefix", ["02", "03", "06", "07"])
def test_a_65_byte_secp256k1_key_must_have_the_uncompressed_prefix(prefix):
    point = Secp256k1Key().public_key.format(compressed=False)
    assert (
        "prefix 04"
        in field_error(parse_registration, body(keyType="secp256k1", DMTPpubKey="0x" + prefix + point[1:].hex())).detail
    )


@pytest.mark.parametrize("length", [32, 34, 64, 66])
def test_a_secp256k1_key_of_another_length_is_rejected(length):
    field_error(parse_registration, body(keyType="secp256k1", DMTPpubKey="0x04" + "11" * (length - 1)))


def test_the_all_zero_x25519_key_is_rejected():
    assert "small-order" in field_error(parse_registration, body(DMTPpubKey="0x" + "00" * 32)).detail


@pytest.mark.parametrize("key", ["0x" + "11" * 31, "0x" + "11" * 33, "11" * 32, "0x" + "zz" * 32])
def test_an_x25519_key_of_the_wrong_shape_is_rejected(key):
    field_error(parse_registration, body(DMTPpubKey=key))


def test_an_unknown_key_type_is_rejected():
    assert field_error(parse_registration, body(keyType="ed25519")).extra["field"] == "keyType"


def test_public_key_and_signature_are_normalised_to_lowercase_and_the_address_to_eip55():
    vector = body()
    upper = {
        **vector,
        "address": vector["address"].lower(),
        "DMTPpubKey": "0x" + vector["DMTPpubKey"][2:].upper(),
        "Signature": "0x" + vector["Signature"][2:].upper(),
    }
    parsed = parse_registration(upper)
    assert (parsed.wallet, parsed.public_key, parsed.signature) == (
        vector["address"],
        vector["DMTPpubKey"],
        vector["Signature"],
    )


# ---------------------------------------------------------------- envelopes

_MEMBERS = [
    (X25519_XSALSA20_POLY1305, "nonce", 24),
    (X25519_XSALSA20_POLY1305, "ephemPublicKey", 32),
    (X25519_XSALSA20_POLY1305, "ciphertext", 82),
    (EIP191_AES256GCM_HKDF, "salt", 32),
    (EIP191_AES256GCM_HKDF, "nonce", 12),
    (EIP191_AES256GCM_HKDF, "preKey", 32),
    (EIP191_AES256GCM_HKDF, "ciphertext", 82),
    (SCRYPT_AES256GCM, "salt", 32),
    (SCRYPT_AES256GCM, "nonce", 12),
    (SCRYPT_AES256GCM, "ciphertext", 82),
]


def _encode(form: str, raw: bytes) -> str:
    return base64.b64encode(raw).decode() if form == X25519_XSALSA20_POLY1305 else raw.hex()


@pytest.mark.parametrize(("form", "member", "length"), _MEMBERS)
@pytest.mark.parametrize("delta", [-1, 1])
def test_an_envelope_member_of_the_wrong_length_is_rejected(form, member, length, delta):
    value = envelope(form)
    value[member] = _encode(form, b"\x01" * (length + delta))
    assert "must decode to" in field_error(parse_envelope, value).detail


@pytest.mark.parametrize(("form", "member", "length"), _MEMBERS)
def test_an_envelope_member_of_the_exact_length_is_accepted(form, member, length):
    value = envelope(form)
    value[member] = _encode(form, b"\x01" * length)
    assert parse_envelope(value)[member] == value[member]


@pytest.mark.parametrize(
    "version", ["x25519-xsalsa20-poly1305-v2", "aes-256-gcm", "eip191-aes256-gcm-hkdf-sha256", "", None]
)
def test_an_unknown_envelope_version_is_rejected(version):
    value = envelope(X25519_XSALSA20_POLY1305)
    value["version"] = version
    assert "version must be one of" in field_error(parse_envelope, value).detail


def test_an_envelope_with_another_forms_members_is_rejected():
    value = envelope(X25519_XSALSA20_POLY1305)
    value["version"] = EIP191_AES256GCM_HKDF
    field_error(parse_envelope, value)


def test_aes_envelope_hex_must_be_lowercase_without_0x():
    for bad in (envelope(EIP191_AES256GCM_HKDF)["salt"].upper(), "0x" + "ab" * 31):
        value = envelope(EIP191_AES256GCM_HKDF)
        value["salt"] = bad
        field_error(parse_envelope, value)


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("n", 2**16),
        ("n", 2**21),
        ("n", 131073),
        ("n", 3 * 2**17),
        ("n", "131072"),
        ("n", 131072.5),
        ("n", True),
        ("r", 1),
        ("r", 16),
        ("p", 0),
        ("p", 5),
        ("p", None),
    ],
)
def test_passphrase_envelope_scrypt_costs_outside_the_stated_bounds_are_rejected(member, value):
    bad = envelope(SCRYPT_AES256GCM)
    bad[member] = value
    assert f"DMTPpriKey.{member} must be the integer" in field_error(parse_envelope, bad).detail


@pytest.mark.parametrize(("n", "p"), [(2**17, 1), (2**18, 2), (2**20, 4)])
def test_passphrase_envelope_scrypt_costs_within_the_bounds_are_accepted(n, p):
    good = envelope(SCRYPT_AES256GCM)
    good.update(n=n, p=p)
    assert (parse_envelope(good)["n"], parse_envelope(good)["p"]) == (n, p)


def test_passphrase_envelope_costs_written_as_integral_json_numbers_are_those_integers():
    # JSON (and JSON Schema, and JavaScript) have one number type: 131072.0 is the integer 131072.
    good = envelope(SCRYPT_AES256GCM)
    good.update(n=131072.0, r=8.0, p=1.0)
    parsed = parse_envelope(good)
    assert [(parsed[m], type(parsed[m])) for m in ("n", "r", "p")] == [(131072, int), (8, int), (1, int)]


def test_passphrase_envelope_without_its_cost_members_is_rejected():
    bad = envelope(SCRYPT_AES256GCM)
    del bad["n"]
    assert "must have exactly" in field_error(parse_envelope, bad).detail


def test_x25519_envelope_base64_must_be_padded():
    value = envelope(X25519_XSALSA20_POLY1305)
    value["ephemPublicKey"] = value["ephemPublicKey"].rstrip("=")
    field_error(parse_envelope, value)


# ---------------------------------------------------------------- integers


@pytest.mark.parametrize("name", ["version", "issuedAt", "expiresAt"])
def test_uint64_fields_are_bounded_to_2_53_minus_1(name):
    assert (
        getattr(
            parse_registration(body(**{name: MAX_SAFE_INTEGER})),
            {"version": "version", "issuedAt": "issued_at", "expiresAt": "expires_at"}[name],
        )
        == 2**53 - 1
    )
    assert field_error(parse_registration, body(**{name: MAX_SAFE_INTEGER + 1})).extra["field"] == name


@pytest.mark.parametrize("name", ["revokedVersion", "issuedAt"])
def test_revocation_integers_are_bounded_to_2_53_minus_1(name):
    changes = {name: MAX_SAFE_INTEGER + 1}
    if name == "revokedVersion":
        changes["version"] = MAX_SAFE_INTEGER + 2
    field_error(parse_revocation, revocation(**changes))


@pytest.mark.parametrize(
    ("name", "value"), [("version", True), ("issuedAt", True), ("expiresAt", False), ("expiresAt", True)]
)
def test_booleans_are_not_integers(name, value):
    assert field_error(parse_registration, body(**{name: value})).extra["field"] == name


@pytest.mark.parametrize("value", [1.5, "1", 0, -1, None])
def test_version_must_be_a_positive_json_integer(value):
    field_error(parse_registration, body(version=value))


def test_expires_at_may_be_zero_or_absent_with_the_same_result():
    without = body()
    del without["expiresAt"]
    assert parse_registration(without) == parse_registration(body(expiresAt=0))


# ---------------------------------------------------------------- canonical JSON


def test_canonical_json_is_sorted_compact_and_independent_of_insertion_order():
    one = {"b": 1, "a": {"y": [1, 2], "x": "s"}, "B": True}
    other = {"a": {"x": "s", "y": [1, 2]}, "B": True, "b": 1}
    assert canonical_json(one) == canonical_json(other) == b'{"B":true,"a":{"x":"s","y":[1,2]},"b":1}'


def test_canonical_json_writes_non_ascii_as_utf8():
    assert canonical_json({"k": "é"}) == '{"k":"é"}'.encode()


def test_canonical_json_of_a_document_round_trips_to_the_same_bytes():
    document = VECTORS["registrations"]["eip712"]["document"].encode()
    assert canonical_json(json.loads(document)) == document


# ---------------------------------------------------------------- revocation and unknown members


def test_a_revocations_version_must_be_revoked_version_plus_one():
    check_revocation_version(parse_revocation(revocation(revokedVersion=4, version=5)))
    for version in (4, 6, 1):
        parsed = parse_revocation(revocation(revokedVersion=4, version=version))  # shape only
        assert field_error(check_revocation_version, parsed).extra["field"] == "version"


def test_unknown_members_are_rejected_and_named():
    with pytest.raises(MalformedRequest) as excinfo:
        parse_registration(body(admin=True))
    assert excinfo.value.extra["fields"] == ["admin"]


# ---------------------------------------------------------------- clock


def test_issued_at_within_the_window_is_accepted():
    for issued_at in (NOW - 900, NOW, NOW + 120):
        check_clock(issued_at, 0, NOW, RULES)


def test_issued_at_older_than_the_maximum_age_is_expired():
    with pytest.raises(SignatureExpired):
        check_clock(NOW - 901, 0, NOW, RULES)


def test_issued_at_beyond_the_allowed_skew_is_not_yet_valid():
    with pytest.raises(SignatureNotYetValid) as excinfo:
        check_clock(NOW + 121, 0, NOW, RULES)
    assert excinfo.value.status == 401 and excinfo.value.extra["field"] == "issuedAt"


def test_an_expires_at_in_the_past_is_expired():
    with pytest.raises(SignatureExpired):
        check_clock(NOW - 10, NOW, NOW, RULES)


def test_an_expires_at_not_after_issued_at_is_rejected_as_never_valid():
    with pytest.raises(SignatureExpired):
        check_clock(NOW, NOW, NOW - 1, RULES)


def test_an_expires_at_in_the_future_is_accepted():
    check_clock(NOW, NOW + 1, NOW, RULES)


# ---------------------------------------------------------------- domain binding


def test_a_signature_for_another_chain_does_not_verify():
    vector = VECTORS["registrations"]["eip712"]
    other = Domain(DOMAIN.chain_id + 1, DOMAIN.registry)
    digest = signing_digest(REGISTRATION_TYPE, vector["message"], other, "eip712")
    signed = Account.from_key(WALLET_KEY).sign_message(
        encode_typed_data(full_message=typed_data(REGISTRATION_TYPE, vector["message"], DOMAIN))
    )
    assert recover_address(digest, "0x" + bytes(signed.signature).hex()) != VECTORS["inputs"]["wallet"]


@pytest.mark.parametrize(
    "point",
    [
        "01" + "00" * 31,
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ],
)
def test_small_order_x25519_points_are_rejected(point):
    from dmtp_protocol.messages import parse_public_key

    with pytest.raises(InvalidField):
        parse_public_key("x25519", "0x" + point)


def test_an_integer_member_sent_as_an_integral_float_is_that_integer():
    """JSON, and JSON Schema's "integer", do not tell 7 from 7.0."""
    assert parse_registration(body(version=7.0)).version == 7


def test_an_integer_member_with_a_fraction_is_rejected():
    assert field_error(parse_registration, body(version=7.5)).extra["field"] == "version"
