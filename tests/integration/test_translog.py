"""The transparency log's store (chalicelib/adapters/translog.py) on moto's DynamoDB: RFC 9162 roots and proofs from stored
subtrees agree with packages/dmtp-protocol/src/dmtp_protocol/merkle.py, appends ride in the record's own transaction (one order, no gaps, no
leaf without its record), and reads write nothing."""

import itertools
import json
import os
import random
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from eth_account import Account

from chalicelib.adapters.records import SEQUENCE_CHUNK, RecordStore, leaf_of
from chalicelib.adapters.translog import TransparencyLog, perfect_pieces
from chalicelib.model import KIND_KEY, KIND_REVOCATION, STATUS_QUEUED, Record
from dmtp_protocol import merkle
from dmtp_protocol.cid import cid_for_bytes, digest_from_cid
from dmtp_protocol.leaves import LEAF_KIND_KEY, LEAF_KIND_REVOCATION, Leaf, document_hash, leaf_bytes
from tests.support.cfn import TEMPLATE_PATH, load_yaml
from tests.support.log_tamper import fresh_log_table


@pytest.fixture()
def log_table(stack: Any) -> Iterator[Any]:
    table = fresh_log_table(stack.aws_endpoint)
    yield table
    table.delete()


@pytest.fixture()
def records_table(stack: Any) -> Iterator[Any]:
    properties = load_yaml(TEMPLATE_PATH)["Resources"]["RecordsTable"]["Properties"]
    table = boto3.resource("dynamodb", endpoint_url=stack.aws_endpoint).create_table(
        TableName=f"records-{secrets.token_hex(6)}",
        KeySchema=properties["KeySchema"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        GlobalSecondaryIndexes=properties["GlobalSecondaryIndexes"],  # the open index: records.py writes its keys
        BillingMode="PAY_PER_REQUEST",
    )
    yield table
    table.delete()


def random_leaf() -> bytes:
    return leaf_bytes(
        random.choice((LEAF_KIND_KEY, LEAF_KIND_REVOCATION)),
        "0x" + os.urandom(20).hex(),
        random.randrange(1, 2**40),
        os.urandom(32),
    )


def append_all(log: TransparencyLog, leaves: list[bytes]) -> None:
    for leaf in leaves:
        log.append(leaf, lambda _: [])


def key_record(wallet: str, version: int = 1) -> Record:
    document = json.dumps({"wallet": wallet, "version": version, "salt": secrets.token_hex(8)}, sort_keys=True)
    now = int(time.time())
    return Record(wallet, version, cid_for_bytes(document.encode()), document, STATUS_QUEUED, now, now, kind=KIND_KEY)


# ---------------------------------------------------------------- leaves


def test_a_leaf_is_kind_wallet_version_and_document_hash_in_61_bytes():
    wallet = "0x" + "ab" * 20
    leaf = leaf_bytes(LEAF_KIND_REVOCATION, wallet, 258, b"\x07" * 32)

    assert leaf == b"\x02" + b"\xab" * 20 + (258).to_bytes(8, "big") + b"\x07" * 32
    assert Leaf.parse(leaf) == Leaf(2, wallet, 258, b"\x07" * 32)


def test_a_key_leaf_names_its_cid_digest_and_a_revocation_leaf_its_document_hash():
    wallet = Account.create().address
    key = key_record(wallet)
    revocation = Record(
        wallet, 2, key.cid, '{"kind":"revocation"}', STATUS_QUEUED, 1, 1, kind=KIND_REVOCATION, revokes_cid=key.cid
    )

    assert Leaf.parse(leaf_of(key)) == Leaf(LEAF_KIND_KEY, wallet.lower(), 1, digest_from_cid(key.cid))
    assert digest_from_cid(key.cid) == document_hash(key.document)
    assert Leaf.parse(leaf_of(revocation)) == Leaf(
        LEAF_KIND_REVOCATION, wallet.lower(), 2, document_hash(revocation.document)
    )


@pytest.mark.parametrize("start,end", [(0, 1), (0, 7), (8, 13), (16, 17), (0, 1000), (512, 999)])
def test_a_range_splits_into_aligned_perfect_subtrees(start, end):
    pieces = perfect_pieces(start, end)

    covered = [(index << level, (index + 1) << level) for level, index in pieces]
    assert covered[0][0] == start and covered[-1][1] == end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(covered))
    assert [level for level, _ in pieces] == sorted((level for level, _ in pieces), reverse=True)


