"""infra/post_deploy.py, run after `chalice deploy` (docs/DEPLOY.md, step 7a), against a stage of moto standing in
for what chalice deploy created: the REST API and its stage, the worker's and monitor's roles, the worker and its SQS
event source. Route a then has the edge limits route b's template deploys (infra/chalice-merge.yaml): the stage
throttle and the WAF rate rule over GET and POST, both on by default."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from devstack.stack import LocalStack
from infra import post_deploy
from tests.support.cfn import CHALICE_DIR, MERGE_TEMPLATE_PATH, load_yaml

STAGE = "dev"


@pytest.fixture(scope="module")
def deployed(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What `chalice deploy --stage dev` leaves: the API, the roles, the worker's event source, and its record in
    .chalice/deployed/dev.json (a copy of .chalice in a temporary folder)."""
    aws = lambda service: boto3.client(service, endpoint_url=stack.aws_endpoint, region_name="us-east-1")  # noqa: E731
    apigateway, iam, lambda_client, sqs = aws("apigateway"), aws("iam"), aws("lambda"), aws("sqs")
    api_id = apigateway.create_rest_api(name="dmtp-key-registry")["id"]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    apigateway.create_deployment(restApiId=api_id, stageName="api")
    roles = {
        function: iam.create_role(
            RoleName=f"dmtp-key-registry-{STAGE}-{function}",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]
        for function in ("process_jobs", "monitor_transactions")
    }
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    lambda_client.create_function(
        FunctionName=f"dmtp-key-registry-{STAGE}-process_jobs",
        Runtime="python3.11",
        Role=roles["process_jobs"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": bundle.getvalue()},
    )
    queue_url = sqs.create_queue(QueueName=f"dmtp-registry-{STAGE}-post-deploy-jobs")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    mapping = lambda_client.create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=f"dmtp-key-registry-{STAGE}-process_jobs", BatchSize=10
    )
    chalice_dir = tmp_path_factory.mktemp("chalice")
    shutil.copy(CHALICE_DIR / "config.json", chalice_dir / "config.json")
    (chalice_dir / "deployed").mkdir()
    (chalice_dir / "deployed" / f"{STAGE}.json").write_text(
        json.dumps({"resources": [{"name": "rest_api", "resource_type": "rest_api", "rest_api_id": api_id}]})
    )
    return {
        "aws": aws,
        "api_id": api_id,
        "roles": roles,
        "mapping": mapping["UUID"],
        "chalice_dir": chalice_dir,
        "stage_arn": f"arn:aws:apigateway:us-east-1::/restapis/{api_id}/stages/api",
    }


@pytest.fixture()
def run(deployed: dict[str, Any], stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ENDPOINT_URL", stack.aws_endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return lambda **limits: post_deploy.apply(
        STAGE, chalice_dir=deployed["chalice_dir"], session=boto3.session.Session(region_name="us-east-1"), **limits
    )


def _merge_defaults() -> dict[str, int]:
    parameters = load_yaml(MERGE_TEMPLATE_PATH)["Parameters"]
    return {name: parameters[name]["Default"] for name in ("ApiRateLimit", "ApiBurstLimit", "RequestsPerSourcePer5Min")}


def _attached_rule(deployed: dict[str, Any]) -> dict[str, Any] | None:
    acl = deployed["aws"]("wafv2").get_web_acl_for_resource(ResourceArn=deployed["stage_arn"]).get("WebACL")
    return acl["Rules"][0] if acl else None


def test_a_plain_chalice_deploy_gets_the_merge_templates_stage_throttle(deployed, run):
    defaults = _merge_defaults()

    done = run()
    settings = deployed["aws"]("apigateway").get_stage(restApiId=deployed["api_id"], stageName="api")["methodSettings"]

    assert done["throttle"] == {"rateLimit": defaults["ApiRateLimit"], "burstLimit": defaults["ApiBurstLimit"]}
    assert settings["*/*"]["throttlingRateLimit"] == defaults["ApiRateLimit"]
    assert settings["*/*"]["throttlingBurstLimit"] == defaults["ApiBurstLimit"]


def test_a_plain_chalice_deploy_gets_the_waf_rate_rule_over_get_and_post_by_default(deployed, run):
    run()
    rule = _attached_rule(deployed)

    assert rule is not None
    rate = rule["Statement"]["RateBasedStatement"]
    methods = {s["ByteMatchStatement"]["SearchString"] for s in rate["ScopeDownStatement"]["OrStatement"]["Statements"]}
    assert rate["Limit"] == _merge_defaults()["RequestsPerSourcePer5Min"] >= 10
    assert rate["AggregateKeyType"] == "IP"
    assert methods == {b"GET", b"POST"}
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    assert {h["Name"]: h["Value"] for h in response["ResponseHeaders"]} == {
        "Retry-After": "300",
        "Access-Control-Allow-Origin": json.loads((CHALICE_DIR / "config.json").read_text())["stages"][STAGE][
            "environment_variables"
        ]["CORS_ALLOW_ORIGIN"],
        "Access-Control-Expose-Headers": "Retry-After",
        "Cache-Control": "no-store",
    }


def test_raising_the_limits_for_a_launch_updates_the_same_web_acl(deployed, run):
    run()
    run(rate=1000, burst=2000, requests_per_5min=5000)
    settings = deployed["aws"]("apigateway").get_stage(restApiId=deployed["api_id"], stageName="api")["methodSettings"]
    acls = [a for a in deployed["aws"]("wafv2").list_web_acls(Scope="REGIONAL")["WebACLs"] if STAGE in a["Name"]]

    assert (settings["*/*"]["throttlingRateLimit"], settings["*/*"]["throttlingBurstLimit"]) == (1000, 2000)
    assert _attached_rule(deployed)["Statement"]["RateBasedStatement"]["Limit"] == 5000
    assert len(acls) == 1


def test_the_api_is_renamed_for_the_alarms_and_the_worker_reports_batch_item_failures(deployed, run):
    run()
    aws = deployed["aws"]

    assert aws("apigateway").get_rest_api(restApiId=deployed["api_id"])["name"] == f"dmtp-key-registry-{STAGE}"
    mapping = aws("lambda").get_event_source_mapping(UUID=deployed["mapping"])
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_it_prints_the_signer_roles_unique_ids_for_the_owner_key_policy(deployed, run):
    done = run()
    ids = {name: deployed["roles"][function]["RoleId"] for name, function in post_deploy.SIGNER_FUNCTIONS.items()}

    assert done["signerRoleIds"] == ids
    assert done["keyPolicyParameters"] == " ".join(f"{name}={value}" for name, value in ids.items())
    assert set(ids) <= set(load_yaml(Path(post_deploy.REPO_ROOT) / "infra" / "template.yaml")["Parameters"])


def test_a_limit_below_wafs_minimum_is_refused_before_anything_changes(deployed, run):
    run()
    with pytest.raises(ValueError, match="at least 10"):
        run(requests_per_5min=5, rate=1)

    settings = deployed["aws"]("apigateway").get_stage(restApiId=deployed["api_id"], stageName="api")["methodSettings"]
    assert settings["*/*"]["throttlingRateLimit"] == _merge_defaults()["ApiRateLimit"]


def test_zero_requests_per_source_detaches_the_web_acl(deployed, run):
    run()
    done = run(requests_per_5min=0)

    assert done["webAcl"] is None
    assert _attached_rule(deployed) is None
    run()  # the stage goes back to the default for the tests after this one
