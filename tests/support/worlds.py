"""Isolated worlds for the worker's tests: a stage of infra/template.yaml deployed into the session's moto
server (its own tables, queue with dead-letter queue, and KMS owner key), its own Anvil node (automine or
not, block time), the DMTPKeys contract owned by that KMS key, and records created the way the API creates
them (RecordStore.create: record and head item in one transaction)."""

import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
from chalicelib.chain.worker import ChainWorker, QueueMessage, WorkerPolicy
from chalicelib.model import JOB_REVOKE_KEY, JOB_SET_KEY, KIND_KEY, KIND_REVOCATION, STATUS_QUEUED, Job, Record
from devstack.anvil import Anvil
from devstack.stack import deploy_registry, deploy_template
from devstack.worker_loop import WorkerLoop, lambda_sqs_event
from dmtp_protocol.cid import cid_for_bytes, digest_from_cid

CHAIN_ID = 31337


@dataclass
class World:
    stage: str
    endpoint: str
    anvil: Anvil
    outputs: dict[str, str]
    signer: KmsSigner
    registry_address: str
    chain: RegistryChain
    records: RecordStore
    queue: JobQueue
    sqs: Any
    table: Any  # transactions
    records_table: Any
    pinner: Any = None  # the session's local pinning service (PinataPinner)
    log: TransparencyLog | None = None  # the transparency log (make_world(with_log=True)): the worker sequences it
    worker_policy: WorkerPolicy = field(default_factory=WorkerPolicy)
    monitor_policy: MonitorPolicy = field(
        default_factory=lambda: MonitorPolicy(confirmations=1, bump_after_s=3600, nonce_lease_s=30)
    )

    @property
    def owner(self) -> str:
        return self.signer.address

    @property
    def nonces(self) -> NonceManager:
        return NonceManager(self.table, self.owner)

    @property
    def txs(self) -> TxStore:
        return TxStore(self.table, self.owner)

    @property
    def control(self) -> WorkerControl:
        return WorkerControl(self.table)

    def worker(self, **policy: Any) -> ChainWorker:
        return ChainWorker(
            self.records,
            self.nonces,
            self.txs,
            self.chain,
            self.signer,
            self.queue,
            _replace(self.worker_policy, policy),
            control=self.control,
            pinner=self.pinner,
        )

    def monitor(self, **policy: Any) -> TxMonitor:
        return TxMonitor(
            self.records,
            self.nonces,
            self.txs,
            self.chain,
            self.signer,
            self.queue,
            _replace(self.monitor_policy, policy),
            control=self.control,
            log=self.log,
        )

    # ------------------------------------------------------------ records and jobs, as the API makes them

    def new_key(self, wallet: str | None = None, version: int = 1, enqueue: bool = True) -> Job:
        wallet = wallet or _random_wallet()
        document = json.dumps({"wallet": wallet, "version": version, "nonce": secrets.token_hex(8)}, sort_keys=True)
        cid = cid_for_bytes(document.encode())
        now = int(time.time())
        self.records.create(Record(wallet, version, cid, document, STATUS_QUEUED, now, now, kind=KIND_KEY))
        job = Job(wallet, version, cid, JOB_SET_KEY)
        if enqueue:
            self.queue.enqueue(job)
        return job

    def new_revocation(self, key: Job, enqueue: bool = True) -> Job:
        version = key.version + 1
        now = int(time.time())
        document = json.dumps({"kind": "revocation", "wallet": key.wallet, "revokes": key.version}, sort_keys=True)
        self.records.create(
            Record(
                key.wallet,
                version,
                key.cid,
                document,
                STATUS_QUEUED,
                now,
                now,
                kind=KIND_REVOCATION,
                revokes_cid=key.cid,
            )
        )
        job = Job(key.wallet, version, key.cid, JOB_REVOKE_KEY)
        if enqueue:
            self.queue.enqueue(job)
        return job

    def record(self, job: Job) -> Record:
        found = self.records.get(job.wallet, job.version)
        assert found is not None
        return found

    # ------------------------------------------------------------ the queue

    def receive(self, max_messages: int = 10, wait_s: int = 0) -> list[dict[str, Any]]:
        """Raw SQS messages (visibility 30 s), like Lambda's poller receives them."""
        received: list[dict[str, Any]] = []
        while len(received) < max_messages:
            answer = self.sqs.receive_message(
                QueueUrl=self.queue.url,
                MaxNumberOfMessages=min(10, max_messages - len(received)),
                WaitTimeSeconds=wait_s,
                AttributeNames=["All"],
                VisibilityTimeout=30,
            )
            if not answer.get("Messages"):
                break
            received += answer["Messages"]
        return received

    def messages(self, raw: list[dict[str, Any]]) -> list[QueueMessage]:
        return [
            QueueMessage.from_lambda_record(r) for r in lambda_sqs_event(raw, self.outputs["JobsQueueArn"])["Records"]
        ]

    def ack(self, raw: list[dict[str, Any]], failed_ids: list[str]) -> None:
        for message in raw:
            if message["MessageId"] in failed_ids:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self.sqs.delete_message(QueueUrl=self.queue.url, ReceiptHandle=message["ReceiptHandle"])

    def deliver(self, worker: ChainWorker, max_messages: int = 100) -> list[str]:
        """One Lambda invocation: receive a batch, run the worker, delete what it did not report failed."""
        raw = self.receive(max_messages)
        if not raw:
            return []
        failed = worker.handle(self.messages(raw))
        self.ack(raw, failed)
        return failed

    def queued(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def dead_letters(self) -> list[dict[str, Any]]:
        url = self.outputs["JobsDeadLetterQueueUrl"]
        return self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
            "Messages", []
        )

    def loop(
        self, worker: ChainWorker, monitor: TxMonitor, retry_after_s: int = 0, batch_window_s: float = 0.2
    ) -> WorkerLoop:
        """The local stack's stand-in for Lambda, driving this world's worker and monitor."""
        from chalicelib.chain.lambdas import monitor_transactions, process_jobs

        return WorkerLoop(
            self.endpoint,
            self.outputs["JobsQueueName"],
            retry_after_s=retry_after_s,
            batch_size=100,
            batch_window_s=batch_window_s,
            handler=lambda event, context: process_jobs(worker, event["Records"], context),
            monitor=lambda event, context: monitor_transactions(monitor, context, 0, 0),
        )

    # ------------------------------------------------------------ the chain

    def settle(self, worker: ChainWorker, monitor: TxMonitor, rounds: int = 20) -> None:
        """Deliver and monitor until the queue is empty and nothing is in flight (automine chains)."""
        for _ in range(rounds):
            self.deliver(worker)
            report = monitor.run_once()
            if self.queued() == 0 and report.in_flight == 0:
                return
        raise AssertionError("the world did not settle")

    def key_updates(self, wallet: str | None = None) -> list[tuple[str, bytes, int]]:
        return self.chain.key_updated_events(0, [wallet] if wallet else None)

    def digest(self, job: Job) -> bytes:
        return digest_from_cid(job.cid)

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self.anvil.rpc("evm_mine")

    def stop(self) -> None:
        self.anvil.stop()


