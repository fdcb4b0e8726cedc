"""Infrastructure as code: the CloudFormation template, the Chalice stages and policies, the packaged app
template, and the operator scripts that deploy the contract and rotate its KMS owner key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from devstack.anvil import DEV_ACCOUNTS
from devstack.stack import LocalStack, deploy_registry, deploy_template
from tests.support.cfn import (
    CLOUD_STAGES,
    MERGE_TEMPLATE_PATH,
    REPO_ROOT,
    TEMPLATE_PATH,
    allowed_actions,
    as_list,
    chalice_config,
    function_setting,
    key_policy_allows,
    load_yaml,
    policy_file,
    stage_env,
)

FUNCTIONS = ("api_handler", "process_jobs", "monitor_transactions")
SIGNING_FUNCTIONS = ("process_jobs", "monitor_transactions")
ACCOUNT = "123456789012"  # moto's account
CFN_LINT = Path(sys.executable).with_name("cfn-lint")
CHALICE = Path(sys.executable).with_name("chalice")
ROTATION_SIGNER = f"arn:aws:iam::{ACCOUNT}:role/Operator"


def role_arn(stage: str, function: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/dmtp-key-registry-{stage}-{function}"


def cfn_lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CFN_LINT), str(path)], capture_output=True, text=True, timeout=120, check=False)


# ---------------------------------------------------------------- the templates pass cfn-lint


def test_infra_template_passes_cfn_lint():
    result = cfn_lint(TEMPLATE_PATH)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`chalice package --stage prod --merge-template infra/chalice-merge.yaml` as docs/DEPLOY.md runs it."""
    out = tmp_path_factory.mktemp("package")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    started = time.monotonic()
    result = subprocess.run(
        [str(CHALICE), "package", "--stage", "prod", "--merge-template", str(MERGE_TEMPLATE_PATH), str(out)],
        cwd=REPO_ROOT,
        env={**env, "AWS_DEFAULT_REGION": "us-east-1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    print(f"\nchalice package took {time.monotonic() - started:.1f} s")
    return {"path": out / "sam.yaml", "template": load_yaml(out / "sam.yaml"), "zip": out / "deployment.zip"}


# The first test to ask for `packaged` pays for `chalice package`, which rebuilds its dependency zip whenever
# app.py or chalicelib/ changed (Chalice keys its cache on them): minutes on a busy 2-core machine.
@pytest.mark.timeout(600)
def test_packaged_app_template_passes_cfn_lint(packaged):
    result = cfn_lint(packaged["path"])

    assert result.returncode == 0, result.stdout + result.stderr


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Packaged Lambda functions by their Chalice name (app.app is the API handler)."""
    found = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            handler = resource["Properties"]["Handler"].split(".", 1)[1]
            found["api_handler" if handler == "app" else handler] = resource
    return found


def test_the_lambda_package_carries_the_protocol_package_beside_the_app_and_no_client(packaged):
    """chalice ships vendor/ at the package's top level: vendor/dmtp_protocol links to packages/dmtp-protocol."""
    with zipfile.ZipFile(packaged["zip"]) as bundle:
        names = set(bundle.namelist())
        protocol = {name for name in names if name.startswith("dmtp_protocol/")}
        assert {
            "dmtp_protocol/__init__.py",
            "dmtp_protocol/messages.py",
            "dmtp_protocol/contracts/DMTPKeys.json",
        } <= protocol
        assert (
            bundle.read("dmtp_protocol/messages.py")
            == (REPO_ROOT / "vendor" / "dmtp_protocol" / "messages.py").read_bytes()
        )
    assert {"app.py", "chalicelib/api/registry.py", "chalicelib/api/static/dmtp-client.js"} <= names
    assert not any(name.startswith(("dmtp_key_registry_client/", "tests/", "clients/", "packages/")) for name in names)


def test_the_lambda_package_carries_exactly_the_locked_distributions(packaged):
    """chalice package installs requirements.txt, the hashed lock (tests/infra/test_lock.py): every distribution in
    the zip is a locked one at its locked version, and every locked one is there."""
    from tests.infra.test_lock import lock, normalise

    with zipfile.ZipFile(packaged["zip"]) as bundle:
        shipped = {
            normalise(folder.removesuffix(".dist-info").rsplit("-", 1)[0]): folder.removesuffix(".dist-info").rsplit(
                "-", 1
            )[1]
            for folder in {name.split("/", 1)[0] for name in bundle.namelist()}
            if folder.endswith(".dist-info")
        }

    assert shipped == {name: entry.version for name, entry in lock().items()}


def test_packaged_worker_reports_batch_item_failures(packaged):
    worker = _functions(packaged["template"])["process_jobs"]
    (event,) = worker["Properties"]["Events"].values()

    assert event["Type"] == "SQS"
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_packaged_worker_concurrency_is_reserved_and_the_poller_stays_within_it(packaged):
    worker = _functions(packaged["template"])["process_jobs"]
    (event,) = worker["Properties"]["Events"].values()
    reserved = function_setting("prod", "process_jobs", "reserved_concurrency")

    assert reserved >= 2
    assert worker["Properties"]["ReservedConcurrentExecutions"] == reserved
    assert event["Properties"]["ScalingConfig"]["MaximumConcurrency"] == reserved


def test_packaged_functions_keep_their_logs_for_the_stages_retention(packaged):
    template = packaged["template"]
    groups = {
        resource["Properties"]["LogGroupName"]["Fn::Sub"]: resource["Properties"]["RetentionInDays"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Logs::LogGroup"
    }
    logical_ids = {id(resource): name for name, resource in template["Resources"].items()}

    for resource in _functions(template).values():
        assert (
            groups[f"/aws/lambda/${{{logical_ids[id(resource)]}}}"]
            == chalice_config()["stages"]["prod"]["log_retention_in_days"]
        )


def test_packaged_functions_and_roles_carry_the_names_the_key_policy_and_alarms_use(packaged):
    template = packaged["template"]
    for function, resource in _functions(template).items():
        expected = {"Fn::Sub": f"dmtp-key-registry-${{Stage}}-{function}"}
        role = template["Resources"][resource["Properties"]["Role"]["Fn::GetAtt"][0]]

        assert resource["Properties"].get("FunctionName") == expected, (
            f"{function}: add it to {MERGE_TEMPLATE_PATH.name}"
        )
        assert role["Properties"].get("RoleName") == expected, (
            f"{function}'s role: add it to {MERGE_TEMPLATE_PATH.name}"
        )


def test_packaged_roles_carry_the_stage_policy_files(packaged):
    template = packaged["template"]
    for function, resource in _functions(template).items():
        role = template["Resources"][resource["Properties"]["Role"]["Fn::GetAtt"][0]]

        assert [p["PolicyDocument"] for p in role["Properties"]["Policies"]] == [policy_file("prod", function)]


# ---------------------------------------------------------------- stages and their policy files


def test_every_cloud_stage_names_the_resources_the_template_creates_for_it():
    resources = load_yaml(TEMPLATE_PATH)["Resources"]

    def name(logical_id: str, prop: str, stage: str) -> str:
        return resources[logical_id]["Properties"][prop]["Fn::Sub"].replace("${Stage}", stage)

    for stage in CLOUD_STAGES:
        env = stage_env(stage)
        assert env["RECORDS_TABLE"] == name("RecordsTable", "TableName", stage)
        assert env["TRANSACTIONS_TABLE"] == name("TransactionsTable", "TableName", stage)
        assert env["QUOTAS_TABLE"] == name("QuotasTable", "TableName", stage)
        assert env["LOG_TABLE"] == name("LogTable", "TableName", stage)
        assert env["JOBS_QUEUE_NAME"] == name("JobsQueue", "QueueName", stage)
        assert env["KMS_KEY_ID"] in (
            name("OwnerKeyBlueAlias", "AliasName", stage),
            name("OwnerKeyGreenAlias", "AliasName", stage),
        )
        assert env["PINNING_JWT_SECRET_ID"] == name("PinningJwtSecret", "Name", stage)
        assert env["RPC_URL_SECRET_ID"] == name("RpcUrlSecret", "Name", stage)
        assert env["API_RPC_URL_SECRET_ID"] == name("ApiRpcUrlSecret", "Name", stage)
        assert "PINNING_JWT" not in env and "RPC_URL" not in env and "API_RPC_URL" not in env


def test_iam_policies_are_written_by_hand_for_every_function_of_every_cloud_stage():
    assert chalice_config()["autogen_policy"] is False
    for stage in CLOUD_STAGES:
        for function in FUNCTIONS:
            assert policy_file(stage, function)["Statement"], (stage, function)


def test_dev_and_prod_policies_differ_only_in_the_stage_name():
    for function in FUNCTIONS:
        dev = json.dumps(policy_file("dev", function))

        assert dev.replace("-dev-", "-prod-").replace("/dev/", "/prod/") == json.dumps(policy_file("prod", function))


def test_api_role_can_use_no_kms_action():
    for stage in CLOUD_STAGES:
        actions = [action for action, _, _ in allowed_actions(policy_file(stage, "api_handler"))]

        assert not [action for action in actions if action.startswith("kms:") or "*" in action], actions


def test_signing_roles_get_sign_and_public_key_on_the_owner_key_aliases_only():
    for stage in CLOUD_STAGES:
        for function in SIGNING_FUNCTIONS:
            kms = [(a, r, c) for a, r, c in allowed_actions(policy_file(stage, function)) if a.startswith("kms:")]

            assert sorted(action for action, _, _ in kms) == ["kms:GetPublicKey", "kms:Sign"]
            for _, _, condition in kms:
                assert condition == {
                    "ForAnyValue:StringEquals": {
                        "kms:ResourceAliases": [
                            f"alias/dmtp-registry-{stage}-owner-blue",
                            f"alias/dmtp-registry-{stage}-owner-green",
                        ]
                    }
                }


def test_no_policy_grants_dynamodb_sqs_or_secrets_on_a_wildcard_resource_name():
    for stage in CLOUD_STAGES:
        for function in FUNCTIONS:
            for action, resource, _ in allowed_actions(policy_file(stage, function)):
                if action.split(":")[0] in ("dynamodb", "sqs", "secretsmanager"):
                    name = resource.split(":", 5)[5]
                    assert "*" not in name, resource
                    assert f"dmtp-registry-{stage}-" in name or f"dmtp-registry/{stage}/" in name, resource


def test_worker_updates_records_but_cannot_create_or_delete_them():
    for stage in CLOUD_STAGES:
        for function in SIGNING_FUNCTIONS:
            on_records = {
                a
                for a, r, _ in allowed_actions(policy_file(stage, function))
                if r.endswith(f"dmtp-registry-{stage}-records")
            }

            assert "dynamodb:UpdateItem" in on_records
            assert not on_records & {"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def test_the_monitor_queries_the_records_open_index_and_scans_no_table():
    for stage in CLOUD_STAGES:
        monitor = allowed_actions(policy_file(stage, "monitor_transactions"))

        assert ("dynamodb:Query", f"arn:aws:dynamodb:*:*:table/dmtp-registry-{stage}-records/index/open") in [
            (action, resource) for action, resource, _ in monitor
        ]
        for function in FUNCTIONS:
            assert "dynamodb:Scan" not in [a for a, _, _ in allowed_actions(policy_file(stage, function))], function


def test_the_records_open_index_is_sharded_sorted_by_update_and_projects_what_the_sweeper_reads():
    from chalicelib.adapters.records import OPEN_INDEX, OPEN_INDEX_PROJECTION, OPEN_SHARD

    (index,) = load_yaml(TEMPLATE_PATH)["Resources"]["RecordsTable"]["Properties"]["GlobalSecondaryIndexes"]

    assert index["IndexName"] == OPEN_INDEX
    assert {k["AttributeName"]: k["KeyType"] for k in index["KeySchema"]} == {OPEN_SHARD: "HASH", "updatedAt": "RANGE"}
    assert index["Projection"]["ProjectionType"] == "INCLUDE"
    assert sorted(index["Projection"]["NonKeyAttributes"]) == sorted(OPEN_INDEX_PROJECTION)
    assert "document" not in index["Projection"]["NonKeyAttributes"]


def test_only_the_worker_reads_the_pinning_jwt():
    """Pinning is the worker's since issue 22 (chalicelib/bootstrap.py builds a pinner only for chain_worker)."""
    for stage in CLOUD_STAGES:
        for function in FUNCTIONS:
            reads = [
                r for a, r, _ in allowed_actions(policy_file(stage, function)) if a == "secretsmanager:GetSecretValue"
            ]

            assert any("pinning-jwt" in r for r in reads) == (function == "process_jobs")


def test_each_rpc_secret_is_read_by_its_own_roles_only():
    # The API checks strangers' contract signatures through its own RPC key; the worker and monitor send through
    # theirs: neither role can spend (or read) the other's provider key (issue 24).
    for stage in CLOUD_STAGES:
        for function in FUNCTIONS:
            reads = [
                r for a, r, _ in allowed_actions(policy_file(stage, function)) if a == "secretsmanager:GetSecretValue"
            ]
            api_rpc = f"secret:dmtp-registry/{stage}/api-rpc-url-"
            worker_rpc = f"secret:dmtp-registry/{stage}/rpc-url-"

            assert any(api_rpc in r for r in reads) == (function == "api_handler"), (function, reads)
            assert any(worker_rpc in r for r in reads) == (function != "api_handler"), (function, reads)


def test_jobs_stay_invisible_for_six_worker_timeouts_plus_the_batching_window():
    queue = load_yaml(TEMPLATE_PATH)["Resources"]["JobsQueue"]["Properties"]
    for stage in ("local", *CLOUD_STAGES):
        window = int(stage_env(stage).get("JOB_BATCH_WINDOW_S", "5"))
        assert queue["VisibilityTimeout"] >= 6 * function_setting(stage, "process_jobs", "lambda_timeout") + window


def test_the_worker_knows_which_delivery_is_the_last_before_the_dead_letter_queue():
    max_receive_count = load_yaml(TEMPLATE_PATH)["Parameters"]["MaxReceiveCount"]["Default"]
    for stage in ("local", *CLOUD_STAGES):
        assert int(stage_env(stage).get("MAX_RECEIVE_COUNT", "5")) == max_receive_count


def test_alarm_metrics_are_the_ones_powertools_publishes_under():
    env = stage_env("prod")
    for logical_id in (
        "OwnerBalanceLowAlarm",
        "FeeCapReachedAlarm",
        "WriteBudgetExhaustedAlarm",
        "WorkerPausedAlarm",
        "RecordsSweptAlarm",
    ):
        alarm = load_yaml(TEMPLATE_PATH)["Resources"][logical_id]["Properties"]

        assert alarm["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"]
        assert alarm["Dimensions"] == [
            {"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]},
            {"Name": "stage", "Value": {"Ref": "Stage"}},
        ]


def test_the_poller_concurrency_equals_the_workers_reserved_concurrency_in_every_stage():
    for stage in ("local", *CLOUD_STAGES):
        assert int(stage_env(stage)["WORKER_MAX_CONCURRENCY"]) == function_setting(
            stage, "process_jobs", "reserved_concurrency"
        )


def test_packaged_monitor_runs_one_at_a_time_and_every_function_is_traced(packaged):
    functions = _functions(packaged["template"])

    assert functions["monitor_transactions"]["Properties"]["ReservedConcurrentExecutions"] == 1
    for function, resource in functions.items():
        assert resource["Properties"]["Tracing"] == "Active", function
        assert {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} <= {
            a for a, _, _ in allowed_actions(policy_file("prod", function))
        }


def test_packaged_api_is_named_per_stage_throttled_and_behind_a_per_source_rate_rule_by_default(packaged):
    template = packaged["template"]
    resources, parameters = template["Resources"], template["Parameters"]
    api = resources["RestAPI"]["Properties"]
    acl = resources["RequestRateWebAcl"]
    (rule,) = acl["Properties"]["Rules"]
    rate = rule["Statement"]["RateBasedStatement"]
    with_cache, without_cache = rate["ScopeDownStatement"]["Fn::If"][1:]
    methods = with_cache["AndStatement"]["Statements"][0]

    assert api["Name"] == {"Fn::Sub": "dmtp-key-registry-${Stage}"}
    assert api["MethodSettings"][0]["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert api["MethodSettings"][0]["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}
    assert parameters["RequestsPerSourcePer5Min"]["Default"] >= 10  # on unless a deploy says 0
    assert acl["Condition"] == "HasRequestRateRule"
    assert resources["RequestRateWebAclAssociation"]["Condition"] == "HasRequestRateRule"
    assert rate["AggregateKeyType"] == "IP" and rate["Limit"] == {"Ref": "RequestsPerSourcePer5Min"}
    assert methods == without_cache
    assert {s["ByteMatchStatement"]["SearchString"] for s in methods["OrStatement"]["Statements"]} == {"GET", "POST"}
    assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429


def test_the_read_caches_own_requests_are_left_out_of_the_per_source_rule(packaged):
    """Cache misses reach the API from CloudFront's addresses: the distribution names itself with a header whose
    value only the stack knows, and the rule does not count those requests as one source."""
    resources = packaged["template"]["Resources"]
    rate = resources["RequestRateWebAcl"]["Properties"]["Rules"][0]["Statement"]["RateBasedStatement"]
    condition, with_cache, _ = rate["ScopeDownStatement"]["Fn::If"]
    header_match = with_cache["AndStatement"]["Statements"][1]["NotStatement"]["Statement"]["ByteMatchStatement"]
    (origin,) = resources["ReadCacheDistribution"]["Properties"]["DistributionConfig"]["Origins"]
    (header,) = origin["OriginCustomHeaders"]

    assert condition == "HasReadCache"
    assert header_match["FieldToMatch"] == {"SingleHeader": {"Name": header["HeaderName"]}}
    assert header_match["SearchString"] == header["HeaderValue"]
    assert header["HeaderValue"] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}


def test_each_stage_publishes_metrics_under_its_own_name():
    for stage in ("local", *CLOUD_STAGES):
        assert stage_env(stage)["STAGE"] == stage


# ---------------------------------------------------------------- what the template creates (moto)


@pytest.fixture(scope="module")
def aws(stack: LocalStack) -> Any:
    return lambda service: boto3.client(service, endpoint_url=stack.aws_endpoint)


def test_tables_are_on_demand_encrypted_and_recoverable(aws, stack):
    dynamodb = aws("dynamodb")
    for variable in ("RECORDS_TABLE", "TRANSACTIONS_TABLE", "QUOTAS_TABLE", "LOG_TABLE"):
        table = dynamodb.describe_table(TableName=stack.env[variable])["Table"]
        backups = dynamodb.describe_continuous_backups(TableName=table["TableName"])["ContinuousBackupsDescription"]

        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert table["SSEDescription"]["Status"] == "ENABLED"
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_the_deployed_records_table_has_the_open_index(aws, stack):
    table = aws("dynamodb").describe_table(TableName=stack.env["RECORDS_TABLE"])["Table"]

    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "open"
    assert {k["AttributeName"]: k["KeyType"] for k in index["KeySchema"]} == {"openShard": "HASH", "updatedAt": "RANGE"}


def test_transactions_are_keyed_by_signer_and_nonce(aws, stack):
    table = aws("dynamodb").describe_table(TableName=stack.env["TRANSACTIONS_TABLE"])["Table"]

    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"signer": "HASH", "nonce": "RANGE"}
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        "signer": "S",
        "nonce": "N",
    }


def test_quotas_expire_by_ttl(aws, stack):
    ttl = aws("dynamodb").describe_time_to_live(TableName=stack.env["QUOTAS_TABLE"])["TimeToLiveDescription"]

    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}


def test_failed_jobs_move_to_the_dead_letter_queue(aws, stack):
    sqs = aws("sqs")
    url = sqs.get_queue_url(QueueName=stack.env["JOBS_QUEUE_NAME"])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])

    assert redrive["deadLetterTargetArn"].endswith(f":{stack.env['JOBS_QUEUE_NAME']}-dlq")
    assert int(redrive["maxReceiveCount"]) == 5
    assert "FifoQueue" not in attributes


