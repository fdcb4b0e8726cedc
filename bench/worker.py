"""Benchmark of the chain worker: `python -m bench.worker --json`.

Brings up the local stack without the HTTP API (moto with infra/template.yaml, Anvil mining a block every
--block-time seconds, the contract owned by the KMS key), creates N registrations directly (records through
RecordStore.create, as the API stores them, and jobs on the SQS queue: the HTTP API, its signature checks and
the pinning are bypassed and not timed), then times queue -> worker -> chain -> confirmed:

- production: --workers concurrent ChainWorkers (Lambda's reserved concurrency), each fed SQS batches of
  --batch-size through the local stack's stand-in for Lambda's poller (which, like Lambda's, gathers the next
  batch and deletes the finished one while the handler runs), pipelining transactions with consecutive nonces
  into each block, and the monitor confirming them (CONFIRMATIONS from the local stage);
- naive: on a --naive-n subset in the same run, one setKey transaction per message, waiting for its receipt
  before taking the next message.

Prints one JSON object on stdout; progress goes to stderr. Not part of the test suite.
"""

import argparse
import json
import logging
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # run() imports bench.parts where it is used; here it is a type only
    from bench.parts import Parts

SEED_ADD_KEY_GAS = 92_031  # the seed contract's addKey(address,string) for a new key, measured on Anvil


def main(argv: list[str] | None = None) -> int:
    from devstack.stack import stage_environment

    parser = argparse.ArgumentParser(
        prog="python -m bench.worker", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--json", action="store_true", help="print the result as one JSON object (the only output on stdout)"
    )
    parser.add_argument(
        "-n", "--n", type=int, default=2000, help="registrations through the production worker (default 2000)"
    )
    parser.add_argument("--naive-n", type=int, default=20, help="registrations through the naive worker (default 20)")
    parser.add_argument("--block-time", type=float, default=1.0)
    stage = stage_environment("local")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=int(stage["JOB_BATCH_SIZE"]),
        help="SQS messages per worker invocation (default: the local stage's JOB_BATCH_SIZE)",
    )
    parser.add_argument(
        "--batch-window",
        type=float,
        default=float(stage["JOB_BATCH_WINDOW_S"]),
        help="seconds the poller waits to fill a batch (default: the local stage's JOB_BATCH_WINDOW_S)",
    )
    parser.add_argument("--workers", type=int, default=2, help="concurrent worker invocations")
    parser.add_argument(
        "--moto-in-process",
        action="store_true",
        help="run moto inside the benchmark's process, as the tests do (default: a process of its own, so moto "
        "and the worker do not share one GIL)",
    )
    args = parser.parse_args(argv)
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # EMF lines would go to stdout
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")

    from devstack.stack import LocalStack

    with LocalStack(
        with_api=False, with_worker=False, block_time=args.block_time, moto_in_process=args.moto_in_process
    ) as stack:
        result = run(stack, args)
    result["moto"] = "in the benchmark's process" if args.moto_in_process else "a process of its own"
    print(json.dumps(result) if args.json else json.dumps(result, indent=2), flush=True)
    return 0


