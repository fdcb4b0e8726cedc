"""The monitor's decisions (clients/python/src/dmtp_key_registry_client/monitor.py) against a scripted chain (its
JSON-RPC answers: the wallet's KeyUpdated/KeyRevoked events, the contract's anchored log head) and a scripted registry
log (GET /log/head, /log/leaves), with the owner's record in a state file. No server: the real chain and registry are
in tests/integration/test_client_monitor.py."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from dmtp_key_registry_client import translog
from dmtp_key_registry_client.monitor import (
    KEY_REVOKED,
    KEY_UPDATED,
    MonitorUnavailable,
    OwnWrites,
    StateFile,
    monitor_wallet,
    registration_document_hash,
)
from dmtp_key_registry_client.registry_client import RegistryClientError, build_registration, build_revocation
from dmtp_protocol.cid import cid_from_digest
from dmtp_protocol.messages import Domain

CHAIN_ID = 31337
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
WALLET_KEY = "0x" + "a1" * 32
OTHER = "0x" + "42" * 20


def hash32(text: str) -> str:
    return "0x" + hashlib.sha256(text.encode()).hexdigest()


class Chain:
    """The JSON-RPC node as requests.Session.post sees it: events, blocks and the anchored head, scripted."""

    def __init__(self) -> None:
        self.block = 100
        self.chain_id = CHAIN_ID
        self.events: list[dict[str, Any]] = []
        self.anchored = (0, translog.EMPTY_ROOT)
        self.get_logs: list[tuple[int, int]] = []

    def emit(self, kind: str, wallet: str, digest: str, version: int) -> str:
        self.block += 1
        tx = hash32(f"tx {self.block}")
        self.events.append(
            {
                "kind": kind,
                "wallet": wallet.lower(),
                "digest": digest,
                "version": version,
                "block": self.block,
                "tx": tx,
            }
        )
        return tx

    def post(self, url: str, json: dict[str, Any], timeout: float) -> Any:
        method, params = json["method"], json["params"]
        if method == "eth_chainId":
            result: Any = hex(self.chain_id)
        elif method == "eth_blockNumber":
            result = hex(self.block)
        elif method == "eth_call":
            size, root = self.anchored
            result = "0x" + size.to_bytes(32, "big").hex() + root.hex()
        elif method == "eth_getLogs":
            query = params[0]
            start, end = int(query["fromBlock"], 16), int(query["toBlock"], 16)
            self.get_logs.append((start, end))
            assert query["topics"][0] == [KEY_UPDATED, KEY_REVOKED]
            wallet = "0x" + query["topics"][1][-40:]
            result = [
                {
                    "topics": [KEY_UPDATED if e["kind"] == "key" else KEY_REVOKED, query["topics"][1]],
                    "data": e["digest"] + e["version"].to_bytes(32, "big").hex(),
                    "blockNumber": hex(e["block"]),
                    "logIndex": "0x0",
                    "transactionHash": e["tx"],
                    "removed": False,
                }
                for e in self.events
                if e["wallet"] == wallet and start <= e["block"] <= end
            ]
        else:
            raise AssertionError(method)
        return _Answer({"jsonrpc": "2.0", "id": json["id"], "result": result})


class _Answer:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def json(self) -> dict[str, Any]:
        return self.body


class Log:
    """The registry's log API: the leaves it holds (or `served`, what it shows this wallet instead)."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.leaves: list[bytes] = []
        self.served: list[bytes] | None = None
        self.requests: list[tuple[int, int]] = []

    def shown(self) -> list[bytes]:
        return self.leaves if self.served is None else self.served

    def append(self, kind: int, wallet: str, version: int, document_hash: str) -> int:
        self.leaves.append(translog.leaf_bytes(kind, wallet, version, bytes.fromhex(document_hash[2:])))
        return len(self.leaves) - 1

    def anchor(self) -> None:
        self.chain.anchored = (len(self.leaves), translog.root(translog.leaf_hash(leaf) for leaf in self.leaves))
        self.chain.block += 1

    def log_head(self) -> dict[str, Any]:
        return {"size": len(self.shown())}

    def log_leaves(self, start: int, end: int) -> dict[str, Any]:
        self.requests.append((start, end))
        if end > len(self.shown()):
            raise RegistryClientError(400, {"code": "invalid-field", "detail": "end is past the log"})
        return {
            "leaves": [
                {"index": start + i, "leaf": "0x" + leaf.hex()} for i, leaf in enumerate(self.shown()[start:end])
            ]
        }


