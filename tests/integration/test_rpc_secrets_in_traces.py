"""No RPC secret in the worker's traces or logs (issue 24): the worker's telemetry as in Lambda (Powertools Tracer with
X-Ray's SDK, its segments kept in a list instead of sent to the daemon: tests/support/traced_rpc.py, in a process of
its own) makes a traced RPC call that succeeds, one that fails, and an AWS call; the segments and log lines it
produced are grepped for the secret that the RPC URLs carry in their path, query and userinfo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.anvil import free_port
from tests.support.node_proxy import NodeProxy

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-key-0f-the-rpc-provider"


@pytest.fixture()
def node(stack: Any) -> Iterator[NodeProxy]:
    """Anvil behind a provider-like URL: any path is served, so /v2/<key> reaches it."""
    proxy = NodeProxy(stack.anvil.url).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def traced_run(stack: Any, node: NodeProxy, *flags: str) -> tuple[list[dict[str, Any]], str]:
    good = f"{node.url}/v2/{SECRET}?apikey={SECRET}"
    dead = f"http://user:{SECRET}@127.0.0.1:{free_port()}/v2/{SECRET}"
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.traced_rpc", good, dead, stack.aws_endpoint, *flags],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["head"] >= 0 and node.paths and all(SECRET in path for path in node.paths)  # the URL was used
    return answer["segments"], done.stderr


def subsegment_names(segments: list[dict[str, Any]]) -> list[str]:
    return [segment["name"] for segment in segments]


def test_a_traced_and_a_failed_rpc_call_leave_no_secret_in_the_trace_or_the_logs(stack, node):
    segments, logs = traced_run(stack, node)

    # the trace was recorded: the worker's steps and the AWS call, and the failed call's error with them
    names = subsegment_names(segments)
    assert names.count("## __main__.main.locals.read_head") == 2, names
    assert "sqs" in [name.lower() for name in names]
    failed = [segment for segment in segments if segment.get("fault") or segment.get("error")]
    assert any("RpcUnavailable" in json.dumps(segment.get("cause", {})) for segment in failed), failed
    # and so were the log lines, the failed call's traceback among them
    assert "monitor pass failed" in logs and "RpcUnavailable" in logs

    # but the secret is in neither
    assert SECRET not in json.dumps(segments)
    assert SECRET not in logs


def test_the_grep_finds_the_secret_when_every_module_is_patched_as_tracer_did_before(stack, node):
    # The control: X-Ray's requests/httplib patches (Tracer() without patch_modules) record the RPC URL's path
    segments, _ = traced_run(stack, node, "--patch-all")

    assert SECRET in json.dumps(segments)
