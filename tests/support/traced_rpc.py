"""Run by tests/integration/test_rpc_secrets_in_traces.py in a process of its own (X-Ray's patches are global and
cannot be undone): the worker's telemetry as in Lambda, with X-Ray's recorder sending every segment to a list instead
of the daemon, one traced RPC call that succeeds, one that fails, and one AWS call.

    python -m tests.support.traced_rpc GOOD_RPC_URL DEAD_RPC_URL AWS_ENDPOINT [--patch-all]

--patch-all first patches every module X-Ray supports, as `Tracer()` without patch_modules did before issue 24: the
test's control, showing that its grep finds the secret when the RPC's HTTP calls are traced.
Prints one JSON object on stdout: {"segments": [...]} (each as X-Ray would send it); the worker's log lines go to
stderr, as in Lambda.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

# Lambda's environment, read by X-Ray's SDK when it is imported: a Lambda context with the invocation's trace header.
os.environ["LAMBDA_TASK_ROOT"] = os.getcwd()
os.environ["AWS_LAMBDA_FUNCTION_NAME"] = "dmtp-key-registry-test-process_jobs"
os.environ["_X_AMZN_TRACE_ID"] = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
os.environ.pop("POWERTOOLS_TRACE_DISABLED", None)

from aws_xray_sdk.core import xray_recorder  # after the environment above: the SDK reads it on import

SEGMENTS: list[dict[str, Any]] = []


class ListEmitter:
    """X-Ray's emitter interface, keeping what would go to the daemon."""

    def send_entity(self, entity: Any) -> None:
        SEGMENTS.append(json.loads(entity.serialize()))

    def set_daemon_address(self, address: str | None) -> None:
        pass

    @property
    def ip(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return 2000


def main(argv: list[str]) -> int:
    good_url, dead_url, aws_endpoint, *flags = argv
    xray_recorder.configure(emitter=ListEmitter(), sampling=False, context_missing="LOG_ERROR")
    if "--patch-all" in flags:
        from aws_xray_sdk.core import patch_all

        patch_all()
    import boto3

    from chalicelib.adapters.ethereum import RegistryChain
    from chalicelib.observability.telemetry import logger, tracer

    registry = "0x" + "5f" * 20

    @tracer.capture_method
    def read_head(url: str) -> int:
        return RegistryChain(url, registry, 31337, rpc_timeout_s=5).head()

    @tracer.capture_method
    def list_queues() -> Any:
        return boto3.client("sqs", endpoint_url=aws_endpoint, region_name="us-east-1").list_queues()

    head = read_head(good_url)
    logger.info("head read", extra={"head": head})
    try:
        read_head(dead_url)
    except Exception:
        logger.exception("monitor pass failed")
    try:
        list_queues()  # traced whether or not it succeeds: the proof that tracing records anything at all
    except Exception:
        logger.exception("queue not reachable")
    print(json.dumps({"head": head, "segments": SEGMENTS}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
