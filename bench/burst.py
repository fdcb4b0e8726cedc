"""A burst of fresh-wallet registrations through the local stack's HTTP API at several concurrencies (issue 22's
"done when"): `python -m bench.burst --json [--n 600] [--clients 4,12,32]`.

The whole local stack runs as `make run` starts it (moto in a process of its own, Anvil, the local pinning
service, the API under `chalice local`, the worker and monitor), with the daily budgets and the per-source and per-network limits
lifted so that every registration is admitted. For each concurrency in --clients, that many client threads send
--n registrations of fresh wallets (signed before the clock starts, dmtp_key_registry_client.build_registration,
EIP-712) over HTTP, one `requests.Session` per thread, and send a body again after a 5xx or a 429 (exponential
backoff with jitter, up to 2 s) until it is accepted.

Prints, per concurrency: accepted_per_s (n over the wall time of the level), first_try_5xx and the first tries'
statuses, retries, p50_ms/p99_ms (first attempt sent to the accepting answer, retries included). The question it
answers: does accepted/s hold or rise as clients are added (nothing every registration writes), or fall (a shared
item queueing the writes)? `chalice local` serves from one process, so the figure is a floor of this machine's, not
Lambda's. Starts everything it needs and stops all of it on the way out.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

LIFTED = {
    "SOURCE_REQUESTS_PER_MINUTE": "0",
    "WALLET_WRITES_PER_DAY": "0",
    "SOURCE_WRITES_PER_DAY": "0",
    "WRITES_PER_DAY": "0",
    "NETWORK_WRITES_PER_DAY": "0",
    "NETWORK_REQUESTS_PER_MINUTE": "0",
    "SOURCE_READS_PER_MINUTE": "0",
    "NETWORK_READS_PER_MINUTE": "0",
}
RETRIED = frozenset({429, 500, 502, 503, 504})


def percentile(sorted_values: list[float], share: float) -> float:
    """The value at `share` (0..1) of a sorted, non-empty list (nearest rank)."""
    rank = max(1, min(len(sorted_values), round(share * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def level(api_url: str, bodies: list[dict[str, Any]], clients: int) -> dict[str, Any]:
    """Send `bodies` from `clients` threads until each is accepted; the level's figures."""
    import requests

    first: list[int] = []
    latencies: list[float] = []
    retries = 0
    lock = threading.Lock()
    local = threading.local()

    def one(body: dict[str, Any]) -> None:
        nonlocal retries
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        started = time.monotonic()
        attempt = 0
        while True:
            status = session.post(f"{api_url}/keys", json=body, timeout=60).status_code
            with lock:
                if attempt == 0:
                    first.append(status)
                else:
                    retries += 1
            if status not in RETRIED:
                break
            attempt += 1
            time.sleep(min(2.0, 0.1 * 2**attempt) * random.uniform(0.5, 1.0))
        with lock:
            latencies.append(time.monotonic() - started)

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, bodies))
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    return {
        "accepted_per_s": round(len(bodies) / elapsed, 1),
        "first_try_5xx": sum(1 for status in first if status >= 500),
        "first_try_statuses": {str(status): first.count(status) for status in sorted(set(first))},
        "retries": retries,
        "p50_ms": round(1000 * percentile(ordered, 0.50)),
        "p99_ms": round(1000 * percentile(ordered, 0.99)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.burst", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (the only output on stdout)")
    parser.add_argument("--n", type=int, default=600, help="registrations per concurrency (default 600)")
    parser.add_argument("--clients", default="4,12,32", help="the concurrencies, comma-separated (default 4,12,32)")
    args = parser.parse_args(argv)
    concurrencies = [int(value) for value in args.clients.split(",")]

    from devstack.stack import LocalStack
    from dmtp_key_registry_client import build_registration

    stack = LocalStack(overrides=LIFTED).start()
    try:
        chain_id, registry = int(stack.env["CHAIN_ID"]), stack.registry_address
        figures: dict[str, Any] = {"n": args.n, "levels": {}}
        for clients in concurrencies:
            bodies = [build_registration(os.urandom(32).hex(), chain_id, registry)[0] for _ in range(args.n)]
            figures["levels"][str(clients)] = level(stack.api_url, bodies, clients)
            if not args.json:
                print(clients, figures["levels"][str(clients)], file=sys.stderr, flush=True)
        figures["load_average"] = os.getloadavg()[0]
    finally:
        stack.stop()
    print(json.dumps(figures) if args.json else json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