def test_owner_key_is_a_secp256k1_signing_key(aws, stack):
    key = aws("kms").describe_key(KeyId=stack.env["KMS_KEY_ID"])["KeyMetadata"]

    assert (key["KeySpec"], key["KeyUsage"]) == ("ECC_SECG_P256K1", "SIGN_VERIFY")


def test_alarms_watch_dead_letters_worker_errors_job_age_owner_balance_and_fee_cap(aws, stack):
    alarms = {
        a["AlarmName"].removeprefix("dmtp-registry-local-"): a
        for a in aws("cloudwatch").describe_alarms()["MetricAlarms"]
        if a["AlarmName"].startswith("dmtp-registry-local-")
    }
    watched = {
        name: (a.get("Namespace"), a.get("MetricName"), a["ComparisonOperator"], a["Threshold"])
        for name, a in alarms.items()
    }

    assert watched == {
        "dead-letter-jobs": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "GreaterThanThreshold", 0),
        "worker-errors": ("AWS/Lambda", "Errors", "GreaterThanThreshold", 0),
        "monitor-errors": ("AWS/Lambda", "Errors", "GreaterThanThreshold", 0),
        "oldest-job-age": ("AWS/SQS", "ApproximateAgeOfOldestMessage", "GreaterThanThreshold", 600),
        "owner-balance-low": ("DMTPKeyRegistry", "OwnerBalanceEth", "LessThanThreshold", 0.05),
        "fee-cap-reached": ("DMTPKeyRegistry", "FeeCapReached", "GreaterThanOrEqualToThreshold", 1),
        "write-budget-exhausted": ("DMTPKeyRegistry", "WriteBudgetExhausted", "GreaterThanOrEqualToThreshold", 1),
        "monitor-heartbeat": ("DMTPKeyRegistry", "MonitorPasses", "LessThanThreshold", 1),
        "oldest-pending-tx": ("DMTPKeyRegistry", "OldestPendingTxAgeSeconds", "GreaterThanThreshold", 900),
        "api-5xx-rate": (None, None, "GreaterThanThreshold", 0.01),  # metric math over 5XXError / Count
        "api-p99-latency": ("AWS/ApiGateway", "Latency", "GreaterThanThreshold", 3000),
        "worker-paused": ("DMTPKeyRegistry", "WorkerPaused", "GreaterThanOrEqualToThreshold", 1),
        "records-swept": ("DMTPKeyRegistry", "RecordsSwept", "GreaterThanOrEqualToThreshold", 1),
    }
    assert {a["AlarmActions"][0] for a in alarms.values()} == {stack.outputs["AlarmTopicArn"]}
    assert alarms["worker-errors"]["Dimensions"] == [
        {"Name": "FunctionName", "Value": "dmtp-key-registry-local-process_jobs"}
    ]


