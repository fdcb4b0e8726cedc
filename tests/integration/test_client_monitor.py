"""A wallet watches its own key (`python -m dmtp_key_registry_client monitor`, clients/python/src/
dmtp_key_registry_client/monitor.py) on the real local stack: the Chalice app on moto, the KMS-signed worker putting
keys on chain and in the transparency log, Anvil with a DMTPKeys contract of the test's own.

The owner registers through the client with her state file; then the registry registers a key for her wallet behind
her back (tests/support/behind_the_back.py: a record stored and queued directly, never checked against her wallet),
and the worker puts it on chain and in the log like any other. The monitor reports it with its transaction and leaf
index; a run that finds only her own writes reports nothing.

Every test gets its own world: a fresh log table and a freshly deployed contract (owned by the stack's KMS key)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3
import pytest

from chalicelib import bootstrap
from chalicelib.adapters.jobs import JobQueue
from devstack.stack import deploy_registry
from dmtp_key_registry_client import __main__ as cli
from dmtp_key_registry_client import registry_client
from dmtp_key_registry_client.monitor import MonitorReport, OwnWrites, monitor_wallet
from dmtp_key_registry_client.registry_client import RegistryClient, build_registration, wallet_address
from tests.conftest import CHAIN_ID
from tests.integration.test_client_verify import drain_queue, new_wallet_key
from tests.support import log_tamper
from tests.support.behind_the_back import register_behind_the_back

API = "http://registry.test"  # answered in this process (InProcessSession)


class _Answer:
    """What RegistryClient reads of a requests.Response."""

    def __init__(self, status_code: int, body: bytes | str) -> None:
        self.status_code = status_code
        self.text = body.decode("utf-8") if isinstance(body, bytes) else body

    def json(self) -> Any:
        return json.loads(self.text)


class InProcessSession:
    """requests.Session.request answered by the Chalice app in this process (the `api` fixture's test client), so
    the real RegistryClient, register and revoke included, talks to the real handlers."""

    def __init__(self, api: Any) -> None:
        self.api = api

    def request(
        self, method: str, url: str, timeout: float | None = None, params: Any = None, json: Any = None
    ) -> _Answer:
        path = urlsplit(url).path + (f"?{urlencode(params)}" if params else "")
        if method == "GET":
            response = self.api.http.get(path)
        else:
            response = self.api.http.post(path, headers={"Content-Type": "application/json"}, body=_dumps(json))
        return _Answer(response.status_code, response.body)


def _dumps(value: Any) -> str:
    return json.dumps(value)


@dataclass
class MonitorWorld:
    api: Any
    stack: Any
    registry: str
    from_block: int
    client: RegistryClient

    def behind_her_back(self, wallet: str, version: int) -> None:
        settings = bootstrap.settings()
        queue = JobQueue(boto3.client("sqs", endpoint_url=self.stack.aws_endpoint), settings.jobs_queue_name)
        register_behind_the_back(
            wallet,
            version,
            chain_id=CHAIN_ID,
            registry=self.registry,
            records=bootstrap.record_store(settings),
            queue=queue,
        )

    def settle(self) -> None:
        drain_queue(self.stack)

    def monitor(self, wallet: str, state: Path) -> MonitorReport:
        return monitor_wallet(
            wallet,
            rpc_url=self.stack.anvil.url,
            chain_id=CHAIN_ID,
            registry=self.registry,
            log=self.client,
            state=state,
            from_block=self.from_block,
        )


@pytest.fixture()
def world(api: Any, stack: Any, monkeypatch: Any) -> Any:
    drain_queue(stack)  # other tests' queued jobs go to their own registry before this one is switched in
    table = log_tamper.fresh_log_table(stack.aws_endpoint)
    from_block = int(stack.anvil.rpc("eth_blockNumber", []), 16)
    registry = deploy_registry(stack.anvil, stack.owner_address)
    monkeypatch.setenv("LOG_TABLE", table.name)
    monkeypatch.setenv("REGISTRY_ADDRESS", registry)
    bootstrap.reset()
    yield MonitorWorld(api, stack, registry, from_block, RegistryClient(API, session=InProcessSession(api)))  # type: ignore[arg-type]
    drain_queue(stack)
    bootstrap.reset()
    table.delete()


def test_the_monitor_reports_a_key_registered_behind_the_owners_back_with_its_transaction_and_leaf(world, tmp_path):
    # Given the owner registered version 1 through the client, recording it in her state file
    wallet_key = new_wallet_key()
    wallet = wallet_address(wallet_key)
    state = tmp_path / "monitor.json"
    domain = world.client.checked_config(CHAIN_ID, world.registry)
    body, _ = build_registration(wallet_key, CHAIN_ID, domain.registry, version=1)
    world.client.register(body, own_writes=OwnWrites(state, CHAIN_ID, world.registry))
    world.settle()
    assert world.client.lookup(wallet)["status"] == "confirmed"

    # a run that finds only her own change reports nothing
    own_only = world.monitor(wallet, state)
    assert own_only.clean, own_only.to_json()
    assert own_only.from_block == world.from_block

    # When the registry writes version 2 for her wallet without her, and the worker puts it on chain and in the log
    world.behind_her_back(wallet, 2)
    world.settle()
    rogue = world.client.lookup(wallet)
    assert (rogue["version"], rogue["status"]) == (2, "confirmed"), rogue
    assert rogue["txHash"] and rogue["log"]["leafIndex"] is not None, rogue

    # Then the monitor reports it, with its transaction and its leaf index
    report = world.monitor(wallet, state)
    assert [(c.kind, c.version, c.reason) for c in report.changes] == [("key", 2, "not-recorded")], report.to_json()
    change = report.changes[0]
    assert change.tx_hash == rogue["txHash"] and change.block_number == rogue["blockNumber"]
    assert change.leaf_index == rogue["log"]["leafIndex"]
    assert change.digest == change.document_hash == "0x" + _digest(rogue["cid"])
    assert report.problems == []

    # and only once: the next run goes on from its cursor and finds nothing new
    again = world.monitor(wallet, state)
    assert again.clean and again.from_block == report.to_block + 1, again.to_json()


def test_the_cli_monitor_exits_1_with_the_change_and_0_after_her_own_revocation(world, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        registry_client,
        "RegistryClient",
        lambda url, timeout=10: RegistryClient(url, timeout, session=InProcessSession(world.api)),  # type: ignore[arg-type]
    )
    monkeypatch.setattr(cli, "RegistryClient", registry_client.RegistryClient)
    wallet_key = new_wallet_key()
    wallet = wallet_address(wallet_key)
    state = str(tmp_path / "monitor.json")
    pins = ["--api", API, "--chain-id", str(CHAIN_ID), "--registry", world.registry]
    monitor = [
        "monitor",
        *pins,
        "--rpc",
        world.stack.anvil.url,
        "--state",
        state,
        "--from-block",
        str(world.from_block),
    ]

    assert cli.main(["register", *pins, "--wallet-key", wallet_key, "--state", state]) == 0
    world.settle()
    capsys.readouterr()
    assert cli.main([*monitor, wallet]) == 0, capsys.readouterr()
    assert json.loads(capsys.readouterr().out)["clean"] is True

    world.behind_her_back(wallet, 2)
    world.settle()
    rogue = world.client.lookup(wallet)
    capsys.readouterr()  # the worker's log lines
    assert cli.main([*monitor, wallet]) == 1
    printed = capsys.readouterr()
    [change] = json.loads(printed.out)["changes"]
    assert rogue["txHash"] and rogue["log"]["leafIndex"] is not None, rogue
    assert (change["version"], change["txHash"], change["leafIndex"]) == (
        2,
        rogue["txHash"],
        rogue["log"]["leafIndex"],
    )
    assert f"CHANGE not-recorded: key version 2 of {wallet}" in printed.err and rogue["txHash"] in printed.err

    # She revokes the key she did not make, from this device: her own write, not reported
    assert cli.main(["revoke", *pins, "--wallet-key", wallet_key, "--state", state]) == 0
    world.settle()
    assert world.client.lookup(wallet)["revocation"]["status"] == "confirmed"
    capsys.readouterr()
    assert cli.main([*monitor, wallet]) == 0, capsys.readouterr()


def _digest(cid: str) -> str:
    from dmtp_protocol.cid import digest_from_cid

    return digest_from_cid(cid).hex()
