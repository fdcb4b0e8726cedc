"""What `chalice deploy` leaves out, applied to a stage it deployed (docs/DEPLOY.md, step 7a), idempotently:

    .venv/bin/chalice deploy --stage "$STAGE" && .venv/bin/python -m infra.post_deploy --stage "$STAGE"

- the API stage's throttle (every method: ApiRateLimit requests per second, ApiBurstLimit in a burst);
- the WAF web ACL with the per-source rate rule over GET and POST (RequestsPerSourcePer5Min; 0: none, and a web ACL
  this script attached before is detached), created or updated, and attached to the API stage;
- the REST API's name dmtp-key-registry-<stage>, which the template's API alarms and dashboard watch;
- ReportBatchItemFailures on the worker's SQS event source mapping (without it Lambda deletes a failed job).

The defaults and the web ACL are read from infra/chalice-merge.yaml, the same ones route b (`chalice package`)
deploys, so both routes get the same edge limits; --rate, --burst and --requests-per-source-per-5min override them
(raise them before a launch). It prints one JSON object: what it set, and the two signer roles' unique IDs for the
owner key policy (ProcessJobsRoleId, MonitorTransactionsRoleId of infra/template.yaml). Set AWS_ENDPOINT_URL for a
local stack.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import boto3
import yaml  # type: ignore[import-untyped]  # PyYAML (cfn-lint's, dev venv) ships no types

REPO_ROOT = Path(__file__).resolve().parent.parent
MERGE_TEMPLATE_PATH = REPO_ROOT / "infra" / "chalice-merge.yaml"
CHALICE_DIR = REPO_ROOT / ".chalice"
WEB_ACL_ID = "RequestRateWebAcl"  # the merge template's web ACL, the one both routes deploy
SIGNER_FUNCTIONS = {"ProcessJobsRoleId": "process_jobs", "MonitorTransactionsRoleId": "monitor_transactions"}


class CloudFormationLoader(yaml.SafeLoader):  # type: ignore[misc]  # yaml is untyped here
    """YAML with CloudFormation's short-form tags (!Ref, !GetAtt, !Sub, ...) read as their long forms."""

    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _tag)


def merge_template(path: Path = MERGE_TEMPLATE_PATH) -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=CloudFormationLoader)
    return template


def resolve(
    value: Any, parameters: dict[str, Any], conditions: dict[str, bool], mappings: dict[str, Any] | None = None
) -> Any:
    """The merge template's Ref, Sub (one level, ${Name} only), If, FindInMap and conditions, for what route a
    deploys itself; any other function is a ValueError."""
    if isinstance(value, list):
        return [resolve(v, parameters, conditions, mappings) for v in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value and len(value) == 1:
        return parameters[value["Ref"]]
    if "Fn::FindInMap" in value and mappings is not None:
        name, top, second = (resolve(v, parameters, conditions, mappings) for v in value["Fn::FindInMap"])
        return mappings[name][top][second]
    if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        text = value["Fn::Sub"]
        for name, parameter in parameters.items():
            text = text.replace("${" + name + "}", str(parameter))
        if "${" in text:
            raise ValueError(f"cannot resolve {value}")
        return text
    if "Fn::If" in value:
        condition, when_true, when_false = value["Fn::If"]
        return resolve(when_true if conditions[condition] else when_false, parameters, conditions, mappings)
    if any(key.startswith("Fn::") for key in value):
        raise ValueError(f"cannot resolve {value}")
    return {key: resolve(v, parameters, conditions, mappings) for key, v in value.items()}


def defaults(template: dict[str, Any]) -> dict[str, int]:
    parameters = template["Parameters"]
    return {
        name: int(parameters[name]["Default"]) for name in ("ApiRateLimit", "ApiBurstLimit", "RequestsPerSourcePer5Min")
    }


def web_acl_definition(template: dict[str, Any], stage: str, requests_per_5min: int) -> dict[str, Any]:
    """The merge template's web ACL for `stage` as wafv2.create_web_acl's arguments. Route a creates no read cache,
    so the rule counts every GET and POST (no cache header to leave out)."""
    properties = template["Resources"][WEB_ACL_ID]["Properties"]
    definition: dict[str, Any] = resolve(
        properties,
        {"Stage": stage, "RequestsPerSourcePer5Min": requests_per_5min},
        {"HasReadCache": False, "HasRequestRateRule": requests_per_5min > 0},
        template.get("Mappings", {}),
    )
    return definition


def rest_api_id(stage: str, chalice_dir: Path = CHALICE_DIR) -> str:
    """The API `chalice deploy` recorded in .chalice/deployed/<stage>.json."""
    deployed = json.loads((chalice_dir / "deployed" / f"{stage}.json").read_text(encoding="utf-8"))
    for resource in deployed["resources"]:
        if resource.get("resource_type") == "rest_api" or resource.get("name") == "rest_api":
            return str(resource["rest_api_id"])
    raise KeyError(f"no rest_api in .chalice/deployed/{stage}.json: was the stage deployed with chalice deploy?")


def api_stage_name(stage: str, chalice_dir: Path = CHALICE_DIR) -> str:
    config = json.loads((chalice_dir / "config.json").read_text(encoding="utf-8"))
    return str(config["stages"][stage].get("api_gateway_stage", config.get("api_gateway_stage", "api")))


def _throttle(apigateway: Any, api_id: str, stage_name: str, rate: int, burst: int) -> None:
    apigateway.update_stage(
        restApiId=api_id,
        stageName=stage_name,
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(rate)},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(burst)},
        ],
    )


