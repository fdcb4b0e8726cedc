"""The chain worker on moto and a real Anvil: batched compact writes, per-wallet order, exactly once per
(wallet, version), partial batch failures, pauses, poison jobs. Each test gets its own world (tests/support/worlds.py)."""

import json
import subprocess
import sys
from typing import Any

from chalicelib.adapters.control import WorkerControl
from chalicelib.chain.lambdas import process_jobs
from chalicelib.model import STATUS_QUEUED, Job, Record, StatusChange
from devstack.anvil import DEV_ACCOUNTS
from devstack.stack import REPO_ROOT
from devstack.worker_loop import lambda_sqs_event
from dmtp_protocol.cid import cid_for_bytes


def mined_receipts(world):
    return [world.chain.receipt(item.mined_hash) for item in world.txs.between(0, 10_000) if item.mined_hash]


# ---------------------------------------------------------------- cost: compact, batched writes


def test_a_batch_of_100_new_keys_goes_out_in_one_transaction_at_most_26000_gas_per_key(worlds):
    world = worlds()
    jobs = [world.new_key() for _ in range(100)]

    world.settle(world.worker(), world.monitor())

    (receipt,) = mined_receipts(world)
    assert receipt.gas_used / 100 <= 26_000
    assert {world.record(job).status for job in jobs} == {"confirmed"}
    assert {world.record(job).tx_hash for job in jobs} == {receipt.tx_hash}
    assert all(world.chain.get_key(job.wallet) == job.cid for job in jobs[:5])


def test_a_key_sent_alone_costs_at_most_50000_gas(worlds):
    world = worlds()
    job = world.new_key()

    world.settle(world.worker(), world.monitor())

    (receipt,) = mined_receipts(world)
    assert receipt.gas_used <= 50_000
    assert world.chain.get_key(job.wallet) == job.cid


def test_the_gas_cap_splits_a_batch_into_several_transactions(worlds):
    world = worlds()
    jobs = [world.new_key() for _ in range(60)]

    world.settle(world.worker(gas_cap_per_tx=700_000), world.monitor())

    items = world.txs.between(0, 100)
    assert len(items) >= 3
    assert all(item.gas <= 700_000 for item in items)
    assert {world.record(job).status for job in jobs} == {"confirmed"}


# ---------------------------------------------------------------- per-wallet order and coalescing


def test_only_the_newest_key_of_a_wallet_in_a_batch_is_sent_and_older_ones_end_superseded(worlds):
    world = worlds()
    v1 = world.new_key()
    v2 = world.new_key(v1.wallet, 2)
    v3 = world.new_key(v1.wallet, 3)

    world.settle(world.worker(), world.monitor())

    assert [(w.lower(), version) for w, _, version in world.key_updates(v1.wallet)] == [(v1.wallet.lower(), 3)]
    assert [world.record(job).status for job in (v1, v2, v3)] == ["superseded", "superseded", "confirmed"]
    assert world.record(v1).tx_hash is None
    assert world.chain.get_key(v1.wallet) == v3.cid


def test_an_older_key_delivered_after_a_newer_one_went_out_is_superseded_and_sends_nothing(worlds):
    world = worlds()
    v1 = world.new_key(enqueue=False)
    v2 = world.new_key(v1.wallet, 2)
    worker, monitor = world.worker(), world.monitor()
    world.settle(worker, monitor)
    sent = world.chain.mined_nonce(world.owner)

    world.queue.enqueue(v1)  # delivered late (SQS keeps no order)
    world.settle(worker, monitor)

    assert world.record(v1).status == "superseded"
    assert world.chain.mined_nonce(world.owner) == sent
    assert world.chain.get_key(v1.wallet) == v2.cid


def test_writing_a_wallets_next_version_marks_the_one_before(worlds):
    world = worlds()
    v1 = world.new_key(enqueue=False)
    v2 = world.new_key(v1.wallet, 2, enqueue=False)
    revocation = world.new_revocation(v2, enqueue=False)

    assert [world.record(job).next_version for job in (v1, v2, revocation)] == [2, 3, None]


