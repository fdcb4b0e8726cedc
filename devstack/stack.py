"""The whole registry on this machine: moto (with our KMS correction), Anvil, the contract, local pinning,
`chalice local` and a worker loop standing in for Lambda's SQS trigger. Every server binds a free loopback
port, and stop() ends all of them.
"""

import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests

from devstack import moto_patches
from devstack.anvil import DEV_ACCOUNTS, Anvil, free_port
from devstack.pinning_service import PinningService
from devstack.worker_loop import WorkerLoop

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
    block_time: float | None = None
    with_api: bool = True
    with_worker: bool = True
    moto_in_process: bool = True  # False: a process of its own (devstack/moto_process.py), for benchmarks
    # > 0: the worker (this many concurrent Lambda slots, each a process) and the monitor run as processes of
    # their own (devstack/lambda_process.py, output in log_dir) instead of threads of this one.
    worker_processes: int = 0
    anvil_state_path: Path | None = None  # Anvil dumps its chain here on stop and loads it on start
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
            chain_id=int(names["CHAIN_ID"]),
            block_time=self.block_time,
            log_path=self.log_paths["anvil"],
            state_path=self.anvil_state_path,
        ).start()
        self._stoppers.append(self.anvil.stop)
        self.pinning = PinningService(jwt=LOCAL_PINNING_JWT).start()
        self._stoppers.append(self.pinning.stop)
        kms = boto3.client("kms", endpoint_url=self.aws_endpoint)
        from chalicelib.adapters.kms_signer import KmsSigner

        self.owner_address = KmsSigner(kms, names["KMS_KEY_ID"]).address
        self.registry_address = deploy_registry(self.anvil, self.owner_address)
        self.env = {
            **FAKE_AWS_ENV,
            **names,
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            "RPC_URL": self.anvil.url,  # the worker's and monitor's
            "API_RPC_URL": self.anvil.url,  # the API's own (its own secret in the cloud stages)
            "REGISTRY_ADDRESS": self.registry_address,
            "PINNING_API_URL": self.pinning.url,
            "PINNING_JWT": LOCAL_PINNING_JWT,
        }
        os.environ.update(self.env)
        from chalicelib import bootstrap

        bootstrap.reset()
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
        self.workers = [
            LambdaProcess(ROLE_WORKER, env, self.log_dir / f"worker-{slot}.log")
            for slot in range(self.worker_processes)
        ]
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
        command = [
            sys.executable,
            "-m",
            "devstack.chalice_local",
            "local",
            "--no-autoreload",
            "--stage",
            self.stage,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        process = self._spawn("chalice-local", command, {**os.environ, **self.env})
        url = f"http://127.0.0.1:{port}"
        self._wait_answering("chalice-local", process, url + "/config")
        return url

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """A child server whose stdout and stderr go to log_dir/<name>.log: never to a pipe nobody reads (chalice
        local writes an access-log line per request; a full pipe would block every request thread)."""
        path = self.log_paths[name] = self.log_dir / f"{name}.log"
        # Unbuffered: Chalice's app.log writes to stdout, which a file would buffer; a traceback must be in the log
        # when it is read, and must not be lost when the server is stopped or killed.
        env = {**env, "PYTHONUNBUFFERED": "1"}
        with open(path, "wb") as output:  # the child keeps its own descriptor
            process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
            )
        self._stoppers.append(lambda: _terminate(process))
        return process

    def _wait_answering(self, name: str, process: subprocess.Popen[bytes], url: str, timeout_s: float = 120) -> None:
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
        interrupted: BaseException | None = None
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


def _terminate(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def deploy_template(aws_endpoint: str, stage: str, parameters: dict[str, str] | None = None) -> dict[str, str]:
    """Creates the stack from infra/template.yaml in moto; returns its outputs."""
    cloudformation = boto3.client("cloudformation", endpoint_url=aws_endpoint)
    name = f"dmtp-registry-{stage}"
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=TEMPLATE_PATH.read_text(),
        Parameters=[
            {"ParameterKey": key, "ParameterValue": value}
            for key, value in {"Stage": stage, **(parameters or {})}.items()
        ],
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
