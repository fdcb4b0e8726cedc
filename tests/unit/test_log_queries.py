"""The transparency log's read use cases (chalicelib/api/logqueries.py: GET /log/head, /log/inclusion,
/log/consistency, /log/leaves) on the in-memory fakes (tests/support/api_fakes.py), with records written by the real
Registry use cases. Every proof is checked with dmtp_protocol.merkle's verifiers against the roots the API serves.

tests/integration/test_log_api.py checks the same on the real parts (moto, the stored subtrees); these do not
replace it.
"""

import hashlib
from typing import Any

import pytest

from chalicelib.api.logqueries import LogQueries
from chalicelib.api.registry import Registry
from dmtp_protocol import merkle
from dmtp_protocol.canonical import canonical_json
from dmtp_protocol.errors import RegistryError
from dmtp_protocol.ethsig import to_checksum_address
from dmtp_protocol.leaves import LEAF_KIND_KEY, leaf_bytes
from dmtp_protocol.messages import Domain
from tests.support.api_fakes import (
    Clock,
    FakeJobQueue,
    FakeLog,
    FakeRecords,
    FakeSignatureChecker,
    FakeWriteBudgets,
    Wallet,
)

NOW = 1_800_000_000
DOMAIN = Domain(31337, to_checksum_address("0x" + "5f" * 20))
TX = "0x" + "ab" * 32


class World:
    def __init__(self) -> None:
        self.clock = Clock(NOW)
        self.log = FakeLog(self.clock)
        self.records = FakeRecords(self.clock, self.log)
        self.registry = Registry(
            self.records,
            FakeJobQueue(),
            DOMAIN,
            FakeSignatureChecker(),
            FakeWriteBudgets(),
            now=self.clock,
            log=self.log,
        )
        self.queries = LogQueries(self.log, self.records)

    def register(self, wallet: Wallet, version: int = 1) -> dict[str, Any]:
        """Register, then sequence it as the worker does when it takes the job."""
        created, _ = self.registry.register(wallet.registration(DOMAIN, NOW, version=version))
        assert created
        self.sequence()
        return self.registry.lookup(wallet.address)

    def revoke(self, wallet: Wallet, key: dict[str, Any]) -> dict[str, Any]:
        """Revoke `key`, then sequence it as the worker does; the lookup's view."""
        self.registry.revoke(wallet.address, wallet.revocation(DOMAIN, key["version"], key["DMTPpubKey"], NOW))
        self.sequence()
        return self.registry.lookup(wallet.address)

    def sequence(self) -> None:
        """The worker's step: every record without a leaf gets one, a wallet's versions in order."""
        self.records.sequence(self.records.unsequenced())  # in the order they were accepted

    def anchor(self) -> dict[str, Any]:
        """Anchor the current head (as the monitor does once its transaction is final); the served form."""
        head = self.log.head()
        self.log.record_anchor(head.size, head.root, TX, 4242)
        return {"size": head.size, "root": "0x" + head.root.hex(), "txHash": TX, "blockNumber": 4242}


@pytest.fixture()
def world() -> World:
    return World()


def refused(call: Any, *args: Any) -> dict[str, Any]:
    try:
        call(*args)
    except RegistryError as error:
        return error.to_problem()
    pytest.fail(f"{getattr(call, '__name__', call)} raised no problem")


def unhex(value: str) -> bytes:
    return bytes.fromhex(value[2:])


# ==================================================================================================== head


def test_the_head_of_an_empty_log_is_size_0_with_the_empty_root_and_no_anchor(world):
    assert world.queries.head() == {"size": 0, "root": "0x" + merkle.EMPTY_ROOT.hex(), "anchored": None}


def test_the_head_is_the_root_of_every_leaf_and_names_the_latest_anchor(world):
    for _ in range(3):
        world.register(Wallet())
    anchored = world.anchor()
    world.register(Wallet())

    head = world.queries.head()

    leaves = [raw for _, raw in world.log.leaves(0, 4)]
    assert (head["size"], unhex(head["root"])) == (4, merkle.root([merkle.leaf_hash(raw) for raw in leaves]))
    assert head["anchored"] == anchored


# ==================================================================================================== leaves


def test_a_registration_is_a_leaf_naming_its_wallet_version_and_the_pinned_documents_hash(world):
    wallet = Wallet()
    view = world.register(wallet)
    index = view["log"]["leafIndex"]

    entry = world.queries.leaves(str(index), str(index + 1))["leaves"][0]

    assert (entry["index"], entry["kind"], entry["wallet"], entry["version"]) == (index, "key", wallet.address, 1)
    assert entry["documentHash"] == "0x" + hashlib.sha256(canonical_json(view["bundle"])).hexdigest()


def test_a_revocation_is_a_leaf_of_its_own_hashing_the_document_the_api_serves(world):
    wallet = Wallet()
    key = world.register(wallet)
    view = world.revoke(wallet, key)
    revocation = view["revocation"]
    index = revocation["log"]["leafIndex"]

    entry = world.queries.leaves(str(index), str(index + 1))["leaves"][0]

    assert index > key["log"]["leafIndex"]
    assert (entry["kind"], entry["wallet"], entry["version"]) == ("revocation", wallet.address, 2)
    assert entry["documentHash"] == "0x" + hashlib.sha256(canonical_json(revocation["document"])).hexdigest()


