"""The transaction monitor on moto and a real Anvil: confirmations, dropped and stuck transactions, the fee cap,
reorgs, reverts, and a nonce counter kept in line with the chain. Each test gets its own world."""

import pytest

from chalicelib.adapters.control import WorkerControl
from chalicelib.chain.decisions.fees import first_offer
from chalicelib.chain.monitor import MonitorPolicy
from chalicelib.chain.worker import WorkerPolicy
from devstack.anvil import DEV_ACCOUNTS


def send_one(world, worker=None):
    """A new key through the worker; returns (job, its nonce's item)."""
    job = world.new_key()
    assert world.deliver(worker or world.worker()) == []
    item = world.txs.get(world.record(job).nonce)
    return job, item


# ---------------------------------------------------------------- confirmations


def test_a_transaction_counts_as_confirmed_only_after_n_blocks(worlds):
    world = worlds(automine=False, monitor_policy=MonitorPolicy(confirmations=3, bump_after_s=3600))
    job, item = send_one(world)
    monitor = world.monitor()

    world.mine()
    monitor.run_once()
    assert world.txs.get(item.nonce).state == "mined"
    assert world.record(job).status == "submitted"
    world.mine()
    monitor.run_once()
    assert world.record(job).status == "submitted"
    world.mine()
    monitor.run_once()

    record = world.record(job)
    assert (record.status, record.tx_hash) == ("confirmed", item.latest.tx_hash)
    assert record.block_number == world.chain.receipt(item.latest.tx_hash).block_number


# ---------------------------------------------------------------- dropped, stuck, replaced


def test_a_dropped_transaction_is_rebroadcast_with_the_same_bytes(worlds):
    world = worlds(automine=False)
    job, item = send_one(world)
    world.anvil.rpc("anvil_dropTransaction", [item.latest.tx_hash])
    assert not world.chain.known(item.latest.tx_hash)

    report = world.monitor().run_once()

    assert report.rebroadcast == 1
    assert world.chain.known(item.latest.tx_hash)
    assert world.txs.get(item.nonce).attempts == item.attempts
    world.mine()
    world.monitor().run_once()
    assert (world.record(job).status, world.record(job).tx_hash) == ("confirmed", item.latest.tx_hash)


def test_a_stuck_transaction_is_replaced_with_max_fee_and_tip_each_at_least_ten_percent_higher(worlds):
    world = worlds(automine=False)
    job, item = send_one(world)
    monitor = world.monitor(bump_after_s=0)

    report = monitor.run_once()

    replaced = world.txs.get(item.nonce)
    first, second = replaced.attempts
    assert report.replaced == 1 and first == item.latest
    assert second.max_fee * 10 >= first.max_fee * 11
    assert second.tip * 10 >= first.tip * 11
    assert world.chain.known(second.tx_hash) and not world.chain.known(first.tx_hash)
    assert world.record(job).tx_hash == second.tx_hash
    world.mine()
    world.monitor().run_once()
    record = world.record(job)
    assert (record.status, record.tx_hash) == ("confirmed", second.tx_hash)


def test_the_monitor_works_out_which_of_the_hashes_sent_for_a_nonce_was_mined(worlds):
    world = worlds(automine=False)
    job, item = send_one(world)
    first_raw = item.raw
    world.monitor(bump_after_s=0).run_once()
    first, second = world.txs.get(item.nonce).attempts
    # Another node still had the first attempt and mined it instead of the replacement.
    world.anvil.rpc("anvil_dropTransaction", [second.tx_hash])
    world.anvil.rpc("eth_sendRawTransaction", [first_raw])
    world.mine()

    world.monitor().run_once()

    settled = world.txs.get(item.nonce)
    assert (settled.state, settled.mined_hash) == ("confirmed", first.tx_hash)
    assert (world.record(job).status, world.record(job).tx_hash) == ("confirmed", first.tx_hash)