def make_world(
    stack: Any,
    *,
    automine: bool = True,
    block_time: float | None = None,
    max_receive_count: int = 5,
    worker_policy: WorkerPolicy | None = None,
    monitor_policy: MonitorPolicy | None = None,
    with_log: bool = False,
) -> World:
    stage = "w" + uuid.uuid4().hex[:10]
    endpoint = stack.aws_endpoint
    outputs = deploy_template(endpoint, stage, {"MaxReceiveCount": str(max_receive_count)})
    anvil = Anvil(chain_id=CHAIN_ID, block_time=block_time).start()
    try:
        signer = KmsSigner(boto3.client("kms", endpoint_url=endpoint), outputs["OwnerKeyBlueAlias"])
        registry = deploy_registry(anvil, signer.address)
        if not automine:
            anvil.rpc("evm_setAutomine", [False])
        dynamodb = boto3.resource("dynamodb", endpoint_url=endpoint)
        sqs = boto3.client("sqs", endpoint_url=endpoint)
        log = TransparencyLog(dynamodb.Table(outputs["LogTableName"])) if with_log else None
        world = World(
            stage=stage,
            endpoint=endpoint,
            anvil=anvil,
            outputs=outputs,
            signer=signer,
            registry_address=registry,
            chain=RegistryChain(anvil.url, registry, CHAIN_ID, log_head=log.head_to_anchor if log else None),
            records=RecordStore(dynamodb.Table(outputs["RecordsTableName"]), log),
            queue=JobQueue(sqs, outputs["JobsQueueName"]),
            sqs=sqs,
            table=dynamodb.Table(outputs["TransactionsTableName"]),
            records_table=dynamodb.Table(outputs["RecordsTableName"]),
            pinner=PinataPinner(stack.pinning.url, stack.env["PINNING_JWT"]),
            log=log,
        )
        if worker_policy is not None:
            world.worker_policy = worker_policy
        if monitor_policy is not None:
            world.monitor_policy = monitor_policy
        return world
    except BaseException:
        anvil.stop()
        raise


def _replace(policy: Any, changes: dict[str, Any]) -> Any:
    from dataclasses import replace

    return replace(policy, **changes) if changes else policy


def _random_wallet() -> str:
    from eth_account import Account

    return Account.create().address


def worlds_on(stack: Any) -> Iterator[Callable[..., World]]:
    """make(**options) -> a new World; every world made is stopped after the test."""
    made: list[World] = []

    def make(**options: Any) -> World:
        world = make_world(stack, **options)
        made.append(world)
        return world

    yield make
    for world in made:
        world.stop()
