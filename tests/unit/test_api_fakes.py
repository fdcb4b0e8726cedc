"""The API fakes (tests/support/api_fakes.py) refuse what the real adapters refuse: a fake that accepts anything
would let the use-case tests (test_registry_use_cases.py, test_log_queries.py) pass against a registry that breaks
the rules. The real adapters' own tests are on moto (tests/integration/test_registry.py, test_translog.py, ...)."""

from dataclasses import replace

import pytest

from chalicelib.api.sources import source_of
from chalicelib.model import KIND_REVOCATION, Job, MalformedJob, Record, VersionTaken
from dmtp_protocol import merkle
from dmtp_protocol.cid import cid_for_bytes
from dmtp_protocol.errors import InvalidSignature, QuotaExceeded
from dmtp_protocol.ethsig import SECP256K1_N, to_checksum_address
from tests.support.api_fakes import (
    BUDGET_GLOBAL,
    BUDGET_SOURCE,
    BUDGET_WALLET,
    Clock,
    FakeJobQueue,
    FakeLog,
    FakeRecords,
    FakeSignatureChecker,
    FakeWriteBudgets,
    Wallet,
    leaf_of,
)

NOW = 1_800_000_000
WALLET = to_checksum_address("0x" + "ab" * 20)


def key(version: int, wallet: str = WALLET) -> Record:
    document = f'{{"v":{version}}}'
    return Record(wallet, version, cid_for_bytes(document.encode()), document, "pinned", NOW, NOW)


def revocation(version: int, of: Record) -> Record:
    return Record(
        WALLET, version, of.cid, f'{{"r":{version}}}', "pinned", NOW, NOW, kind=KIND_REVOCATION, revokes_cid=of.cid
    )


@pytest.fixture()
def records() -> FakeRecords:
    return FakeRecords(Clock(NOW), FakeLog(Clock(NOW)))


@pytest.mark.parametrize("version", [3, 1], ids=["a-gap", "the-same-version-again"])
def test_records_create_refuses_anything_but_the_next_version_and_writes_nothing(records, version):
    records.create(key(1))
    leaves = records.log.head().size

    with pytest.raises(VersionTaken):
        records.create(key(version))

    assert (records.count(), records.log.head().size) == (1, leaves)


def test_records_create_refuses_a_revocation_once_the_current_key_is_revoked(records):
    first = key(1)
    records.create(first)
    records.create(revocation(2, first))

    with pytest.raises(VersionTaken):
        records.create(revocation(3, first))


def test_records_create_marks_the_previous_version_and_keeps_heads_by_lowercase_wallet(records):
    records.create(key(1))
    records.create(key(2))
    records.sequence([records.get(WALLET, 1), records.get(WALLET, 2)])

    assert records.get(WALLET.lower(), 1).next_version == 2
    heads = records.heads([WALLET])
    assert list(heads) == [WALLET.lower()]
    assert (heads[WALLET.lower()].key_version, heads[WALLET.lower()].key_log_index) == (2, 1)
    with pytest.raises(ValueError):
        records.heads([WALLET] * 101)


def test_records_set_status_moves_a_record_only_from_the_statuses_named(records):
    records.create(key(1))

    assert records.set_status(key(1), "submitted", only_from=("queued",)) is False
    assert records.get(WALLET, 1).status == "pinned"
    assert records.set_status(key(1), "queued", only_from=("pinned",)) is True
    assert records.set_status(key(9), "queued") is False


def test_the_fakes_leaves_are_the_real_adapters_leaves():
    from chalicelib.adapters.records import leaf_of as real_leaf_of

    first = key(1)
    for record in (first, revocation(2, first)):
        assert leaf_of(record) == real_leaf_of(record)


def test_the_fake_logs_head_folds_to_the_root_of_all_its_leaves_and_it_proves_no_size_it_lacks():
    log = FakeLog(Clock(NOW))
    for version in range(1, 8):
        log.append(leaf_of(key(version)))

    head = log.head()

    assert (head.size, len(head.frontier)) == (7, 3)
    assert head.root == merkle.root([merkle.leaf_hash(raw) for _, raw in log.leaves(0, 7)])
    with pytest.raises(LookupError):
        log.inclusion(0, 8)
    with pytest.raises(ValueError):
        log.append(b"\x01" * 60)


def test_write_budgets_refusing_one_budget_count_none_and_name_the_wallets_first(records):
    budgets = FakeWriteBudgets(wallet_per_day=1, source_per_day=1, global_per_day=5, counters=records.counters)
    budgets.within_budget(WALLET, source_of("s1"), NOW, lambda charge: records.create(key(1), charge))

    with pytest.raises(QuotaExceeded) as refused:
        budgets.within_budget(WALLET, source_of("s1"), NOW, lambda charge: records.create(key(2), charge), True)

    assert refused.value.extra["budget"] == "wallet"
    assert records.get(WALLET, 2) is None  # the record and its charge are one write: neither happened
    counts = [
        budgets.used(b, who, NOW) for b, who in ((BUDGET_WALLET, WALLET), (BUDGET_SOURCE, "s1"), (BUDGET_GLOBAL, ""))
    ]
    assert counts == [1, 1, 1]
    budgets.within_budget(  # the next day
        WALLET, source_of("s2"), NOW + 86400, lambda charge: records.create(key(2), charge), True
    )
    assert budgets.used(BUDGET_WALLET, WALLET, NOW + 86400) == 1


def test_the_job_queue_refuses_a_job_the_worker_could_not_read_and_raises_when_down():
    queue = FakeJobQueue()

    with pytest.raises(MalformedJob):
        queue.enqueue(Job(WALLET, 1, "bafk", "burn"))
    queue.down = True
    with pytest.raises(ConnectionError):
        queue.enqueue(Job(WALLET, 1, "bafk"))
    assert queue.jobs == []


def test_the_signature_checker_says_yes_only_to_the_wallets_own_low_s_signature():
    wallet, digest = Wallet(), bytes(range(32))
    signature = wallet.sign_digest(digest)
    checker = FakeSignatureChecker()

    assert checker.verify(wallet.address, digest, signature).method == "ecdsa"
    with pytest.raises(InvalidSignature):
        checker.verify(Wallet().address, digest, signature)
    raw = bytes.fromhex(signature[2:])
    high_s = SECP256K1_N - int.from_bytes(raw[32:64], "big")
    flipped = raw[:32] + high_s.to_bytes(32, "big") + bytes([55 - raw[64]])  # the same point, the other s
    with pytest.raises(InvalidSignature):
        checker.verify(wallet.address, digest, "0x" + flipped.hex())


def test_records_sequence_gives_each_record_one_leaf_once_in_the_order_given(records):
    records.create(key(1, to_checksum_address("0x" + "cd" * 20)))
    records.create(key(1))

    records.sequence([records.get("0x" + "cd" * 20, 1), records.get(WALLET, 1)])
    again = records.sequence([records.get(WALLET, 1)])

    assert records.get(WALLET, 1) == replace(key(1), log_index=1)
    assert again == []
