"""SQS: the addKey jobs the worker turns into transactions."""
import json
from dataclasses import asdict, dataclass
from typing import Any, Optional


class MalformedJob(ValueError):
    pass


@dataclass(frozen=True)
class Job:
    wallet: str
    version: int
    cid: str

    def to_body(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_body(cls, body: str) -> "Job":
        try:
            data = json.loads(body)
            return cls(wallet=str(data["wallet"]), version=int(data["version"]), cid=str(data["cid"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedJob(f"not a job: {body[:200]!r}") from exc


class JobQueue:
    def __init__(self, sqs: Any, queue_name: str) -> None:
        self._sqs = sqs
        self._queue_name = queue_name
        self._url: Optional[str] = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._url

    def enqueue(self, job: Job) -> str:
        return self._sqs.send_message(QueueUrl=self.url, MessageBody=job.to_body())["MessageId"]
