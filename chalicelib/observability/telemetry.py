"""Logs, metrics and traces of the chain worker and monitor (AWS Lambda Powertools).

Metrics go out as CloudWatch EMF under namespace DMTPKeyRegistry with the dimensions service=dmtp-key-registry
and stage=$STAGE (so dev and prod in one account keep apart); the template's alarms watch OwnerBalanceEth and
FeeCapReached by those names and dimensions. Each
component aggregates its metrics in a Telemetry (one value per metric per invocation, so an invocation never
hits EMF's 100-values limit) and the Lambda handler flushes it once at the end.

Logs are Powertools JSON lines on stderr (Lambda keeps both streams; the local stack keeps stdout for its own
output), each carrying the correlation ids it is about: wallet, version, nonce, tx_hash.

Secrets stay out of both (issue 24). The RPC URL carries the provider's key in its path, query or userinfo:
- the Tracer patches botocore only (TRACED_MODULES). X-Ray's `requests`/`httplib` patches would record every RPC
  call's URL, path included, in a subsegment that anyone with X-Ray read access sees; AWS calls carry no secret in
  their URLs (Secrets Manager's answer is not recorded);
- every log line goes through redaction.redact_urls as a whole (message, extra keys and exception text alike).
"""

import logging
import os
import sys
import threading
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from chalicelib.observability.redaction import redact_urls

NAMESPACE = "DMTPKeyRegistry"
SERVICE = "dmtp-key-registry"

# Metric names (the template's alarms and dashboards refer to these).
REGISTRATIONS_SUBMITTED = "RegistrationsSubmitted"
REGISTRATIONS_CONFIRMED = "RegistrationsConfirmed"
REGISTRATIONS_FAILED = "RegistrationsFailed"
REGISTRATIONS_SUPERSEDED = "RegistrationsSuperseded"
TRANSACTIONS_SENT = "TransactionsSent"
TRANSACTIONS_REPLACED = "TransactionsReplaced"
TRANSACTIONS_REBROADCAST = "TransactionsRebroadcast"
TRANSACTIONS_REORGED = "TransactionsReorged"
NONCES_FILLED = "NoncesFilledWithNoop"
GAS_USED = "GasUsed"
FEE_PAID_GWEI = "FeePaidGwei"
QUEUE_AGE_SECONDS = "QueueAgeSeconds"
OWNER_BALANCE_ETH = "OwnerBalanceEth"
FEE_CAP_REACHED = "FeeCapReached"
WORKER_PAUSED = "WorkerPaused"
JOBS_RETRIED = "JobsRetried"
MONITOR_PASSES = "MonitorPasses"  # the monitor's heartbeat: its alarm treats missing data as breaching
OLDEST_PENDING_TX_AGE = "OldestPendingTxAgeSeconds"  # since the first signing of the oldest tx not yet final
RECORDS_SWEPT = "RecordsSwept"  # stranded records the sweeper drove on (sweeper.py)
DOCUMENTS_PINNED = "DocumentsPinned"  # documents the worker pinned, in one request per batch (worker.py)
ANCHORS_SENT = "AnchorsSent"  # anchor-only transactions the monitor sent for leaves no transaction anchored

# What X-Ray's SDK patches: AWS calls only (botocore, which boto3 uses). Never `requests` or `httplib`: the chain
# RPC goes through them, and a subsegment keeps the URL's path, where the provider's key is.
TRACED_MODULES = ("botocore",)


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON line with every URL's path, query and userinfo redacted (exception texts included)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_urls(super().format(record))


logger = Logger(
    service=SERVICE,
    level=os.environ.get("LOG_LEVEL", "INFO"),
    logger_handler=logging.StreamHandler(sys.stderr),
    logger_formatter=RedactingFormatter(),
)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE, patch_modules=TRACED_MODULES)


class Telemetry:
    """Metrics of one component, aggregated until flush(): counts and sums add up, gauges keep the last value."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pending: dict[str, tuple[str, float]] = {}  # name -> (unit, value)

    def count(self, name: str, value: float = 1) -> None:
        self.add(name, "Count", value)

    def add(self, name: str, unit: str, value: float) -> None:
        with self._lock:
            _, before = self.pending.get(name, (unit, 0.0))
            self.pending[name] = (unit, before + value)

    def gauge(self, name: str, unit: str, value: float) -> None:
        with self._lock:
            self.pending[name] = (unit, value)

    def maximum(self, name: str, unit: str, value: float) -> None:
        with self._lock:
            _, before = self.pending.get(name, (unit, value))
            self.pending[name] = (unit, max(before, value))

    def value(self, name: str) -> float:
        return self.pending.get(name, ("", 0.0))[1]

    def flush(self) -> None:
        """Publish (EMF on stdout, unless POWERTOOLS_METRICS_DISABLED) and start over."""
        with self._lock:
            pending, self.pending = self.pending, {}
        if not pending:
            return
        for name, (unit, value) in pending.items():
            metrics.add_metric(name=name, unit=unit, value=value)
        metrics.add_dimension(name="stage", value=os.environ.get("STAGE", "local"))
        metrics.flush_metrics()
        metrics.clear_metrics()  # flush_metrics keeps them when metrics are disabled


def log_extra(**ids: Any) -> dict[str, Any]:
    """Correlation ids for one log line, without the empty ones."""
    return {key: value for key, value in ids.items() if value is not None}
