"""Which items of which table each function's role may write (.chalice/policy-<stage>-<function>.json), checked
against the very items the code writes: every write below is what the adapters send DynamoDB, taken from them with
a recording table (no server), and evaluated against the policy, dynamodb:LeadingKeys conditions included (IAM
checks each item of a TransactWriteItems as its own PutItem/UpdateItem). Moto evaluates no IAM, so this is where a
write the policy forbids, or a right it forgot, shows before a deploy.

The transparency log's items (chalicelib/adapters/translog.py): the worker appends `leaf`, `node/<level>` and
`head`; the monitor records `anchor` items, the chain-confirmed heads a client trusts; the API writes none."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.adapters.quotas import Quotas
from chalicelib.adapters.records import RecordStore
from chalicelib.adapters.translog import TransparencyLog
from chalicelib.api.sources import source_of
from chalicelib.model import (
    BUDGET_GLOBAL,
    KIND_KEY,
    KIND_REVOCATION,
    STATUS_QUEUED,
    BudgetSpent,
    Charge,
    LogHead,
    Record,
)
from dmtp_protocol.errors import QuotaExceeded
from dmtp_protocol.leaves import LEAF_LENGTH
from tests.support.cfn import CLOUD_STAGES, identity_policy_allows, policy_file

ACCOUNT = "123456789012"
ACTIONS = {"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem", "Delete": "dynamodb:DeleteItem"}
READS = {"GetItem": "dynamodb:GetItem", "Query": "dynamodb:Query", "BatchGetItem": "dynamodb:BatchGetItem"}
PARTITION_KEYS = {"records": "wallet", "log": "part", "quotas": "key"}  # infra/template.yaml's key schemas
WALLET = "0x" + "Ab" * 20
NOW = 1_800_000_000
SOURCE = source_of("203.0.113.7")


class RecordingTable:
    """Stands for a boto3 Table and its client: keeps every item write, and every read (operation, table) in
    `reads`; answers reads with nothing."""

    def __init__(
        self, name: str, writes: list[tuple[str, str, dict[str, Any]]], reads: list[tuple[str, str]] | None = None
    ) -> None:
        self.name = name
        self.meta = SimpleNamespace(client=self)
        self._writes = writes
        self._reads = reads if reads is not None else []

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> None:
        for entry in TransactItems:
            ((operation, body),) = entry.items()
            self._writes.append((operation, body["TableName"], body.get("Key") or body["Item"]))

    def put_item(self, Item: dict[str, Any], **_: Any) -> None:
        self._writes.append(("Put", self.name, Item))

    def update_item(self, Key: dict[str, Any], **_: Any) -> dict[str, Any]:
        self._writes.append(("Update", self.name, Key))
        return {"Attributes": {"count": 1}}

    def get_item(self, **_: Any) -> dict[str, Any]:
        self._reads.append(("GetItem", self.name))
        return {}

    def query(self, **_: Any) -> dict[str, Any]:
        self._reads.append(("Query", self.name))
        return {"Items": []}

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self._reads += [("BatchGetItem", table) for table in RequestItems]
        return {"Responses": {}}


def _tables(stage: str) -> tuple[dict[str, RecordingTable], list[tuple[str, str, dict[str, Any]]]]:
    writes: list[tuple[str, str, dict[str, Any]]] = []
    return {kind: RecordingTable(f"dmtp-registry-{stage}-{kind}", writes) for kind in PARTITION_KEYS}, writes


def _record(version: int, kind: str = KIND_KEY) -> Record:
    cid = "bafkreie24lfx47igs3qfcsen6le34p2uqdlhssbr3gvniht5ck2uljeyju"
    return Record(WALLET, version, cid, "{}", STATUS_QUEUED, NOW, NOW, kind=kind)


def api_writes(stage: str) -> list[tuple[str, str, dict[str, Any]]]:
    """What the request path writes: a first key, a rotation and a revocation, each with its budget counters
    (wallet, source, a global shard), a per-source count of a chain signature check, and a shared count of reads."""
    tables, writes = _tables(stage)
    records, quotas = RecordStore(tables["records"]), Quotas(tables["quotas"], 20, 60, 2000, 20)
    for record in (_record(1), _record(2), _record(3, KIND_REVOCATION)):
        quotas.within_budget(WALLET, SOURCE, NOW, lambda charge, r=record: records.create(r, charge))
    quotas.charge_chain_check(SOURCE, NOW)
    quotas.add_reads(SOURCE.own, NOW - NOW % 60, 1)
    return writes


def worker_writes(stage: str) -> list[tuple[str, str, dict[str, Any]]]:
    """What the chain worker writes to the log (a batch of five leaves onto a log of three: leaves, the subtrees
    they complete, the head) and to the quotas table (its pinning requests)."""
    tables, writes = _tables(stage)
    log = TransparencyLog(tables["log"])
    log.append_batch([b"\x01" * LEAF_LENGTH] * 3, lambda first, count: [], head=LogHead(0, ()))
    grown = LogHead(3, (b"\x02" * 32, b"\x03" * 32))
    log.append_batch([b"\x01" * LEAF_LENGTH] * 5, lambda first, count: [], head=grown)
    Quotas(tables["quotas"], 0, 0, pinning_requests_per_minute=100).charge_pin_request(NOW)
    return writes


def api_reads(stage: str) -> list[tuple[str, str]]:
    """What the request path reads: a wallet's versions and a batch of heads, the log's head and latest anchor (the
    lookups' anchoredHead, /log/head), and the global budget's shards, read once two shards in a row were full."""
    reads: list[tuple[str, str]] = []
    tables = {kind: RecordingTable(f"dmtp-registry-{stage}-{kind}", [], reads) for kind in PARTITION_KEYS}
    records, log = RecordStore(tables["records"]), TransparencyLog(tables["log"])
    records.newest(WALLET, 2)
    records.heads([WALLET])
    log.head()
    log.latest_anchor()

    def global_shard_full(charge: Charge) -> None:
        raise BudgetSpent(next(c for c in charge.counters if c.budget == BUDGET_GLOBAL))

    with contextlib.suppress(QuotaExceeded):
        Quotas(tables["quotas"], 20, 60, 2000, 20).within_budget(WALLET, SOURCE, NOW, global_shard_full)
    return reads


def monitor_writes(stage: str) -> list[tuple[str, str, dict[str, Any]]]:
    tables, writes = _tables(stage)
    TransparencyLog(tables["log"]).record_anchor(8, b"\x04" * 32, "0x" + "cd" * 32, 123)
    return writes


def allowed(stage: str, function: str, write: tuple[str, str, dict[str, Any]]) -> bool:
    operation, table, key = write
    kind = table.removeprefix(f"dmtp-registry-{stage}-")
    arn = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{table}"
    return identity_policy_allows(policy_file(stage, function), ACTIONS[operation], arn, str(key[PARTITION_KEYS[kind]]))


def parts(writes: list[tuple[str, str, dict[str, Any]]], table_kind: str) -> set[str]:
    return {str(key[PARTITION_KEYS[table_kind]]) for _, table, key in writes if table.endswith(f"-{table_kind}")}


@pytest.mark.parametrize("stage", CLOUD_STAGES)
def test_the_recording_covers_every_kind_of_item_the_functions_write(stage):
    assert parts(worker_writes(stage), "log") == {"leaf", "node/1", "node/2", "node/3", "head"}
    assert parts(monitor_writes(stage), "log") == {"anchor"}
    assert {key.split("#")[0] for key in parts(api_writes(stage), "quotas")} == {"wallet", "writes", "source", "reads"}
    assert parts(api_writes(stage), "records") == {WALLET.lower()}
    assert {key.split("#")[0] for key in parts(worker_writes(stage), "quotas")} == {"pins"}


@pytest.mark.parametrize("stage", CLOUD_STAGES)
def test_every_write_of_the_request_path_passes_the_api_policy(stage):
    for write in api_writes(stage):
        assert allowed(stage, "api_handler", write), write


@pytest.mark.parametrize("stage", CLOUD_STAGES)
def test_every_read_of_the_request_path_passes_the_api_policy(stage):
    reads = api_reads(stage)

    assert {(operation, table.rsplit("-", 1)[1]) for operation, table in reads} == {
        ("Query", "records"),
        ("BatchGetItem", "records"),
        ("GetItem", "log"),
        ("Query", "log"),
        ("BatchGetItem", "quotas"),
    }
    for operation, table in reads:
        arn = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{table}"
        assert identity_policy_allows(policy_file(stage, "api_handler"), READS[operation], arn, ""), (operation, table)


@pytest.mark.parametrize("stage", CLOUD_STAGES)
def test_every_write_of_the_worker_and_the_monitor_passes_its_own_policy(stage):
    for write in worker_writes(stage):
        assert allowed(stage, "process_jobs", write), write
    for write in monitor_writes(stage):
        assert allowed(stage, "monitor_transactions", write), write


@pytest.mark.parametrize("stage", CLOUD_STAGES)
def test_the_api_writes_no_item_of_the_transparency_log_anchors_included(stage):
    for write in worker_writes(stage) + monitor_writes(stage):
        if write[1].endswith("-log"):
            for operation in ACTIONS:
                assert not allowed(stage, "api_handler", (operation, write[1], write[2])), (operation, write)


@pytest.mark.parametrize("stage", CLOUD_STAGES)
def test_only_the_monitor_records_anchors_and_only_the_worker_appends_leaves_subtrees_and_the_head(stage):
    for write in worker_writes(stage):
        if write[1].endswith("-log"):
            assert not allowed(stage, "monitor_transactions", write), write
    for write in monitor_writes(stage):
        assert not allowed(stage, "process_jobs", write), write


@pytest.mark.parametrize("stage", CLOUD_STAGES)
def test_the_pinning_counters_are_the_workers_and_the_budgets_the_apis(stage):
    pins = [w for w in worker_writes(stage) if w[1].endswith("-quotas")]
    budgets = [w for w in api_writes(stage) if w[1].endswith("-quotas")]

    for write in pins:
        assert not allowed(stage, "api_handler", write), write
    for write in budgets:
        assert not allowed(stage, "process_jobs", write), write