class Owner:
    """The wallet's owner on this device: her writes go into the state file, the registry logs them, the chain holds them."""

    def __init__(self, tmp_path: Path) -> None:
        self.chain = Chain()
        self.log = Log(self.chain)
        self.state = tmp_path / "monitor.json"
        self.own = OwnWrites(self.state, CHAIN_ID, REGISTRY)
        body, _ = build_registration(WALLET_KEY, CHAIN_ID, REGISTRY)
        self.wallet = body["address"]

    def registers(self, version: int) -> dict[str, Any]:
        body, _ = build_registration(WALLET_KEY, CHAIN_ID, REGISTRY, version=version)
        digest = self.own.record_registration(body)["documentHash"]
        self.log.append(translog.KIND_KEY, self.wallet, version, digest)
        self.chain.emit("key", self.wallet, digest, version)
        self.log.anchor()
        return {"body": body, "digest": digest}

    def check(self, **options: Any) -> Any:
        return monitor_wallet(
            self.wallet,
            rpc_url="http://rpc.test",
            chain_id=CHAIN_ID,
            registry=REGISTRY,
            log=self.log,
            state=self.state,
            rpc_session=self.chain,
            **options,
        )


@pytest.fixture()
def owner(tmp_path: Path) -> Owner:
    return Owner(tmp_path)


def test_a_run_that_finds_only_her_own_registrations_reports_nothing_and_moves_the_cursor(owner):
    owner.log.append(translog.KIND_KEY, OTHER, 1, hash32("someone else"))
    owner.registers(1)

    report = owner.check(from_block=50)

    assert report.clean, report.to_json()
    assert report.to_json()["checked"] == {
        "fromBlock": 50,
        "toBlock": owner.chain.block,
        "fromLeaf": 0,
        "toLeaf": 2,
        "anchoredSize": 2,
    }
    assert report.to_json()["cursor"] == {"block": owner.chain.block, "leaf": 2}


def test_a_key_registered_behind_her_back_is_reported_once_with_its_transaction_and_leaf(owner):
    owner.registers(1)
    owner.check()
    rogue = hash32("a key the registry made")
    leaf_index = owner.log.append(translog.KIND_KEY, owner.wallet, 2, rogue)
    tx = owner.chain.emit("key", owner.wallet, rogue, 2)
    owner.log.anchor()

    report = owner.check()

    assert [change.to_json() for change in report.changes] == [
        {
            "kind": "key",
            "version": 2,
            "reason": "not-recorded",
            "digest": rogue,
            "documentHash": rogue,
            "txHash": tx,
            "blockNumber": owner.chain.block - 1,
            "leafIndex": leaf_index,
            "onChain": True,
            "inLog": True,
        }
    ]
    again = owner.check()
    assert again.clean
    assert again.all_changes == report.changes  # what was found stays listed


def test_each_run_reads_only_the_blocks_and_leaves_after_its_cursor(owner):
    owner.registers(1)
    owner.check(from_block=7)
    first_block = owner.chain.block
    owner.registers(2)
    owner.chain.get_logs.clear()
    owner.log.requests.clear()

    report = owner.check(from_block=7)

    assert report.clean
    assert owner.chain.get_logs == [(first_block + 1, owner.chain.block)]
    assert owner.log.requests == [(1, 2)]


def test_her_own_key_set_again_after_a_newer_one_is_a_version_regression(owner):
    first = owner.registers(1)
    owner.registers(2)
    owner.check()
    tx = owner.chain.emit("key", owner.wallet, first["digest"], 1)

    report = owner.check()

    assert [(c.reason, c.version, c.tx_hash) for c in report.changes] == [("version-regression", 1, tx)]


