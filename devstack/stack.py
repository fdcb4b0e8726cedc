"""The whole registry on this machine: moto (with our KMS correction), Anvil, the contract, local pinning,
`chalice local` and a worker loop standing in for Lambda's SQS trigger. Every server binds a free loopback
port, and stop() ends all of them.
"""
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import boto3
import requests

from devstack import moto_patches
from devstack.anvil import DEV_ACCOUNTS, Anvil, free_port
from devstack.pinning_service import PinningService

REPO_ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = REPO_ROOT / ".devstack" / "logs"  # every child server's output (gitignored); see LocalStack.log_paths
TEMPLATE_PATH = REPO_ROOT / "infra" / "template.yaml"
CHALICE_CONFIG_PATH = REPO_ROOT / ".chalice" / "config.json"
LOCAL_PINNING_JWT = "local-pinning-jwt"
OWNER_FUNDING_WEI = 100 * 10**18
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}

log = logging.getLogger("devstack")


def stage_environment(stage: str) -> dict[str, str]:
    """The environment variables .chalice/config.json sets for `stage` (the names of everything)."""
    config = json.loads(CHALICE_CONFIG_PATH.read_text())
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


@dataclass
class LocalStack:
    stage: str = "local"
    block_time: Optional[float] = None
    with_api: bool = True
    with_worker: bool = True
    moto_in_process: bool = True  # False: a process of its own (devstack/moto_process.py), for benchmarks
    # > 0: the worker (this many concurrent Lambda slots, each a process) and the monitor run as processes of
    # their own (devstack/lambda_process.py, output in log_dir) instead of threads of this one.
    worker_processes: int = 0
    anvil_state_path: Optional[Path] = None  # Anvil dumps its chain here on stop and loads it on start
    env: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)  # settings on top of the stage's (tests, the fuzzer)
    log_dir: Path = LOG_DIR
    log_paths: dict[str, Path] = field(default_factory=dict)  # server -> the file its stdout and stderr go to
    _stoppers: list[Any] = field(default_factory=list)

    def start(self) -> "LocalStack":
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        names = {**stage_environment(self.stage), **self.overrides}
        os.environ.update(FAKE_AWS_ENV)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.aws_endpoint = self._start_moto()
        self.outputs = deploy_template(self.aws_endpoint, self.stage)
        self.log_paths["anvil"] = self.log_dir / "anvil.log"
        self.anvil = Anvil(
            chain_id=int(names["CHAIN_ID"]), block_time=self.block_time, log_path=self.log_paths["anvil"],
            state_path=self.anvil_state_path,
        ).start()
        self._stoppers.append(self.anvil.stop)
        self.pinning = PinningService(jwt=LOCAL_PINNING_JWT).start()
        self._stoppers.append(self.pinning.stop)
        kms = boto3.client("kms", endpoint_url=self.aws_endpoint)
        from chalicelib.kms_signer import KmsSigner

        self.owner_address = KmsSigner(kms, names["KMS_KEY_ID"]).address
        self.registry_address = deploy_registry(self.anvil, self.owner_address)
        self.env = {
            **FAKE_AWS_ENV,
            **names,
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            "RPC_URL": self.anvil.url,
            "REGISTRY_ADDRESS": self.registry_address,
            "PINNING_API_URL": self.pinning.url,
            "PINNING_JWT": LOCAL_PINNING_JWT,
        }
        os.environ.update(self.env)
        from chalicelib import services

        services.reset()
        if self.with_api:
            self.api_url = self._start_chalice_local()
        if self.with_worker and self.worker_processes > 0:
            self._start_lambda_processes()
        elif self.with_worker:
            self.worker = WorkerLoop(self.aws_endpoint, names["JOBS_QUEUE_NAME"]).start()
            self._stoppers.append(self.worker.stop)

    def _start_lambda_processes(self) -> None:
        from devstack.lambda_process import ROLE_MONITOR, ROLE_WORKER, LambdaProcess

        env = {**os.environ, **self.env}
        self.workers = [LambdaProcess(ROLE_WORKER, env, self.log_dir / f"worker-{slot}.log") for slot in range(self.worker_processes)]
        self.monitor_process = LambdaProcess(ROLE_MONITOR, env, self.log_dir / "monitor.log")
        for process in (*self.workers, self.monitor_process):
            self._stoppers.append(process.stop)
            process.start()

    def _start_moto(self) -> str:
        if not self.moto_in_process:
            return self._start_moto_process()
        from moto.server import ThreadedMotoServer

        moto_patches.apply()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        self._stoppers.append(server.stop)
        return f"http://127.0.0.1:{port}"

    def _start_moto_process(self) -> str:
        port = free_port()
        process = self._spawn("moto", [sys.executable, "-m", "devstack.moto_process", str(port)], dict(os.environ))
        url = f"http://127.0.0.1:{port}"
        self._wait_answering("moto", process, url + "/moto-api/")
        return url

    def _start_chalice_local(self) -> str:
        port = free_port()
        command = [sys.executable, "-m", "devstack.chalice_local", "local", "--no-autoreload", "--stage", self.stage, "--host", "127.0.0.1", "--port", str(port)]
        process = self._spawn("chalice-local", command, {**os.environ, **self.env})
        url = f"http://127.0.0.1:{port}"
        self._wait_answering("chalice-local", process, url + "/config")
        return url

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        """A child server whose stdout and stderr go to log_dir/<name>.log: never to a pipe nobody reads (chalice
        local writes an access-log line per request; a full pipe would block every request thread)."""
        path = self.log_paths[name] = self.log_dir / f"{name}.log"
        # Unbuffered: Chalice's app.log writes to stdout, which a file would buffer; a traceback must be in the log
        # when it is read, and must not be lost when the server is stopped or killed.
        env = {**env, "PYTHONUNBUFFERED": "1"}
        with open(path, "wb") as output:  # the child keeps its own descriptor
            process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
        self._stoppers.append(lambda: _terminate(process))
        return process

    def _wait_answering(self, name: str, process: subprocess.Popen, url: str, timeout_s: float = 120) -> None:
        """Polls until the server answers (importing moto or the app takes tens of seconds on a loaded machine)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = self.log_paths[name].read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} exited (log {self.log_paths[name]}):\n{tail}")
            try:
                requests.get(url, timeout=5)  # the first request imports the app
                return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        raise RuntimeError(f"{name} did not answer within {timeout_s:g} s (log {self.log_paths[name]})")

    def stop(self) -> None:
        """Stops every server, last started first. Invariant: every stopper runs, even when one raises or an
        interrupt (SIGTERM turned KeyboardInterrupt, a second Ctrl-C) lands inside it; the first interrupt is
        raised again once all have run, so no child is left running behind a half-done stop."""
        interrupted: Optional[BaseException] = None
        while self._stoppers:
            stopper = self._stoppers.pop()
            try:
                stopper()
            except Exception:  # keep stopping the rest
                log.exception("while stopping the local stack")
            except BaseException as exc:  # KeyboardInterrupt, SystemExit: finish stopping first
                interrupted = interrupted or exc
        if interrupted is not None:
            raise interrupted

    def __enter__(self) -> "LocalStack":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _terminate(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def deploy_template(aws_endpoint: str, stage: str, parameters: Optional[dict[str, str]] = None) -> dict[str, str]:
    """Creates the stack from infra/template.yaml in moto; returns its outputs."""
    cloudformation = boto3.client("cloudformation", endpoint_url=aws_endpoint)
    name = f"dmtp-registry-{stage}"
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=TEMPLATE_PATH.read_text(),
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in {"Stage": stage, **(parameters or {})}.items()],
    )
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"template did not deploy: {stack['StackStatus']}")
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


def deploy_registry(anvil: Anvil, owner: str) -> str:
    """Deploys DMTPKeys with Anvil's first dev account, hands ownership to `owner` and funds it."""
    from infra.deploy_contract import deploy, transfer_ownership

    _, deployer_key = DEV_ACCOUNTS[0]
    address = deploy(anvil.url, deployer_key)
    transfer_ownership(anvil.url, address, deployer_key, owner)
    anvil.rpc("anvil_setBalance", [owner, hex(OWNER_FUNDING_WEI)])
    return address


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
        batch_size: Optional[int] = None,
        batch_window_s: Optional[float] = None,
        handler: Optional[Any] = None,
        monitor: Optional[Any] = None,
        monitor_interval_s: float = 0.5,
    ) -> None:
        self._sqs = boto3.client("sqs", endpoint_url=aws_endpoint)
        self._queue_url = self._sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        self._queue_arn = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._retry_after_s = retry_after_s
        self.batch_size = batch_size or int(os.environ.get("JOB_BATCH_SIZE", "10"))
        self.batch_window_s = batch_window_s if batch_window_s is not None else float(os.environ.get("JOB_BATCH_WINDOW_S", "1"))
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

    def start(self) -> "WorkerLoop":
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

    def poll_once(self, handler: Optional[Any] = None, wait_s: int = 1, then_monitor: bool = True) -> int:
        """One batch through the handler (and then one monitor pass); the number of messages received."""
        messages = self._gather(wait_s)
        if not messages:
            return 0
        self._settle(*self._invoke(messages, handler))
        if then_monitor:
            self.monitor_once()
        return len(messages)

    def run_pipelined(self, stopping: threading.Event, handler: Optional[Any] = None) -> None:
        """One concurrency slot of Lambda's SQS trigger at full load, until `stopping` is set.

        Lambda's pollers receive and delete messages outside the function: while one batch is in the handler the
        next is being gathered, and a finished batch is settled meanwhile. Here a gatherer thread keeps one batch
        ready and a settler thread settles finished ones; the handler runs on the caller's thread, and its
        exceptions propagate (poll_once instead logs them and redelivers the batch).
        """
        ready: "queue.Queue[list[dict[str, Any]]]" = queue.Queue(maxsize=1)
        finished: "queue.Queue[Optional[tuple[list[dict[str, Any]], list[dict[str, Any]]]]]" = queue.Queue()

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
        self, messages: list[dict[str, Any]], handler: Optional[Any] = None, raise_errors: bool = False
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
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

    def _gather(self, wait_s: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
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

    def _settle(self, done: list[dict[str, Any]], failed: list[dict[str, Any]]) -> None:
        for start in range(0, len(done), 10):
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])]
            self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)
        for start in range(0, len(failed), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self._retry_after_s}
                for i, m in enumerate(failed[start : start + 10])
            ]
            self._sqs.change_message_visibility_batch(QueueUrl=self._queue_url, Entries=entries)


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
