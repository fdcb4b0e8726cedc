"""Every alarm and dashboard metric in infra/template.yaml is one the code really emits, under the same name,
namespace and dimensions: the custom ones as a real monitor pass (and the Telemetry flush every component uses)
publishes them in EMF, the AWS ones under the names of the resources the templates create."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support.cfn import (
    CLOUD_STAGES,
    MERGE_TEMPLATE_PATH,
    REPO_ROOT,
    TEMPLATE_PATH,
    chalice_config,
    load_yaml,
    stage_env,
)

TEMPLATE = load_yaml(TEMPLATE_PATH)
ALARMS = {name: r["Properties"] for name, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def watched_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """(Namespace, MetricName, Dimensions) of a plain alarm, or of each metric of a metric-math alarm."""
    if "Metrics" in alarm:
        return [q["MetricStat"]["Metric"] for q in alarm["Metrics"] if "MetricStat" in q]
    return [{"Namespace": alarm["Namespace"], "MetricName": alarm["MetricName"], "Dimensions": alarm["Dimensions"]}]


def sub(value: Any, stage: str) -> Any:
    if isinstance(value, dict) and "Fn::Sub" in value:
        return value["Fn::Sub"].replace("${Stage}", stage)
    if value == {"Ref": "Stage"}:
        return stage
    if isinstance(value, dict) and "Ref" in value:
        return TEMPLATE["Parameters"][value["Ref"]]["Default"]
    return value


def emf_documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in (json.loads(line) for line in text.splitlines() if line.startswith("{")) if "_aws" in doc]


@pytest.fixture(scope="module")
def monitor_emf(stack: Any) -> list[dict[str, Any]]:
    """EMF documents one real monitor pass publishes on the local stack (as its Lambda handler flushes them)."""
    import contextlib
    import io
    import os

    from chalicelib import bootstrap
    from chalicelib.chain.lambdas import monitor_transactions

    saved = os.environ.pop("POWERTOOLS_METRICS_DISABLED", None)
    bootstrap.reset()
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            monitor_transactions(bootstrap.tx_monitor(), None, 0, 0)
    finally:
        if saved is not None:
            os.environ["POWERTOOLS_METRICS_DISABLED"] = saved
        bootstrap.reset()
    return emf_documents(out.getvalue())


def emitted(documents: list[dict[str, Any]]) -> dict[str, tuple[str, dict[str, str]]]:
    """Metric name -> (namespace, dimensions) as CloudWatch will index it."""
    found = {}
    for doc in documents:
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                for metric in directive["Metrics"]:
                    found[metric["Name"]] = (directive["Namespace"], {name: doc[name] for name in dimension_set})
    return found


def test_the_monitor_emits_the_custom_metrics_its_alarms_watch_under_their_names_and_dimensions(stack, monitor_emf):
    published = emitted(monitor_emf)
    for logical_id in ("OwnerBalanceLowAlarm", "MonitorHeartbeatAlarm", "OldestPendingTxAlarm"):
        (metric,) = watched_metrics(ALARMS[logical_id])
        dimensions = {d["Name"]: sub(d["Value"], stack.stage) for d in metric["Dimensions"]}

        assert metric["MetricName"] in published, logical_id
        assert published[metric["MetricName"]] == (metric["Namespace"], dimensions), logical_id


def test_every_custom_metric_an_alarm_or_the_dashboard_names_is_published_by_the_code_under_the_same_dimensions(
    stack, capsys
):
    """Metrics a quiet pass does not raise (FeeCapReached, the worker's) go out through the same Telemetry
    flush; each must be a name chalicelib counts or gauges somewhere."""
    import os

    from chalicelib.observability import telemetry as telemetry_module

    names = {
        value
        for key, value in vars(telemetry_module).items()
        if key.isupper() and isinstance(value, str) and key not in ("NAMESPACE", "SERVICE")
    }
    source = "\n".join(path.read_text() for path in (REPO_ROOT / "chalicelib").glob("**/*.py"))
    constants = {
        value: key for key, value in vars(telemetry_module).items() if key.isupper() and isinstance(value, str)
    }
    dashboard = json.dumps(TEMPLATE["Resources"]["Dashboard"]["Properties"]["DashboardBody"])
    named = {
        m["MetricName"] for a in ALARMS.values() for m in watched_metrics(a) if m["Namespace"] == "DMTPKeyRegistry"
    }
    named |= (
        set(re.findall(r'\\"DMTPKeyRegistry\\", \\"(\w+)\\"', dashboard))
        | set(re.findall(r'\[\\"\.\\", \\"(\w+)\\"', dashboard)) & names
    )
    named -= api_path_metrics()  # published by chalicelib/observability/emf.py, checked in the test below

    telemetry = telemetry_module.Telemetry()
    saved = os.environ.pop("POWERTOOLS_METRICS_DISABLED", None)
    try:
        for name in named:
            assert name in names, f"{name}: no such metric in chalicelib/observability/telemetry.py"
            assert re.search(rf"telemetry\.(count|add|gauge|maximum)\(\s*{constants[name]}\b", source), (
                f"{name} is never emitted"
            )
            telemetry.count(name)
        capsys.readouterr()
        telemetry.flush()
    finally:
        if saved is not None:
            os.environ["POWERTOOLS_METRICS_DISABLED"] = saved
    published = emitted(emf_documents(capsys.readouterr().out))
    for name in named:
        assert published[name] == ("DMTPKeyRegistry", {"service": "dmtp-key-registry", "stage": stack.stage}), name


def api_path_metrics() -> set[str]:
    """Metric names the API handler publishes by hand through chalicelib/observability/emf.py (no Powertools on that path)."""
    from chalicelib.observability import emf

    return {value for key, value in vars(emf).items() if key.isupper() and isinstance(value, str)}


def test_every_api_path_metric_an_alarm_watches_is_published_by_emf_under_the_alarm_dimensions(stack, capsys):
    import os

    from chalicelib.observability import emf

    watched = {
        m["MetricName"]: m for a in ALARMS.values() for m in watched_metrics(a) if m["Namespace"] == "DMTPKeyRegistry"
    }
    api_metrics = api_path_metrics() & set(watched)
    assert emf.WRITE_BUDGET_EXHAUSTED in api_metrics
    source = "\n".join(path.read_text() for path in (REPO_ROOT / "chalicelib").glob("**/*.py"))
    saved = os.environ.pop("POWERTOOLS_METRICS_DISABLED", None)
    try:
        capsys.readouterr()
        for name in api_metrics:
            assert re.search(rf"publish\((emf\.)?{name_of(emf, name)}\b", source), f"{name} is never published"
            emf.publish(name)
    finally:
        if saved is not None:
            os.environ["POWERTOOLS_METRICS_DISABLED"] = saved
    published = emitted(emf_documents(capsys.readouterr().out))
    for name in api_metrics:
        dimensions = {d["Name"]: sub(d["Value"], stack.stage) for d in watched[name]["Dimensions"]}
        assert published[name] == (watched[name]["Namespace"], dimensions), name


def name_of(module: Any, value: str) -> str:
    return next(key for key, v in vars(module).items() if key.isupper() and v == value)


def test_the_stage_publishes_under_the_namespace_and_service_the_alarms_name():
    for stage in ("local", *CLOUD_STAGES):
        env = stage_env(stage)
        assert (env["POWERTOOLS_METRICS_NAMESPACE"], env["POWERTOOLS_SERVICE_NAME"]) == (
            "DMTPKeyRegistry",
            "dmtp-key-registry",
        )


def test_aws_metric_alarms_name_resources_the_templates_create():
    merge = load_yaml(MERGE_TEMPLATE_PATH)["Resources"]
    functions = {
        r["Properties"]["FunctionName"]["Fn::Sub"] for r in merge.values() if "FunctionName" in r.get("Properties", {})
    }
    queues = {
        r["Properties"]["QueueName"]["Fn::Sub"]
        for r in TEMPLATE["Resources"].values()
        if r["Type"] == "AWS::SQS::Queue"
    }
    api_name = merge["RestAPI"]["Properties"]["Name"]["Fn::Sub"]
    api_stages = {chalice_config()["stages"][stage]["api_gateway_stage"] for stage in CLOUD_STAGES}
    for logical_id, alarm in ALARMS.items():
        for metric in watched_metrics(alarm):
            dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            if metric["Namespace"] == "AWS/Lambda":
                assert dimensions["FunctionName"]["Fn::Sub"] in functions, logical_id
            elif metric["Namespace"] == "AWS/SQS":
                (queue_id, attribute) = dimensions["QueueName"]["Fn::GetAtt"]
                assert (
                    attribute == "QueueName"
                    and TEMPLATE["Resources"][queue_id]["Properties"]["QueueName"]["Fn::Sub"] in queues
                ), logical_id
            elif metric["Namespace"] == "AWS/ApiGateway":
                assert dimensions["ApiName"] == {"Fn::Sub": api_name}, logical_id
                assert {TEMPLATE["Parameters"]["ApiStageName"]["Default"]} == api_stages, logical_id
            else:
                assert metric["Namespace"] == "DMTPKeyRegistry", logical_id


def test_the_alarms_the_issue_asks_for_exist_and_missing_data_breaches_where_silence_is_failure():
    watched = {m["MetricName"]: a for a in ALARMS.values() for m in watched_metrics(a)}

    for metric in (
        "5XXError",
        "Latency",
        "MonitorPasses",
        "OldestPendingTxAgeSeconds",
        "ApproximateNumberOfMessagesVisible",
        "OwnerBalanceEth",
    ):
        assert metric in watched, metric
    assert watched["Latency"]["ExtendedStatistic"] == "p99"
    assert watched["MonitorPasses"]["TreatMissingData"] == "breaching"
    assert watched["OwnerBalanceEth"]["TreatMissingData"] == "breaching"


def test_owner_key_policy_changes_disabling_or_deletion_reach_the_alarm_topic():
    rule = TEMPLATE["Resources"]["OwnerKeyStateRule"]["Properties"]

    assert rule["EventPattern"]["source"] == ["aws.kms"]
    assert rule["EventPattern"]["detail"]["eventName"] == ["PutKeyPolicy", "DisableKey", "ScheduleKeyDeletion"]
    assert rule["Targets"][0]["Arn"] == {"Ref": "AlarmTopic"}
    assert _events_may_publish("OwnerKeyStateRule")


def test_every_session_of_the_key_admin_role_reaches_the_alarm_topic():
    rule = TEMPLATE["Resources"]["KeyAdminAssumedRule"]["Properties"]

    assert rule["EventPattern"]["source"] == ["aws.sts"]
    assert rule["EventPattern"]["detail"]["eventName"] == ["AssumeRole"]
    assert rule["EventPattern"]["detail"]["requestParameters"]["roleArn"] == [{"Fn::GetAtt": ["KeyAdminRole", "Arn"]}]
    assert rule["Targets"][0]["Arn"] == {"Ref": "AlarmTopic"}
    assert _events_may_publish("KeyAdminAssumedRule")


def _events_may_publish(rule_id: str) -> bool:
    """The topic's policy lets EventBridge publish for that rule (aws:SourceArn)."""
    statements = TEMPLATE["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    return any(
        s["Principal"] == {"Service": "events.amazonaws.com"}
        and s["Action"] == "sns:Publish"
        and {"Fn::GetAtt": [rule_id, "Arn"]} in s["Condition"]["ArnEquals"]["aws:SourceArn"]
        for s in statements
    )
