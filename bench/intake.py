"""The intake under load (issue 22 item 6): `python -m bench.intake --json`.

Many concurrent writers (--writers, default 64) register fresh wallets through the real API handler until --n
registrations (default 2,000) have been answered, or --seconds have passed. The handler is `app.app` called in this
process with an API Gateway (REST, proxy) event, as Lambda calls it (bench/api.py does the same); each writer is a
thread, so the 64 concurrent "Lambda invocations" share this one interpreter (see "What can mislead" below). The
writer signs each body as a wallet signs it (dmtp_key_registry_client.build_registration: coincurve, EIP-712;
about 0.6 ms, before the request's clock starts, so a long run never sends a stale issuedAt), each registration
from a source address of its own (--sources), and sends the same body again after a 5xx or a 429 (--attempts,
with backoff).

Between this process's boto3 clients and AWS (moto, in a process of its own) sits a botocore `before-send` hook
that sleeps --latency-ms (default 10 ms, AWS's round trip within a region) before every HTTP request, retries
included: it applies to every client made from boto3's default session, which is where the app builds its own. The
same hook counts, per request the handler makes, the operation and the DynamoDB items it writes (from the request
body on the wire; each item of a transaction or batch counts). An item is hot when
it takes more than HOT_SHARE (5%) of a run's writes and is written on behalf of two or more wallets: the
transparency log's head or one global daily budget item, each written by every registration, would be; one of the
budget's 64 shards (about 1/64 of the writes each) is not. Whatever the number of registrations, a hot item's write
rate grows with the intake's, so it caps the intake at DynamoDB's per-item limit (about 1,000 writes/s) divided by
its share; `hottest_item_share` reports the largest share any one item took.

The local pinning service (Pinata's stand-in) is held to --pin-rate-per-minute (default 500, Pinata's Fiesta plan;
a token bucket holding one minute's worth, so the first 500 pins pass at once) and answers 429 past it; it counts
every pin request it receives, from the API or from the worker.

Meanwhile the worker and the monitor run as the local stack's Lambda stand-in processes (devstack/lambda_process.py:
two worker slots, one monitor; they talk to moto directly, without the added latency), and Anvil mines a block every
--block-time seconds. A watcher reads the accepted records' statuses (BatchGetItem through RecordStore.get_many,
every --poll-interval-s seconds, its own boto3 session) until each is final or --confirm-timeout-s has passed after
the intake: accept-to-confirmed is from the accepting answer to the first poll that saw `confirmed`.

The floor, in the same run: the same number of bare DynamoDB PutItem + SQS SendMessage pairs (one item each in a
scratch table, a job-sized message to a scratch queue), through the same hook, with the same number of writer
threads and a client of the default configuration like the app's. It runs once before the intake and once after
the confirmations; floor_per_s is their mean.

Figures (one JSON object with --json; a readable summary without): accepted_per_s, floor_per_s, ratio,
first_try_5xx, p50_ms/p99_ms (first attempt sent to accepting answer, retries included),
accept_to_confirmed_p50_s/_p99_s (null when that share was not confirmed within the timeout),
dynamodb_requests_per_write, hot_item_writes_per_write, pin_requests_per_write (per accepted write),
hottest_item_share, the statuses
by code, the load average, and the issue's targets with whether each is met.

What can mislead (each is also in the JSON's `caveats`):
- the handler's 64 invocations share one interpreter (the GIL) and one set of boto3 clients (whose connection pools
  keep 10 connections: the rest are opened and dropped per request), where Lambda gives each its own container;
  the floor shares the same limits, but does less CPU work per write, so on a small machine the ratio is lower than
  on Lambda;
- moto, Anvil, the worker processes, the pinning service and this process share the machine's cores (and with
  other jobs: see the load average); moto is far slower than DynamoDB, and a hot item costs more in DynamoDB (a
  partition's 1,000 writes a second, TransactionConflict) than in moto, which serialises every request anyway;
- the pinning service answers at once (--pin-latency-ms adds a delay; Pinata takes hundreds of milliseconds).

Starts everything it needs and stops all of it on the way out, SIGTERM included.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import re
import signal
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

DEFAULT_N = 2000
UNLIMITED_COUNT = 10**9  # --seconds without --n: the clock ends the phases
DEFAULT_LATENCY_MS = 10.0
DEFAULT_PIN_RATE_PER_MINUTE = 500.0  # Pinata's Fiesta plan
FLOOR_TABLE = "bench-intake-floor"
FLOOR_QUEUE = "bench-intake-floor"
LABEL_HANDLER = "handler"
LABEL_FLOOR = "floor"
# Every write is charged against the quotas as in production (so the shared counters are written), with limits the
# run never reaches.
UNREACHED_LIMITS = {
    "SOURCE_REQUESTS_PER_MINUTE": "1000000",
    "WALLET_WRITES_PER_DAY": "1000000",
    "SOURCE_WRITES_PER_DAY": "1000000",
    "WRITES_PER_DAY": "1000000",
    "NETWORK_WRITES_PER_DAY": "1000000",
    "NETWORK_REQUESTS_PER_MINUTE": "1000000",
    "SOURCE_READS_PER_MINUTE": "1000000",
    "NETWORK_READS_PER_MINUTE": "1000000",
}
HOT_SHARE = 0.05
TARGETS: dict[str, tuple[str, float]] = {
    "ratio": (">=", 0.5),
    "first_try_5xx": ("==", 0),
    "hot_item_writes_per_write": ("==", 0),
    "pin_requests_per_write": ("<=", 0.02),
}
CAVEATS = [
    "handler: app.app called in this process, one thread per writer: the writers share one interpreter (GIL) and "
    "one set of boto3 clients (10 pooled connections each), where Lambda gives each invocation its own container",
    "one machine: moto, Anvil, the worker and monitor processes, the pinning service and the writers share its "
    "cores, with other jobs (load_average)",
    "moto is much slower than DynamoDB and serialises every request; a hot item costs more in DynamoDB "
    "(TransactionConflict, a partition's write limit) than here",
    "latency is added to this process's AWS requests only; the worker and monitor talk to moto without it",
    "the pinning service answers at once unless --pin-latency-ms is set",
    "accept-to-confirmed is observed by polling: resolution about poll_interval_s",
]


def progress(text: str) -> None:
    print(f"[bench.intake {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of the values at or below it (values not empty)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


# ---------------------------------------------------------------- the hook between the clients and AWS


def written_item_keys(operation: str, payload: dict[str, Any], key_names: Callable[[str], list[str]]) -> list[str]:
    """The items a DynamoDB request (its JSON body, as sent) writes, each as `table {key attributes}`: one per
    PutItem/UpdateItem/DeleteItem, one per Put/Update/Delete of a TransactWriteItems (ConditionCheck writes
    nothing), one per request of a BatchWriteItem."""

    def key(table: str, attributes: dict[str, Any], whole_item: bool) -> str:
        names = key_names(table) if whole_item else sorted(attributes)
        return f"{table} {json.dumps({name: attributes.get(name) for name in names}, sort_keys=True)}"

    if operation == "PutItem":
        return [key(payload["TableName"], payload["Item"], True)]
    if operation in ("UpdateItem", "DeleteItem"):
        return [key(payload["TableName"], payload["Key"], False)]
    if operation == "TransactWriteItems":
        keys = []
        for action in payload.get("TransactItems", []):
            if "Put" in action:
                keys.append(key(action["Put"]["TableName"], action["Put"]["Item"], True))
            for kind in ("Update", "Delete"):
                if kind in action:
                    keys.append(key(action[kind]["TableName"], action[kind]["Key"], False))
        return keys
    if operation == "BatchWriteItem":
        keys = []
        for table, requests in payload.get("RequestItems", {}).items():
            for request in requests:
                if "PutRequest" in request:
                    keys.append(key(table, request["PutRequest"]["Item"], True))
                if "DeleteRequest" in request:
                    keys.append(key(table, request["DeleteRequest"]["Key"], False))
        return keys
    return []


@dataclass
class ItemWrites:
    """The write requests that named one item, and whether they were made on behalf of more than one wallet."""

    writes: int
    first_wallet: str
    hot: bool = False


class AwsTap:
    """A botocore `before-send` hook on boto3's default session: every client made from it afterwards (the app's,
    the floor's) sleeps `latency_s` before each HTTP request it sends (retries too), and a request made while the
    sending thread is `acting` for a label and a wallet is counted under that label: its operation, and the
    DynamoDB items it writes."""

    def __init__(self, latency_s: float, key_names: Callable[[str], list[str]]) -> None:
        self.latency_s = latency_s
        self._key_names = key_names
        self._acting = threading.local()
        self._lock = threading.Lock()
        self.requests: dict[str, Counter[str]] = {}  # label -> "service.Operation" -> requests
        self.items: dict[str, dict[str, ItemWrites]] = {}  # label -> item -> its writes

    def install(self, events: Any) -> None:
        events.register("before-send", self._before_send, unique_id="bench-intake-aws-tap")

    @contextlib.contextmanager
    def acting(self, label: str, wallet: str) -> Iterator[None]:
        self._acting.label, self._acting.wallet = label, wallet
        try:
            yield
        finally:
            self._acting.label = None

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.items.clear()

    def _before_send(self, request: Any, event_name: str, **_: Any) -> None:
        label = getattr(self._acting, "label", None)
        if label is not None:
            service, operation = event_name.split(".", 2)[1:]
            keys: list[str] = []
            if service == "dynamodb" and request.body:
                keys = written_item_keys(operation, json.loads(request.body), self._key_names)
            wallet = self._acting.wallet
            with self._lock:
                self.requests.setdefault(label, Counter())[f"{service}.{operation}"] += 1
                items = self.items.setdefault(label, {})
                for key in keys:
                    entry = items.get(key)
                    if entry is None:
                        items[key] = ItemWrites(1, wallet)
                    else:
                        entry.writes += 1
                        entry.hot = entry.hot or entry.first_wallet != wallet
        if self.latency_s > 0:
            time.sleep(self.latency_s)

    def count(self, label: str, service: str | None = None) -> int:
        with self._lock:
            counts = self.requests.get(label, Counter())
            return sum(n for name, n in counts.items() if service is None or name.startswith(service + "."))

    def hot_writes(self, label: str, writes: int) -> tuple[int, dict[str, int], float]:
        """Writes to hot items under `label` (see the module's docstring; `writes` is the run's accepted writes),
        the same by item pattern (digits and addresses blanked), and the largest share of `writes` one item took."""
        by_pattern: Counter[str] = Counter()
        hottest = 0
        with self._lock:
            for key, entry in self.items.get(label, {}).items():
                hottest = max(hottest, entry.writes if entry.hot else 0)
                if entry.hot and entry.writes > HOT_SHARE * writes:
                    by_pattern[_pattern(key)] += entry.writes
        share = round(hottest / writes, 4) if writes else 0.0
        return sum(by_pattern.values()), dict(by_pattern.most_common(12)), share


def _pattern(item_key: str) -> str:
    text = re.sub(r"^dmtp-registry-[a-z]+-", "", item_key)
    text = re.sub(r"0x[0-9a-fA-F]{40}", "<wallet>", text)
    return re.sub(r"\d+", "<n>", text)


class KeySchemas:
    """Each table's key attribute names, read once with a client of its own (outside the tap)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._names: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def __call__(self, table: str) -> list[str]:
        with self._lock:
            if table not in self._names:
                schema = self._client.describe_table(TableName=table)["Table"]["KeySchema"]
                self._names[table] = sorted(part["AttributeName"] for part in schema)
            return self._names[table]


