"""Two workers at once (threads), one owner key: every (wallet, version) on chain exactly once, a wallet's versions
in order, and no nonce left as a hole."""

import threading

from chalicelib.chain.worker import QueueMessage


def run_together(*calls):
    """Start every call at the same moment on its own thread; re-raise the first error."""
    barrier, errors = threading.Barrier(len(calls)), []

    def run(call):
        barrier.wait()
        try:
            call()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]


def as_message(job, message_id: str) -> QueueMessage:
    return QueueMessage(message_id, job.to_body())


def settle_chain(world) -> None:
    monitor = world.monitor()
    for _ in range(5):
        if monitor.run_once().in_flight == 0:
            return


def test_two_workers_given_overlapping_batches_put_each_job_on_chain_exactly_once(worlds):
    world = worlds()
    jobs = [world.new_key(enqueue=False) for _ in range(30)]
    first = [as_message(job, f"a{i}") for i, job in enumerate(jobs[:20])]
    second = [as_message(job, f"b{i}") for i, job in enumerate(jobs[10:])]  # ten jobs reach both workers
    a, b = world.worker(), world.worker()

    run_together(lambda: a.handle(first), lambda: b.handle(second))
    settle_chain(world)

    assert sorted((w.lower(), v) for w, _, v in world.key_updates()) == sorted((j.wallet.lower(), 1) for j in jobs)
    assert {world.record(job).status for job in jobs} == {"confirmed"}
    assert world.chain.mined_nonce(world.owner) == world.nonces.counter().next  # no hole, nothing stuck


def test_two_workers_given_the_very_same_batch_send_one_transaction_per_job(worlds):
    world = worlds()
    jobs = [world.new_key(enqueue=False) for _ in range(10)]
    messages = [as_message(job, f"m{i}") for i, job in enumerate(jobs)]
    a, b = world.worker(), world.worker()

    run_together(lambda: a.handle(messages), lambda: b.handle(messages))
    settle_chain(world)

    assert len(world.key_updates()) == 10
    assert {world.record(job).status for job in jobs} == {"confirmed"}
    assert world.chain.mined_nonce(world.owner) == world.nonces.counter().next


def test_a_wallets_newer_key_racing_an_older_one_on_another_worker_ends_on_chain(worlds):
    world = worlds()
    olds = [world.new_key(enqueue=False) for _ in range(8)]
    news: list = []
    a, b = world.worker(), world.worker()

    def newer_versions_arrive():
        news.extend(world.new_key(old.wallet, 2, enqueue=False) for old in olds)
        b.handle([as_message(job, f"n{i}") for i, job in enumerate(news)])

    run_together(lambda: a.handle([as_message(job, f"o{i}") for i, job in enumerate(olds)]), newer_versions_arrive)
    for _ in range(3):  # a newer key that stepped back for an older one in flight is delivered again
        pending = [job for job in news if world.record(job).status == "queued"]
        if pending:
            b.handle([as_message(job, f"r{i}") for i, job in enumerate(pending)])
        settle_chain(world)

    for old, new in zip(olds, news, strict=True):
        assert world.chain.get_key(old.wallet) == new.cid
        assert world.record(new).status == "confirmed"
        assert world.record(old).status in ("confirmed", "superseded")
        assert [v for _, _, v in world.key_updates(old.wallet)][-1] == 2


def test_an_older_key_claimed_after_a_newer_one_went_to_an_earlier_nonce_steps_back(worlds):
    world = worlds()
    old = world.new_key(enqueue=False)
    a, b = world.worker(), world.worker()
    planned = a.plan([as_message(old, "old")])  # worker A read the records before version 2 existed
    new = world.new_key(old.wallet, 2, enqueue=False)
    assert b.handle([as_message(new, "new")]) == []  # worker B sends version 2 at nonce 0

    a.prepare(planned)  # A claims version 1 at nonce 1, then sees version 2 at nonce 0
    a.broadcast(planned)
    a.record(planned)
    settle_chain(world)

    assert world.record(old).status == "superseded"
    assert [v for _, _, v in world.key_updates(old.wallet)] == [2]
    assert world.chain.mined_nonce(world.owner) == world.nonces.counter().next


def test_of_two_workers_that_planned_the_same_jobs_one_claims_them_and_the_other_gives_its_nonce_back(worlds):
    world = worlds()
    jobs = [world.new_key(enqueue=False) for _ in range(5)]
    messages = [as_message(job, f"m{i}") for i, job in enumerate(jobs)]
    a, b = world.worker(), world.worker()
    plan_a, plan_b = a.plan(messages), b.plan(messages)  # both read the records while they were queued

    a.prepare(plan_a)
    b.prepare(plan_b)  # every claim fails: A's nonce holds the jobs
    for worker, plan in ((a, plan_a), (b, plan_b)):
        worker.broadcast(plan)
        worker.record(plan)
    settle_chain(world)

    (item,) = world.txs.between(0, 10)
    assert (item.nonce, len(item.entries)) == (0, 5)
    assert world.nonces.counter().next == 1  # B's reservation was given back
    assert len(world.key_updates()) == 5
