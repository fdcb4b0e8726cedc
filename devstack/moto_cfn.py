"""CloudFormation resource types moto 5.2.x lacks, so infra/template.yaml deploys into moto whole.

moto's CloudFormation skips a type it does not know (with a warning) and drops every output that refers to
it. We add the two our template uses, each creating the resource through moto's own backend:
AWS::SecretsManager::Secret (Ref = ARN, as in AWS) and AWS::CloudWatch::Alarm (Ref = alarm name; metric math
alarms and extended statistics such as p99 included).
"""

from typing import Any

from moto.cloudformation import parsing
from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat, cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.secretsmanager.models import secretsmanager_backends


class CfnSecret(CloudFormationModel):
    def __init__(self, arn: str, name: str, account_id: str, region_name: str) -> None:
        self.arn = arn
        self.name = name
        self.account_id = account_id
        self.region_name = region_name

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> "CfnSecret":
        properties = cloudformation_json.get("Properties", {})
        backend = secretsmanager_backends[account_id][region_name]
        backend.create_secret(
            name=resource_name,
            secret_string=properties.get("SecretString"),
            secret_binary=None,
            description=properties.get("Description"),
            tags=properties.get("Tags"),
            kms_key_id=properties.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        arn = backend.describe_secret(resource_name).arn
        return cls(arn, resource_name, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        backend = secretsmanager_backends[account_id][region_name]
        backend.delete_secret(resource_name, recovery_window_in_days=None, force_delete_without_recovery=True)


class CfnAlarm(CloudFormationModel):
    def __init__(self, name: str, arn: str) -> None:
        self.name = name
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> "CfnAlarm":
        p = cloudformation_json.get("Properties", {})
        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=resource_name,
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            comparison_operator=p["ComparisonOperator"],
            evaluation_periods=int(p["EvaluationPeriods"]),
            period=int(p.get("Period", 60)),
            threshold=float(p["Threshold"]),
            statistic=p.get("Statistic"),
            description=p.get("AlarmDescription", ""),
            dimensions=p.get("Dimensions", []),
            alarm_actions=p.get("AlarmActions", []),
            ok_actions=p.get("OKActions", []),
            treat_missing_data=p.get("TreatMissingData"),
            extended_statistic=p.get("ExtendedStatistic"),
            metric_data_queries=[_query(q) for q in p["Metrics"]] if p.get("Metrics") else None,
        )
        return cls(resource_name, alarm.alarm_arn)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])


def _query(query: dict[str, Any]) -> MetricDataQuery:
    """One entry of an alarm's Metrics, as moto's PutMetricAlarm handler builds it."""
    stat = query.get("MetricStat")
    metric_stat = None
    if stat:
        metric = stat["Metric"]
        dimensions = [Dimension(name=d["Name"], value=d["Value"]) for d in metric.get("Dimensions", [])]
        metric_stat = MetricStat(
            Metric(metric["MetricName"], metric["Namespace"], dimensions),
            stat.get("Period"),
            stat.get("Stat"),
            stat.get("Unit"),
        )
    return_data = query.get("ReturnData")
    if isinstance(return_data, bool):
        return_data = str(return_data).lower()
    # As moto's own PutMetricAlarm handler: an absent Label, Period or ReturnData is None, where moto types str.
    return MetricDataQuery(
        query["Id"],
        query.get("Label"),  # type: ignore[arg-type]
        query.get("Period"),  # type: ignore[arg-type]
        return_data,  # type: ignore[arg-type]
        query.get("Expression"),
        metric_stat,
    )


def register() -> None:
    """Make moto's CloudFormation see the classes above (its type maps are cached on first use)."""
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