def test_first_keys_are_claimed_and_sent_after_one_batch_read_of_their_records(worlds):
    """The batch's records are read once (BatchGetItem), for their leaves and the documents the worker pins; the
    claims themselves read nothing (their conditions check the records)."""
    world = worlds()
    jobs = [world.new_key() for _ in range(20)]
    reads: list[str] = []

    def note(params: dict, model: Any, **_: Any) -> None:
        if world.records_table.name in {params.get("TableName"), *params.get("RequestItems", {})}:
            reads.append(model.name)

    events = world.records_table.meta.client.meta.events
    for operation in ("GetItem", "BatchGetItem", "Query", "Scan"):
        events.register(f"before-parameter-build.dynamodb.{operation}", note, unique_id=f"reads-{operation}")
    try:
        failed = world.deliver(world.worker())
    finally:
        for operation in ("GetItem", "BatchGetItem", "Query", "Scan"):
            events.unregister(f"before-parameter-build.dynamodb.{operation}", unique_id=f"reads-{operation}")

    assert failed == []
    assert reads == ["BatchGetItem"]
    assert {world.record(job).status for job in jobs} == {"submitted"}


def test_a_first_key_whose_newer_version_failed_still_goes_on_chain(worlds):
    world = worlds()
    v1 = world.new_key(enqueue=False)
    v2 = world.new_key(v1.wallet, 2, enqueue=False)
    assert (
        world.records.set_statuses([StatusChange(v2.wallet, 2, "failed", (STATUS_QUEUED,), (("error", "gave up"),))])
        == []
    )
    world.queue.enqueue(v1)

    world.settle(world.worker(), world.monitor())

    assert world.record(v1).status == "confirmed"
    assert world.chain.get_key(v1.wallet) == v1.cid


def test_a_revocation_goes_out_right_after_its_key_in_nonce_order(worlds):
    world = worlds()
    key = world.new_key()
    revocation = world.new_revocation(key)

    world.settle(world.worker(), world.monitor())

    set_item, revoke_item = world.txs.between(0, 10)
    assert (set_item.kind, revoke_item.kind) == ("set", "revoke")
    assert revoke_item.nonce == set_item.nonce + 1
    assert world.chain.key_of(key.wallet) == (world.digest(key), True)
    assert world.record(key).status == world.record(revocation).status == "confirmed"


def test_a_revocation_waits_in_the_queue_until_its_key_is_on_its_way(worlds):
    world = worlds()
    key = world.new_key(enqueue=False)
    revocation = world.new_revocation(key)
    worker = world.worker()

    failed = world.deliver(worker)

    assert len(failed) == 1
    assert world.record(revocation).status == STATUS_QUEUED
    assert world.chain.mined_nonce(world.owner) == 0

    world.queue.enqueue(key)
    world.settle(worker, world.monitor())
    assert world.chain.key_of(key.wallet) == (world.digest(key), True)
    assert world.record(revocation).status == "confirmed"


# ---------------------------------------------------------------- exactly once


def test_a_job_delivered_three_times_in_a_batch_and_again_later_is_sent_once(worlds):
    world = worlds()
    job = world.new_key()
    world.queue.enqueue(job)
    world.queue.enqueue(job)
    worker, monitor = world.worker(), world.monitor()

    world.settle(worker, monitor)
    world.queue.enqueue(job)  # redelivered after it was confirmed
    world.settle(worker, monitor)

    assert [version for _, _, version in world.key_updates(job.wallet)] == [1]
    assert world.chain.mined_nonce(world.owner) == 1
    assert world.record(job).status == "confirmed"