def _web_acl(wafv2: Any, definition: dict[str, Any]) -> str:
    """Create the web ACL, or update it to `definition` when it exists; its ARN."""
    found = next(
        (acl for acl in wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"] if acl["Name"] == definition["Name"]), None
    )
    if found is None:
        return str(wafv2.create_web_acl(**definition)["Summary"]["ARN"])
    wafv2.update_web_acl(Id=found["Id"], LockToken=found["LockToken"], **definition)
    return str(found["ARN"])


def apply(
    stage: str,
    *,
    rate: int | None = None,
    burst: int | None = None,
    requests_per_5min: int | None = None,
    session: Any = None,
    chalice_dir: Path = CHALICE_DIR,
) -> dict[str, Any]:
    """Everything above, for `stage`; what was set, as a dict."""
    session = session or boto3.session.Session()
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    region = session.region_name or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")

    def client(name: str) -> Any:
        return session.client(name, endpoint_url=endpoint, region_name=region)

    template = merge_template()
    limits = defaults(template)
    rate = limits["ApiRateLimit"] if rate is None else rate
    burst = limits["ApiBurstLimit"] if burst is None else burst
    per_source = limits["RequestsPerSourcePer5Min"] if requests_per_5min is None else requests_per_5min
    if per_source and per_source < 10:
        raise ValueError("WAF's rate-based rule counts at least 10 requests: give 0 (no WAF) or 10 and more")
    api_id = rest_api_id(stage, chalice_dir)
    stage_name = api_stage_name(stage, chalice_dir)
    apigateway, wafv2 = client("apigateway"), client("wafv2")

    _throttle(apigateway, api_id, stage_name, rate, burst)
    apigateway.update_rest_api(
        restApiId=api_id,
        patchOperations=[{"op": "replace", "path": "/name", "value": f"dmtp-key-registry-{stage}"}],
    )
    stage_arn = f"arn:aws:apigateway:{region}::/restapis/{api_id}/stages/{stage_name}"
    definition = web_acl_definition(template, stage, per_source)
    web_acl_arn = None
    attached = wafv2.get_web_acl_for_resource(ResourceArn=stage_arn).get("WebACL")
    if per_source:
        web_acl_arn = _web_acl(wafv2, definition)
        if attached is None or attached["ARN"] != web_acl_arn:  # a stage has one web ACL: this one replaces another
            wafv2.associate_web_acl(WebACLArn=web_acl_arn, ResourceArn=stage_arn)
    elif attached and attached["Name"] == definition["Name"]:
        wafv2.disassociate_web_acl(ResourceArn=stage_arn)

    lambda_client = client("lambda")
    mappings = lambda_client.list_event_source_mappings(FunctionName=f"dmtp-key-registry-{stage}-process_jobs")
    for mapping in mappings["EventSourceMappings"]:
        lambda_client.update_event_source_mapping(
            UUID=mapping["UUID"], FunctionResponseTypes=["ReportBatchItemFailures"]
        )

    iam = client("iam")
    role_ids = {
        parameter: iam.get_role(RoleName=f"dmtp-key-registry-{stage}-{function}")["Role"]["RoleId"]
        for parameter, function in SIGNER_FUNCTIONS.items()
    }
    return {
        "restApiId": api_id,
        "stage": stage_name,
        "throttle": {"rateLimit": rate, "burstLimit": burst},
        "webAcl": web_acl_arn,
        "requestsPerSourcePer5Min": per_source,
        "eventSourceMappings": [m["UUID"] for m in mappings["EventSourceMappings"]],
        "signerRoleIds": role_ids,
        "keyPolicyParameters": " ".join(f"{name}={value}" for name, value in role_ids.items()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", required=True, choices=["dev", "prod"])
    parser.add_argument("--rate", type=int, help="requests per second for the whole stage (ApiRateLimit)")
    parser.add_argument("--burst", type=int, help="burst above the rate (ApiBurstLimit)")
    parser.add_argument(
        "--requests-per-source-per-5min", type=int, help="WAF rate per source IP, GET and POST; 0 for no WAF"
    )
    args = parser.parse_args(argv)
    try:
        done = apply(args.stage, rate=args.rate, burst=args.burst, requests_per_5min=args.requests_per_source_per_5min)
    except (KeyError, ValueError, FileNotFoundError) as exc:
        print(f"post_deploy: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(done))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