def test_at_the_fee_cap_a_stuck_transaction_waits_raises_the_alarm_and_later_jobs_still_go_out(worlds):
    world = worlds(automine=False)
    cap = first_offer(world.chain.market(), 10**30).fees.max_fee  # room for the first offer, none for +10%
    world.worker_policy = WorkerPolicy(max_fee_cap_wei=cap)
    world.monitor_policy = MonitorPolicy(confirmations=1, bump_after_s=0, max_fee_cap_wei=cap)
    stuck, item = send_one(world)
    monitor = world.monitor()

    report = monitor.run_once()

    assert report.fee_capped == 1 and report.replaced == 0
    assert monitor.telemetry.value("FeeCapReached") == 1
    assert len(world.txs.get(item.nonce).attempts) == 1
    later, later_item = send_one(world)  # the queue is not wedged
    assert later_item.nonce == item.nonce + 1
    world.mine()
    world.monitor().run_once()
    assert world.record(stuck).status == world.record(later).status == "confirmed"


# ---------------------------------------------------------------- reorgs and reverts


def test_a_transaction_reorganised_out_of_the_chain_is_sent_again_and_confirmed_in_its_new_block(worlds):
    world = worlds(monitor_policy=MonitorPolicy(confirmations=3, bump_after_s=3600))
    job, item = send_one(world)
    monitor = world.monitor()
    monitor.run_once()
    mined = world.txs.get(item.nonce)
    assert mined.state == "mined"

    world.anvil.rpc("anvil_reorg", [1, []])  # its block is replaced by an empty one
    assert world.chain.receipt(item.latest.tx_hash) is None
    report = monitor.run_once()  # back in flight, rebroadcast (and mined again: automine)

    assert report.reorged == 1
    world.mine(3)
    monitor.run_once()
    record = world.record(job)
    receipt = world.chain.receipt(item.latest.tx_hash)
    assert (record.status, record.tx_hash, record.block_number) == (
        "confirmed",
        item.latest.tx_hash,
        receipt.block_number,
    )
    assert receipt.block_hash != mined.block_hash
    assert [version for _, _, version in world.key_updates(job.wallet)] == [1]


def test_a_not_owner_revert_queues_its_jobs_again_and_pauses_the_worker_instead_of_failing_them(worlds):
    world = worlds(automine=False)
    job, item = send_one(world)
    other = DEV_ACCOUNTS[1][0]  # ownership moves away after the worker simulated the write
    world.anvil.rpc("anvil_setStorageAt", [world.registry_address, "0x0", "0x" + other[2:].lower().rjust(64, "0")])
    world.mine()

    world.monitor().run_once()

    assert world.chain.receipt(item.latest.tx_hash).status == 0
    record = world.record(job)
    assert record.status == "queued" and f"NotOwner({world.owner.lower()})" in record.error
    assert world.txs.get(item.nonce).state == "failed"
    pause = WorkerControl(world.table).state()
    assert (pause.paused, pause.by) == (True, "monitor") and "NotOwner" in pause.reason
    assert world.queued() == 1

    # the operator gives the contract back to the key and resumes the worker: the job goes on chain once
    world.anvil.rpc(
        "anvil_setStorageAt", [world.registry_address, "0x0", "0x" + world.owner[2:].lower().rjust(64, "0")]
    )
    WorkerControl(world.table).resume(by="ops", now=0)
    world.anvil.rpc("evm_setAutomine", [True])
    world.settle(world.worker(), world.monitor())
    assert world.record(job).status == "confirmed"
    assert [e for e in world.key_updates(job.wallet)] == [(job.wallet, world.digest(job), job.version)]


class Crash(BaseException):
    """The monitor's process dies here."""


def _die_on_first_call(monkeypatch, target, name):
    real = getattr(target, name)
    calls = []

    def once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise Crash(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, once)


def test_a_monitor_that_dies_between_settling_a_transaction_and_its_records_leaves_none_submitted(worlds, monkeypatch):
    # Given a mined transaction, and a monitor that dies at its first write to the records
    world = worlds()
    job, item = send_one(world)
    dying = world.monitor()
    _die_on_first_call(monkeypatch, dying._records, "set_statuses")
    with pytest.raises(Crash):
        dying.run_once()
    # When the next monitor pass runs
    world.monitor().run_once()
    # Then the record is confirmed: the item was not marked final before its records were
    assert (world.record(job).status, world.txs.get(item.nonce).state) == ("confirmed", "confirmed")