def progress(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def run(stack: Any, args: argparse.Namespace) -> dict[str, Any]:
    import boto3

    from bench.aws_tally import AwsTally
    from bench.naive import NaiveWorker
    from bench.parts import Parts

    tally = AwsTally()
    tally.install(boto3._get_default_session().events)  # every client the run makes from here on
    parts = Parts.from_environment()
    progress(f"stack up: Anvil block time {args.block_time} s, owner {parts.signer.address}")
    production = create_registrations(parts, args.n, enqueue=True)
    naive_jobs = create_registrations(parts, args.naive_n, enqueue=False)
    progress(f"{args.n} + {args.naive_n} registrations stored, {args.n} jobs queued")

    tally.reset()
    elapsed, _transactions = run_production(parts, stack, args, args.n)
    production_requests = tally.per(args.n)
    progress(f"production: {args.n} confirmed in {elapsed:.1f} s")
    statuses = parts.statuses(production)
    assert statuses == {"confirmed": args.n}, statuses
    counter = parts.nonces.counter()
    assert counter is not None  # the production run reserved nonces
    items = [item for item in parts.txs.between(0, counter.next - 1) if item.kind == "set"]
    keys_sent = sum(len(item.entries) for item in items)
    gas_batched = sum(item.gas_used or 0 for item in items) / keys_sent

    naive_start_block = parts.chain.head()
    naive = NaiveWorker(parts)
    naive_elapsed, receipts = naive.run(naive_jobs)
    progress(f"naive: {len(naive_jobs)} confirmed in {naive_elapsed:.1f} s")
    assert parts.statuses(naive_jobs) == {"confirmed": len(naive_jobs)}

    anchor = anchor_gas(parts, 100)
    progress(f"log anchor: +{anchor['log_anchor_gas_per_registration']} gas per registration at 100 keys")
    per_block: dict[int, int] = {}
    for item in items:
        assert item.block_number is not None  # confirmed (checked above): mined
        per_block[item.block_number] = per_block.get(item.block_number, 0) + 1
    log = parts.records.log
    assert log is not None  # Parts.from_environment gives the record store the transparency log
    return {
        "gas_single": statistics.median(r.gas_used for r in receipts),
        "gas_per_registration_batched": round(gas_batched, 1),
        "registrations_per_s": round(args.n / elapsed, 1),
        "naive_registrations_per_s": round(len(naive_jobs) / naive_elapsed, 2),
        "seed_add_key_gas": SEED_ADD_KEY_GAS,
        **anchor,
        "aws_per_registration": production_requests,
        "log_size": log.head().size,
        "log_anchored_size": parts.chain.anchored_log_head()[0],
        "n": args.n,
        "naive_n": len(naive_jobs),
        "batch_size": args.batch_size,
        "batch_window_s": args.batch_window,
        "workers": args.workers,
        "block_time": args.block_time,
        "confirmations": parts.settings.confirmations,
        "elapsed_s": round(elapsed, 2),
        "naive_elapsed_s": round(naive_elapsed, 2),
        "transactions": len(items),
        "keys_per_transaction": round(keys_sent / len(items), 1),
        "max_transactions_per_block": max(per_block.values()),
        "naive_first_block": naive_start_block,
        "input": "records via RecordStore.create and jobs via SQS SendMessageBatch: the HTTP API is bypassed",
        "timed": "from the first poll of a full queue until the monitor has confirmed every registration",
    }


def anchor_gas(parts: "Parts", keys: int) -> dict[str, Any]:
    """What anchoring the transparency log adds (issue 13), by eth_estimateGas on the chain as the run left it (a
    head already anchored: the steady state): setKeysAnchored minus setKeys for `keys` fresh keys, per key, and
    the same for one key (setKeysAnchored minus setKey); and the monitor's anchor-only transaction."""
    import os

    from eth_account import Account

    from chalicelib.model import JOB_SET_KEY, Job
    from dmtp_protocol.cid import cid_for_bytes

    jobs = [Job(Account.create().address, 1, cid_for_bytes(os.urandom(40)), JOB_SET_KEY) for _ in range(keys)]
    size, _ = parts.chain.anchored_log_head()
    head = (size + 1, os.urandom(32))  # larger than the stored head: stored and emitted, as in production
    owner = parts.signer.address

    def gas(batch: list[Job], anchored: bool) -> int:
        return parts.chain.estimate(
            owner, parts.chain.set_keys_data(batch, head=head if anchored else None, anchor=anchored)
        )

    batched_plain, batched_anchored = gas(jobs, False), gas(jobs, True)
    single_plain, single_anchored = gas(jobs[:1], False), gas(jobs[:1], True)
    return {
        "log_anchor_gas_per_registration": round((batched_anchored - batched_plain) / keys, 1),
        "log_anchor_batch": keys,
        "gas_per_registration_anchored_estimate": round(batched_anchored / keys, 1),
        "gas_single_anchored": single_anchored,
        "log_anchor_gas_single": single_anchored - single_plain,
        "gas_anchor_only": gas([], True),  # the monitor's setKeysAnchored of no keys (issue 22)
        "log_anchor_measured": (
            "eth_estimateGas of setKeysAnchored minus setKeys (setKey for one) on the same state, a head already anchored"
        ),
    }


def create_registrations(parts: Any, count: int, enqueue: bool) -> list[Any]:
    from bench.parts import new_registration

    with ThreadPoolExecutor(max_workers=4) as pool:
        jobs = list(pool.map(lambda _: new_registration(parts.records), range(count)))
    if enqueue:
        parts.enqueue(jobs)
    return jobs


def run_production(parts: Any, stack: Any, args: argparse.Namespace, count: int) -> tuple[float, int]:
    from chalicelib.chain.lambdas import process_jobs
    from devstack.worker_loop import WorkerLoop

    monitor = parts.monitor()
    loops = []
    for _ in range(args.workers):
        worker = parts.worker()
        loops.append(
            WorkerLoop(
                stack.aws_endpoint,
                parts.settings.jobs_queue_name,
                retry_after_s=1,
                batch_size=args.batch_size,
                batch_window_s=args.batch_window,
                handler=lambda event, context, worker=worker: process_jobs(worker, event["Records"], context),
            )
        )
    done = threading.Event()
    confirmed = 0
    errors: list[BaseException] = []

    def poll(loop: Any) -> None:
        try:
            loop.run_pipelined(done)
        except BaseException as exc:
            errors.append(exc)
            done.set()

    started = time.monotonic()
    threads = [threading.Thread(target=poll, args=(loop,), daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    deadline = started + max(120.0, count / 10)
    while confirmed < count and not errors and time.monotonic() < deadline:
        confirmed += monitor.run_once().confirmed
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    done.set()
    for thread in threads:
        thread.join(timeout=30)
    if errors:
        raise errors[0]
    if confirmed < count:
        raise RuntimeError(f"only {confirmed} of {count} confirmed before the deadline")
    return elapsed, confirmed


if __name__ == "__main__":
    sys.exit(main())
