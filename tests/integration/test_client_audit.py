"""The auditor (`python -m dmtp_key_registry_client audit`, clients/python/src/dmtp_key_registry_client/audit.py)
and `verify`'s log checks on the real local stack: the Chalice app on moto's DynamoDB, the KMS-signed worker
anchoring log heads with setKeysAnchored, Anvil with a DMTPKeys contract of the test's own. Then DynamoDB is
tampered with as a dishonest registry could (tests/log_tamper.py): a deleted leaf, a rewritten record or leaf, two
leaves swapped, a revocation hidden. Each time the auditor or `verify` fails with a reason naming the wallet and the
leaf index.

Every test gets its own world: a fresh log table and a freshly deployed contract (owned by the stack's KMS key), so
the log and the chain hold exactly this test's records and events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from chalicelib import bootstrap
from devstack.stack import deploy_registry
from dmtp_key_registry_client import __main__ as cli
from dmtp_key_registry_client.audit import Auditor, AuditResult
from dmtp_key_registry_client.registry_client import (
    RegistryClientError,
    build_registration,
    build_revocation,
    wallet_address,
)
from dmtp_key_registry_client.verify import VerificationFailed, read_log_head, verify
from tests.conftest import CHAIN_ID
from tests.integration.test_client_verify import drain_queue, new_wallet_key
from tests.support import log_tamper
from tests.support.queues import empty_queue
from tests.support.sequencing import sequence

JSON = {"Content-Type": "application/json"}


class InProcessApi:
    """The registry API's read calls the auditor and verify make (RegistryClient's), through the in-process
    Chalice test client; a non-2xx answer is a RegistryClientError, as over HTTP."""

    def __init__(self, api: Any) -> None:
        self.api = api

    def _get(self, path: str) -> dict[str, Any]:
        response = self.api.http.get(path)
        try:
            body = json.loads(response.body)
        except ValueError:
            body = {"detail": str(response.body)[:500]}
        if response.status_code != 200:
            raise RegistryClientError(response.status_code, body if isinstance(body, dict) else {"detail": str(body)})
        return body

    def lookup(self, address: str, as_of: Any = None) -> dict[str, Any]:
        return self._get(f"/keys/{address}")

    def log_head(self) -> dict[str, Any]:
        return self._get("/log/head")

    def log_leaves(self, start: int, end: int) -> dict[str, Any]:
        return self._get(f"/log/leaves?start={start}&end={end}")

    def log_inclusion(self, wallet: str, version: int, tree_size: int | None = None) -> dict[str, Any]:
        return self._get(
            f"/log/inclusion?wallet={wallet}&version={version}"
            + ("" if tree_size is None else f"&treeSize={tree_size}")
        )

    def log_consistency(self, old_size: int, new_size: int) -> dict[str, Any]:
        return self._get(f"/log/consistency?from={old_size}&to={new_size}")


@dataclass
class LogWorld:
    api: Any
    stack: Any
    registry: str
    from_block: int
    log_table: Any
    records_table: Any
    reader: InProcessApi

    def register(self, wallet_key: str, version: int = 1) -> dict[str, Any]:
        body, _ = build_registration(wallet_key, CHAIN_ID, self.registry, version=version)
        response = self.api.http.post("/keys", headers=JSON, body=json.dumps(body))
        assert response.status_code == 202, response.body
        return json.loads(response.body)

    def revoke(self, wallet_key: str, version: int, public_key: str) -> dict[str, Any]:
        body = build_revocation(wallet_key, CHAIN_ID, self.registry, version, public_key)
        response = self.api.http.post(
            f"/keys/{wallet_address(wallet_key)}/revocation", headers=JSON, body=json.dumps(body)
        )
        assert response.status_code == 202, response.body
        return json.loads(response.body)

    def settle(self) -> None:
        drain_queue(self.stack)

    def audit(self) -> AuditResult:
        return Auditor(self.stack.anvil.url, self.registry, self.reader, from_block=self.from_block).run()  # type: ignore[arg-type]

    def verify(self, wallet: str) -> Any:
        return verify(
            self.reader.lookup(wallet),
            self.stack.anvil.url,
            wallet=wallet,
            chain_id=CHAIN_ID,
            registry=self.registry,
            log=self.reader,
        )

    def refused(self, wallet: str) -> VerificationFailed:
        with pytest.raises(VerificationFailed) as excinfo:
            self.verify(wallet)
        return excinfo.value


@pytest.fixture()
def world(api: Any, stack: Any, monkeypatch: Any) -> Any:
    drain_queue(stack)  # other tests' queued jobs go to their own registry before this one is switched in
    table = log_tamper.fresh_log_table(stack.aws_endpoint)
    registry = deploy_registry(stack.anvil, stack.owner_address)
    from_block = int(stack.anvil.rpc("eth_blockNumber", []), 16)
    monkeypatch.setenv("LOG_TABLE", table.name)
    monkeypatch.setenv("REGISTRY_ADDRESS", registry)
    bootstrap.reset()
    records_table = boto3.resource("dynamodb", endpoint_url=stack.aws_endpoint).Table(
        bootstrap.settings().records_table
    )
    yield LogWorld(api, stack, registry, max(0, from_block - 5), table, records_table, InProcessApi(api))
    drain_queue(stack)
    bootstrap.reset()
    table.delete()


def populated(world: LogWorld) -> dict[str, Any]:
    """Three wallets registered and confirmed, the first one revoked, then a fourth registered so the head anchored
    with it covers the revocation's leaf. Returns the wallets' keys and answers."""
    keys = [new_wallet_key() for _ in range(4)]
    answers = [world.register(key) for key in keys[:3]]
    world.settle()
    revocation = world.revoke(keys[0], 1, answers[0]["DMTPpubKey"])
    world.settle()
    answers.append(world.register(keys[3]))
    world.settle()
    answers = [world.reader.lookup(answer["wallet"]) for answer in answers]  # as sequenced by the worker
    revocation = answers[0]
    return {"keys": keys, "wallets": [a["wallet"] for a in answers], "answers": answers, "revocation": revocation}


def first(result: AuditResult) -> Any:
    assert not result.ok and result.discrepancies, result
    return result.discrepancies[0]


def named(result: AuditResult, wallet: str) -> list[Any]:
    return [d for d in result.discrepancies if d.wallet == wallet or wallet in d.detail]


# ---------------------------------------------------------------- honest


def test_the_auditor_passes_an_honest_registry_and_verify_proves_inclusion_against_the_chain(
    world, capsys, monkeypatch
):
    made = populated(world)
    result = world.audit()
    assert result.ok, result.discrepancies
    assert result.anchors >= 2 and result.leaves == 5 and result.anchored_size == 5
    assert (result.key_updated, result.key_revoked) == (4, 1)
    assert result.warnings == []

    key = world.verify(made["wallets"][1])
    assert key.usable() and key.log_included is True and key.log_head.size == 5
    assert key.log_index == world.reader.lookup(made["wallets"][1])["log"]["leafIndex"]
    revoked = world.verify(made["wallets"][0])
    assert (revoked.revoked, revoked.usable(), revoked.log_included) == (True, False, True)

    # consistency between two on-chain heads: the one remembered before a new registration, and the next
    before = read_log_head(world.stack.anvil.url, world.registry, CHAIN_ID)
    world.register(new_wallet_key())
    world.settle()
    after = verify(
        world.reader.lookup(made["wallets"][2]),
        world.stack.anvil.url,
        wallet=made["wallets"][2],
        chain_id=CHAIN_ID,
        registry=world.registry,
        log=world.reader,
        previous_head=before,
    )
    assert after.log_head.size == before.size + 1 and after.usable()

    # the CLI: exit 0 and the summary on stdout, progress on stderr
    for name in ("log_head", "log_leaves", "log_inclusion", "log_consistency"):
        monkeypatch.setattr(
            cli.RegistryClient, name, lambda self, *args, _name=name: getattr(world.reader, _name)(*args)
        )
    capsys.readouterr()
    status = cli.main(
        [
            "audit",
            "--rpc",
            world.stack.anvil.url,
            "--registry",
            world.registry,
            "--api",
            "http://registry.invalid",
            "--from-block",
            str(world.from_block),
        ]
    )
    printed = capsys.readouterr()
    assert status == 0, printed
    assert printed.out.startswith("OK: ") and "6 leaves" in printed.out and "audit: leaves 6 of 6" in printed.err
    assert (
        cli.main(
            [
                "audit",
                "--rpc",
                world.stack.anvil.url,
                "--registry",
                world.registry,
                "--api",
                "http://registry.invalid",
                "--from-block",
                str(world.from_block),
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_a_registration_that_never_reached_the_chain_is_a_warning_not_a_failure(world):
    populated(world)
    keys = new_wallet_key(), new_wallet_key()
    failed = world.register(keys[0])  # accepted, sequenced (a leaf), then the registry never sends it
    sequence(failed["wallet"])
    failed = world.reader.lookup(failed["wallet"])
    world.records_table.update_item(
        Key={"wallet": failed["wallet"].lower(), "version": 1},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "failed"},
    )
    sqs = boto3.client("sqs", endpoint_url=world.stack.aws_endpoint)
    empty_queue(sqs, sqs.get_queue_url(QueueName=world.stack.env["JOBS_QUEUE_NAME"])["QueueUrl"])
    world.register(keys[1])
    world.settle()  # anchors a head covering the failed one's leaf
    result = world.audit()
    assert result.ok, result.discrepancies
    assert any(
        failed["wallet"] in warning and f"leaf {failed['log']['leafIndex']}" in warning for warning in result.warnings
    ), result.warnings


# ---------------------------------------------------------------- tampered


def test_a_deleted_leaf_fails_the_audit_and_verify_naming_the_wallet_and_index(world):
    made = populated(world)
    wallet = made["wallets"][1]
    index = made["answers"][1]["log"]["leafIndex"]
    log_tamper.delete_leaf(world.log_table, index)

    result = world.audit()
    assert first(result).leaf_index == index and f"leaf {index}" in first(result).detail
    assert any(d.code == "key-leaf-missing" and d.wallet == wallet for d in result.discrepancies), result.discrepancies
    reason = world.refused(wallet)
    assert reason.code == "log-inclusion-failed" and wallet in reason.reason and f"leaf {index}" in reason.reason


def test_a_rewritten_record_document_fails_verify_naming_the_wallet_and_index(world):
    made = populated(world)
    wallet = made["wallets"][2]
    index = made["answers"][2]["log"]["leafIndex"]
    stored = world.records_table.get_item(Key={"wallet": wallet.lower(), "version": 1})["Item"]
    document = json.loads(stored["document"])
    document["DMTPpubKey"] = "0x" + "42" * 32  # another key, as if the registry swapped it in
    log_tamper.rewrite_record(
        world.records_table, wallet, 1, document=json.dumps(document, sort_keys=True, separators=(",", ":"))
    )

    reason = world.refused(wallet)
    assert reason.code == "cid-mismatch" and wallet in reason.reason and f"log leaf {index}" in reason.reason
    assert world.audit().ok  # the log and the chain still agree: the lie is in the record, and verify catches it


def test_a_rewritten_leaf_fails_the_audit_and_verify_naming_the_wallet_version_and_index(world):
    made = populated(world)
    wallet = made["wallets"][1]
    index = made["answers"][1]["log"]["leafIndex"]
    old = log_tamper.leaf_at(world.log_table, index)
    log_tamper.rewrite_leaf(
        world.log_table, index, old[:29] + b"\x42" * 32
    )  # same wallet and version, another document

    result = world.audit()
    assert (first(result).wallet, first(result).version, first(result).leaf_index) == (wallet, 1, index), (
        result.discrepancies
    )
    assert any(d.code == "leaf-mismatch" and d.leaf_index == index for d in result.discrepancies)
    reason = world.refused(wallet)
    assert reason.code == "log-leaf-mismatch" and wallet in reason.reason and f"leaf {index}" in reason.reason


def test_two_swapped_leaves_fail_the_audit_and_verify_naming_a_wallet_and_index(world):
    made = populated(world)
    a, b = made["answers"][1]["log"]["leafIndex"], made["answers"][2]["log"]["leafIndex"]
    log_tamper.swap_leaves(world.log_table, a, b)

    result = world.audit()
    bad = first(result)
    assert (
        bad.code == "root-mismatch"
        and bad.leaf_index == min(a, b)
        and bad.wallet in (made["wallets"][1], made["wallets"][2])
    )
    assert f"leaf {min(a, b)}" in bad.detail
    reason = world.refused(made["wallets"][1])
    assert reason.code == "log-leaf-mismatch" and made["wallets"][1] in reason.reason and f"leaf {a}" in reason.reason


def test_a_registry_hiding_a_revocation_is_caught_by_the_auditor(world):
    made = populated(world)
    wallet = made["wallets"][0]
    index = made["revocation"]["revocation"]["log"]["leafIndex"]
    # A consistent lie: the log rebuilt without the revocation's leaf, every node and head recomputed, records
    # renumbered, the revocation record deleted. The lookup now says "not revoked".
    log_tamper.rebuild_without(world.log_table, index, world.records_table)
    assert world.reader.lookup(wallet)["revoked"] is False

    result = world.audit()
    assert not result.ok
    hidden = first(result)
    assert (hidden.code, hidden.wallet, hidden.version) == ("revocation-leaf-missing", wallet, 2), result.discrepancies
    # The monitor's anchor-only transaction anchored the head right after the revocation (size index + 1): its
    # leaf belongs below that.
    assert "hides a revocation" in hidden.detail and f"below index {index + 1}" in hidden.detail
    assert any(d.code == "log-shrunk" for d in result.discrepancies)  # and the anchored head no longer rebuilds
    reason = world.refused(wallet)  # and the wallet's own lookup fails: the contract says revoked
    assert reason.code == "revocation-mismatch" and wallet in reason.reason


def test_an_accepted_revocation_not_on_chain_after_the_window_fails_the_audit(world, monkeypatch, capsys):
    # Given a key on chain, whose wallet's revocation the registry accepts (a leaf) and then never sends
    wallet_key = new_wallet_key()
    key = world.register(wallet_key)
    world.settle()
    world.revoke(wallet_key, 1, key["DMTPpubKey"])
    sequence(key["wallet"])  # the worker takes its job and sequences it (a leaf), then never sends it
    index = world.reader.lookup(key["wallet"])["revocation"]["log"]["leafIndex"]
    sqs = boto3.client("sqs", endpoint_url=world.stack.aws_endpoint)
    empty_queue(sqs, sqs.get_queue_url(QueueName=world.stack.env["JOBS_QUEUE_NAME"])["QueueUrl"])
    world.register(new_wallet_key())
    world.settle()  # anchors a head covering the revocation's leaf

    # When the auditor looks within the revocation window (15 minutes by default), it may still be on its way
    within = world.audit()
    assert within.ok, within.discrepancies
    assert any(key["wallet"] in warning and f"leaf {index}" in warning for warning in within.warnings), within.warnings

    # Then, once the window has passed (here: a window of 0 s), it is a failure naming the wallet, version and leaf
    late = Auditor(
        world.stack.anvil.url, world.registry, world.reader, from_block=world.from_block, revocation_window_s=0
    ).run()  # type: ignore[arg-type]
    hidden = first(late)
    assert (hidden.code, hidden.wallet, hidden.version, hidden.leaf_index) == (
        "revocation-not-on-chain",
        key["wallet"],
        2,
        index,
    ), late.discrepancies
    assert "hides a revocation from the chain" in hidden.detail
    for name in ("log_head", "log_leaves", "log_inclusion", "log_consistency"):
        monkeypatch.setattr(
            cli.RegistryClient, name, lambda self, *args, _name=name: getattr(world.reader, _name)(*args)
        )
    capsys.readouterr()
    flags = ["--rpc", world.stack.anvil.url, "--registry", world.registry, "--api", "http://registry.invalid"]
    flags += ["--from-block", str(world.from_block), "--revocation-window", "0"]
    assert cli.main(["audit", *flags]) == 1
    assert capsys.readouterr().out.startswith("FAIL revocation-not-on-chain: ")
