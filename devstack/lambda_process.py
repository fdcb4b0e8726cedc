"""The worker and the monitor, each in a process of its own, as Lambda runs them in containers of their own.

`python -m devstack.lambda_process worker`: Lambda's SQS trigger for `app.process_jobs`, one concurrency slot:
gather a batch, call the handler, delete what it did not list in batchItemFailures (devstack.worker_loop.WorkerLoop).
`python -m devstack.lambda_process monitor`: the scheduled `app.monitor_transactions`, one pass every
MONITOR_INTERVAL_S seconds.

Both build every service from the environment (the stage's names plus the local stack's endpoints, which
LocalStack.env holds), exactly as the Lambda functions do. SIGTERM ends them after the current batch or pass;
SIGKILL is what a crashed container looks like (a batch in flight comes back when its visibility times out).

`LambdaProcess` starts one of them from the parent, with its output appended to a log file (never a pipe).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

ROLE_WORKER = "worker"
ROLE_MONITOR = "monitor"
ROLES = (ROLE_WORKER, ROLE_MONITOR)
REPO_ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = REPO_ROOT / ".devstack" / "logs"
STOP_GRACE_S = 10.0

log = logging.getLogger("devstack.lambda_process")


class LambdaProcess:
    """One worker or monitor process, restartable; its stdout and stderr are appended to `log_path`."""

    def __init__(self, role: str, env: Mapping[str, str], log_path: Path) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        self.role = role
        self.env = dict(env)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> LambdaProcess:
        if self.running:
            raise RuntimeError(f"{self.role} process already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self._log is None:
            # Held open across restarts, closed by stop(): the object owns it, so no `with` block fits.
            self._log = open(self.log_path, "ab")  # noqa: SIM115
        self._log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} starting {self.role}\n".encode())
        self._log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devstack.lambda_process", self.role],
            cwd=REPO_ROOT,
            env={**self.env, "PYTHONUNBUFFERED": "1"},  # what it logged is in the file even after a kill -9
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.starts += 1
        return self

    def kill(self) -> None:
        """SIGKILL, as a container dies: no handler runs, nothing is cleaned up."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM (the process finishes its batch or pass), then SIGKILL after STOP_GRACE_S."""
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart_killed(self) -> None:
        """kill -9, then start again (as Lambda starts a fresh container for the next batch)."""
        self.kill()
        self.start()


def run_worker(stopping: threading.Event) -> None:
    from devstack.worker_loop import WorkerLoop

    loop = WorkerLoop(os.environ["AWS_ENDPOINT_URL"], os.environ["JOBS_QUEUE_NAME"])
    _ = loop.handler  # import app (and web3 with the first batch's services) before the first receive
    log.warning("worker ready (pid %s)", os.getpid())
    while not stopping.is_set():
        try:
            loop.poll_once(wait_s=1, then_monitor=False)  # a handler error: the batch is delivered again
        except Exception:  # SQS itself unreachable: try again shortly
            log.exception("worker poll")
            stopping.wait(0.5)


def run_monitor(stopping: threading.Event) -> None:
    from devstack.worker_loop import WorkerLoop

    loop = WorkerLoop(os.environ["AWS_ENDPOINT_URL"], os.environ["JOBS_QUEUE_NAME"])
    interval_s = float(os.environ.get("MONITOR_INTERVAL_S", "0.5"))
    log.warning("monitor ready (pid %s), a pass every %s s", os.getpid(), interval_s)
    while not stopping.wait(interval_s):
        try:
            loop.monitor_once()
        except Exception:  # one bad pass (the node stopped) must not end the schedule
            log.exception("monitor pass")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.lambda_process",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("role", choices=ROLES)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with contextlib.suppress(KeyboardInterrupt):
        (run_worker if args.role == ROLE_WORKER else run_monitor)(stopping)
    return 0


if __name__ == "__main__":
    sys.exit(main())