def test_a_job_whose_worker_died_after_broadcasting_before_its_database_write_is_not_sent_twice(worlds):
    world = worlds()
    job = world.new_key()
    worker = world.worker()
    raw = world.receive()
    batch = worker.plan(world.messages(raw))
    worker.prepare(batch)  # claimed, signed, stored
    (item,) = world.txs.between(0, 10)
    assert world.chain.send(item.raw).accepted  # broadcast (and mined: automine) ... and the worker dies here,
    world.ack(raw, failed_ids=[m["MessageId"] for m in raw])  # before it could ack the message: it comes back

    world.settle(world.worker(), world.monitor())

    assert world.chain.mined_nonce(world.owner) == 1
    assert [version for _, _, version in world.key_updates(job.wallet)] == [1]
    assert (world.record(job).status, world.record(job).tx_hash) == ("confirmed", item.latest.tx_hash)


def test_a_job_whose_worker_died_before_broadcasting_is_sent_with_the_stored_bytes(worlds):
    world = worlds(automine=False)
    job = world.new_key()
    worker = world.worker()
    raw = world.receive()
    worker.prepare(worker.plan(world.messages(raw)))  # claimed, signed, stored ... and the worker dies
    (item,) = world.txs.between(0, 10)
    world.ack(raw, failed_ids=[m["MessageId"] for m in raw])

    assert world.deliver(world.worker()) == []

    assert world.chain.known(item.latest.tx_hash)
    assert world.txs.get(item.nonce).attempts == item.attempts  # the same bytes: never signed again
    world.mine()
    world.monitor().run_once()
    assert world.record(job).status == "confirmed"


# ---------------------------------------------------------------- refusals, pauses, poison


def test_a_key_the_contract_refuses_fails_at_once_with_the_reason_and_the_rest_of_the_batch_goes_out(worlds):
    world = worlds()
    good = world.new_key()
    zero = "0x0000000000000000000000000000000000000000"
    document = json.dumps({"wallet": zero})
    world.records.create(Record(zero, 1, cid_for_bytes(document.encode()), document, STATUS_QUEUED, 1, 1))
    bad = Job(zero, 1, cid_for_bytes(document.encode()))
    world.queue.enqueue(bad)

    failed = world.deliver(world.worker())
    world.monitor().run_once()

    assert failed == []
    assert (world.record(bad).status, world.record(bad).error) == (
        "failed",
        "contract refused the write: ZeroAddress()",
    )
    assert world.record(good).status == "confirmed"


def _give_the_contract_to(world, address):
    world.anvil.rpc("anvil_setStorageAt", [world.registry_address, "0x0", "0x" + address[2:].lower().rjust(64, "0")])


def test_a_worker_whose_signer_is_not_the_owner_pauses_at_start_and_leaves_every_job_queued(worlds):
    # Given a contract owned by another address (a wrong KMS_KEY_ID, a rotation done in the wrong order)
    world = worlds()
    job = world.new_key()
    _give_the_contract_to(world, DEV_ACCOUNTS[1][0])
    worker = world.worker()

    # When a worker starts and gets the job
    failed = world.deliver(worker)

    # Then nothing fails: the worker pauses itself, with the reason, and the job stays queued
    assert len(failed) == 1 and world.queued() == 1
    assert world.record(job).status == STATUS_QUEUED
    pause = WorkerControl(world.table).state()
    assert (pause.paused, pause.by) == (True, "worker") and pause.reason.startswith("NotOwner")
    assert worker.telemetry.value("WorkerPaused") >= 1
    assert world.chain.mined_nonce(world.owner) == 0 and world.txs.between(0, 10) == []

    # And once the owner is right and an operator resumes it, the job goes on chain
    _give_the_contract_to(world, world.owner)
    WorkerControl(world.table).resume(by="ops", now=0)
    world.settle(worker, world.monitor())
    assert world.record(job).status == "confirmed"


def test_a_not_owner_refusal_while_running_pauses_the_worker_instead_of_failing_the_batch(worlds):
    world = worlds()
    worker = world.worker()
    world.new_key()
    world.settle(worker, world.monitor())  # started (and checked the owner) while it was the owner
    jobs = [world.new_key() for _ in range(3)]
    _give_the_contract_to(world, DEV_ACCOUNTS[1][0])

    failed = world.deliver(worker)

    assert len(failed) == 3
    assert {world.record(job).status for job in jobs} == {STATUS_QUEUED}
    assert WorkerControl(world.table).state().reason == f"contract refused the write: NotOwner({world.owner.lower()})"


