"""Recovery commands for operators (docs/DEPLOY.md, "Recovery").

CLI::

    python -m infra.recovery --stage prod requeue-failed --wallet 0xAbc...   # that wallet's failed registrations
    python -m infra.recovery --stage prod requeue-failed --reason NotOwner   # those whose error contains the text
    python -m infra.recovery --stage prod requeue-failed --all
    python -m infra.recovery --stage prod redrive-dlq
    python -m infra.recovery --stage prod backfill-open-index              # once, after the open index is added

requeue-failed moves each selected `failed` record back to `queued` (conditional: only while it is still failed,
with the same CID) and sends its job to the jobs queue; the worker then treats it as any queued job, and a record
whose write already reached the chain is recognised there and sent no second time. The record's error keeps the
old reason after "re-queued by an operator:".

redrive-dlq moves every message of the dead-letter queue back to the jobs queue so that it is processed again,
not just acknowledged: a job on its last delivery marks its record failed before SQS moves it to the dead-letter
queue, and a failed record is final, so moving the message alone would only have it deleted. Each message's
record, when failed, is first re-queued as above; a message that is not a job is left in the dead-letter queue.

backfill-open-index brings the records table's open index (the sweeper's: chalicelib/adapters/records.py,
RecordStore.open_page) in step with the statuses for records written by code from before the index: it puts in the
open records written before it (until then the sweeper does not see them) and takes out final records that code
without the index made final during the deploy. A Scan of the whole table, run once by an operator after the deploy
that adds the index, never by the monitor. Running it again is harmless: each write is conditional on the record
still needing it.

Names come from the stage's environment in .chalice/config.json (RECORDS_TABLE, JOBS_QUEUE_NAME; the dead-letter
queue is the template's "<jobs queue>-dlq"); AWS_ENDPOINT_URL points boto3 at a local stack. Prints one JSON
object: what was re-queued or moved.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.adapters.jobs import JobQueue
from chalicelib.adapters.records import RecordStore
from chalicelib.chain.sweeper import job_of
from chalicelib.model import STATUS_FAILED, STATUS_QUEUED, Job, MalformedJob, Record, StatusChange
from infra.stage_config import CHALICE_CONFIG_PATH


@dataclass(frozen=True)
class RecoveryNames:
    records_table: str
    jobs_queue: str
    dead_letter_queue: str

    @classmethod
    def for_stage(cls, stage: str, path: Path = CHALICE_CONFIG_PATH) -> RecoveryNames:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
        if stage not in config.get("stages", {}):
            raise KeyError(f"{path} has no stage {stage!r}")
        env = {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}
        queue = env.get("JOBS_QUEUE_NAME", f"dmtp-registry-{stage}-jobs")  # the template's names
        return cls(env.get("RECORDS_TABLE", f"dmtp-registry-{stage}-records"), queue, f"{queue}-dlq")


class Recovery:
    def __init__(self, records: RecordStore, queue: JobQueue, sqs: Any, dead_letter_queue: str) -> None:
        self._records = records
        self._queue = queue
        self._sqs = sqs
        self._dead_letter_queue = dead_letter_queue

    def requeue_failed(self, wallet: str | None = None, reason: str | None = None) -> list[tuple[str, int]]:
        """Failed records (of `wallet`, or whose error contains `reason`, or all) back to the queue."""
        failed = self._records.failed(wallet)
        if reason is not None:
            failed = [r for r in failed if reason.lower() in (r.error or "").lower()]
        return [
            (r.wallet, r.version)
            for r in sorted(failed, key=lambda r: (r.wallet.lower(), r.version))
            if self._requeue(r)
        ]

    def _requeue(self, record: Record) -> bool:
        error = f"re-queued by an operator: {record.error or ''}"[:1000]
        change = StatusChange(
            record.wallet,
            record.version,
            STATUS_QUEUED,
            (STATUS_FAILED,),
            (("error", error),),
            expect=(("cid", record.cid), ("kind", record.kind)),
        )
        if self._records.set_statuses([change]):
            return False  # no longer failed (someone re-queued it meanwhile)
        self._queue.enqueue(job_of(record))
        return True

    def redrive_dlq(self) -> dict[str, Any]:
        """Every dead letter back to the jobs queue, its record re-queued first when failed."""
        url = self._sqs.get_queue_url(QueueName=self._dead_letter_queue)["QueueUrl"]
        moved, requeued, left = 0, [], []
        while True:
            answer = self._sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60
            )
            messages = answer.get("Messages", [])
            if not messages:
                break
            for message in messages:
                try:
                    job = Job.from_body(message["Body"])
                except MalformedJob:
                    left.append(message["MessageId"])  # not a job: stays for a human to read (visible again in 60 s)
                    continue
                record = self._records.get(job.wallet, job.version)
                if (
                    record is not None
                    and record.status == STATUS_FAILED
                    and record.cid == job.cid
                    and self._requeue(record)
                ):
                    requeued.append([record.wallet, record.version])  # _requeue sent the job
                else:
                    self._queue.enqueue(job)  # its record is open (or final, and the worker will say so)
                self._sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
        return {"moved": moved, "requeued": requeued, "notJobs": left}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.recovery",
        description="Send failed registrations and dead letters through the worker again.",
    )
    parser.add_argument("--stage", required=True)
    parser.add_argument("--config", type=Path, default=CHALICE_CONFIG_PATH, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True)
    requeue = commands.add_parser("requeue-failed", help="failed records back to the queue")
    which = requeue.add_mutually_exclusive_group(required=True)
    which.add_argument("--wallet", help="every failed registration of this wallet")
    which.add_argument("--reason", help="every failed registration whose error contains this text (case-insensitive)")
    which.add_argument("--all", action="store_true", help="every failed registration")
    commands.add_parser("redrive-dlq", help="the dead-letter queue's jobs back to the jobs queue, processed again")
    commands.add_parser(
        "backfill-open-index", help="the open index in step with the statuses after it is added (a Scan, once)"
    )
    args = parser.parse_args(argv)

    import boto3

    names = RecoveryNames.for_stage(args.stage, args.config)
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    sqs = boto3.client("sqs", endpoint_url=endpoint)
    records = RecordStore(boto3.resource("dynamodb", endpoint_url=endpoint).Table(names.records_table))
    recovery = Recovery(records, JobQueue(sqs, names.jobs_queue), sqs, names.dead_letter_queue)
    if args.command == "requeue-failed":
        done = recovery.requeue_failed(wallet=args.wallet, reason=args.reason)
        print(json.dumps({"requeued": [[w, v] for w, v in done]}))
    elif args.command == "backfill-open-index":
        print(json.dumps(records.backfill_open_index()))
    else:
        print(json.dumps(recovery.redrive_dlq()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
