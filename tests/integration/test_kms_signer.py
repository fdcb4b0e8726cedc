"""The owner key in (moto) KMS signs Ethereum digests: the moto DIGEST correction, low s, recovery id."""

import hashlib
import os

import boto3
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature, encode_dss_signature

from chalicelib.adapters.kms_signer import KmsSigner
from devstack import moto_patches
from dmtp_protocol.ethsig import SECP256K1_N, address_from_public_key


@pytest.fixture()
def kms(stack):
    return boto3.client("kms", endpoint_url=stack.aws_endpoint)


@pytest.fixture()
def signer(kms, stack):
    return KmsSigner(kms, stack.env["KMS_KEY_ID"])


def recover(digest: bytes, r: int, s: int, recovery_id: int) -> str:
    from coincurve import PublicKey

    key = PublicKey.from_signature_and_message(
        r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([recovery_id]), digest, hasher=None
    )
    return address_from_public_key(key.format(compressed=False))


def test_a_digest_signed_through_corrected_moto_recovers_to_the_key_address(signer):
    for _ in range(20):
        digest = os.urandom(32)
        assert recover(digest, *signer.sign_digest(digest)) == signer.address


def test_signatures_come_back_with_low_s(signer):
    assert all(signer.sign_digest(os.urandom(32))[1] <= SECP256K1_N // 2 for _ in range(20))


def test_kms_digest_signature_verifies_as_a_prehashed_digest(kms, stack):
    digest = os.urandom(32)
    der = kms.sign(
        KeyId=stack.env["KMS_KEY_ID"], Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256"
    )["Signature"]
    public_key = kms.get_public_key(KeyId=stack.env["KMS_KEY_ID"])["PublicKey"]
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    load_der_public_key(public_key).verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def test_uncorrected_moto_hashes_the_digest_again(kms, stack):
    """Why the correction exists: moto's own Sign path treats the digest as a message and hashes it."""
    from moto.kms.models import kms_backends

    key_id = kms.describe_key(KeyId=stack.env["KMS_KEY_ID"])["KeyMetadata"]["KeyId"]
    key = kms_backends["123456789012"]["us-east-1"].keys[key_id]
    digest = os.urandom(32)
    der = key.private_key.sign(digest, "ECDSA_SHA_256")  # what moto_patches.original_sign_response ends up calling
    public_key = key.private_key.private_key.public_key()
    public_key.verify(der, hashlib.sha256(digest).digest(), ec.ECDSA(Prehashed(hashes.SHA256())))
    assert moto_patches.original_sign_response is not moto_patches._sign_honouring_digest


def test_a_digest_of_the_wrong_length_is_refused(kms, stack):
    with pytest.raises(kms.exceptions.ClientError if hasattr(kms.exceptions, "ClientError") else Exception):
        kms.sign(
            KeyId=stack.env["KMS_KEY_ID"], Message=b"short", MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256"
        )


def test_high_s_from_kms_is_normalised_and_still_recovers(signer, monkeypatch):
    digest = os.urandom(32)
    r, s, _ = signer.sign_digest(digest)
    high = encode_dss_signature(r, SECP256K1_N - s)
    monkeypatch.setattr(signer._kms, "sign", lambda **_: {"Signature": high})
    r2, s2, recovery_id = signer.sign_digest(digest)
    assert (r2, s2) == (r, s)
    assert recover(digest, r2, s2, recovery_id) == signer.address
    assert decode_dss_signature(high)[1] > SECP256K1_N // 2
