"""Property-based fuzzing of the HTTP API from its own /openapi.json: `python -m bench.fuzz --cases N --json`.

Brings up the local stack with the API (chalice local, moto, Anvil, the local pinning service; no worker) and runs
schemathesis (`st run`) against it with every check it has (--checks all: not_a_server_error, status code,
content type, headers and response schema conformance, negative_data_rejection, positive_data_acceptance,
unsupported_method, ...), in every phase (examples, coverage, fuzzing, stateful), until at least N requests have
been sent. The per-source rate limit, the per-wallet quota and the daily write budgets are raised for the run
(FUZZ_LIMITS), not switched off: their counters are charged on every request, so that code is exercised too.

Two settings, both stated in bench/fuzz.toml: the Address format (EIP-55, which no pattern can state) is
generated as a wallet spells addresses (bench/fuzz_hooks.py); undeclared methods are probed with the verbs API
Gateway can route (TRACE and QUERY never reach the application: API Gateway has no such methods).

Prints {"cases", "by_status", "server_errors", "non_problem_errors", "check_failures", ...}: every request the
fuzzer sent, from its HAR report. A non_problem_error is a 4xx/5xx whose Content-Type is not
application/problem+json. check_failures is schemathesis' count of failed checks (0 when it passed).
"""

import argparse
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_PATH = REPO_ROOT / "bench" / "fuzz.toml"
HOOKS_MODULE = "bench.fuzz_hooks"
OPERATIONS = 7  # in chalicelib/api/openapi.json
PROBLEM_JSON = "application/problem+json"
HIGH = "1000000000"
FUZZ_LIMITS = {
    "SOURCE_REQUESTS_PER_MINUTE": HIGH,
    "WALLET_WRITES_PER_DAY": HIGH,
    "WRITES_PER_DAY": HIGH,
    "SOURCE_WRITES_PER_DAY": HIGH,
    "NETWORK_WRITES_PER_DAY": HIGH,
    "NETWORK_REQUESTS_PER_MINUTE": HIGH,
    "SOURCE_READS_PER_MINUTE": HIGH,
    "NETWORK_READS_PER_MINUTE": HIGH,
}


def run_schemathesis(
    api_url: str, max_examples: int, seed: int, workers: int, har_path: Path, timeout_s: float
) -> tuple[int, str]:
    """One `st run`; (exit code, its output). Exit code 0: every check passed on every case."""
    st = Path(sys.executable).with_name("st")
    command = [
        str(st),
        "--config-file",
        str(CONFIG_PATH),
        "--no-color",
        "run",
        f"{api_url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--workers",
        str(workers),
        "--report",
        "har",
        "--report-har-path",
        str(har_path),
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--continue-on-failure",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": HOOKS_MODULE, "PYTHONPATH": str(REPO_ROOT)}
    with tempfile.TemporaryFile("w+") as output:  # a file, never a pipe that could fill
        done = subprocess.run(
            command, cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, timeout=timeout_s
        )
        output.seek(0)
        return done.returncode, output.read()


def tally(har_path: Path) -> dict[str, Any]:
    """Statuses and error media types of every request in a HAR report."""
    entries = json.loads(har_path.read_text())["log"]["entries"]
    by_status: Counter[str] = Counter()
    server_errors = non_problem = 0
    examples: list[str] = []
    for entry in entries:
        status = entry["response"]["status"]
        by_status[str(status)] += 1
        media = (entry["response"].get("content") or {}).get("mimeType", "").split(";")[0].strip().lower()
        if status >= 500:
            server_errors += 1
        if status >= 400 and media != PROBLEM_JSON:
            non_problem += 1
        if (status >= 500 or (status >= 400 and media != PROBLEM_JSON)) and len(examples) < 5:
            examples.append(f"{entry['request']['method']} {entry['request']['url']} -> {status} {media}")
    return {
        "cases": len(entries),
        "by_status": by_status,
        "server_errors": server_errors,
        "non_problem_errors": non_problem,
        "examples": examples,
    }


def failed_checks(output: str) -> int:
    """The number of failures schemathesis reports in its summary (0 when it has none)."""
    found = re.findall(r"(\d+) (?:failures?|errors?)\b", output.split("SUMMARY")[-1]) if "SUMMARY" in output else []
    return sum(int(n) for n in found)


