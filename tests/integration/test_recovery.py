"""Operators' recovery commands (infra/recovery.py) and the sweeper (chalicelib/chain/sweeper.py) on moto and Anvil."""

import json

from chalicelib.chain.sweeper import Sweeper, SweeperPolicy
from chalicelib.model import STATUS_FAILED, STATUS_QUEUED, StatusChange
from infra.recovery import Recovery, RecoveryNames, main


def recovery_for(world):
    return Recovery(world.records, world.queue, world.sqs, world.outputs["JobsDeadLetterQueueUrl"].rsplit("/", 1)[-1])


def fail(world, job, error):
    """As the worker's last delivery (or an old NotOwner revert) leaves a record."""
    assert (
        world.records.set_statuses(
            [
                StatusChange(
                    job.wallet, job.version, STATUS_FAILED, ("pinned", "queued", "submitted"), (("error", error),)
                )
            ]
        )
        == []
    )


def test_requeue_failed_by_reason_sends_those_registrations_on_chain_and_leaves_the_others(worlds):
    world = worlds()
    stranded = world.new_key(enqueue=False)
    other = world.new_key(enqueue=False)
    fail(world, stranded, "contract refused the write: NotOwner(0xabc)")
    fail(world, other, "contract refused the write: ZeroAddress()")

    done = recovery_for(world).requeue_failed(reason="notowner")

    assert done == [(stranded.wallet, 1)]
    assert world.record(stranded).status == STATUS_QUEUED and world.record(stranded).error.startswith(
        "re-queued by an operator: contract refused"
    )
    world.settle(world.worker(), world.monitor())
    assert world.record(stranded).status == "confirmed" and world.chain.get_key(stranded.wallet) == stranded.cid
    assert world.record(other).status == STATUS_FAILED


def test_requeue_failed_by_wallet_and_all(worlds):
    world = worlds()
    first, second = world.new_key(enqueue=False), world.new_key(enqueue=False)
    fail(world, first, "gave up after 5 deliveries: x")
    fail(world, second, "gave up after 5 deliveries: y")

    assert recovery_for(world).requeue_failed(wallet=first.wallet) == [(first.wallet, 1)]
    assert world.record(second).status == STATUS_FAILED
    assert recovery_for(world).requeue_failed() == [(second.wallet, 1)]
    world.settle(world.worker(), world.monitor())
    assert {world.record(first).status, world.record(second).status} == {"confirmed"}


def test_redrive_dlq_processes_the_dead_letters_again_instead_of_only_acknowledging_them(worlds):
    # Given a job that went to the dead-letter queue with its record failed (its last delivery gave up)
    world = worlds()
    job = world.new_key(enqueue=False)
    fail(world, job, "gave up after 5 deliveries: the chain was unreachable")
    world.sqs.send_message(QueueUrl=world.outputs["JobsDeadLetterQueueUrl"], MessageBody=job.to_body())
    world.sqs.send_message(QueueUrl=world.outputs["JobsDeadLetterQueueUrl"], MessageBody="not a job")

    summary = recovery_for(world).redrive_dlq()

    assert summary["moved"] == 1 and summary["requeued"] == [[job.wallet, 1]] and len(summary["notJobs"]) == 1
    world.settle(world.worker(), world.monitor())
    assert world.record(job).status == "confirmed" and world.chain.get_key(job.wallet) == job.cid


def test_the_recovery_command_line_uses_the_stages_names(stack, capsys, monkeypatch):
    names = RecoveryNames.for_stage("local")
    assert names == RecoveryNames(
        "dmtp-registry-local-records", "dmtp-registry-local-jobs", "dmtp-registry-local-jobs-dlq"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", stack.aws_endpoint)
    assert main(["--stage", "local", "requeue-failed", "--wallet", "0x" + "9f" * 20]) == 0
    assert json.loads(capsys.readouterr().out) == {"requeued": []}


def test_the_sweeper_sends_a_record_left_pinned_and_one_claimed_at_a_dead_nonce_on_chain(worlds):
    world = worlds()
    pinned = world.new_key(enqueue=False)  # the API stored it, the enqueue failed
    world.records.set_statuses([StatusChange(pinned.wallet, 1, "pinned", (STATUS_QUEUED,))])
    claimed = world.new_key(enqueue=False)  # claimed at a nonce that never carried it, its message gone
    world.records.set_statuses([StatusChange(claimed.wallet, 1, "submitted", (STATUS_QUEUED,), (("nonce", 77),))])
    sweeper = Sweeper(world.records, world.txs, world.queue, SweeperPolicy(stale_after_s=-5), control=world.control)

    report = sweeper.run_once()

    assert report.requeued == 2
    assert world.record(pinned).status == world.record(claimed).status == STATUS_QUEUED
    world.settle(world.worker(), world.monitor())
    assert world.record(pinned).status == world.record(claimed).status == "confirmed"


def test_the_sweeper_leaves_a_transaction_in_flight_to_the_monitor(worlds):
    world = worlds(automine=False)
    job = world.new_key()
    world.deliver(world.worker())

    report = Sweeper(
        world.records, world.txs, world.queue, SweeperPolicy(stale_after_s=-5), control=world.control
    ).run_once()

    assert report.left >= 1 and world.record(job).status == "submitted" and world.queued() == 0