# ---------------------------------------------------------------- tree hashing against merkle.py


def test_roots_and_proofs_from_stored_subtrees_equal_merkle_py_at_random_sizes(log_table):
    log = TransparencyLog(log_table)
    leaves = [random_leaf() for _ in range(77)]
    append_all(log, leaves)
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    rng = random.Random(13)

    assert log.head().size == 77 and log.head().root == merkle.root(hashes)
    for size in sorted({1, 2, 3, 64, 77, *rng.sample(range(1, 78), 12)}):
        assert log.root(size) == merkle.root(hashes[:size]), size
        index = rng.randrange(size)
        root, path = log.inclusion(index, size)
        assert root == merkle.root(hashes[:size])
        assert path == merkle.inclusion_proof(index, hashes[:size])
        assert merkle.verify_inclusion(hashes[index], index, size, path, root)
        old = rng.randrange(1, size + 1)
        old_root, new_root, proof = log.consistency(old, size)
        assert proof == merkle.consistency_proof(old, hashes[:size])
        assert merkle.verify_consistency(old, size, old_root, new_root, proof)


def test_an_empty_log_has_the_empty_root(log_table):
    log = TransparencyLog(log_table)

    assert log.head().size == 0 and log.head().root == merkle.EMPTY_ROOT == log.root(0)


def test_only_completed_perfect_subtrees_are_stored(log_table):
    log = TransparencyLog(log_table)
    append_all(log, [random_leaf() for _ in range(6)])

    nodes = sorted(
        (item["part"], int(item["pos"])) for item in log_table.scan()["Items"] if item["part"].startswith("node/")
    )
    assert nodes == [("node/1", 0), ("node/1", 1), ("node/1", 2), ("node/2", 0)]


def test_reading_roots_and_proofs_writes_nothing(log_table):
    log = TransparencyLog(log_table)
    append_all(log, [random_leaf() for _ in range(9)])
    writes: list[str] = []
    log_table.meta.client.meta.events.register(
        "before-call.dynamodb.*",
        lambda model, **_: (
            writes.append(model.name) if model.name not in ("GetItem", "Query", "BatchGetItem") else None
        ),
    )

    log.head(), log.root(5), log.inclusion(3, 9), log.consistency(4, 9), log.leaves(0, 9), log.latest_anchor()

    assert writes == []


# ---------------------------------------------------------------- appends in the record's transaction


def test_creating_a_record_touches_no_log_item(log_table, records_table):
    """The request path (issue 22): a record is stored without a leaf; the log's head and leaves are untouched."""
    log = TransparencyLog(log_table)
    store = RecordStore(records_table, log)
    wallet = Account.create().address

    store.create(key_record(wallet))

    assert store.get(wallet, 1).log_index is None and log.head().size == 0
    assert log_table.scan()["Items"] == []


def test_sequencing_writes_the_records_leaves_and_names_each_records_index_and_its_heads(log_table, records_table):
    store = RecordStore(records_table, TransparencyLog(log_table))
    wallets = [Account.create().address for _ in range(3)]
    for wallet in wallets:
        store.create(key_record(wallet))

    done = store.sequence([store.get(wallet, 1) for wallet in wallets])

    assert [r.log_index for r in done] == [0, 1, 2]
    for index, wallet in enumerate(wallets):
        stored = store.get(wallet, 1)
        assert stored is not None and stored.log_index == index
        assert store.log.leaves(index, index + 1) == [(index, leaf_of(stored))]
        assert store.heads([wallet])[wallet.lower()].key_log_index == index


def transactions_and_head_reads(store: RecordStore) -> tuple[list[int], list[int]]:
    """Lists that fill with the item count of each TransactWriteItems, and with each GetItem, the log makes."""
    transactions: list[int] = []
    reads: list[int] = []
    events = store.log._client.meta.events
    events.register(
        "provide-client-params.dynamodb.TransactWriteItems",
        lambda params, **_: transactions.append(len(params["TransactItems"])),
    )
    events.register("provide-client-params.dynamodb.GetItem", lambda params, **_: reads.append(1))
    return transactions, reads