def test_a_page_of_leaves_stops_at_1000_and_says_where(world):
    for version in range(1, 1002):
        world.log.append(leaf_bytes(LEAF_KIND_KEY, "0x" + "11" * 20, version, bytes(32)))

    page = world.queries.leaves("0", "1001")

    assert page["end"] == 1000 and len(page["leaves"]) == 1000
    assert [entry["index"] for entry in page["leaves"]] == list(range(1000))
    assert world.queries.leaves("1000", "1001")["leaves"][0]["version"] == 1001


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (None, "1", "start"),
        ("0", None, "end"),
        ("1", "1", "end"),
        ("2", "3", "start"),  # start must be below the size (2)
        ("0", "3", "end"),  # end may not pass the size
        (" 1", "2", "start"),
        ("1e0", "2", "start"),
    ],
)
def test_bad_leaves_queries_are_400_naming_the_parameter(world, start, end, field):
    world.register(Wallet())
    world.register(Wallet())

    problem = refused(world.queries.leaves, start, end)

    assert (problem["status"], problem["code"], problem["field"]) == (400, "invalid-field", field)


# ==================================================================================================== inclusion


def test_inclusion_before_an_anchor_covers_the_leaf_is_404_not_anchored(world):
    wallet = Wallet()
    world.register(Wallet())
    world.anchor()  # covers leaf 0 only
    index = world.register(wallet)["log"]["leafIndex"]

    problem = refused(world.queries.inclusion, wallet.address, "1", None)

    assert (problem["status"], problem["code"], problem["leafIndex"]) == (404, "not-anchored", index)


def test_inclusion_defaults_to_the_anchored_head_and_verifies_against_its_root(world):
    wallet = Wallet()
    world.register(Wallet())
    index = world.register(wallet)["log"]["leafIndex"]
    anchored = world.anchor()
    world.register(Wallet())  # the log grows past the anchor

    proof = world.queries.inclusion(wallet.address, "1", None)

    assert (proof["leafIndex"], proof["treeSize"], proof["root"], proof["anchored"]) == (
        index,
        anchored["size"],
        anchored["root"],
        anchored,
    )
    path = [unhex(h) for h in proof["auditPath"]]
    leaf_hash = merkle.leaf_hash(unhex(proof["leaf"]))
    assert merkle.verify_inclusion(leaf_hash, index, proof["treeSize"], path, unhex(proof["root"]))


def test_inclusion_at_a_given_tree_size_verifies_against_that_sizes_root(world):
    wallet = Wallet()
    index = world.register(wallet)["log"]["leafIndex"]
    for _ in range(4):
        world.register(Wallet())
    world.anchor()  # at size 5: a proof for size 3 names no anchor

    proof = world.queries.inclusion(wallet.address.lower(), "1", "3")

    path = [unhex(h) for h in proof["auditPath"]]
    root_of_3 = merkle.root([merkle.leaf_hash(raw) for _, raw in world.log.leaves(0, 3)])
    assert (proof["treeSize"], unhex(proof["root"]), proof["anchored"]) == (3, root_of_3, None)
    assert merkle.verify_inclusion(merkle.leaf_hash(unhex(proof["leaf"])), index, 3, path, root_of_3)


def test_inclusion_of_an_unknown_record_is_404_not_found(world):
    problem = refused(world.queries.inclusion, Wallet().address, "1", None)

    assert (problem["status"], problem["code"]) == (404, "not-found")


@pytest.mark.parametrize(
    ("wallet", "version", "tree_size", "code", "field"),
    [
        (None, "1", None, "invalid-field", "wallet"),
        ("0x1234", "1", None, "invalid-address", None),
        ("{wallet}", None, None, "invalid-field", "version"),
        ("{wallet}", "0", None, "invalid-field", "version"),
        ("{wallet}", "1", "{index}", "invalid-field", "treeSize"),  # a tree of `index` leaves lacks the leaf
        ("{wallet}", "1", "{too_big}", "invalid-field", "treeSize"),
        ("{wallet}", "1", "-1", "invalid-field", "treeSize"),
    ],
)
def test_bad_inclusion_queries_are_400_naming_the_parameter(world, wallet, version, tree_size, code, field):
    world.register(Wallet())
    account = Wallet()
    index = world.register(account)["log"]["leafIndex"]
    values = {"wallet": account.address, "index": index, "too_big": world.log.head().size + 1}

    problem = refused(
        world.queries.inclusion,
        wallet and wallet.format(**values),
        version,
        tree_size and tree_size.format(**values),
    )

    assert (problem["status"], problem["code"], problem.get("field")) == (400, code, field)


# ==================================================================================================== consistency


def test_a_consistency_proof_verifies_between_two_served_roots(world):
    world.register(Wallet())
    world.register(Wallet())
    world.register(Wallet())
    old = world.queries.head()
    for _ in range(4):
        world.register(Wallet())
    new = world.queries.head()

    answer = world.queries.consistency(str(old["size"]), str(new["size"]))

    assert (answer["from"], answer["to"], answer["fromRoot"], answer["toRoot"]) == (3, 7, old["root"], new["root"])
    proof = [unhex(h) for h in answer["proof"]]
    assert merkle.verify_consistency(3, 7, unhex(old["root"]), unhex(new["root"]), proof)


@pytest.mark.parametrize(
    ("first", "second", "field"),
    [
        ("0", "1", "from"),
        ("2", "1", "to"),
        ("1", "3", "to"),
        ("1", None, "to"),
        (None, "2", "from"),
        ("1e3", "2", "from"),
    ],
)
def test_bad_consistency_queries_are_400_naming_the_parameter(world, first, second, field):
    world.register(Wallet())
    world.register(Wallet())

    problem = refused(world.queries.consistency, first, second)

    assert (problem["status"], problem["code"], problem["field"]) == (400, "invalid-field", field)
