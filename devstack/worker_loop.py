"""Lambda's SQS event source and the monitor's schedule, locally (WorkerLoop), and the events they hand over.

Used by the local stack (devstack/stack.py), by the Lambda stand-in processes (devstack/lambda_process.py), by the
benchmarks and by tests; it imports neither of the first two, so they do not import each other.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:  # the stub packages of requirements-dev.txt: types only, never imported at run time
    from mypy_boto3_sqs.type_defs import (
        ChangeMessageVisibilityBatchRequestEntryTypeDef,
        DeleteMessageBatchRequestEntryTypeDef,
        MessageTypeDef,
    )

log = logging.getLogger("devstack")


class WorkerLoop:
    """Lambda's SQS event source and the monitor's schedule, locally.

    Gathers a batch the way Lambda's poller does (receive calls of at most 10 messages, until `batch_size`
    messages or `batch_window_s` seconds), hands it to the worker handler as one event, deletes the messages the
    handler did not list in batchItemFailures, and makes the listed ones visible again after `retry_after_s`
    (Lambda waits out the visibility timeout). A second thread calls the scheduled monitor every
    `monitor_interval_s` seconds. `poll_once` also runs the monitor after a batch, so draining the queue by hand
    leaves the jobs settled on a chain that mines every transaction at once.
    """

    def __init__(
        self,
        aws_endpoint: str,
        queue_name: str,
        retry_after_s: int = 2,
        batch_size: int | None = None,
        batch_window_s: float | None = None,
        handler: Any | None = None,
        monitor: Any | None = None,
        monitor_interval_s: float = 0.5,
    ) -> None:
        self._sqs = boto3.client("sqs", endpoint_url=aws_endpoint)
        self._queue_url = self._sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        self._queue_arn = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._retry_after_s = retry_after_s
        self.batch_size = batch_size or int(os.environ.get("JOB_BATCH_SIZE", "10"))
        self.batch_window_s = (
            batch_window_s if batch_window_s is not None else float(os.environ.get("JOB_BATCH_WINDOW_S", "1"))
        )
        self._handler = handler
        self._monitor = monitor
        self._monitor_interval_s = monitor_interval_s
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run_worker, name="worker-loop", daemon=True),
            threading.Thread(target=self._run_monitor, name="monitor-loop", daemon=True),
        ]

    @property
    def handler(self) -> Any:
        if self._handler is None:
            import app

            self._handler = app.process_jobs
        return self._handler

    @property
    def monitor(self) -> Any:
        if self._monitor is None:
            import app

            self._monitor = app.monitor_transactions
        return self._monitor

    def start(self) -> WorkerLoop:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=30)

    def _run_worker(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once(wait_s=1, then_monitor=False)
            except Exception:
                log.exception("worker loop")
                time.sleep(0.5)

    def _run_monitor(self) -> None:
        while not self._stopping.wait(self._monitor_interval_s):
            try:
                self.monitor_once()
            except Exception:
                log.exception("monitor loop")

    def monitor_once(self) -> Any:
        return self.monitor(scheduled_event(self._queue_arn), None)

    def poll_once(self, handler: Any | None = None, wait_s: int = 1, then_monitor: bool = True) -> int:
        """One batch through the handler (and then one monitor pass); the number of messages received."""
        messages = self._gather(wait_s)
        if not messages:
            return 0
        self._settle(*self._invoke(messages, handler))
        if then_monitor:
            self.monitor_once()
        return len(messages)

    def run_pipelined(self, stopping: threading.Event, handler: Any | None = None) -> None:
        """One concurrency slot of Lambda's SQS trigger at full load, until `stopping` is set.

        Lambda's pollers receive and delete messages outside the function: while one batch is in the handler the
        next is being gathered, and a finished batch is settled meanwhile. Here a gatherer thread keeps one batch
        ready and a settler thread settles finished ones; the handler runs on the caller's thread, and its
        exceptions propagate (poll_once instead logs them and redelivers the batch).
        """
        ready: queue.Queue[list[MessageTypeDef]] = queue.Queue(maxsize=1)
        finished: queue.Queue[tuple[list[MessageTypeDef], list[MessageTypeDef]] | None] = queue.Queue()

        def gather() -> None:
            while not stopping.is_set():
                messages = self._gather(wait_s=0)
                if not messages:
                    time.sleep(0.05)
                    continue
                while not stopping.is_set():
                    try:
                        ready.put(messages, timeout=0.1)
                        break
                    except queue.Full:
                        continue

        def settle() -> None:
            while (outcome := finished.get()) is not None:
                self._settle(*outcome)

        helpers = [threading.Thread(target=gather, daemon=True), threading.Thread(target=settle, daemon=True)]
        for helper in helpers:
            helper.start()
        try:
            while not stopping.is_set():
                try:
                    messages = ready.get(timeout=0.1)
                except queue.Empty:
                    continue
                finished.put(self._invoke(messages, handler, raise_errors=True))
        finally:
            stopping.set()
            finished.put(None)
            for helper in helpers:
                helper.join(timeout=30)

    def _invoke(
        self, messages: list[MessageTypeDef], handler: Any | None = None, raise_errors: bool = False
    ) -> tuple[list[MessageTypeDef], list[MessageTypeDef]]:
        """The handler on one batch; (messages to delete, messages to deliver again)."""
        ids = {message["MessageId"] for message in messages}
        try:
            answer = (handler or self.handler)(lambda_sqs_event(messages, self._queue_arn), None) or {}
            failed = {failure["itemIdentifier"] for failure in answer.get("batchItemFailures", [])} & ids
        except Exception:
            if raise_errors:
                raise
            log.exception("batch failed; every job in it will be delivered again")
            failed = ids
        return [m for m in messages if m["MessageId"] not in failed], [m for m in messages if m["MessageId"] in failed]

    def _gather(self, wait_s: int) -> list[MessageTypeDef]:
        messages: list[MessageTypeDef] = []
        deadline = time.monotonic() + self.batch_window_s
        while len(messages) < self.batch_size:
            answer = self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=min(10, self.batch_size - len(messages)),
                WaitTimeSeconds=0 if messages else wait_s,
                AttributeNames=["All"],
            )
            received = answer.get("Messages", [])
            messages += received
            if not messages or time.monotonic() >= deadline:
                break
            if not received:
                time.sleep(0.05)
        return messages

    def _settle(self, done: list[MessageTypeDef], failed: list[MessageTypeDef]) -> None:
        for start in range(0, len(done), 10):
            entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
            ]
            self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)
        for start in range(0, len(failed), 10):
            retries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self._retry_after_s}
                for i, m in enumerate(failed[start : start + 10])
            ]
            self._sqs.change_message_visibility_batch(QueueUrl=self._queue_url, Entries=retries)


def lambda_sqs_event(messages: Any, queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS trigger would pass for these received messages (one message dict, or a list)."""
    if isinstance(messages, dict):
        messages = [messages]
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for message in messages
        ]
    }


def scheduled_event(any_arn: str) -> dict[str, Any]:
    """The event EventBridge passes a scheduled Lambda (the monitor)."""
    region, account = any_arn.split(":")[3], any_arn.split(":")[4]
    return {
        "version": "0",
        "id": "local-schedule",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/dmtp-key-registry-monitor_transactions"],
        "detail": {},
    }