def test_a_batch_of_100_is_five_transactions_within_dynamodbs_limit_reading_the_head_once(log_table, records_table):
    store = RecordStore(records_table, TransparencyLog(log_table))
    wallets = [Account.create().address for _ in range(100)]
    for wallet in wallets:
        store.create(key_record(wallet))
    transactions, head_reads = transactions_and_head_reads(store)

    done = store.sequence([store.get(wallet, 1) for wallet in wallets])

    assert len(transactions) == 5 and max(transactions) <= 100
    assert len(head_reads) == 1  # each next transaction starts from the head the last one wrote
    assert [r.log_index for r in done] == list(range(100)) and store.log.head().size == 100


def test_a_transaction_is_trimmed_to_fit_when_the_old_size_completes_many_subtrees(log_table, records_table):
    """At a size of 2^k - 1, the next leaves complete k extra subtrees: a chunk that fits elsewhere does not."""
    log = TransparencyLog(log_table)
    store = RecordStore(records_table, log)
    earlier = [random_leaf() for _ in range(63)]
    while len(earlier) > log.head().size:
        log.append_batch(earlier[log.head().size :], lambda first, count: [])
    records = []
    for wallet in [Account.create().address for _ in range(SEQUENCE_CHUNK)]:
        store.create(key_record(wallet))
        records.append(store.get(wallet, 1))
    transactions, _ = transactions_and_head_reads(store)

    done = store.sequence(records)

    # 32 leaves at this size would take 129 items (4 per leaf, 6 more subtrees, the head): trimmed to what fits
    assert len(transactions) == 2 and max(transactions) <= 100
    assert [r.log_index for r in done] == list(range(63, 63 + SEQUENCE_CHUNK))
    leaves = earlier + [leaf_of(r) for r in records]
    assert log.head().root == merkle.root([merkle.leaf_hash(leaf) for leaf in leaves])


def test_a_stale_head_is_read_again_and_nothing_is_written_twice(log_table):
    log = TransparencyLog(log_table)
    stale = log.head()
    first, second = random_leaf(), random_leaf()
    log.append(first, lambda _: [])  # another worker moves the head

    appended = log.append_batch([second], lambda first, count: [], stale)

    assert (appended.first, appended.count, appended.head.size) == (1, 1, 2)
    assert log.leaves(0, 2) == [(0, first), (1, second)]
    assert log.head() == appended.head


def test_a_record_sequenced_by_another_worker_keeps_its_one_leaf(log_table, records_table):
    """Two workers holding the same job both sequence it: the second finds it sequenced and leaves it out."""
    log = TransparencyLog(log_table)
    store = RecordStore(records_table, log)
    wallet, other = Account.create().address, Account.create().address
    store.create(key_record(wallet))
    store.create(key_record(other))
    stale = store.get(wallet, 1)  # read by the second worker before the first sequenced it
    store.sequence([stale])

    done = store.sequence([stale, store.get(other, 1)])

    assert [(r.wallet, r.log_index) for r in done] == [(other, 1)]
    assert store.get(wallet, 1).log_index == 0 and log.head().size == 2


def test_a_key_sequenced_after_a_newer_key_was_stored_does_not_name_its_leaf_on_the_head(log_table, records_table):
    store = RecordStore(records_table, TransparencyLog(log_table))
    wallet = Account.create().address
    store.create(key_record(wallet, 1))
    store.create(key_record(wallet, 2))

    store.sequence([store.get(wallet, 1)])

    assert store.heads([wallet])[wallet.lower()].key_log_index is None  # the head's key is version 2: not yet
    store.sequence([store.get(wallet, 2)])
    assert store.heads([wallet])[wallet.lower()].key_log_index == 1