# ---------------------------------------------------------------- the owner key policy

WORKER_ROLE_ID = "AROAWORKERROLE000001"  # the unique IDs the app deploy's roles got (ProcessJobsRoleId, ...)
MONITOR_ROLE_ID = "AROAMONITORROLE00001"
ROTATION_SIGNER_ID = "AROAOPERATOR00000001"
ROLE_IDS = {"process_jobs": WORKER_ROLE_ID, "monitor_transactions": MONITOR_ROLE_ID}


def session(role_id: str) -> str:
    """A role session's aws:userid: the role's unique ID and the session name."""
    return f"{role_id}:session-1"


def _key_policy(aws: Any, alias: str) -> dict[str, Any]:
    kms = aws("kms")
    key_id = kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]
    return json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])


@pytest.fixture(scope="module")
def signing_stage(stack: LocalStack) -> str:
    """A copy of the template once the app is deployed: the signer roles' unique IDs given."""
    deploy_template(
        stack.aws_endpoint,
        "signing",
        {"ProcessJobsRoleId": WORKER_ROLE_ID, "MonitorTransactionsRoleId": MONITOR_ROLE_ID},
    )
    return "signing"


@pytest.fixture(scope="module")
def rotation_stage(stack: LocalStack) -> str:
    """A second copy of the template, mid-rotation: both owner keys, and a rotation signer named."""
    deploy_template(
        stack.aws_endpoint,
        "rotation",
        {
            "OwnerKeys": "blue+green",
            "RotationSignerArn": ROTATION_SIGNER,
            "RotationSignerId": ROTATION_SIGNER_ID,
            "ProcessJobsRoleId": WORKER_ROLE_ID,
            "MonitorTransactionsRoleId": MONITOR_ROLE_ID,
        },
    )
    return "rotation"