# ---------------------------------------------------------------- what the writers saw


@dataclass
class Write:
    wallet: str
    version: int
    statuses: list[int] = field(default_factory=list)
    attempt_s: list[float] = field(default_factory=list)
    started: float = 0.0  # monotonic: the first attempt sent
    answered: float = 0.0  # monotonic: the last answer
    accepted: bool = False


class ConfirmationWatch:
    """Polls the accepted records' statuses (RecordStore.get_many: BatchGetItem) every `interval_s` until each is
    final; notes when it first saw each final."""

    def __init__(self, records: Any, interval_s: float) -> None:
        self._records = records
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self.accepted_at: dict[tuple[str, int], float] = {}
        self.final: dict[tuple[str, int], tuple[str, float]] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="confirmation-watch", daemon=True)
        self.polls = 0
        self.error: BaseException | None = None

    def start(self) -> ConfirmationWatch:
        self._thread.start()
        return self

    def add(self, wallet: str, version: int, at: float) -> None:
        with self._lock:
            self.accepted_at[(wallet.lower(), version)] = at

    def pending(self) -> list[tuple[str, int]]:
        with self._lock:
            return [key for key in self.accepted_at if key not in self.final]

    def _run(self) -> None:
        from chalicelib.model import FINAL_STATUSES

        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                waiting = self.pending()
                if waiting:
                    found = self._records.get_many(waiting, documents=False)
                    seen = time.monotonic()
                    with self._lock:
                        for key, record in found.items():
                            if record.status in FINAL_STATUSES:
                                self.final.setdefault(key, (record.status, seen))
                    self.polls += 1
            except Exception as exc:  # moto answering slowly under load must not end the watch
                self.error = exc
            self._stopping.wait(max(0.0, self._interval_s - (time.monotonic() - started)))

    def wait_settled(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.pending():
                return True
            time.sleep(0.2)
        return not self.pending()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=30)


