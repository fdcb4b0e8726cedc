"""Reading CloudFormation templates and IAM policies in tests: YAML short-form tags, a tiny policy evaluator."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import yaml

from infra.post_deploy import CloudFormationLoader

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "infra" / "template.yaml"
MERGE_TEMPLATE_PATH = REPO_ROOT / "infra" / "chalice-merge.yaml"
CHALICE_DIR = REPO_ROOT / ".chalice"
CLOUD_STAGES = ("dev", "prod")


def load_yaml(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=CloudFormationLoader)


def chalice_config() -> dict[str, Any]:
    return json.loads((CHALICE_DIR / "config.json").read_text())


def stage_env(stage: str) -> dict[str, str]:
    config = chalice_config()
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def function_setting(stage: str, function: str, name: str) -> Any:
    """A per-function Chalice setting, looked up in Chalice's order (stage function, stage, function, top)."""
    config = chalice_config()
    stage_config = config["stages"][stage]
    for scope in (
        stage_config.get("lambda_functions", {}).get(function, {}),
        stage_config,
        config.get("lambda_functions", {}).get(function, {}),
        config,
    ):
        if name in scope:
            return scope[name]
    return None


def policy_file(stage: str, function: str) -> dict[str, Any]:
    return json.loads((CHALICE_DIR / function_setting(stage, function, "iam_policy_file")).read_text())


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowed_actions(policy: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(action, resource, condition) for every Allow statement of an identity policy."""
    return [
        (action, resource, statement.get("Condition", {}))
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]


def _principal_matches(principal: Any, principal_arn: str) -> bool:
    if principal == "*":
        return True
    account = principal_arn.split(":")[4]
    return any(
        entry in ("*", principal_arn, f"arn:aws:iam::{account}:root") for entry in as_list(principal.get("AWS", []))
    )


def _conditions_hold(condition: dict[str, Any], principal_arn: str, user_id: str) -> bool:
    """aws:PrincipalArn (Arn operators) and aws:userid (String operators), with IAM's wildcards; every other key is
    a NotImplementedError, never silently true."""
    for operator, tests in condition.items():
        for key, expected in tests.items():
            if key == "aws:PrincipalArn" and operator in ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"):
                value = principal_arn
            elif key == "aws:userid" and operator in ("StringEquals", "StringLike", "StringNotEquals", "StringNotLike"):
                value = user_id
            else:
                raise NotImplementedError(f"{operator} {key}")
            wildcards = operator.endswith("Like") or operator.startswith("Arn")
            matches = any(
                fnmatch.fnmatchcase(value, pattern) if wildcards else value == pattern for pattern in as_list(expected)
            )
            if matches == ("Not" in operator):
                return False
    return True


def key_policy_allows(policy: dict[str, Any], principal_arn: str, action: str, user_id: str = "") -> bool:
    """Whether a KMS key policy lets `principal_arn` (a role in the key's account) call `action`, in a session whose
    aws:userid is `user_id` (a role's: "<its unique ID>:<session name>").

    An Allow to the account root counts as allowing the principal (its own IAM policy must allow it too, which
    the identity policy tests check separately); any matching Deny wins.
    """
    verdict = False
    for statement in policy["Statement"]:
        if not any(fnmatch.fnmatchcase(action, pattern) for pattern in as_list(statement["Action"])):
            continue
        if not _principal_matches(statement["Principal"], principal_arn):
            continue
        if not _conditions_hold(statement.get("Condition", {}), principal_arn, user_id):
            continue
        if statement["Effect"] == "Deny":
            return False
        verdict = True
    return verdict


def _leading_keys_hold(condition: dict[str, Any], leading_keys: list[str]) -> bool:
    """dynamodb:LeadingKeys under ForAllValues/ForAnyValue with StringEquals/StringLike; any other condition is a
    NotImplementedError, never silently true."""
    for operator, tests in condition.items():
        for key, expected in tests.items():
            if key != "dynamodb:LeadingKeys" or operator not in (
                "ForAllValues:StringEquals",
                "ForAllValues:StringLike",
                "ForAnyValue:StringEquals",
                "ForAnyValue:StringLike",
            ):
                raise NotImplementedError(f"{operator} {key}")
            like = operator.endswith("Like")
            hits = [
                any(fnmatch.fnmatchcase(value, p) if like else value == p for p in as_list(expected))
                for value in leading_keys
            ]
            if not (all(hits) if operator.startswith("ForAllValues") else any(hits)):
                return False
    return True


def identity_policy_allows(policy: dict[str, Any], action: str, resource_arn: str, leading_key: str) -> bool:
    """Whether an identity policy lets its role call DynamoDB `action` on `resource_arn` for an item whose partition
    key is `leading_key` (the dynamodb:LeadingKeys IAM sees for a single-item write). Any matching Deny wins."""
    verdict = False
    for statement in policy["Statement"]:
        if not any(fnmatch.fnmatchcase(action, pattern) for pattern in as_list(statement["Action"])):
            continue
        if not any(fnmatch.fnmatchcase(resource_arn, pattern) for pattern in as_list(statement["Resource"])):
            continue
        if not _leading_keys_hold(statement.get("Condition", {}), [leading_key]):
            continue
        if statement["Effect"] == "Deny":
            return False
        verdict = True
    return verdict