@pytest.fixture(scope="module")
def key_admin(aws: Any, signing_stage: str) -> tuple[str, str]:
    """The signing stage's break-glass role: its ARN and unique ID, as IAM (moto) gave them."""
    role = aws("iam").get_role(RoleName=f"dmtp-registry-{signing_stage}-key-admin")["Role"]
    return role["Arn"], role["RoleId"]


def test_only_the_worker_and_monitor_roles_may_sign_with_the_owner_key(aws, signing_stage):
    policy = _key_policy(aws, f"alias/dmtp-registry-{signing_stage}-owner-blue")

    for function in SIGNING_FUNCTIONS:
        assert key_policy_allows(policy, role_arn(signing_stage, function), "kms:Sign", session(ROLE_IDS[function]))
    for outsider, user_id in (
        (role_arn(signing_stage, "api_handler"), session("AROAAPIROLE000000001")),
        (f"arn:aws:iam::{ACCOUNT}:role/Admin", session("AROAADMIN00000000001")),
        (f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT),
        (ROTATION_SIGNER, session(ROTATION_SIGNER_ID)),
        (role_arn("prod", "process_jobs"), session("AROAPRODWORKER000001")),
    ):
        assert not key_policy_allows(policy, outsider, "kms:Sign", user_id), outsider


