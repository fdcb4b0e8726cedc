"""The README's local stack, end to end: `python -m devstack demo` as a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from devstack.stack import REPO_ROOT, TEMPLATE_PATH, stage_environment


def processes_in_group(group: int) -> list[str]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            found.append(stat.parent.name)
    return found


def test_demo_registers_a_wallet_on_chain_and_on_ipfs_then_stops_everything():
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "demo"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr.decode()[-3000:]
    lines = stdout.decode().strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert {"address", "cid", "tx_hash", "onchain_cid", "ipfs_ok"} <= result.keys()
    assert result["onchain_cid"] == result["cid"] and result["ipfs_ok"] is True
    assert result["private_key_opens"] is True
    assert result["verified"] is True, result["verify_error"]
    assert processes_in_group(process.pid) == []


def test_local_stage_names_are_the_ones_the_template_creates():
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor(
        "!", lambda loader, suffix, node: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None
    )
    resources = yaml.load(TEMPLATE_PATH.read_text(), Loader=Loader)["Resources"]
    names = stage_environment("local")
    assert resources["RecordsTable"]["Properties"]["TableName"].replace("${Stage}", "local") == names["RECORDS_TABLE"]
    assert (
        resources["TransactionsTable"]["Properties"]["TableName"].replace("${Stage}", "local")
        == names["TRANSACTIONS_TABLE"]
    )
    assert resources["QuotasTable"]["Properties"]["TableName"].replace("${Stage}", "local") == names["QUOTAS_TABLE"]
    assert resources["LogTable"]["Properties"]["TableName"].replace("${Stage}", "local") == names["LOG_TABLE"]
    assert resources["JobsQueue"]["Properties"]["QueueName"].replace("${Stage}", "local") == names["JOBS_QUEUE_NAME"]
    assert resources["OwnerKeyBlueAlias"]["Properties"]["AliasName"].replace("${Stage}", "local") == names["KMS_KEY_ID"]


def test_an_interrupt_inside_one_stopper_does_not_leave_the_other_servers_running():
    from devstack.stack import LocalStack

    stack = LocalStack(with_api=False, with_worker=False)
    stopped: list[str] = []

    def interrupted_while_waiting() -> None:  # a second SIGTERM while a worker process finishes its batch
        stopped.append("worker")
        raise KeyboardInterrupt("SIGTERM")

    stack._stoppers.extend([lambda: stopped.append("moto"), lambda: stopped.append("anvil"), interrupted_while_waiting])
    with pytest.raises(KeyboardInterrupt):
        stack.stop()
    assert stopped == ["worker", "anvil", "moto"]
    assert stack._stoppers == []