def test_a_revocation_she_recorded_is_hers_and_one_she_did_not_sign_is_reported(owner):
    first = owner.registers(1)
    body = build_revocation(WALLET_KEY, CHAIN_ID, REGISTRY, 1, first["body"]["DMTPpubKey"])
    own = owner.own.record_revocation(
        body, first["body"]["DMTPpubKey"], cid_from_digest(bytes.fromhex(first["digest"][2:]))
    )
    owner.log.append(translog.KIND_REVOCATION, owner.wallet, 2, own["documentHash"])
    owner.chain.emit("revocation", owner.wallet, first["digest"], 2)
    owner.log.anchor()
    assert owner.check().clean

    third = owner.registers(3)
    leaf_index = owner.log.append(translog.KIND_REVOCATION, owner.wallet, 4, hash32("never signed"))
    tx = owner.chain.emit("revocation", owner.wallet, third["digest"], 4)
    owner.log.anchor()

    report = owner.check()
    assert [(c.kind, c.version, c.tx_hash, c.leaf_index) for c in report.changes] == [("revocation", 4, tx, leaf_index)]


def test_a_log_that_does_not_hash_to_the_anchored_root_is_a_problem_and_the_cursor_stays(owner):
    owner.registers(1)
    owner.log.append(translog.KIND_KEY, owner.wallet, 2, hash32("shown to others, hidden from her"))
    owner.log.anchor()
    owner.log.served = [owner.log.leaves[0], translog.leaf_bytes(translog.KIND_KEY, OTHER, 1, bytes(32))]

    report = owner.check()

    assert [p.code for p in report.problems] == ["log-root-mismatch"]
    assert report.cursor_leaf == 0 and not report.clean


def test_a_registry_serving_fewer_leaves_than_the_chain_anchors_is_a_problem(owner):
    owner.registers(1)
    owner.log.append(translog.KIND_KEY, OTHER, 1, hash32("anchored"))
    owner.log.anchor()
    owner.log.served = owner.log.leaves[:1]

    report = owner.check()

    assert [(p.code, p.leaf_index) for p in report.problems] == [("log-behind-anchor", 1)]


def test_a_run_through_an_rpc_of_another_chain_refuses_and_saves_nothing(owner):
    owner.registers(1)
    before = owner.state.read_text()
    owner.chain.chain_id = 1

    with pytest.raises(MonitorUnavailable) as refused:
        owner.check()

    assert refused.value.code == "chain-mismatch"
    assert owner.state.read_text() == before


def test_the_state_file_holds_the_js_clients_watch_object_under_its_localstorage_key(owner):
    owner.registers(1)
    owner.check()

    saved = json.loads(owner.state.read_text())
    key = f"dmtp.watch.{CHAIN_ID}.{REGISTRY.lower()}.{owner.wallet.lower()}"

    assert saved["format"] == "dmtp-monitor-state/1" and list(saved["watches"]) == [key]
    watch = saved["watches"][key]
    assert watch["format"] == "dmtp-watch/1" and watch["wallet"] == owner.wallet
    assert set(watch) >= {"own", "cursor", "foreign", "reported"}
    assert set(watch["cursor"]) == {"block", "leaf", "peaks"} and len(watch["cursor"]["peaks"]) == 1
    assert StateFile(owner.state).load_watch(Domain(CHAIN_ID, REGISTRY), owner.wallet) == watch


def test_the_recorded_document_hash_is_the_digest_inside_the_cid_of_the_pinned_document():
    vectors = json.loads((Path(__file__).resolve().parents[2] / "docs" / "protocol-vectors.json").read_text())
    registration = vectors["registrations"]["eip712"]
    domain = Domain(vectors["inputs"]["chainId"], vectors["inputs"]["registry"])

    assert registration_document_hash(domain, registration["body"]) == registration["documentSha256"]


def test_a_revocation_leaf_of_her_version_but_another_document_is_reported(owner):
    first = owner.registers(1)
    body = build_revocation(WALLET_KEY, CHAIN_ID, REGISTRY, 1, first["body"]["DMTPpubKey"])
    owner.own.record_revocation(body, first["body"]["DMTPpubKey"], cid_from_digest(bytes.fromhex(first["digest"][2:])))
    leaf_index = owner.log.append(
        translog.KIND_REVOCATION, owner.wallet, 2, hash32("a revocation document she never signed")
    )
    owner.log.anchor()

    report = owner.check()

    assert [(c.kind, c.version, c.leaf_index, c.tx_hash) for c in report.changes] == [
        ("revocation", 2, leaf_index, None)
    ]