CASES_PER_EXAMPLE = 8  # measured: one run sends about 8 requests per --max-examples (7 operations, all phases)


def fuzz(
    api_url: str,
    cases: int,
    seed: int = 1,
    workers: int = 2,
    timeout_s: float = 3600,
    log: Any = None,
    parallel: int = 1,
) -> dict[str, Any]:
    """Runs schemathesis until at least `cases` requests went out; the tally of all of them. `parallel` runs go at
    once, each with a seed of its own."""
    total: dict[str, Any] = {
        "cases": 0,
        "by_status": Counter(),
        "server_errors": 0,
        "non_problem_errors": 0,
        "examples": [],
    }
    check_failures = 0
    failed_outputs: list[str] = []  # every failing run's whole output: its failures come before its summary
    outputs: list[str] = []
    started = time.monotonic()
    max_examples = max(1, math.ceil(cases / CASES_PER_EXAMPLE / parallel))
    runs = 0
    with tempfile.TemporaryDirectory() as scratch, ThreadPoolExecutor(max_workers=parallel) as pool:
        while total["cases"] < cases:
            left = max(timeout_s - (time.monotonic() - started), 1)
            seeds = [seed + runs + i for i in range(parallel)]
            hars = [Path(scratch) / f"run{s}.har" for s in seeds]
            # One run per seed, all of this round's arguments bound now; answers in the order of the seeds.
            running = [
                pool.submit(run_schemathesis, api_url, max_examples, run_seed, workers, har, left)
                for run_seed, har in zip(seeds, hars, strict=True)
            ]
            answers = [run.result() for run in running]
            runs += parallel
            round_cases = 0
            for (code, output), har_path in zip(answers, hars, strict=True):
                outputs.append(output)
                if not har_path.exists():
                    raise RuntimeError(f"schemathesis wrote no report (exit {code}):\n{output[-3000:]}")
                counted = tally(har_path)
                if code != 0:
                    check_failures += max(1, failed_checks(output))
                    failed_outputs.append(output)
                for key in ("cases", "server_errors", "non_problem_errors"):
                    total[key] += counted[key]
                total["by_status"].update(counted["by_status"])
                total["examples"] = (total["examples"] + counted["examples"])[:5]
                round_cases += counted["cases"]
                if log is not None:
                    print(
                        f"run {har_path.stem}: {counted['cases']} cases (max-examples {max_examples}), exit {code};"
                        f" {total['cases']}/{cases}",
                        file=log,
                        flush=True,
                    )
            if round_cases == 0:
                raise RuntimeError(f"schemathesis sent nothing:\n{outputs[-1][-3000:]}")
            # Next round: enough examples for what is left, from what this one sent per example.
            per_example = round_cases / (max_examples * parallel)
            max_examples = max(1, math.ceil((cases - total["cases"]) / per_example / parallel))
    return {
        "cases": total["cases"],
        "by_status": dict(sorted(total["by_status"].items())),
        "server_errors": total["server_errors"],
        "non_problem_errors": total["non_problem_errors"],
        "check_failures": check_failures,
        "examples": total["examples"],
        "schemathesis_runs": runs,
        "elapsed_s": round(time.monotonic() - started, 1),
        "schemathesis_output": "\n".join(failed_outputs) if check_failures else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fuzz", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=10_000, help="send at least this many requests (default 10000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="schemathesis' concurrent workers in each run")
    parser.add_argument(
        "--parallel", type=int, default=4, help="schemathesis runs at once, seeds --seed, --seed+1, ... (default 4)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the result as one JSON object (the only output on stdout)"
    )
    args = parser.parse_args(argv)
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the stack's servers on the way out

    from devstack.stack import LocalStack

    with LocalStack(with_worker=False, overrides=FUZZ_LIMITS) as stack:
        print("server logs: " + ", ".join(str(path) for path in stack.log_paths.values()), file=sys.stderr, flush=True)
        result = fuzz(stack.api_url, args.cases, args.seed, args.workers, log=sys.stderr, parallel=args.parallel)
    if args.json:
        print(json.dumps({key: value for key, value in result.items() if key != "schemathesis_output"}))
    else:
        print(json.dumps(result, indent=2))
    ok = result["server_errors"] == 0 and result["non_problem_errors"] == 0 and result["check_failures"] == 0
    if not ok and result["schemathesis_output"]:
        print(result["schemathesis_output"], file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