def test_a_role_created_again_under_a_signers_name_cannot_sign(aws, signing_stage):
    """Same name, so the same ARN, but a new unique ID: the policy names the old one."""
    policy = _key_policy(aws, f"alias/dmtp-registry-{signing_stage}-owner-blue")

    assert not key_policy_allows(
        policy, role_arn(signing_stage, "process_jobs"), "kms:Sign", session("AROARECREATEDROLE001")
    )
    # nor does another role whose session carries a signer's ID pattern under another ARN
    assert not key_policy_allows(policy, f"arn:aws:iam::{ACCOUNT}:role/Admin", "kms:Sign", session(WORKER_ROLE_ID))


def test_until_the_signer_roles_ids_are_given_nobody_signs(aws, stack):
    policy = _key_policy(aws, stack.env["KMS_KEY_ID"])

    assert "OnlyTheWorkerRolesSign" not in [s.get("Sid") for s in policy["Statement"]]

    for function in SIGNING_FUNCTIONS:
        assert not key_policy_allows(policy, role_arn("local", function), "kms:Sign", session(ROLE_IDS[function]))


def test_nobody_may_create_grants_on_the_owner_key(aws, signing_stage, key_admin):
    policy = _key_policy(aws, f"alias/dmtp-registry-{signing_stage}-owner-blue")

    assert not key_policy_allows(
        policy, f"arn:aws:iam::{ACCOUNT}:role/Admin", "kms:CreateGrant", session("AROAADMIN00000000001")
    )
    assert not key_policy_allows(
        policy, role_arn(signing_stage, "process_jobs"), "kms:CreateGrant", session(WORKER_ROLE_ID)
    )
    assert not key_policy_allows(policy, key_admin[0], "kms:CreateGrant", session(key_admin[1]))


