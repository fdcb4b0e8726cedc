"""SQS: the queue of on-chain jobs (model.Job) the worker turns into transactions."""

from typing import Any

from chalicelib.model import Job


class JobQueue:
    def __init__(self, sqs: Any, queue_name: str) -> None:
        self._sqs = sqs
        self._queue_name = queue_name
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._url

    def enqueue(self, job: Job) -> str:
        message_id: str = self._sqs.send_message(QueueUrl=self.url, MessageBody=job.to_body())["MessageId"]
        return message_id
