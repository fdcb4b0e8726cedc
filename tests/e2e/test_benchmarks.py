"""The benchmarks still run end to end and print the figures their issues name (tiny sizes: the figures
themselves are quoted from full runs, never asserted as timings here)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.cfn import REPO_ROOT


def bench(name: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--json", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_bench_api_prints_the_four_ratios_and_a_get_that_writes_nothing():
    figures = bench("api", "--imports", "1", "--colds", "1", "--warm", "2")

    assert all(
        figures[name] > 0 for name in ("import_ratio", "cold_request_ratio", "warm_post_ratio", "warm_get_ratio")
    )
    assert figures["get_dynamodb_requests"] == {"Query": 1}  # reads do not write (no rate-limit counter)


def test_bench_worker_confirms_every_registration_and_prints_gas_and_rate():
    figures = bench("worker", "-n", "200", "--naive-n", "2")

    assert figures["n"] == 200 and figures["keys_per_transaction"] > 1
    assert figures["registrations_per_s"] > 0 and figures["gas_per_registration_batched"] < figures["gas_single"]
    tally = figures["aws_per_registration"]
    assert tally["requests"]["kms.Sign"] < 1  # one signature per transaction of many keys
    assert tally["dynamodb_items_written"]["records"] >= 1  # at least the record's own status changes


def test_bench_burst_gets_every_registration_accepted_over_http_at_each_concurrency():
    figures = bench("burst", "--n", "8", "--clients", "1,4")

    assert set(figures["levels"]) == {"1", "4"}
    for level in figures["levels"].values():
        assert level["first_try_statuses"] == {"202": 8}, level  # fresh wallets, budgets lifted: all accepted at once
        assert level["accepted_per_s"] > 0 and level["p50_ms"] <= level["p99_ms"]
