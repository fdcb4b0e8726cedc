"""Corrections to moto 5.2.x, applied in the process that runs the moto server (local stack and tests).

1. KMS Sign ignores MessageType=DIGEST and hashes the digest again (open moto PR #10202), so an Ethereum
   signature made through it recovers to a random address. With DIGEST we sign the bytes as a prehashed
   SHA-256 digest, as AWS KMS does.
2. CloudFormation's AWS::KMS::Key always makes a SYMMETRIC_DEFAULT key; we honour KeySpec and KeyUsage so
   the owner key can come from the same template as in AWS.
"""
import base64
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from moto.kms import models as kms_models
from moto.kms import responses as kms_responses
from moto.kms.exceptions import ValidationException

_DIGEST_HASHES = {"ECDSA_SHA_256": (hashes.SHA256(), 32), "ECDSA_SHA_384": (hashes.SHA384(), 48), "ECDSA_SHA_512": (hashes.SHA512(), 64)}
_applied = False
original_sign_response = kms_responses.KmsResponse.sign


def _sign_honouring_digest(self: Any) -> str:
    if self._get_param("MessageType") != "DIGEST":
        return original_sign_response(self)
    key_id = self._get_param("KeyId")
    algorithm = self._get_param("SigningAlgorithm")
    digest = self._get_param("Message")
    self._validate_key_id(key_id)
    key = self.kms_backend.describe_key(key_id)
    private_key = getattr(key.private_key, "private_key", None)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or algorithm not in key.signing_algorithms:
        return original_sign_response(self)
    hash_algorithm, length = _DIGEST_HASHES[algorithm]
    if len(digest) != length:
        raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")
    signature = private_key.sign(digest, ec.ECDSA(Prehashed(hash_algorithm)))
    return json.dumps({"KeyId": key.arn, "Signature": base64.b64encode(signature).decode(), "SigningAlgorithm": algorithm})


def _key_from_cloudformation(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any) -> Any:
    properties = cloudformation_json["Properties"]
    backend = kms_models.kms_backends[account_id][region_name]
    key = backend.create_key(
        policy=json.dumps(properties["KeyPolicy"]) if isinstance(properties.get("KeyPolicy"), dict) else properties.get("KeyPolicy"),
        key_usage=properties.get("KeyUsage", "ENCRYPT_DECRYPT"),
        key_spec=properties.get("KeySpec", "SYMMETRIC_DEFAULT"),
        description=properties.get("Description"),
        tags=properties.get("Tags", []),
    )
    key.enabled = properties.get("Enabled", True)
    return key


def apply() -> None:
    global _applied
    if _applied:
        return
    kms_responses.KmsResponse.sign = _sign_honouring_digest
    kms_models.Key.create_from_cloudformation_json = classmethod(_key_from_cloudformation)
    _applied = True
