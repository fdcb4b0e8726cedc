"""The worker's and the monitor's Lambda entry points (app.py imports this lazily, off the API path)."""

from typing import Any

from chalicelib.chain.worker import ChainWorker, QueueMessage
from chalicelib.observability.telemetry import logger


def process_jobs(worker: ChainWorker, records: list[dict[str, Any]], context: Any = None) -> dict[str, Any]:
    """An SQS batch -> {"batchItemFailures": [...]}: only the jobs listed there are delivered again.

    An exception escapes (every job is delivered again, and Lambda's Errors alarm sees it) only when the batch
    as a whole could not be processed: the chain, KMS or DynamoDB unreachable.
    """
    _request_id(context)
    messages = [QueueMessage.from_lambda_record(record) for record in records]
    try:
        failed = worker.handle(messages)
    finally:
        worker.telemetry.flush()
    logger.info("batch done", extra={"messages": len(messages), "retried": len(failed)})
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


def monitor_transactions(monitor: Any, context: Any, run_s: float, interval_s: float) -> dict[str, Any]:
    """Watch for up to `run_s` seconds of the invocation (one pass when there is no Lambda context)."""
    _request_id(context)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    try:
        passes = monitor.run(run_s if remaining is not None else 0, interval_s, remaining)
    finally:
        monitor.telemetry.flush()
    return {"passes": passes}


def _request_id(context: Any | None) -> None:
    request_id = getattr(context, "aws_request_id", None)
    if request_id:
        logger.append_keys(function_request_id=request_id)