def test_concurrent_sequencing_gives_one_order_and_no_gaps(log_table, records_table):
    log = TransparencyLog(log_table)
    store = RecordStore(records_table, log)
    wallets = [Account.create().address for _ in range(6)]
    for wallet in wallets:
        for version in (1, 2, 3, 4):
            store.create(key_record(wallet, version))
    errors: list[BaseException] = []

    def sequence(wallet: str) -> None:  # one worker per wallet, racing for the head
        try:
            for version in (1, 2, 3, 4):
                store.sequence([store.get(wallet, version)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sequence, args=(wallet,)) for wallet in wallets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    size = log.head().size
    assert size == 24
    leaves = log.leaves(0, size)
    assert [index for index, _ in leaves] == list(range(24))
    records = [r for wallet in wallets for r in store.all_versions(wallet)]
    assert sorted(r.log_index for r in records) == list(range(24))
    for record in records:
        assert leaves[record.log_index][1] == leaf_of(record)
    for wallet in wallets:  # a wallet's versions enter the log in version order
        indices = [r.log_index for r in sorted(store.all_versions(wallet), key=lambda r: r.version)]
        assert indices == sorted(indices)
    assert log.head().root == merkle.root([merkle.leaf_hash(leaf) for _, leaf in leaves])


# ---------------------------------------------------------------- which head a transaction anchors


def test_several_keys_always_anchor_the_head_and_a_lone_key_only_once_the_last_anchor_is_old(log_table):
    now = [1_000_000.0]
    log = TransparencyLog(log_table, clock=lambda: now[0], anchor_single_after_s=300)
    assert log.head_to_anchor(5) is None  # nothing to anchor in an empty log
    append_all(log, [random_leaf() for _ in range(3)])
    head = log.head()

    assert log.head_to_anchor(2) == (3, head.root)
    assert log.head_to_anchor(1) == (3, head.root)  # never anchored
    log.record_anchor(2, log.root(2), "0x" + "11" * 32, 7)
    assert log.head_to_anchor(1) is None
    now[0] += 301
    assert log.head_to_anchor(1) == (3, head.root)
    log.record_anchor(3, head.root, "0x" + "22" * 32, 8)
    now[0] += 1000
    assert log.head_to_anchor(1) is None  # the anchored head is the current one
    assert log.latest_anchor().as_dict() == {
        "size": 3,
        "root": "0x" + head.root.hex(),
        "txHash": "0x" + "22" * 32,
        "blockNumber": 8,
    }


# ---------------------------------------------------------------- the tamper helpers (tests/log_tamper.py) do what they say


def test_tampering_helpers_change_exactly_what_an_auditor_rebuilding_the_roots_would_see(log_table, records_table):
    from tests.support.log_tamper import delete_leaf, rebuild_without, rewrite_leaf, swap_leaves

    log = TransparencyLog(log_table)
    store = RecordStore(records_table, log)
    wallets = [Account.create().address for _ in range(5)]
    for wallet in wallets:
        store.create(key_record(wallet))
    store.sequence([store.get(wallet, 1) for wallet in wallets])
    anchored_root = log.root(5)
    leaves = [leaf for _, leaf in log.leaves(0, 5)]

    def rebuilt() -> bytes:
        return merkle.root([merkle.leaf_hash(leaf) for _, leaf in log.leaves(0, 5)])

    swap_leaves(log_table, 1, 2)
    assert rebuilt() != anchored_root and log.root(5) == anchored_root  # the stored nodes still tell the old story
    swap_leaves(log_table, 1, 2)
    old = rewrite_leaf(log_table, 3, random_leaf())
    assert old == leaves[3] and rebuilt() != anchored_root
    rewrite_leaf(log_table, 3, old)
    assert rebuilt() == anchored_root
    delete_leaf(log_table, 0)
    assert [index for index, _ in log.leaves(0, 5)] == [1, 2, 3, 4]
    rewrite_leaf(log_table, 0, leaves[0])

    dropped = rebuild_without(log_table, 2, records_table)

    assert dropped == leaves[2]
    assert log.head().size == 4 and log.root(4) == merkle.root(
        [merkle.leaf_hash(leaf) for leaf in leaves[:2] + leaves[3:]]
    )
    assert store.get(wallets[2], 1) is None and store.get(wallets[3], 1).log_index == 2
