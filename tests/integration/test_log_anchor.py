"""Anchoring the transparency log on chain (issue 13): the worker's setKeys transaction carries the log head read
when it packs, the contract stores it, and the monitor records the anchored head once the transaction is final.
Real parts: the template's tables in moto, a real Anvil node, the compiled contract owned by the KMS key."""

from typing import Any

from web3.logs import DISCARD

from chalicelib.model import STATUS_CONFIRMED
from dmtp_protocol import merkle


def anchored_events(world: Any) -> list[tuple[int, bytes]]:
    logs = world.chain.contract.events.LogAnchored().get_logs(from_block=0)
    return [(log["args"]["size"], bytes(log["args"]["root"])) for log in logs]


def test_a_batch_anchors_the_head_covering_its_own_leaves_and_the_monitor_records_it(worlds):
    world = worlds(with_log=True)
    jobs = [world.new_key() for _ in range(3)]

    world.settle(world.worker(), world.monitor())
    head = world.log.head()  # the worker sequenced the batch's three leaves before it built the calldata

    records = [world.record(job) for job in jobs]
    assert {r.status for r in records} == {STATUS_CONFIRMED}
    assert world.chain.anchored_log_head() == (3, head.root)
    assert head.root == merkle.root([merkle.leaf_hash(leaf) for _, leaf in world.log.leaves(0, 3)])
    assert anchored_events(world) == [(3, head.root)]
    anchor = world.log.latest_anchor()
    assert (anchor.size, anchor.root) == (3, head.root)
    assert (anchor.tx_hash, anchor.block_number) == (records[0].tx_hash, records[0].block_number)
    assert all(r.log_index < anchor.size for r in records)


def test_nothing_is_recorded_as_anchored_before_the_transaction_is_final(worlds):
    world = worlds(with_log=True)
    world.new_key()
    world.new_key()

    world.deliver(world.worker())  # sent and mined (automine), but no monitor pass yet

    assert world.chain.anchored_log_head()[0] == 2
    assert world.log.latest_anchor() is None
    world.monitor().run_once()
    assert world.log.latest_anchor().size == 2


def test_a_lone_key_anchors_when_nothing_is_anchored_yet_and_a_later_one_waits(worlds):
    world = worlds(with_log=True)
    first = world.new_key()
    world.settle(world.worker(), world.monitor())
    assert world.chain.anchored_log_head() == (1, world.log.root(1))

    world.new_key()
    world.settle(world.worker(), world.monitor())

    assert world.chain.anchored_log_head()[0] == 1  # a lone key within LOG_ANCHOR_SINGLE_AFTER_S: no anchor
    assert world.record(first).status == STATUS_CONFIRMED
    receipt = world.chain.receipt(world.record(first).tx_hash)
    assert receipt.log_anchor == (1, world.log.root(1))


def test_a_revocation_leaf_is_anchored_by_the_next_key_setting_transaction(worlds):
    world = worlds(with_log=True)
    key = world.new_key()
    world.settle(world.worker(), world.monitor())
    revocation = world.new_revocation(key)
    world.settle(world.worker(), world.monitor())
    assert world.record(revocation).status == STATUS_CONFIRMED
    assert world.chain.anchored_log_head()[0] == 1  # revokeKey carries no head

    world.new_key()
    world.new_key()
    world.settle(world.worker(), world.monitor())

    size, root = world.chain.anchored_log_head()
    assert size == 4 and world.record(revocation).log_index < size
    assert root == world.log.root(4)
    assert world.log.latest_anchor().size == 4


def test_the_worker_sends_set_keys_anchored_calldata(worlds):
    world = worlds(with_log=True)
    job = world.new_key()
    world.new_key()
    world.settle(world.worker(), world.monitor())

    tx = world.chain.w3.eth.get_transaction(world.record(job).tx_hash)
    function, arguments = world.chain.contract.decode_function_input(tx["input"])

    assert function.fn_name == "setKeysAnchored"
    assert (arguments["logSize"], bytes(arguments["logRoot"])) == (2, world.log.root(2))
    receipt = world.chain.w3.eth.get_transaction_receipt(tx["hash"])
    assert len(world.chain.contract.events.LogAnchored().process_receipt(receipt, errors=DISCARD)) == 1
