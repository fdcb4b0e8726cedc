"""Operators' recovery commands (infra/recovery.py) and the sweeper (chalicelib/chain/sweeper.py) on moto and Anvil,
with the records' open index (chalicelib/adapters/records.py) it reads."""

import json
from dataclasses import replace

from boto3.dynamodb.conditions import Key

from chalicelib.adapters.records import OPEN_INDEX, OPEN_SHARDS, open_shard
from chalicelib.chain.sweeper import Sweeper, SweeperPolicy
from chalicelib.model import STATUS_FAILED, STATUS_QUEUED, StatusChange
from infra.recovery import Recovery, RecoveryNames, main
from tests.support.aws_calls import DYNAMODB_WRITES, AwsCall, recorded_aws_calls


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


# ---------------------------------------------------------------------------------------------- the open index


def open_keys(world) -> set[tuple[str, int]]:
    """(wallet, version) of every record the open index holds, read shard by shard."""
    found = set()
    for shard in range(OPEN_SHARDS):
        answer = world.records_table.query(IndexName=OPEN_INDEX, KeyConditionExpression=Key("openShard").eq(shard))
        found |= {(item["wallet"], int(item["version"])) for item in answer["Items"]}
    return found


def stored_item(world, job) -> dict:
    return world.records_table.get_item(
        Key={"wallet": job.wallet.lower(), "version": job.version}, ConsistentRead=True
    )["Item"]


def sweeper_of(world, records_per_pass: int = 500) -> Sweeper:
    """A sweeper for which every open record is stranded (the threshold is in the future)."""
    return Sweeper(
        world.records,
        world.txs,
        world.queue,
        SweeperPolicy(stale_after_s=-5, records_per_pass=records_per_pass),
        control=world.control,
    )


def test_a_record_is_in_the_open_index_from_its_creation_until_it_is_confirmed(worlds):
    world = worlds()
    job = world.new_key()  # RecordStore.create, as the API stores a registration

    assert stored_item(world, job)["openShard"] == open_shard(job.wallet)
    assert open_keys(world) == {(job.wallet.lower(), 1)}

    world.deliver(world.worker())  # claimed and sent: submitted, still open
    submitted = world.record(job)
    assert submitted.status == "submitted" and open_keys(world) == {(job.wallet.lower(), 1)}
    (found,), _ = world.records.open_page(submitted.updated_at + 1, None, 10)
    assert found == replace(submitted, document="", tx_hash=None)  # what the index projects: not txHash

    world.settle(world.worker(), world.monitor())

    assert world.record(job).status == "confirmed"
    assert "openShard" not in stored_item(world, job)
    assert open_keys(world) == set()


def test_the_sweepers_read_is_one_query_of_each_shard_of_the_open_index_and_never_a_scan(worlds):
    world = worlds()
    pinned = world.new_key(enqueue=False)
    world.records.set_statuses([StatusChange(pinned.wallet, 1, "pinned", (STATUS_QUEUED,))])
    records_table = world.outputs["RecordsTableName"]

    with recorded_aws_calls() as calls:
        report = sweeper_of(world).run_once()

    assert report.found == report.requeued == 1
    reads = [c for c in calls if c.tables == (records_table,) and c.operation not in DYNAMODB_WRITES]
    assert reads == [AwsCall("dynamodb", "Query", (records_table,), OPEN_INDEX)] * OPEN_SHARDS
    assert not [c for c in calls if c.operation == "Scan"]


def test_a_sweep_stops_at_records_per_pass_and_the_next_goes_on_from_its_cursor(worlds):
    # Given three queued records the sweeper reads but leaves alone (the worker is paused)
    world = worlds()
    jobs = [world.new_key(enqueue=False) for _ in range(3)]
    world.control.pause("test", "test", 0)
    sweeper = sweeper_of(world, records_per_pass=2)

    reports = [sweeper.run_once() for _ in range(3)]

    assert [(r.found, r.left, r.more) for r in reports] == [(2, 2, True), (1, 1, False), (2, 2, True)]
    assert all(world.record(job).status == STATUS_QUEUED for job in jobs) and world.queued() == 0


def test_backfill_puts_old_open_records_in_the_open_index_and_takes_final_ones_out(
    worlds, tmp_path, monkeypatch, capsys
):
    # Given an open record as written before the index existed (no openShard), a failed one as code from before the
    # index left it during the deploy (openShard kept), and one written since
    world = worlds()
    legacy_open, legacy_failed, indexed = (world.new_key(enqueue=False) for _ in range(3))
    fail(world, legacy_failed, "gave up")
    world.records_table.update_item(
        Key={"wallet": legacy_open.wallet.lower(), "version": 1}, UpdateExpression="REMOVE openShard"
    )
    world.records_table.update_item(
        Key={"wallet": legacy_failed.wallet.lower(), "version": 1},
        UpdateExpression="SET openShard = :shard",
        ExpressionAttributeValues={":shard": open_shard(legacy_failed.wallet)},
    )
    assert open_keys(world) == {(legacy_failed.wallet.lower(), 1), (indexed.wallet.lower(), 1)}
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "stages": {
                    world.stage: {
                        "environment_variables": {
                            "RECORDS_TABLE": world.outputs["RecordsTableName"],
                            "JOBS_QUEUE_NAME": world.outputs["JobsQueueName"],
                        }
                    }
                }
            }
        )
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", world.endpoint)
    command = ["--stage", world.stage, "--config", str(config), "backfill-open-index"]

    assert main(command) == 0

    assert json.loads(capsys.readouterr().out) == {"indexed": 1, "unindexed": 1}
    assert open_keys(world) == {(legacy_open.wallet.lower(), 1), (indexed.wallet.lower(), 1)}
    assert main(command) == 0 and json.loads(capsys.readouterr().out) == {"indexed": 0, "unindexed": 0}