def test_account_administrators_manage_the_key_but_cannot_rewrite_its_policy_or_delete_it(aws, signing_stage):
    policy = _key_policy(aws, f"alias/dmtp-registry-{signing_stage}-owner-blue")
    admin, admin_session = f"arn:aws:iam::{ACCOUNT}:role/Admin", session("AROAADMIN00000000001")

    for action in ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:DisableKey", "kms:EnableKey", "kms:GetPublicKey"):
        assert key_policy_allows(policy, admin, action, admin_session), action
    for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"):
        assert not key_policy_allows(policy, admin, action, admin_session), action
        assert not key_policy_allows(policy, f"arn:aws:iam::{ACCOUNT}:root", action, ACCOUNT), action


def test_only_the_key_admin_role_rewrites_the_policy_or_schedules_the_keys_deletion(aws, signing_stage, key_admin):
    policy = _key_policy(aws, f"alias/dmtp-registry-{signing_stage}-owner-blue")
    arn, role_id = key_admin

    assert arn == f"arn:aws:iam::{ACCOUNT}:role/dmtp-registry-{signing_stage}-key-admin"
    for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"):
        assert key_policy_allows(policy, arn, action, session(role_id)), action
        assert not key_policy_allows(policy, arn, action, session("AROARECREATEDADMIN01")), action
    assert not key_policy_allows(policy, arn, "kms:Sign", session(role_id))


