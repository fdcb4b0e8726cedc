"""The whole registry on this machine: moto (with our KMS correction), Anvil, the contract, local pinning,
`chalice local` and a worker loop standing in for Lambda's SQS trigger. Every server binds a free loopback
port, and stop() ends all of them.
"""
import json
import logging
import os
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
    env: dict[str, str] = field(default_factory=dict)
    _stoppers: list[Any] = field(default_factory=list)

    def start(self) -> "LocalStack":
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        names = stage_environment(self.stage)
        os.environ.update(FAKE_AWS_ENV)
        self.aws_endpoint = self._start_moto()
        self.outputs = deploy_template(self.aws_endpoint, self.stage)
        self.anvil = Anvil(chain_id=int(names["CHAIN_ID"]), block_time=self.block_time).start()
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
        if self.with_worker:
            self.worker = WorkerLoop(self.aws_endpoint, names["JOBS_QUEUE_NAME"]).start()
            self._stoppers.append(self.worker.stop)

    def _start_moto(self) -> str:
        from moto.server import ThreadedMotoServer

        moto_patches.apply()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        self._stoppers.append(server.stop)
        return f"http://127.0.0.1:{port}"

    def _start_chalice_local(self) -> str:
        port = free_port()
        chalice = Path(sys.executable).with_name("chalice")
        process = subprocess.Popen(
            [str(chalice), "local", "--no-autoreload", "--stage", self.stage, "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT,
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._stoppers.append(lambda: _terminate(process))
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"chalice local exited: {process.stderr.read().decode()[-2000:]}")
            try:
                requests.get(url + "/config", timeout=1)
                return url
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("chalice local did not answer within 30 s")

    def stop(self) -> None:
        while self._stoppers:
            stopper = self._stoppers.pop()
            try:
                stopper()
            except Exception:  # keep stopping the rest
                log.exception("while stopping the local stack")

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


def deploy_template(aws_endpoint: str, stage: str) -> dict[str, str]:
    """Creates the stack from infra/template.yaml in moto; returns its outputs."""
    cloudformation = boto3.client("cloudformation", endpoint_url=aws_endpoint)
    name = f"dmtp-registry-{stage}"
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=TEMPLATE_PATH.read_text(),
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
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
    """Lambda's SQS event source, locally: receive, hand the batch to the app's handler, delete on success.

    A failed message is made visible again after `retry_after_s` (Lambda waits the visibility timeout).
    """

    def __init__(self, aws_endpoint: str, queue_name: str, retry_after_s: int = 2) -> None:
        self._sqs = boto3.client("sqs", endpoint_url=aws_endpoint)
        self._queue_url = self._sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        self._queue_arn = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._retry_after_s = retry_after_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="worker-loop", daemon=True)

    def start(self) -> "WorkerLoop":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        import app

        while not self._stopping.is_set():
            try:
                self.poll_once(app.process_jobs)
            except Exception:
                log.exception("worker loop")
                time.sleep(0.5)

    def poll_once(self, handler: Any, wait_s: int = 1) -> int:
        answer = self._sqs.receive_message(
            QueueUrl=self._queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=wait_s, AttributeNames=["All"]
        )
        messages = answer.get("Messages", [])
        for message in messages:
            try:
                handler(lambda_sqs_event(message, self._queue_arn), None)
            except Exception:
                log.exception("job failed; it will be delivered again")
                self._sqs.change_message_visibility(
                    QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=self._retry_after_s
                )
            else:
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)


def lambda_sqs_event(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS trigger would pass for one received message."""
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
        ]
    }