def test_a_monitor_that_dies_while_re_queuing_a_lost_transaction_re_queues_it_on_its_next_pass(worlds, monkeypatch):
    # Given our transaction at nonce 0 dropped, and another transaction of the key mined at that nonce
    world = worlds(automine=False)
    job, item = send_one(world)
    world.anvil.rpc("anvil_dropTransaction", [item.latest.tx_hash])
    market = world.chain.market()
    fees = first_offer(market, 100 * 10**9).fees
    other = world.chain.sign(
        world.signer, nonce=0, to=world.owner, data="0x", gas=21_000, max_fee=fees.max_fee, tip=fees.tip
    )
    assert world.chain.send(other.raw).accepted
    world.mine(2)
    # When the monitor dies as it sends the job back to the queue
    dying = world.monitor()
    _die_on_first_call(monkeypatch, dying._queue, "enqueue")
    with pytest.raises(Crash):
        dying.run_once()
    assert world.txs.get(item.nonce).state != "lost"  # not marked lost before its jobs were re-queued
    # Then the next pass re-queues it, and it goes on chain
    world.monitor().run_once()
    assert world.txs.get(item.nonce).state == "lost" and world.queued() == 1
    world.anvil.rpc("evm_setAutomine", [True])
    world.settle(world.worker(), world.monitor())
    assert world.record(job).status == "confirmed"


# ---------------------------------------------------------------- the nonce counter and its holes


def test_a_fresh_worker_pulls_a_counter_that_drifted_above_the_chain_back_before_sending(worlds):
    world = worlds()
    world.nonces.initialise(0)
    world.nonces.force_counter(5)  # five nonces the chain never saw, and no item for any of them

    job, item = send_one(world, world.worker())

    assert item.nonce == 0
    world.monitor().run_once()
    assert world.record(job).status == "confirmed"
    assert world.nonces.counter().next == 1


def test_the_monitor_pulls_a_drifted_counter_back_to_the_chain(worlds):
    world = worlds()
    send_one(world)
    world.nonces.force_counter(9)

    world.monitor().run_once()

    assert world.nonces.counter().next == world.chain.pending_nonce(world.owner) == 1


def test_a_hole_below_sent_nonces_is_filled_with_a_noop_self_transfer(worlds):
    world = worlds()
    worker = world.worker()
    send_one(world, worker)  # nonce 0
    world.nonces.force_counter(2)  # nonce 1 was handed out and its item lost
    job, item = send_one(world, worker)  # nonce 2: waits behind the hole
    assert item.nonce == 2 and world.chain.receipt(item.latest.tx_hash) is None

    report = world.monitor().run_once()
    world.monitor().run_once()

    assert report.filled == 1
    noop = world.txs.get(1)
    tx = world.chain.w3.eth.get_transaction(noop.mined_hash)
    assert (noop.kind, tx["to"], tx["value"], tx["input"]) == ("noop", world.owner, 0, b"")
    assert world.record(job).status == "confirmed"
    assert world.chain.mined_nonce(world.owner) == 3


def test_a_reservation_whose_worker_died_is_filled_with_a_noop_and_its_jobs_queued_again(worlds):
    world = worlds()
    orphan = world.new_key(enqueue=False)
    (dead,) = world.nonces.reserve([(orphan,)], "dead-worker", lambda: 0)  # reserved, never signed
    job, item = send_one(world)  # the next nonce, stuck behind the dead one
    assert (dead.nonce, item.nonce) == (0, 1)

    report = world.monitor(nonce_lease_s=0).run_once()

    assert report.filled == 1 and world.txs.get(0).kind == "noop"
    world.settle(world.worker(), world.monitor())
    assert world.record(job).status == world.record(orphan).status == "confirmed"
    assert world.chain.get_key(orphan.wallet) == orphan.cid