def test_a_paused_worker_never_pushes_a_job_into_the_dead_letter_queue(worlds):
    world = worlds(max_receive_count=2)
    job = world.new_key()
    WorkerControl(world.table).pause("maintenance", by="ops", now=0)
    worker = world.worker(max_receive_count=2)

    for _ in range(4):
        world.deliver(worker)

    assert world.dead_letters() == [] and world.queued() == 1
    assert world.record(job).status == STATUS_QUEUED
    WorkerControl(world.table).resume(by="ops", now=0)
    world.settle(worker, world.monitor())
    assert world.record(job).status == "confirmed"


def test_the_last_delivery_fails_only_the_jobs_own_record_never_one_a_live_transaction_carries(worlds):
    # Given a key on its way at a live nonce
    world = worlds(automine=False, max_receive_count=1)
    job = world.new_key()
    assert world.deliver(world.worker(max_receive_count=1)) == []
    claimed = world.record(job)
    assert claimed.status == "submitted"
    # When a job naming the same (wallet, version) with another CID arrives on its last delivery
    impostor = Job(job.wallet, job.version, cid_for_bytes(b"another document"))
    world.queue.enqueue(impostor)
    world.deliver(world.worker(max_receive_count=1))
    # Then the record keeps its claim: the give-up write is conditional on the record's CID and nonce
    after = world.record(job)
    assert (after.status, after.nonce, after.cid) == ("submitted", claimed.nonce, job.cid)
    world.mine()
    world.monitor().run_once()
    assert world.record(job).status == "confirmed"


def test_an_owner_that_cannot_pay_pauses_the_worker_and_leaves_the_jobs_queued(worlds):
    world = worlds()
    jobs = [world.new_key() for _ in range(3)]
    world.anvil.rpc("anvil_setBalance", [world.owner, "0x0"])
    worker = world.worker()

    failed = world.deliver(worker)

    assert len(failed) == 3
    assert world.queued() == 3
    assert world.nonces.counter().next == 0 and world.txs.between(0, 10) == []
    assert {world.record(job).status for job in jobs} == {STATUS_QUEUED}
    assert world.record(jobs[0]).error.startswith("paused: the owner holds 0 wei")
    assert worker.telemetry.value("OwnerBalanceEth") == 0 and worker.telemetry.value("WorkerPaused") == 1

    world.anvil.rpc("anvil_setBalance", [world.owner, hex(10**18)])
    world.settle(worker, world.monitor())
    assert {world.record(job).status for job in jobs} == {"confirmed"}


def test_a_long_pause_never_pushes_a_job_into_the_dead_letter_queue(worlds):
    world = worlds(max_receive_count=2)
    job = world.new_key()
    world.anvil.rpc("anvil_setBalance", [world.owner, "0x0"])
    worker = world.worker(max_receive_count=2)

    for _ in range(4):
        world.deliver(worker)

    assert world.dead_letters() == [] and world.queued() == 1
    world.anvil.rpc("anvil_setBalance", [world.owner, hex(10**18)])
    world.settle(worker, world.monitor())
    assert world.record(job).status == "confirmed"


def test_a_poison_job_ends_in_the_dead_letter_queue_with_its_record_failed_and_the_reason_kept(worlds):
    world = worlds(max_receive_count=2)
    good = world.new_key()
    poison = Job("0x" + "ab" * 20, 1, "bafy-not-a-raw-cid")  # a record whose CID the contract's form cannot hold
    world.records.create(Record(poison.wallet, 1, poison.cid, json.dumps({"poison": True}), STATUS_QUEUED, 1, 1))
    world.queue.enqueue(poison)
    loop = world.loop(world.worker(max_receive_count=2), world.monitor())

    assert loop.poll_once() == 2  # both in one batch: the good one is deleted, the poison one comes back
    assert world.record(good).status == "confirmed"
    assert world.record(poison).status == STATUS_QUEUED and "InvalidCid" in world.record(poison).error
    assert loop.poll_once() == 1  # its last delivery
    assert loop.poll_once() == 0  # SQS moved it to the dead-letter queue

    assert [json.loads(m["Body"]) for m in world.dead_letters()] == [json.loads(poison.to_body())]
    record = world.record(poison)
    assert record.status == "failed"
    assert record.error.startswith("gave up after 2 deliveries: InvalidCid")


