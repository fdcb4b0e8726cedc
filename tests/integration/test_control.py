"""The worker's pause switch (chalicelib/adapters/control.py), on the transactions table of a stage deployed into moto."""

import uuid
from typing import Any

import boto3
import pytest

from chalicelib.adapters.control import CONTROL_NONCE, CONTROL_SIGNER, WorkerControl
from chalicelib.adapters.nonces import NonceManager
from chalicelib.model import PauseState
from devstack.stack import deploy_template


@pytest.fixture(scope="module")
def table(stack: Any) -> Any:
    outputs = deploy_template(stack.aws_endpoint, "c" + uuid.uuid4().hex[:10])
    return boto3.resource("dynamodb", endpoint_url=stack.aws_endpoint).Table(outputs["TransactionsTableName"])


def test_a_worker_never_paused_is_running(table: Any) -> None:
    fresh = boto3.resource("dynamodb", endpoint_url=table.meta.client.meta.endpoint_url).Table(table.name)
    table.delete_item(Key={"signer": CONTROL_SIGNER, "nonce": CONTROL_NONCE})
    assert WorkerControl(fresh).state() == PauseState(paused=False, reason="", since=None, by="")


def test_a_pause_is_stored_with_its_reason_author_and_start(table: Any) -> None:
    control = WorkerControl(table)
    control.pause("NotOwner: signer is not the contract owner", by="worker", now=1_700_000_000)
    assert control.state() == PauseState(True, "NotOwner: signer is not the contract owner", 1_700_000_000, "worker")


def test_pausing_again_keeps_the_start_of_the_pause_and_the_newest_reason(table: Any) -> None:
    control = WorkerControl(table)
    control.resume(by="ops", now=1)
    control.pause("first", by="worker", now=100)
    control.pause("second", by="alice", now=200)
    assert control.state() == PauseState(True, "second", 100, "alice")


def test_resume_clears_the_pause_and_names_who_resumed(table: Any) -> None:
    control = WorkerControl(table)
    control.pause("rotation", by="alice", now=100)
    control.resume(by="bob", now=300)
    assert control.state() == PauseState(False, "", None, "bob")


def test_the_switch_shares_the_table_with_a_signers_nonces_without_touching_them(table: Any) -> None:
    signer = "0x" + "ab" * 20
    nonces = NonceManager(table, signer)
    nonces.initialise(7)
    WorkerControl(table).pause("maintenance", by="ops", now=5)
    assert nonces.counter() is not None and nonces.counter().next == 7
    assert nonces.reconcile(7, 7).holes == ()
    assert WorkerControl(table).state().paused