# ---------------------------------------------------------------- the phases


def isolate_invocations(chalice_app: Any) -> None:
    """Gives each thread its own `current_request` on the Chalice app object, exactly as `chalice local` does.

    Chalice keeps the request being answered in one attribute of the app, set by every call: Lambda never runs two
    invocations in one container, but two threads calling the same app at once would read each other's request (its
    body, its source address). chalice local, a threaded server around one app object, swaps in chalice.local's
    LocalChalice (a thread-local current_request); so does this, with the same two lines (chalice.local,
    create_local_server). Nothing else of the app changes."""
    from chalice.local import CustomLocalChalice, LocalChalice

    if not isinstance(chalice_app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, chalice_app.__class__)
        chalice_app.__class__ = CustomLocalChalice


def post_event(body: dict[str, Any], source_ip: str, request_id: str) -> dict[str, Any]:
    from bench.api import api_event

    event = api_event("POST", "/keys", body)
    event["requestContext"]["identity"]["sourceIp"] = source_ip
    event["requestContext"]["requestId"] = request_id
    return event


def source_ip(index: int, sources: int) -> str:
    """The index-th registration's source address: one of its own (sources 0), or one of `sources` in turn; each in
    a /24 of its own up to 65,536 of them, as a launch's users come from many networks. (Sources in one /24 share
    their network's budget counters, as neighbours do: 2,000 sources numbered within a few /24s would make each of
    those counters a hot item that real traffic, capped at NETWORK_WRITES_PER_DAY a network, never makes.)"""
    number = index if sources <= 0 else index % sources
    return f"10.{(number >> 8) & 255}.{number & 255}.{1 + ((number >> 16) & 127)}"


