"""SQS: the addKey jobs the worker turns into transactions."""
import json
from dataclasses import asdict, dataclass
from typing import Any, Optional


class MalformedJob(ValueError):
    pass


JOB_SET_KEY = "set"
JOB_REVOKE_KEY = "revoke"
JOB_KINDS = (JOB_SET_KEY, JOB_REVOKE_KEY)


@dataclass(frozen=True)
class Job:
    """One on-chain effect for the record (wallet, version).

    kind "set": write the record's CID for the wallet. kind "revoke": the record is a revocation, and `cid`
    names the key it revokes (the contract checks that this is the wallet's current key).
    """

    wallet: str
    version: int
    cid: str
    kind: str = JOB_SET_KEY

    def to_body(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_body(cls, body: str) -> "Job":
        try:
            data = json.loads(body)
            job = cls(str(data["wallet"]), int(data["version"]), str(data["cid"]), str(data.get("kind", JOB_SET_KEY)))
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedJob(f"not a job: {body[:200]!r}") from exc
        if job.kind not in JOB_KINDS:
            raise MalformedJob(f"unknown job kind {job.kind!r}")
        return job


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
