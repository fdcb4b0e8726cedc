"""The production worker's parts, wired from the local stack's environment as chalicelib.bootstrap wires them,
but able to build several workers (one per concurrent Lambda invocation)."""

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import boto3

from chalicelib.adapters.control import WorkerControl
from chalicelib.adapters.ethereum import RegistryChain
from chalicelib.adapters.jobs import JobQueue
from chalicelib.adapters.kms_signer import KmsSigner
from chalicelib.adapters.nonces import NonceManager
from chalicelib.adapters.pinning import PinataPinner
from chalicelib.adapters.records import RecordStore
from chalicelib.adapters.transactions import TxStore
from chalicelib.adapters.translog import TransparencyLog
from chalicelib.chain.monitor import MonitorPolicy, TxMonitor
from chalicelib.chain.worker import ChainWorker, WorkerPolicy
from chalicelib.model import JOB_SET_KEY, KIND_KEY, STATUS_QUEUED, Job, Record
from chalicelib.settings import Settings
from dmtp_protocol.cid import cid_for_bytes


@dataclass
class Parts:
    settings: Settings
    records: RecordStore
    queue: JobQueue
    sqs: Any
    nonces: NonceManager
    txs: TxStore
    chain: RegistryChain
    signer: KmsSigner

    @classmethod
    def from_environment(cls) -> "Parts":
        settings = Settings.from_env()
        dynamodb = boto3.resource("dynamodb", endpoint_url=settings.aws_endpoint_url)
        sqs = boto3.client("sqs", endpoint_url=settings.aws_endpoint_url)
        signer = KmsSigner(boto3.client("kms", endpoint_url=settings.aws_endpoint_url), settings.kms_key_id)
        transactions = dynamodb.Table(settings.transactions_table)
        log = TransparencyLog(
            dynamodb.Table(settings.log_table), anchor_single_after_s=settings.log_anchor_single_after_s
        )
        return cls(
            settings=settings,
            records=RecordStore(dynamodb.Table(settings.records_table), log),
            queue=JobQueue(sqs, settings.jobs_queue_name),
            sqs=sqs,
            nonces=NonceManager(transactions, signer.address),
            txs=TxStore(transactions, signer.address),
            chain=RegistryChain(
                settings.rpc_url, settings.registry_address, settings.chain_id, log_head=log.head_to_anchor
            ),
            signer=signer,
        )

    def worker(self) -> ChainWorker:
        return ChainWorker(
            self.records,
            self.nonces,
            self.txs,
            self.chain,
            self.signer,
            self.queue,
            WorkerPolicy.from_settings(self.settings),
            control=WorkerControl(self.txs.table),
            pinner=PinataPinner(self.settings.pinning_api_url, self.settings.pinning_jwt),
        )

    def monitor(self) -> TxMonitor:
        return TxMonitor(
            self.records,
            self.nonces,
            self.txs,
            self.chain,
            self.signer,
            self.queue,
            MonitorPolicy.from_settings(self.settings),
            control=WorkerControl(self.txs.table),
            log=self.records.log,
        )

    def enqueue(self, jobs: list[Job]) -> None:
        for start in range(0, len(jobs), 10):
            entries = [{"Id": str(i), "MessageBody": job.to_body()} for i, job in enumerate(jobs[start : start + 10])]
            self.sqs.send_message_batch(QueueUrl=self.queue.url, Entries=entries)

    def statuses(self, jobs: list[Job]) -> dict[str, int]:
        found = self.records.get_many([(job.wallet, job.version) for job in jobs])
        counts: dict[str, int] = {}
        for record in found.values():
            counts[record.status] = counts.get(record.status, 0) + 1
        return counts


def new_registration(records: RecordStore) -> Job:
    """A fresh wallet's first key, stored as the API stores it (record and head item in one transaction)."""
    from eth_account import Account

    wallet = Account.create().address
    document = json.dumps({"format": "bench", "wallet": wallet, "salt": secrets.token_hex(16)}, sort_keys=True)
    cid = cid_for_bytes(document.encode())
    now = int(time.time())
    records.create(Record(wallet, 1, cid, document, STATUS_QUEUED, now, now, kind=KIND_KEY))
    return Job(wallet, 1, cid, JOB_SET_KEY)
