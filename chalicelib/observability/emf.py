"""Metrics from the API handler, as CloudWatch Embedded Metric Format lines on stdout.

The worker publishes through Powertools (observability.py); the API path writes the same format by hand, so a
request that hits a budget costs one print, not a Powertools and X-Ray import. Namespace and dimensions match
observability.py, so the template's alarms find them: namespace POWERTOOLS_METRICS_NAMESPACE, dimensions
service=POWERTOOLS_SERVICE_NAME and stage=STAGE. POWERTOOLS_METRICS_DISABLED=true silences them, as it does
Powertools'.
"""

import json
import os
import sys
import time
from typing import Any

WRITE_BUDGET_EXHAUSTED = "WriteBudgetExhausted"  # the template's WriteBudgetExhaustedAlarm watches this


def emf_line(name: str, value: float, unit: str = "Count", **properties: Any) -> dict[str, Any]:
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "DMTPKeyRegistry")
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [["service", "stage"]],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }
            ],
        },
        "service": os.environ.get("POWERTOOLS_SERVICE_NAME", "dmtp-key-registry"),
        "stage": os.environ.get("STAGE", "local"),
        name: value,
        **properties,
    }


def publish(name: str, value: float = 1, unit: str = "Count", **properties: Any) -> None:
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        return
    print(json.dumps(emf_line(name, value, unit, **properties)), file=sys.stdout, flush=True)


def write_budget_exhausted(budget: str) -> None:
    """A daily budget of new on-chain writes ("source" or "global") refused a write."""
    publish(WRITE_BUDGET_EXHAUSTED, budget=budget)
