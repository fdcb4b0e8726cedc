"""Corrections to moto 5.2.x, applied in the process that runs the moto server (local stack and tests).

1. KMS Sign ignores MessageType=DIGEST and hashes the digest again (open moto PR #10202), so an Ethereum
   signature made through it recovers to a random address. With DIGEST we sign the bytes as a prehashed
   SHA-256 digest, as AWS KMS does.
2. CloudFormation's AWS::KMS::Key always makes a SYMMETRIC_DEFAULT key; we honour KeySpec and KeyUsage so
   the owner key can come from the same template as in AWS (and drop the None items moto leaves in its
   KeyPolicy where an Fn::If chose AWS::NoValue).
3. CloudFormation's AWS::DynamoDB::Table ignores TimeToLiveSpecification and PointInTimeRecoverySpecification
   and misreads SSESpecification (SSEEnabled); we apply all three, so the tables are what AWS would create.
4. CloudFormation knows no AWS::SecretsManager::Secret or AWS::CloudWatch::Alarm (devstack/moto_cfn.py).
5. DynamoDB requests are not atomic under the threaded server, and TransactWriteItems copies whole tables
   (devstack/moto_dynamodb.py).
6. SQS ReceiveMessage costs O(queue) slow clock reads: seconds per call on a queue of thousands
   (devstack/moto_sqs.py).
7. The server lists moto's package directory to route every request (devstack/moto_server_speed.py).
8. DynamoDB parses every condition expression twice per use, character by character
   (devstack/moto_expressions.py).
"""

import base64
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.kms import models as kms_models
from moto.kms import responses as kms_responses
from moto.kms.exceptions import ValidationException

_DIGEST_HASHES = {
    "ECDSA_SHA_256": (hashes.SHA256(), 32),
    "ECDSA_SHA_384": (hashes.SHA384(), 48),
    "ECDSA_SHA_512": (hashes.SHA512(), 64),
}
_applied = False
original_sign_response = kms_responses.KmsResponse.sign
original_table_from_cloudformation = Table.create_from_cloudformation_json


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
    return json.dumps(
        {"KeyId": key.arn, "Signature": base64.b64encode(signature).decode(), "SigningAlgorithm": algorithm}
    )


def _without_no_value(value: Any) -> Any:
    """moto leaves `!If [cond, x, !Ref AWS::NoValue]` in a list as None; CloudFormation drops the item."""
    if isinstance(value, dict):
        return {key: _without_no_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_no_value(item) for item in value if item is not None]
    return value


def _key_from_cloudformation(
    cls: type[kms_models.Key],
    /,
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> kms_models.Key:
    properties = cloudformation_json["Properties"]
    backend = kms_models.kms_backends[account_id][region_name]
    policy = properties.get("KeyPolicy")
    key = backend.create_key(
        policy=json.dumps(_without_no_value(policy)) if isinstance(policy, dict) else policy,
        key_usage=properties.get("KeyUsage", "ENCRYPT_DECRYPT"),
        key_spec=properties.get("KeySpec", "SYMMETRIC_DEFAULT"),
        description=properties.get("Description"),
        tags=properties.get("Tags", []),
    )
    key.enabled = properties.get("Enabled", True)
    return key


def _table_from_cloudformation(
    cls: type[Table], /, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> Table:
    properties = dict(cloudformation_json["Properties"])
    sse = properties.get("SSESpecification")
    if sse and "SSEEnabled" in sse:  # CloudFormation's spelling; moto's table expects the API's
        api_sse = {
            "Enabled": sse["SSEEnabled"],
            "SSEType": sse.get("SSEType"),
            "KMSMasterKeyId": sse.get("KMSMasterKeyId"),
        }
        properties["SSESpecification"] = {key: value for key, value in api_sse.items() if value is not None}
    cloudformation_json = {**cloudformation_json, "Properties": properties}
    table = original_table_from_cloudformation(resource_name, cloudformation_json, account_id, region_name, **kwargs)
    backend = dynamodb_backends[account_id][region_name]
    if "TimeToLiveSpecification" in properties:
        backend.update_time_to_live(table.name, properties["TimeToLiveSpecification"])
    if "PointInTimeRecoverySpecification" in properties:
        backend.update_continuous_backups(table.name, properties["PointInTimeRecoverySpecification"])
    return table


def apply() -> None:
    global _applied
    if _applied:
        return
    kms_responses.KmsResponse.sign = _sign_honouring_digest  # type: ignore[method-assign]
    # classmethod objects, as a class statement stores them (mypy types the attribute as the bound method).
    kms_models.Key.create_from_cloudformation_json = classmethod(_key_from_cloudformation)  # type: ignore[method-assign, assignment]
    Table.create_from_cloudformation_json = classmethod(_table_from_cloudformation)  # type: ignore[method-assign, assignment]
    from devstack import moto_cfn

    moto_cfn.register()
    from devstack import moto_dynamodb, moto_expressions, moto_server_speed, moto_sqs

    moto_expressions.register()
    moto_dynamodb.register()
    moto_sqs.register()
    moto_server_speed.register()
    _applied = True
