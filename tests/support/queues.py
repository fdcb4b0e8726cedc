"""Emptying the session's job queue from a test.

SQS allows one PurgeQueue per queue every 60 seconds (moto enforces it too), so two test modules that purged the
session's queue less than a minute apart failed with PurgeQueueInProgress on a fast machine. Receiving and deleting
is not rate-limited. Like a purge, it is meant for a queue nothing else is consuming at that moment."""

from typing import Any


def empty_queue(sqs: Any, queue_url: str) -> int:
    """Deletes every visible message of the queue; returns how many."""
    deleted = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60
        ).get("Messages", [])
        if not messages:
            return deleted
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        deleted += len(messages)