def test_the_key_admin_role_needs_mfa_and_administers_only_this_stages_owner_keys():
    role = load_yaml(TEMPLATE_PATH)["Resources"]["KeyAdminRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    (policy,) = role["Policies"]
    kms = [s for s in policy["PolicyDocument"]["Statement"] if any(a.startswith("kms:") for a in as_list(s["Action"]))]

    assert trust["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert {"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"} <= {a for s in kms for a in s["Action"]}
    assert not {"kms:Sign", "kms:CreateGrant"} & {a for s in kms for a in s["Action"]}
    for statement in kms:
        assert statement["Condition"] == {
            "ForAnyValue:StringEquals": {
                "kms:ResourceAliases": [
                    {"Fn::Sub": "alias/dmtp-registry-${Stage}-owner-blue"},
                    {"Fn::Sub": "alias/dmtp-registry-${Stage}-owner-green"},
                ]
            }
        }


def test_the_rotation_signer_may_sign_only_while_the_stack_names_it(aws, signing_stage, rotation_stage):
    rotating = _key_policy(aws, f"alias/dmtp-registry-{rotation_stage}-owner-blue")

    assert key_policy_allows(rotating, ROTATION_SIGNER, "kms:Sign", session(ROTATION_SIGNER_ID))
    assert not key_policy_allows(rotating, ROTATION_SIGNER, "kms:Sign", session("AROARECREATEDOPER001"))
    assert not key_policy_allows(
        rotating, role_arn(rotation_stage, "api_handler"), "kms:Sign", session("AROAAPIROLE000000001")
    )
    for function in SIGNING_FUNCTIONS:
        assert key_policy_allows(rotating, role_arn(rotation_stage, function), "kms:Sign", session(ROLE_IDS[function]))
    assert not key_policy_allows(
        _key_policy(aws, f"alias/dmtp-registry-{signing_stage}-owner-blue"),
        ROTATION_SIGNER,
        "kms:Sign",
        session(ROTATION_SIGNER_ID),
    )


def test_an_iam_user_as_rotation_signer_is_named_by_its_unique_id_alone(aws, rotation_stage):
    """A user's aws:userid is its unique ID (AIDA...) with no session part."""
    policy = _key_policy(aws, f"alias/dmtp-registry-{rotation_stage}-owner-blue")
    statement = next(s for s in policy["Statement"] if s.get("Sid") == "RotationSignerSignsTheOwnershipTransfer")

    assert statement["Condition"]["StringLike"]["aws:userid"] == [ROTATION_SIGNER_ID, f"{ROTATION_SIGNER_ID}:*"]


def test_blue_and_green_owner_keys_carry_the_same_policy(aws, rotation_stage):
    blue = _key_policy(aws, f"alias/dmtp-registry-{rotation_stage}-owner-blue")
    green = _key_policy(aws, f"alias/dmtp-registry-{rotation_stage}-owner-green")

    assert blue == green


# ---------------------------------------------------------------- contract deployment script


def _stage_config_file(tmp_path: Path, stage: str, **env: str) -> Path:
    config = chalice_config()
    config["stages"][stage]["environment_variables"].update(env)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def _rpc_url_file(tmp_path: Path, stack: LocalStack) -> str:
    """The RPC URL in a file, as the tools take it (never on the command line: infra/rpc_url.py)."""
    path = tmp_path / "rpc-url.txt"
    path.write_text(stack.anvil.url + "\n")
    return str(path)


def _run(module: Any, argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = module.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_deploy_script_hands_a_new_registry_to_the_stage_kms_key(stack, tmp_path, capsys):
    from chalicelib.adapters.kms_signer import KmsSigner
    from infra import deploy_contract

    config = _stage_config_file(tmp_path, "local", REGISTRY_ADDRESS="")
    code, out, err = _run(
        deploy_contract,
        [
            "--stage",
            "local",
            "--rpc-url-file",
            _rpc_url_file(tmp_path, stack),
            "--deployer-key",
            DEV_ACCOUNTS[2][1],
            "--config",
            str(config),
        ],
        capsys,
    )
    result = json.loads(out)

    assert code == 0, err
    assert (
        result["owner"]
        == KmsSigner(boto3.client("kms", endpoint_url=stack.aws_endpoint), stack.env["KMS_KEY_ID"]).address
    )
    assert deploy_contract._owner_of(stack.anvil.url, result["address"]) == result["owner"]
    assert f"REGISTRY_ADDRESS to {result['address']}" in err


def test_deploy_script_refuses_when_the_stage_config_names_a_live_registry(stack, tmp_path, capsys):
    from web3 import Web3

    from infra import deploy_contract

    deployer, key = DEV_ACCOUNTS[2]
    nonce = Web3(Web3.HTTPProvider(stack.anvil.url)).eth.get_transaction_count(deployer)
    config = _stage_config_file(tmp_path, "local", REGISTRY_ADDRESS=stack.registry_address)
    code, out, err = _run(
        deploy_contract,
        [
            "--stage",
            "local",
            "--rpc-url-file",
            _rpc_url_file(tmp_path, stack),
            "--deployer-key",
            key,
            "--config",
            str(config),
        ],
        capsys,
    )

    assert (code, out) == (deploy_contract.REFUSED, "")
    assert f"already exists at {stack.registry_address}" in err and "(the intended owner)" in err
    assert Web3(Web3.HTTPProvider(stack.anvil.url)).eth.get_transaction_count(deployer) == nonce


def test_deploy_script_refuses_a_chain_other_than_the_stages(stack, tmp_path, capsys):
    from infra import deploy_contract

    config = _stage_config_file(tmp_path, "local", REGISTRY_ADDRESS="", CHAIN_ID="8453")
    code, out, err = _run(
        deploy_contract,
        [
            "--stage",
            "local",
            "--rpc-url-file",
            _rpc_url_file(tmp_path, stack),
            "--deployer-key",
            DEV_ACCOUNTS[2][1],
            "--config",
            str(config),
        ],
        capsys,
    )

    assert (code, out) == (deploy_contract.REFUSED, "")
    assert "serves chain 31337, stage local is chain 8453" in err


# ---------------------------------------------------------------- owner key rotation


@pytest.fixture()
def blue_owned_registry(stack: LocalStack, rotation_stage: str) -> str:
    from infra.kms_owner import kms_address

    return deploy_registry(stack.anvil, kms_address(f"alias/dmtp-registry-{rotation_stage}-owner-blue"))


def _rotation_config(tmp_path: Path, registry: str, stage: str) -> Path:
    config = chalice_config()
    config["stages"][stage] = {
        "environment_variables": {
            "CHAIN_ID": "31337",
            "REGISTRY_ADDRESS": registry,
            "KMS_KEY_ID": f"alias/dmtp-registry-{stage}-owner-blue",
        }
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def test_rotation_moves_ownership_from_the_blue_to_the_green_key(
    stack, rotation_stage, blue_owned_registry, tmp_path, capsys
):
    from infra import rotate_owner
    from infra.deploy_contract import _owner_of
    from infra.kms_owner import kms_address

    green = f"alias/dmtp-registry-{rotation_stage}-owner-green"
    stack.anvil.rpc("anvil_setBalance", [kms_address(green), hex(10**18)])
    config = _rotation_config(tmp_path, blue_owned_registry, rotation_stage)
    code, out, err = _run(
        rotate_owner,
        [
            "--stage",
            rotation_stage,
            "--rpc-url-file",
            _rpc_url_file(tmp_path, stack),
            "--to-kms-key-id",
            green,
            "--config",
            str(config),
        ],
        capsys,
    )

    assert code == 0, err
    assert json.loads(out)["to"] == kms_address(green) == _owner_of(stack.anvil.url, blue_owned_registry)
    assert f"KMS_KEY_ID to {green}" in err


def test_rotation_refuses_an_incoming_key_without_eth_for_gas(
    stack, rotation_stage, blue_owned_registry, tmp_path, capsys
):
    from infra import rotate_owner
    from infra.deploy_contract import _owner_of
    from infra.kms_owner import kms_address

    green = f"alias/dmtp-registry-{rotation_stage}-owner-green"
    stack.anvil.rpc("anvil_setBalance", [kms_address(green), "0x0"])
    config = _rotation_config(tmp_path, blue_owned_registry, rotation_stage)
    code, _, err = _run(
        rotate_owner,
        [
            "--stage",
            rotation_stage,
            "--rpc-url-file",
            _rpc_url_file(tmp_path, stack),
            "--to-kms-key-id",
            green,
            "--config",
            str(config),
        ],
        capsys,
    )

    assert code == rotate_owner.REFUSED
    assert f"fund {kms_address(green)}" in err
    assert _owner_of(stack.anvil.url, blue_owned_registry) == kms_address(
        f"alias/dmtp-registry-{rotation_stage}-owner-blue"
    )


def test_rotation_refuses_when_the_outgoing_key_does_not_own_the_registry(stack, rotation_stage, tmp_path, capsys):
    from infra import rotate_owner

    config = _rotation_config(tmp_path, stack.registry_address, rotation_stage)  # owned by the local stage's key
    code, _, err = _run(
        rotate_owner,
        [
            "--stage",
            rotation_stage,
            "--rpc-url-file",
            _rpc_url_file(tmp_path, stack),
            "--to-kms-key-id",
            f"alias/dmtp-registry-{rotation_stage}-owner-green",
            "--config",
            str(config),
        ],
        capsys,
    )

    assert code == rotate_owner.REFUSED
    assert f"is owned by {stack.owner_address}" in err


def test_rotation_refuses_while_the_outgoing_key_has_a_stored_transaction_never_broadcast(
    stack, rotation_stage, blue_owned_registry, tmp_path, capsys
):
    import boto3

    from chalicelib.adapters.nonces import NonceManager
    from chalicelib.adapters.transactions import COUNTER_NONCE, TxStore
    from chalicelib.model import JOB_SET_KEY, Attempt, Job
    from infra import rotate_owner
    from infra.deploy_contract import _owner_of
    from infra.kms_owner import kms_address

    blue, green = (kms_address(f"alias/dmtp-registry-{rotation_stage}-owner-{colour}") for colour in ("blue", "green"))
    stack.anvil.rpc("anvil_setBalance", [green, hex(10**18)])
    table = boto3.resource("dynamodb", endpoint_url=stack.aws_endpoint).Table(
        f"dmtp-registry-{rotation_stage}-transactions"
    )
    job = Job("0x" + "ab" * 20, 1, "bafkreie24lfx47igs3qfcsen6le34p2uqdlhssbr3gvniht5ck2uljeyju", JOB_SET_KEY)
    (reserved,) = NonceManager(table, blue).reserve([(job,)], "a-worker-that-died", lambda: 0)
    TxStore(table, blue).sign_reserved(
        reserved,
        kind="set",
        entries=(job,),
        to=blue_owned_registry,
        data="0x",
        gas=60_000,
        raw="0x02",
        attempt=Attempt("0x" + "cd" * 32, 10**9, 10**9, 0.0),
    )  # stored, never sent
    config = _rotation_config(tmp_path, blue_owned_registry, rotation_stage)
    try:
        code, _, err = _run(
            rotate_owner,
            [
                "--stage",
                rotation_stage,
                "--rpc-url-file",
                _rpc_url_file(tmp_path, stack),
                "--to-kms-key-id",
                f"alias/dmtp-registry-{rotation_stage}-owner-green",
                "--config",
                str(config),
            ],
            capsys,
        )
    finally:  # the rotation stage's table outlives this test; the other rotation tests use the same blue key
        for nonce in (reserved.nonce, COUNTER_NONCE):
            table.delete_item(Key={"signer": blue.lower(), "nonce": nonce})

    assert code == rotate_owner.REFUSED
    assert f"1 unfinished transaction(s) of {blue} (nonces {reserved.nonce})" in err
    assert _owner_of(stack.anvil.url, blue_owned_registry) == blue


def test_teardown_hands_the_registry_to_a_plain_address_with_no_eth(
    stack, rotation_stage, blue_owned_registry, tmp_path, capsys
):
    from infra import rotate_owner
    from infra.deploy_contract import _owner_of

    cold_wallet = "0x" + "c0" * 20
    config = _rotation_config(tmp_path, blue_owned_registry, rotation_stage)
    code, _out, err = _run(
        rotate_owner,
        [
            "--stage",
            rotation_stage,
            "--rpc-url-file",
            _rpc_url_file(tmp_path, stack),
            "--to-address",
            cold_wallet,
            "--config",
            str(config),
        ],
        capsys,
    )

    assert code == 0, err
    assert _owner_of(stack.anvil.url, blue_owned_registry).lower() == cold_wallet


# ---------------------------------------------------------------- CORS preflights in API Gateway


def test_packaged_api_answers_preflights_on_every_route_with_the_stages_cors_headers(packaged):
    """API Gateway answers OPTIONS itself (a MOCK integration): every route has one, allowing the prod stage's
    origin, Content-Type and If-None-Match, and exposing Location, Retry-After and ETag."""
    import app

    swagger = packaged["template"]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    origin = stage_env("prod")["CORS_ALLOW_ORIGIN"]
    for path, methods in app.app.routes.items():
        options = swagger["paths"][path]["options"]
        integration = options["x-amazon-apigateway-integration"]
        headers = integration["responses"]["default"]["responseParameters"]

        assert integration["type"] == "mock"
        assert headers["method.response.header.Access-Control-Allow-Origin"] == f"'{origin}'"
        allowed_headers = headers["method.response.header.Access-Control-Allow-Headers"].strip("'").split(",")
        assert {"Content-Type", "If-None-Match"} <= set(allowed_headers)
        assert headers["method.response.header.Access-Control-Expose-Headers"] == "'Location,Retry-After,ETag'"
        allowed = set(headers["method.response.header.Access-Control-Allow-Methods"].strip("'").split(","))
        assert allowed == set(methods) | {"OPTIONS"}


def test_packaged_api_gateways_own_errors_carry_the_stages_cors_headers(packaged):
    """API Gateway's own 4xx/5xx (unknown route, throttling, a failed or timed-out function) never reach Chalice:
    the merge template gives them the stage's CORS headers, so a browser can read them too."""
    resources = packaged["template"]["Resources"]
    mapping = packaged["template"]["Mappings"]["CorsAllowOrigin"]
    for stage in CLOUD_STAGES:
        assert mapping[stage]["Value"] == stage_env(stage)["CORS_ALLOW_ORIGIN"], stage
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGateway::GatewayResponse"
    }

    assert set(responses) == {"DEFAULT_4XX", "DEFAULT_5XX"}
    for properties in responses.values():
        assert properties["RestApiId"] == {"Ref": "RestAPI"}
        headers = properties["ResponseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == {
            "Fn::Sub": ["'${Origin}'", {"Origin": {"Fn::FindInMap": ["CorsAllowOrigin", {"Ref": "Stage"}, "Value"]}}]
        }
        assert headers["gatewayresponse.header.Access-Control-Expose-Headers"] == "'Location,Retry-After'"