def test_the_lambda_handler_reports_only_the_failed_jobs_as_batch_item_failures(worlds):
    world = worlds()
    good = world.new_key()
    missing = Job("0x" + "cd" * 20, 1, good.cid)
    world.queue.enqueue(missing)  # no record behind it
    raw = world.receive()

    answer = process_jobs(world.worker(), lambda_sqs_event(raw, world.outputs["JobsQueueArn"])["Records"])

    missing_id = next(m["MessageId"] for m in raw if json.loads(m["Body"])["wallet"] == missing.wallet)
    assert answer == {"batchItemFailures": [{"itemIdentifier": missing_id}]}


# ---------------------------------------------------------------- observability and cold start


def test_worker_metrics_are_published_as_emf_under_the_registry_namespace(worlds, capsys, monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    world = worlds()
    world.new_key()
    raw = world.receive()

    process_jobs(world.worker(), lambda_sqs_event(raw, world.outputs["JobsQueueArn"])["Records"])

    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    (emf,) = documents
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "DMTPKeyRegistry" and [sorted(d) for d in directive["Dimensions"]] == [
        ["service", "stage"]
    ]
    assert (emf["service"], emf["stage"]) == ("dmtp-key-registry", "local")
    assert {"RegistrationsSubmitted", "OwnerBalanceEth", "QueueAgeSeconds"} <= {m["Name"] for m in directive["Metrics"]}
    assert emf["RegistrationsSubmitted"] == [1.0]


def test_importing_the_app_loads_neither_web3_nor_eth_account():
    code = "import sys, app; print(sorted(m for m in ('web3', 'eth_account', 'aws_lambda_powertools') if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=True
    )

    assert result.stdout.strip() == "[]"


def test_a_message_also_held_by_a_worker_that_reserved_a_nonce_for_its_job_is_not_deleted_under_it(worlds):
    """One SQS message is held by two workers once a batch outlives its visibility timeout. Worker B reserved a nonce
    for the job and claimed its record, but has not stored the transaction; worker A gets the same message. A must
    not delete it: B may step back (its order check) and count on that message coming back. Found in the chaos
    soak: two revocations stayed queued with no message left."""
    world = worlds()
    job = world.new_key()
    (held_by_b,) = world.receive()
    (reserved,) = world.nonces.reserve([(job,)], "worker-b", lambda: world.chain.pending_nonce(world.owner))
    claim = (("nonce", reserved.nonce), ("tx_hash", "0x" + "00" * 32))
    assert (
        world.records.set_statuses([StatusChange(job.wallet, job.version, "submitted", ("pinned", "queued"), claim)])
        == []
    )
    world.sqs.change_message_visibility(
        QueueUrl=world.queue.url, ReceiptHandle=held_by_b["ReceiptHandle"], VisibilityTimeout=0
    )

    failed = world.deliver(world.worker())  # worker A, the same message

    assert failed == [held_by_b["MessageId"]] and world.queued() == 1
    # Worker B steps back: the record is released and the nonce given back; only that message brings the job back.
    assert (
        world.records.set_statuses(
            [StatusChange(job.wallet, job.version, STATUS_QUEUED, ("submitted",), (), reserved.nonce)]
        )
        == []
    )
    assert world.nonces.release(reserved)
    world.settle(world.worker(), world.monitor())
    assert world.record(job).status == "confirmed" and len(world.key_updates(job.wallet)) == 1