def sign_bodies(count: int, chain_id: int, registry: str) -> list[dict[str, Any]]:
    """`count` registrations of fresh wallets (version 1), signed now."""
    from dmtp_key_registry_client.registry_client import build_registration

    return [build_registration(os.urandom(32).hex(), chain_id, registry)[0] for _ in range(count)]


def retry_delay(attempt: int, response: dict[str, Any]) -> float:
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    backoff: float = min(5.0, 0.1 * 2.0**attempt) * random.uniform(0.5, 1.0)
    try:
        retry_after = float(headers.get("retry-after", 0))
    except ValueError:
        retry_after = 0.0
    return min(5.0, max(backoff, retry_after))


def run_writers(
    count: int, writers: int, deadline: float | None, stopping: threading.Event, work: Callable[[int], None]
) -> float:
    """`work(i)` for i in 0..count-1 on `writers` threads, until all are done, `deadline` (monotonic) has passed
    or `stopping` is set; returns the seconds from start to the last answer."""
    taken = iter(range(count))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def writer() -> None:
        while not stopping.is_set() and (deadline is None or time.monotonic() < deadline):
            with lock:
                index = next(taken, None)
            if index is None:
                return
            try:
                work(index)
            except BaseException as exc:  # a bug in the benchmark: end the phase and report it
                errors.append(exc)
                stopping.set()
                return

    threads = [threading.Thread(target=writer, name=f"writer-{i}", daemon=True) for i in range(writers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)
    elapsed = time.monotonic() - started
    if errors:
        raise errors[0]
    return elapsed


def intake(
    app: Any,
    tap: AwsTap,
    domain: tuple[int, str],
    args: argparse.Namespace,
    watch: ConfirmationWatch,
    stopping: threading.Event,
) -> tuple[list[Write], float]:
    writes: dict[int, Write] = {}
    deadline = time.monotonic() + args.seconds if args.seconds else None

    def register(index: int) -> None:
        (body,) = sign_bodies(1, *domain)
        write = Write(body["address"], body["version"])
        event = post_event(body, source_ip(index, args.sources), f"bench-intake-{index}")
        write.started = time.monotonic()
        for attempt in range(args.attempts):
            sent = time.monotonic()
            with tap.acting(LABEL_HANDLER, write.wallet):
                response = app.app(event, None)
            write.answered = time.monotonic()
            write.attempt_s.append(write.answered - sent)
            status = int(response["statusCode"])
            write.statuses.append(status)
            if status in (200, 202):  # 200: the same bundle was already stored (an earlier attempt's)
                write.accepted = True
                watch.add(write.wallet, write.version, write.answered)
                break
            if (status < 500 and status != 429) or attempt + 1 == args.attempts or stopping.is_set():
                break
            time.sleep(retry_delay(attempt, response))
        writes[index] = write

    elapsed = run_writers(args.n, args.writers, deadline, stopping, register)
    return [writes[i] for i in sorted(writes)], elapsed


def floor(
    tap: AwsTap,
    aws: dict[str, Any],
    documents: list[str],
    count: int,
    args: argparse.Namespace,
    phase: str,
    stopping: threading.Event,
) -> dict[str, Any]:
    """`count` bare PutItem + SendMessage pairs (or as many as --seconds allows) on `args.writers` threads through
    the tap; the items hold `documents` (registration bodies: the size of a record's document) in turn."""
    dynamodb, sqs, queue_url = aws["dynamodb"], aws["sqs"], aws["queue_url"]
    deadline = time.monotonic() + args.seconds if args.seconds else None
    done = Counter[str]()
    lock = threading.Lock()

    def pair(index: int) -> None:
        item_id = f"{phase}-{index}"
        now = str(int(time.time()))
        with tap.acting(LABEL_FLOOR, item_id):
            dynamodb.put_item(
                TableName=FLOOR_TABLE,
                Item={
                    "id": {"S": item_id},
                    "document": {"S": documents[index % len(documents)]},
                    "createdAt": {"N": now},
                },
            )
            sqs.send_message(
                QueueUrl=queue_url,
                MessageBody=json.dumps({"cid": item_id, "kind": "set", "version": 1, "wallet": item_id}),
            )
        with lock:
            done["pairs"] += 1

    tap.reset()
    cpu = time.process_time()
    elapsed = run_writers(count, args.writers, deadline, stopping, pair)
    pairs = done["pairs"]
    hot, _, _ = tap.hot_writes(LABEL_FLOOR, max(pairs, 1))
    return {
        "pairs": pairs,
        "seconds": round(elapsed, 3),
        "per_s": round(pairs / elapsed, 1) if elapsed > 0 else None,
        "dynamodb_requests_per_pair": round(tap.count(LABEL_FLOOR, "dynamodb") / pairs, 3) if pairs else None,
        "hot_item_writes_per_pair": round(hot / pairs, 4) if pairs else None,
        "process_cpu_s": round(time.process_time() - cpu, 2),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def floor_resources(endpoint: str) -> dict[str, Any]:
    """The scratch table and queue (made with a client outside the tap), and the floor's own clients (from the
    default session, so through the tap: the same latency as the app's)."""
    import boto3

    setup = boto3.session.Session()
    setup.client("dynamodb", endpoint_url=endpoint).create_table(
        TableName=FLOOR_TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    queue_url = setup.client("sqs", endpoint_url=endpoint).create_queue(QueueName=FLOOR_QUEUE)["QueueUrl"]
    return {
        "dynamodb": boto3.client("dynamodb", endpoint_url=endpoint),
        "sqs": boto3.client("sqs", endpoint_url=endpoint),
        "queue_url": queue_url,
    }


def confirmation_watch(endpoint: str, records_table: str, interval_s: float) -> ConfirmationWatch:
    import boto3

    from chalicelib.adapters.dynamo import dynamodb_table
    from chalicelib.adapters.records import RecordStore

    resource = boto3.session.Session().resource("dynamodb", endpoint_url=endpoint)  # outside the tap
    return ConfirmationWatch(RecordStore(dynamodb_table(records_table, resource=resource)), interval_s)


# ---------------------------------------------------------------- the run


def run(stack: Any, args: argparse.Namespace, stopping: threading.Event) -> dict[str, Any]:
    import boto3

    load_start = [round(x, 2) for x in os.getloadavg()]
    endpoint = stack.aws_endpoint
    tap = AwsTap(
        args.latency_ms / 1000.0, KeySchemas(boto3.session.Session().client("dynamodb", endpoint_url=endpoint))
    )
    tap.install(boto3._get_default_session().events)  # before the app builds its clients (bootstrap: on first use)

    import app
    from chalicelib import bootstrap

    isolate_invocations(app.app)
    bootstrap.reset()
    chain_id, registry = int(stack.env["CHAIN_ID"]), stack.registry_address
    warm_up = sign_bodies(args.warm_up, chain_id, registry)
    documents = [json.dumps(body, sort_keys=True) for body in sign_bodies(16, chain_id, registry)]
    aws = floor_resources(endpoint)

    size = f"{args.n}" if args.n < UNLIMITED_COUNT else f"{args.seconds:g} s of"
    progress(f"floor (before): {size} PutItem + SendMessage pairs on {args.writers} threads")
    floor_before = floor(tap, aws, documents, args.n, args, "before", stopping)
    progress(f"floor (before): {floor_before['per_s']}/s")

    for index, body in enumerate(warm_up):  # clients built, connections open, lazy imports done; not counted
        response = app.app(post_event(body, source_ip(10**6 + index, 0), f"warm-{index}"), None)
        if response["statusCode"] != 202:
            raise RuntimeError(f"warm-up registration answered {response['statusCode']}: {response.get('body')}")
    tap.reset()
    # The plan's limit from here on, with a full bucket (the warm-up's pins do not count against it).
    stack.pinning.rate_per_minute = args.pin_rate_per_minute or None
    stack.pinning.fault.delay_s = args.pin_latency_ms / 1000.0
    pins_before = (stack.pinning.pin_requests, stack.pinning.pin_requests_refused)

    watch = confirmation_watch(endpoint, stack.env["RECORDS_TABLE"], args.poll_interval_s).start()
    try:
        progress(f"intake: {size} registrations by {args.writers} writers, {args.latency_ms:g} ms per AWS request")
        cpu = time.process_time()
        writes, intake_s = intake(app, tap, (chain_id, registry), args, watch, stopping)
        intake_cpu_s = time.process_time() - cpu
        load_intake = [round(x, 2) for x in os.getloadavg()]
        handler_requests = dict(tap.requests.get(LABEL_HANDLER, Counter()))
        dynamodb_requests = tap.count(LABEL_HANDLER, "dynamodb")
        accepted = [w for w in writes if w.accepted]
        hot_writes, hot_by_item, hottest_share = tap.hot_writes(LABEL_HANDLER, len(accepted) or 1)
        progress(f"intake: {len(accepted)} of {len(writes)} accepted in {intake_s:.1f} s; waiting for confirmations")
        settled = watch.wait_settled(args.confirm_timeout_s)
        confirm_wait_s = time.monotonic() - (max((w.answered for w in writes), default=time.monotonic()))
    finally:
        watch.stop()
    pins = (stack.pinning.pin_requests - pins_before[0], stack.pinning.pin_requests_refused - pins_before[1])
    progress(f"confirmations: {'all final' if settled else 'timed out'}; floor (after)")
    floor_after = floor(tap, aws, documents, max(1, len(writes)), args, "after", stopping)
    floor_per_s = statistics.mean([floor_before["per_s"] or 0.0, floor_after["per_s"] or 0.0])

    accepted_per_s = len(accepted) / intake_s if intake_s > 0 else 0.0
    to_accept_ms = [(w.answered - w.started) * 1000 for w in accepted]
    attempt_ms = [s * 1000 for w in writes for s in w.attempt_s]
    statuses = Counter(str(s) for w in writes for s in w.statuses)
    first_statuses = Counter(str(w.statuses[0]) for w in writes if w.statuses)
    finals = Counter(status for status, _ in watch.final.values())
    confirmed_s = [
        seen - watch.accepted_at[key] for key, (status, seen) in watch.final.items() if status == "confirmed"
    ]
    # Every accepted write, those not confirmed (yet, or ever) as infinitely late: a percentile that falls on one
    # is not known (null), rather than computed from the confirmed ones only.
    latencies = sorted(confirmed_s) + [math.inf] * (len(watch.accepted_at) - len(confirmed_s))

    def late(share: float) -> float | None:
        if not latencies:
            return None
        value = percentile(latencies, share)
        return round(value, 2) if math.isfinite(value) else None

    per_write = len(accepted) or 1
    result: dict[str, Any] = {
        "accepted_per_s": round(accepted_per_s, 2),
        "floor_per_s": round(floor_per_s, 1),
        "ratio": round(accepted_per_s / floor_per_s, 4) if floor_per_s else None,
        "first_try_5xx": sum(n for code, n in first_statuses.items() if code.startswith("5")),
        "p50_ms": round(percentile(to_accept_ms, 0.5), 1) if to_accept_ms else None,
        "p99_ms": round(percentile(to_accept_ms, 0.99), 1) if to_accept_ms else None,
        "accept_to_confirmed_p50_s": late(0.5),
        "accept_to_confirmed_p99_s": late(0.99),
        "dynamodb_requests_per_write": round(dynamodb_requests / per_write, 3),
        "hot_item_writes_per_write": round(hot_writes / per_write, 3),
        "pin_requests_per_write": round(pins[0] / per_write, 4),
        "writers": args.writers,
        "n": args.requested_n if args.requested_n is not None else (None if args.seconds else DEFAULT_N),
        "latency_ms": args.latency_ms,
        "seconds": args.seconds,
        "statuses": dict(sorted(statuses.items())),
        "first_try_statuses": dict(sorted(first_statuses.items())),
        "accepted": len(accepted),
        "submitted": len(writes),
        "not_accepted": len(writes) - len(accepted),
        "retries": sum(len(w.statuses) - 1 for w in writes),
        "intake_s": round(intake_s, 2),
        "attempt_p50_ms": round(percentile(attempt_ms, 0.5), 1) if attempt_ms else None,
        "attempt_p99_ms": round(percentile(attempt_ms, 0.99), 1) if attempt_ms else None,
        "final_statuses": dict(sorted(finals.items())),
        "confirmed": finals.get("confirmed", 0),
        "not_final_at_timeout": len(watch.accepted_at) - len(watch.final),
        "confirm_timeout_s": args.confirm_timeout_s,
        "confirm_wait_s": round(confirm_wait_s, 1),
        "poll_interval_s": args.poll_interval_s,
        "confirmation_polls": watch.polls,
        "confirmation_watch_error": repr(watch.error) if watch.error else None,
        "handler_requests_per_write": {name: round(n / per_write, 3) for name, n in sorted(handler_requests.items())},
        "hot_item_writes_by_item": hot_by_item,
        "hottest_item_share": hottest_share,
        "pin_requests": pins[0],
        "pin_requests_refused_429": pins[1],
        "pin_rate_per_minute": args.pin_rate_per_minute or None,
        "pin_latency_ms": args.pin_latency_ms,
        "floor_before": floor_before,
        "floor_after": floor_after,
        "intake_process_cpu_s": round(intake_cpu_s, 2),
        # CPU of this process (every writer thread, the app, the pinning service) per second of intake: near 1.0,
        # the writers were bound by one interpreter (the GIL) rather than by waiting on AWS.
        "intake_process_cpu_share": round(intake_cpu_s / intake_s, 3) if intake_s > 0 else None,
        "sources": args.sources or "one per registration",
        "attempts": args.attempts,
        "block_time_s": args.block_time,
        "worker_processes": args.worker_processes,
        "load_average": {"start": load_start, "intake_end": load_intake, "end": [round(x, 2) for x in os.getloadavg()]},
        "cpus": os.cpu_count(),
        "handler": "app.app(API Gateway proxy event, None) in this process, one thread per writer (as bench/api.py)",
        "latency": "a botocore before-send hook on boto3's default session: sleeps latency_ms before every request",
        "caveats": CAVEATS,
    }
    if accepted and not dynamodb_requests:
        # The tap sits on boto3's default session, where chalicelib.bootstrap builds the app's clients; a client built
        # another way would be neither slowed nor counted, and the figures above would flatter the handler.
        result["caveats"] = [*CAVEATS, "the tap saw no DynamoDB request of the handler: its clients bypass it"]
        progress("warning: the tap saw no DynamoDB request of the handler's; its figures do not hold")
    result["targets"] = {
        name: {"target": f"{op} {bound:g}", "value": result[name], "met": _meets(result[name], op, bound)}
        for name, (op, bound) in TARGETS.items()
    }
    return result


def _meets(value: Any, op: str, bound: float) -> bool:
    if value is None:
        return False
    return bool({">=": value >= bound, "<=": value <= bound, "==": value == bound}[op])


def summary(result: dict[str, Any]) -> str:
    lines = [
        f"intake: {result['accepted']} of {result['submitted']} accepted in {result['intake_s']} s by "
        f"{result['writers']} writers, {result['latency_ms']:g} ms per AWS request",
        f"  accepted/s {result['accepted_per_s']}  floor/s {result['floor_per_s']}  ratio {result['ratio']}",
        f"  to accept p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms; first-try 5xx {result['first_try_5xx']}",
        f"  accept to confirmed p50 {result['accept_to_confirmed_p50_s']} s, p99 {result['accept_to_confirmed_p99_s']} s "
        f"({result['confirmed']} confirmed, {result['not_final_at_timeout']} not final at the timeout)",
        f"  per write: DynamoDB requests {result['dynamodb_requests_per_write']}, hot item writes "
        f"{result['hot_item_writes_per_write']}, pin requests {result['pin_requests_per_write']}",
        f"  hot items {result['hot_item_writes_by_item']}, hottest item's share {result['hottest_item_share']}",
        f"  load average {result['load_average']}",
        "targets:",
    ]
    for name, target in result["targets"].items():
        lines.append(f"  {name} {target['target']}: {target['value']} ({'met' if target['met'] else 'missed'})")
    return "\n".join(lines)


def _interrupted(*_: Any) -> None:
    """The first SIGTERM ends the run (the stack is stopped on the way out); later ones are ignored, so that stop
    is not cut short."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt("SIGTERM")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.intake", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (the only output on stdout)")
    parser.add_argument("--writers", type=int, default=64, help="concurrent writers (default 64)")
    parser.add_argument(
        "-n", "--n", type=int, help="registrations to submit (default 2000; with --seconds alone: no count limit)"
    )
    parser.add_argument(
        "--seconds", type=float, default=0.0, help="stop submitting after this long (default 0: when n are done)"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=DEFAULT_LATENCY_MS, help="added before every AWS request (default 10)"
    )
    parser.add_argument(
        "--pin-rate-per-minute",
        type=float,
        default=DEFAULT_PIN_RATE_PER_MINUTE,
        help="the pinning service's plan limit (default 500, Pinata Fiesta; 0: none)",
    )
    parser.add_argument("--pin-latency-ms", type=float, default=0.0, help="the pinning service's answer delay")
    parser.add_argument(
        "--sources", type=int, default=0, help="distinct source addresses (default 0: one per registration)"
    )
    parser.add_argument("--attempts", type=int, default=6, help="attempts per registration after 5xx/429 (default 6)")
    parser.add_argument("--block-time", type=float, default=1.0, help="Anvil's block time in seconds (default 1)")
    parser.add_argument("--worker-processes", type=int, default=2, help="worker slots (default 2, the stage's)")
    parser.add_argument("--poll-interval-s", type=float, default=1.0, help="status polls of the accepted records")
    parser.add_argument("--confirm-timeout-s", type=float, default=300.0, help="after the intake (default 300)")
    parser.add_argument("--warm-up", type=int, default=3, help="registrations before the timed intake (default 3)")
    args = parser.parse_args(argv)
    args.requested_n = args.n
    if args.n is None:
        args.n = UNLIMITED_COUNT if args.seconds else DEFAULT_N
    if args.n < 1 or args.writers < 1 or args.attempts < 1 or args.warm_up < 1:
        parser.error("--n, --writers, --attempts and --warm-up must be at least 1")

    import logging

    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # EMF lines would go to stdout
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    for noisy in ("werkzeug", "urllib3.connectionpool"):  # access lines; "connection pool is full" per request
        logging.getLogger(noisy).setLevel(logging.ERROR)
    # Anything printed on the way (the app's log handler holds sys.stdout) goes to stderr; stdout gets the result.
    sys.stdout.flush()
    result_fd = os.dup(1)
    os.dup2(2, 1)
    signal.signal(signal.SIGTERM, _interrupted)
    stopping = threading.Event()

    from devstack.stack import LocalStack

    try:
        with LocalStack(
            with_api=False,
            with_worker=True,
            worker_processes=args.worker_processes,
            moto_in_process=False,
            block_time=args.block_time,
            overrides=UNREACHED_LIMITS,
        ) as stack:
            try:
                result = run(stack, args, stopping)
            finally:
                stopping.set()
    except KeyboardInterrupt:
        progress("stopped (SIGTERM or Ctrl-C); everything it started is stopped")
        return 130
    finally:
        sys.stdout.flush()
        os.dup2(result_fd, 1)
        os.close(result_fd)
    text = json.dumps(result) if args.json else summary(result)
    print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
