"""Whole-stack chaos soak: `python -m bench.chaos --n 10000 --json`.

The local stack with every part real and in a process of its own where Lambda would run it: moto (AWS), Anvil
(mining a block every --block-time seconds, state kept in a file), the pinning stand-in, `chalice local` (the
HTTP API), two worker processes (Lambda's reserved concurrency of 2 for the SQS trigger) and a monitor process
(devstack/lambda_process.py; their logs go to --log-dir). Several client threads register through the HTTP API
with the reference client (client/registry_client.py): new wallets, rotations (version 2, 3, ... of earlier
wallets) and revocations, until --n writes were accepted (202).

Meanwhile, at random moments (seeded) during the input, faults are injected, one at a time:
- worker_kill9: kill -9 of one worker process, restarted a moment later (>= 5 times);
- monitor_kill9: kill -9 of the monitor process, restarted;
- anvil_sigstop: the node stopped (SIGSTOP) for --sigstop-s seconds, then SIGCONT;
- anvil_restart: the node stopped (SIGTERM: it writes its state file) and started again from that state (its
  transaction pool is gone: whatever was pending must be sent again);
- pinning_5xx / pinning_timeout: the pinning service answers 500/502/503, or answers only after longer than the
  worker's pinning timeout, for a burst (no client sees it: the worker pins in batches, off the request path; its
  jobs wait in the queue and go on chain once pinning is back, never before their documents are pinned);
- sqs_duplicate: a copy of an accepted job's message (the same body) sent to the queue again, at once or up to
  --duplicate-delay-s later, which is what a duplicate delivery looks like to the worker;
- reorg: anvil_reorg replaces the newest --reorg-depth blocks (chosen while they carry registry transactions)
  with empty ones; the transactions in them are gone from the node. The depth stays under CONFIRMATIONS (the
  soak runs with --confirmations): deeper reorgs are outside what confirmations promise.

Then it waits (bounded) until every accepted write's record is final and the queue is empty, and reconciles
against the chain itself: the KeyUpdated/KeyRevoked events (eth_getLogs over every block, in chunks) and the
contract's keyOf for every wallet, against what the API accepted:
- confirmed: accepted, and written on chain (an event for that wallet and version with the accepted digest);
- superseded: accepted key never written because a newer version of the wallet went on chain instead (the
  record says so; the worker coalesces a wallet's keys within a batch);
- failed: accepted, not on chain, record failed (with its reason, listed in failed_reasons);
- lost: accepted, and neither on chain nor superseded nor visibly failed (listed in lost_detail);
- written_twice: (wallet, version) pairs with more than one write event;
- wrong_onchain: wallets whose contract state (digest, revoked) is not that of their newest accepted write.
p50/p99_accept_to_confirmed_s: from the 202 to the record's confirmed status (its updatedAt, whole seconds).

Prints one JSON object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import heapq
import json
import logging
import os
import random
import signal
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
PINNING_TIMEOUT_EXCEEDED_S = 16.0  # longer than the worker's pinning timeout (PinataPinner: 15 s)
KEY_UPDATED = "KeyUpdated(address,bytes32,uint64)"
KEY_REVOKED = "KeyRevoked(address,bytes32,uint64)"
LOG_CHUNK_BLOCKS = 2000
RPC_BATCH = 200
# Every client comes from 127.0.0.1 and the soak writes n times in one day: no per-source rate limit, no per-wallet
# quota and no daily write budgets (chalicelib/adapters/quotas.py; 0 is no limit) for its stage, or the API would answer 429
# long before n writes (the defaults: 20 writes per source and 2,000 in all per day).
UNLIMITED_WRITES = {
    "SOURCE_REQUESTS_PER_MINUTE": "0",
    "WALLET_WRITES_PER_DAY": "0",
    "SOURCE_WRITES_PER_DAY": "0",
    "WRITES_PER_DAY": "0",
    "NETWORK_WRITES_PER_DAY": "0",
    "NETWORK_REQUESTS_PER_MINUTE": "0",
    "SOURCE_READS_PER_MINUTE": "0",
    "NETWORK_READS_PER_MINUTE": "0",
}


@dataclass(frozen=True)
class SoakConfig:
    n: int = 10_000
    seed: int = 1
    clients: int = 6
    rate: float = 0.0  # accepted writes offered per second in all (0: as fast as the API answers)
    rotation_share: float = 0.12
    revocation_share: float = 0.06
    block_time: float = 1.0
    confirmations: int = 3
    worker_processes: int = 2
    visibility_timeout_s: int = 20  # the queue's, for the soak (the template's 420 s would stall each kill -9)
    worker_kills: int = 6
    monitor_kills: int = 1
    sigstops: int = 1
    sigstop_s: float = 20.0
    anvil_restarts: int = 1
    pinning_5xx_bursts: int = 3
    pinning_timeout_bursts: int = 2
    burst_s: float = 3.0
    reorgs: int = 2
    reorg_depth: int = 2
    duplicate_share: float = 0.03
    duplicate_delay_s: float = 20.0
    quiesce_timeout_s: float = 600.0
    log_dir: str | None = None

    @classmethod
    def short(cls, seed: int = 7, **changes: Any) -> SoakConfig:
        """The make-test run: every kind of fault, durations shortened (the node still stops for longer than
        the worker's 10 s RPC timeout, so calls time out rather than only wait)."""
        base: dict[str, Any] = dict(
            n=300,
            seed=seed,
            clients=4,
            rate=8.0,
            visibility_timeout_s=10,
            worker_kills=5,
            monitor_kills=1,
            sigstop_s=12.0,
            pinning_5xx_bursts=2,
            pinning_timeout_bursts=1,
            burst_s=1.0,
            reorgs=1,
            duplicate_share=0.08,
            duplicate_delay_s=8.0,
            quiesce_timeout_s=240.0,  # a slow CI run needed more than 150 s once (2026-12-06): a real loss still fails
        )
        base.update(changes)
        return cls(**base)


def progress(text: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- what the API accepted


@dataclass
class Accepted:
    wallet: str  # EIP-55
    version: int
    kind: str  # "key" or "revocation"
    cid: str  # the key's CID (for a revocation: the CID of the key it revokes)
    accepted_at: float  # epoch seconds of the 202
    client: int


@dataclass
class WalletState:
    private_key: str
    address: str
    version: int = 0  # the newest accepted version (a revocation takes one too)
    key_version: int = 0
    public_key: str = ""
    cid: str = ""
    revoked: bool = False


class Ledger:
    """Everything the clients saw, shared by the client threads."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.lock = threading.Lock()
        self.accepted: list[Accepted] = []
        self.reserved = 0  # writes accepted or being submitted
        self.rejected: Counter[str] = Counter()  # "status code: detail" of answers that were not 2xx
        self.given_up = 0
        self.listeners: list[Callable[[Accepted], None]] = []

    def reserve(self) -> bool:
        with self.lock:
            if self.reserved >= self.target:
                return False
            self.reserved += 1
            return True

    def release(self) -> None:
        with self.lock:
            self.reserved -= 1
            self.given_up += 1

    def accept(self, entry: Accepted) -> None:
        with self.lock:
            self.accepted.append(entry)
        for listener in self.listeners:
            listener(entry)

    def reject(self, reason: str) -> None:
        with self.lock:
            self.rejected[reason] += 1

    @property
    def count(self) -> int:
        return len(self.accepted)


class Pacer:
    """At most `rate` submissions per second across all clients (0: no limit)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now)
            self._next = slot + self._interval
        if slot > now:
            time.sleep(slot - now)


class Client(threading.Thread):
    """One client: registers fresh wallets, and rotates and revokes keys of its own earlier wallets."""

    RETRY_STATUSES = (500, 502, 503, 504)

    def __init__(
        self,
        index: int,
        api_url: str,
        domain: dict[str, Any],
        ledger: Ledger,
        pacer: Pacer,
        config: SoakConfig,
        stopping: threading.Event,
    ) -> None:
        super().__init__(name=f"client-{index}", daemon=True)
        self.index = index
        self.api_url = api_url
        self.domain = domain
        self.ledger = ledger
        self.pacer = pacer
        self.config = config
        self.stopping = stopping
        self.rng = random.Random(config.seed * 1000 + index)
        self.wallets: list[WalletState] = []
        self.error: BaseException | None = None
        self.session = requests.Session()

    def run(self) -> None:
        try:
            while not self.stopping.is_set() and self.ledger.reserve():
                self.pacer.wait()
                if not self._one():
                    self.ledger.release()
        except BaseException as exc:
            self.error = exc
            self.stopping.set()

    def _one(self) -> bool:
        from dmtp_key_registry_client.registry_client import build_registration, build_revocation, wallet_address

        draw = self.rng.random()
        keyed = [w for w in self.wallets if not w.revoked]
        signature_type = self.rng.choice(("eip712", "eip191"))
        if draw < self.config.revocation_share and keyed:
            wallet = self.rng.choice(keyed)
            body = build_revocation(
                wallet.private_key,
                self.domain["chainId"],
                self.domain["registry"],
                wallet.version,
                wallet.public_key,
                signature_type=signature_type,
            )
            answer = self._submit(f"/keys/{wallet.address}/revocation", body, wallet.version + 1)
            if answer is None:
                return False
            wallet.version += 1
            wallet.revoked = True
            self.ledger.accept(
                Accepted(wallet.address, wallet.version, "revocation", wallet.cid, time.time(), self.index)
            )
            return True
        if draw < self.config.revocation_share + self.config.rotation_share and self.wallets:
            wallet = self.rng.choice(self.wallets)
        else:
            key = "0x" + self.rng.randbytes(32).hex()
            wallet = WalletState(key, wallet_address(key))
        body, pair = build_registration(
            wallet.private_key,
            self.domain["chainId"],
            self.domain["registry"],
            version=wallet.version + 1,
            signature_type=signature_type,
        )
        answer = self._submit("/keys", body, wallet.version + 1)
        if answer is None:
            return False
        if wallet.version == 0:
            self.wallets.append(wallet)
        wallet.version += 1
        wallet.key_version, wallet.public_key, wallet.cid, wallet.revoked = (
            wallet.version,
            pair.public_key_hex,
            answer["cid"],
            False,
        )
        self.ledger.accept(Accepted(wallet.address, wallet.version, "key", answer["cid"], time.time(), self.index))
        return True

    def _submit(self, path: str, body: dict[str, Any], version: int) -> dict[str, Any] | None:
        """POST until a 2xx (the record's view), or None after a refusal that retrying cannot change.
        5xx answers and timeouts are retried with the same body, as a client does."""
        delay = 0.3
        for attempt in range(200):
            if self.stopping.is_set():
                return None
            try:
                response = self.session.post(self.api_url + path, json=body, timeout=30)
            except requests.RequestException as exc:
                self.ledger.reject(f"no answer: {type(exc).__name__}")
            else:
                if response.status_code in (200, 202):
                    view: dict[str, Any] = response.json()
                    return view
                problem = _problem(response)
                self.ledger.reject(f"{response.status_code} {problem.get('code')}: {problem.get('detail', '')[:80]}")
                if response.status_code == 409 and attempt > 0:
                    # An earlier attempt may have been stored after all (its answer lost): look it up.
                    found = self._stored(body["address"], version)
                    if found is not None:
                        return found
                if response.status_code not in self.RETRY_STATUSES:
                    return None
            time.sleep(delay * (0.5 + self.rng.random()))
            delay = min(delay * 1.5, 3.0)
        return None

    def _stored(self, address: str, version: int) -> dict[str, Any] | None:
        """The stored write `version` of the wallet (looked up until the API answers), or None."""
        for _ in range(20):
            try:
                response = self.session.get(f"{self.api_url}/keys/{address}/history", params={"limit": "5"}, timeout=30)
            except requests.RequestException:
                time.sleep(1)
                continue
            if response.status_code != 200:
                time.sleep(1)
                continue
            for item in response.json()["items"]:
                if item["version"] == version:
                    return {"cid": item["cid"]}
            return None
        raise RuntimeError(f"could not learn whether {address} version {version} was stored")


def _problem(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text[:200]}
    return body if isinstance(body, dict) else {"detail": str(body)[:200]}


# ---------------------------------------------------------------- faults


@dataclass
class FaultRecord:
    kind: str
    at_accepted: int
    started_s: float  # since the input began
    detail: dict[str, Any] = field(default_factory=dict)


class Duplicator(threading.Thread):
    """Sends a copy of some accepted jobs' messages (the same body) to the queue, at once or a little later."""

    def __init__(self, sqs: Any, queue_url: str, config: SoakConfig, rng: random.Random) -> None:
        super().__init__(name="duplicator", daemon=True)
        self.sqs = sqs
        self.queue_url = queue_url
        self.config = config
        self.rng = rng
        self.lock = threading.Condition()
        self.due: list[tuple[float, int, str]] = []
        self.sent = 0
        self.closing = False
        self._seq = 0

    def offer(self, entry: Accepted) -> None:
        from chalicelib.model import JOB_REVOKE_KEY, JOB_SET_KEY, Job

        with self.lock:
            if self.rng.random() >= self.config.duplicate_share:
                return
            kind = JOB_SET_KEY if entry.kind == "key" else JOB_REVOKE_KEY
            body = Job(entry.wallet, entry.version, entry.cid, kind).to_body()
            delay = 0.0 if self.rng.random() < 0.3 else self.rng.uniform(0, self.config.duplicate_delay_s)
            self._seq += 1
            heapq.heappush(self.due, (time.monotonic() + delay, self._seq, body))
            self.lock.notify()

    def close(self) -> None:
        with self.lock:
            self.closing = True
            self.lock.notify()

    def run(self) -> None:
        while True:
            with self.lock:
                while True:
                    if self.due and self.due[0][0] <= time.monotonic():
                        _, _, body = heapq.heappop(self.due)
                        break
                    if self.closing and not self.due:
                        return
                    self.lock.wait(timeout=(self.due[0][0] - time.monotonic()) if self.due else 0.5)
            for _attempt in range(20):
                try:
                    self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)
                    self.sent += 1
                    break
                except Exception:
                    time.sleep(0.5)


class FaultInjector(threading.Thread):
    """Runs the seeded fault schedule: each fault when the accepted count reaches its point, one at a time."""

    def __init__(
        self,
        stack: Any,
        ledger: Ledger,
        config: SoakConfig,
        rng: random.Random,
        started: float,
        stopping: threading.Event,
    ) -> None:
        super().__init__(name="faults", daemon=True)
        self.stack = stack
        self.ledger = ledger
        self.config = config
        self.rng = rng
        self.started = started
        self.stopping = stopping
        self.done: list[FaultRecord] = []
        self.error: BaseException | None = None
        kinds = (
            ["worker_kill9"] * config.worker_kills
            + ["monitor_kill9"] * config.monitor_kills
            + ["anvil_sigstop"] * config.sigstops
            + ["anvil_restart"] * config.anvil_restarts
            + ["pinning_5xx"] * config.pinning_5xx_bursts
            + ["pinning_timeout"] * config.pinning_timeout_bursts
            + ["reorg"] * config.reorgs
        )
        # Points spread over 5%..85% of the input, so the last faults still meet traffic and recovery shows.
        points = sorted(rng.uniform(0.05, 0.85) for _ in kinds)
        rng.shuffle(kinds)
        self.schedule = [(int(point * config.n), kind) for point, kind in zip(points, kinds, strict=True)]

    def run(self) -> None:
        try:
            for at, kind in self.schedule:
                while self.ledger.count < at and not self.stopping.is_set():
                    time.sleep(0.05)
                if self.stopping.is_set():
                    return
                record = FaultRecord(kind, self.ledger.count, round(time.monotonic() - self.started, 1))
                progress(f"fault {kind} at {record.at_accepted} accepted")
                getattr(self, "_" + kind)(record)
                self.done.append(record)
        except BaseException as exc:
            self.error = exc
            progress(f"fault injector failed: {exc!r}")

    def _worker_kill9(self, record: FaultRecord) -> None:
        process = self.rng.choice(self.stack.workers)
        record.detail = {"pid": process.pid, "slot": self.stack.workers.index(process)}
        process.kill()
        time.sleep(self.rng.uniform(0.0, 1.5))
        process.start()

    def _monitor_kill9(self, record: FaultRecord) -> None:
        record.detail = {"pid": self.stack.monitor_process.pid}
        self.stack.monitor_process.kill()
        time.sleep(self.rng.uniform(0.5, 2.0))
        self.stack.monitor_process.start()

    def _anvil_sigstop(self, record: FaultRecord) -> None:
        pid = self.stack.anvil.process.pid
        record.detail = {"seconds": self.config.sigstop_s}
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(self.config.sigstop_s)
        finally:
            os.kill(pid, signal.SIGCONT)

    def _anvil_restart(self, record: FaultRecord) -> None:
        before = int(self.stack.anvil.rpc("eth_blockNumber"), 16)
        pending = self.stack.anvil.rpc("eth_getTransactionCount", [self.stack.owner_address, "pending"])
        latest = self.stack.anvil.rpc("eth_getTransactionCount", [self.stack.owner_address, "latest"])
        started = time.monotonic()
        self.stack.anvil.restart()
        record.detail = {
            "head_before": before,
            "head_after": int(self.stack.anvil.rpc("eth_blockNumber"), 16),
            "pending_txs_dropped": int(pending, 16) - int(latest, 16),
            "seconds": round(time.monotonic() - started, 2),
        }

    def _pinning_5xx(self, record: FaultRecord) -> None:
        status = self.rng.choice((500, 502, 503))
        record.detail = {"status": status, "seconds": self.config.burst_s}
        self.stack.pinning.fault.status = status
        try:
            time.sleep(self.config.burst_s)
        finally:
            self.stack.pinning.fault.status = None

    def _pinning_timeout(self, record: FaultRecord) -> None:
        record.detail = {"answer_after_s": PINNING_TIMEOUT_EXCEEDED_S, "seconds": self.config.burst_s}
        self.stack.pinning.fault.delay_s = PINNING_TIMEOUT_EXCEEDED_S
        try:
            time.sleep(self.config.burst_s)
        finally:
            self.stack.pinning.fault.delay_s = 0.0

    def _reorg(self, record: FaultRecord) -> None:
        """Replace the newest blocks with empty ones once they carry registry transactions (waits up to 90 s)."""
        anvil, depth = self.stack.anvil, self.config.reorg_depth
        deadline = time.monotonic() + 90
        while True:
            head = int(anvil.rpc("eth_blockNumber"), 16)
            blocks = [
                anvil.rpc("eth_getBlockByNumber", [hex(number), False]) for number in range(head - depth + 1, head + 1)
            ]
            removed = sum(len(block["transactions"]) for block in blocks if block)
            if removed or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        anvil.rpc("anvil_reorg", [depth, []])
        record.detail = {"depth": depth, "head": head, "txs_removed": removed}


# ---------------------------------------------------------------- the chain, read directly


class ChainReader:
    def __init__(self, rpc_url: str, registry: str) -> None:
        from dmtp_protocol.ethsig import keccak256

        self.url = rpc_url
        self.registry = registry.lower()
        self.topics = {
            "0x" + keccak256(KEY_UPDATED.encode()).hex(): "key",
            "0x" + keccak256(KEY_REVOKED.encode()).hex(): "revocation",
        }
        self.key_of_selector = keccak256(b"keyOf(address)")[:4].hex()
        self.session = requests.Session()

    def call(self, method: str, params: list[Any]) -> Any:
        answer = self.session.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=60
        ).json()
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        results: list[Any] = []
        for start in range(0, len(calls), RPC_BATCH):
            chunk = calls[start : start + RPC_BATCH]
            payload: list[dict[str, Any]] = [
                {"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(chunk)
            ]
            answers = sorted(self.session.post(self.url, json=payload, timeout=120).json(), key=lambda a: a["id"])
            for answer in answers:
                if "error" in answer:
                    raise RuntimeError(f"batch call failed: {answer['error']}")
                results.append(answer["result"])
        return results

    def write_events(self) -> list[dict[str, Any]]:
        """Every KeyUpdated and KeyRevoked of the registry on the canonical chain, oldest first."""
        head = int(self.call("eth_blockNumber", []), 16)
        events = []
        for start in range(0, head + 1, LOG_CHUNK_BLOCKS):
            logs = self.call(
                "eth_getLogs",
                [
                    {
                        "fromBlock": hex(start),
                        "toBlock": hex(min(head, start + LOG_CHUNK_BLOCKS - 1)),
                        "address": self.registry,
                        "topics": [list(self.topics)],
                    }
                ],
            )
            for log in logs:
                data = bytes.fromhex(log["data"][2:])
                events.append(
                    {
                        "kind": self.topics[log["topics"][0]],
                        "wallet": "0x" + log["topics"][1][-40:],
                        "digest": data[:32],
                        "version": int.from_bytes(data[32:64], "big"),
                        "block": int(log["blockNumber"], 16),
                        "tx": log["transactionHash"],
                    }
                )
        return events

    def key_states(self, wallets: list[str]) -> dict[str, tuple[bytes, bool]]:
        calls = [
            (
                "eth_call",
                [{"to": self.registry, "data": "0x" + self.key_of_selector + "00" * 12 + w[2:].lower()}, "latest"],
            )
            for w in wallets
        ]
        states = {}
        for wallet, result in zip(wallets, self.batch(calls), strict=True):  # one answer per call
            raw = bytes.fromhex(result[2:])
            states[wallet.lower()] = (raw[:32], raw[63] == 1)
        return states


# ---------------------------------------------------------------- quiescence and reconciliation


def wait_quiescent(stack: Any, ledger: Ledger, duplicator: Duplicator, config: SoakConfig) -> bool:
    """Until every accepted record is final, the queue is empty and no duplicate waits (bounded)."""
    import boto3

    from chalicelib.model import FINAL_STATUSES

    sqs = boto3.client("sqs", endpoint_url=stack.aws_endpoint)
    queue_url = sqs.get_queue_url(QueueName=stack.env["JOBS_QUEUE_NAME"])["QueueUrl"]
    records = record_store(stack)
    keys = [(a.wallet, a.version) for a in ledger.accepted]
    deadline = time.monotonic() + config.quiesce_timeout_s
    while True:
        found = records.get_many(keys, documents=False)
        open_count = sum(
            1 for key in keys if (r := found.get((key[0].lower(), key[1]))) is None or r.status not in FINAL_STATUSES
        )
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        queued = int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )
        progress(
            f"waiting: {open_count} records not final, {queued} messages in the queue, {len(duplicator.due)} duplicates due"
        )
        if open_count == 0 and queued == 0 and not duplicator.due:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(3 if len(keys) > 1000 else 1.5)


def record_store(stack: Any) -> Any:
    import boto3

    from chalicelib.adapters.records import RecordStore

    return RecordStore(boto3.resource("dynamodb", endpoint_url=stack.aws_endpoint).Table(stack.env["RECORDS_TABLE"]))


def reconcile(stack: Any, ledger: Ledger) -> dict[str, Any]:
    from chalicelib.model import STATUS_CONFIRMED, STATUS_FAILED, STATUS_SUPERSEDED
    from dmtp_protocol.cid import cid_for_bytes, cid_from_digest, digest_from_cid

    chain = ChainReader(stack.anvil.url, stack.registry_address)
    events = chain.write_events()
    writes: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for event in events:
        writes.setdefault((event["wallet"], event["version"]), []).append(event)
    accepted = {(a.wallet.lower(), a.version): a for a in ledger.accepted}
    records = record_store(stack).get_many(list(accepted), documents=False)

    counts: Counter[str] = Counter()
    failed_reasons: Counter[str] = Counter()
    lost_detail, twice_detail, mismatch_detail, disagree_detail, failed_detail = [], [], [], [], []
    latencies = []
    for key, entry in accepted.items():
        record = records.get(key)
        status = record.status if record else "no record"
        found = writes.get(key, [])
        if len(found) > 1:
            counts["written_twice"] += 1
            twice_detail.append(
                {
                    "wallet": entry.wallet,
                    "version": entry.version,
                    "txs": [e["tx"] for e in found],
                    "blocks": [e["block"] for e in found],
                }
            )
        if found:
            wanted = digest_from_cid(entry.cid)
            if any(e["kind"] != entry.kind or e["digest"] != wanted for e in found):
                counts["wrong_write"] += 1
                mismatch_detail.append(
                    {
                        "wallet": entry.wallet,
                        "version": entry.version,
                        "kind": entry.kind,
                        "events": [(e["kind"], "0x" + e["digest"].hex()) for e in found],
                    }
                )
            counts["confirmed"] += 1
            if status != STATUS_CONFIRMED:
                disagree_detail.append(
                    {"wallet": entry.wallet, "version": entry.version, "status": status, "tx": found[0]["tx"]}
                )
            elif record is not None:
                latencies.append(max(0.0, record.updated_at + 0.5 - entry.accepted_at))
        elif status == STATUS_SUPERSEDED:
            newer_written = any(w == key[0] and v > key[1] for (w, v) in writes)
            if newer_written:
                counts["superseded"] += 1
            else:
                counts["lost"] += 1
                lost_detail.append(
                    {
                        "wallet": entry.wallet,
                        "version": entry.version,
                        "kind": entry.kind,
                        "status": status,
                        "why": "superseded, but no newer version is on chain",
                    }
                )
        elif status == STATUS_FAILED:
            counts["failed"] += 1
            failed_reasons[(record.error if record else None) or "no reason"] += 1
            detail = {
                "wallet": entry.wallet,
                "version": entry.version,
                "kind": entry.kind,
                "nonce": record.nonce if record else None,
                "tx_hash": record.tx_hash if record else None,
                "block": record.block_number if record else None,
            }
            if entry.kind == "revocation":  # where its key went: a revocation must reach the chain after it
                key = records.get((key[0], entry.version - 1))
                detail["key_status"], detail["key_nonce"] = (key.status, key.nonce) if key else ("no record", None)
            failed_detail.append(detail)
        else:
            counts["lost"] += 1
            lost_detail.append(
                {
                    "wallet": entry.wallet,
                    "version": entry.version,
                    "kind": entry.kind,
                    "status": status,
                    "nonce": record.nonce if record else None,
                    "tx_hash": record.tx_hash if record else None,
                    "error": record.error if record else None,
                }
            )
    unexpected = [{"wallet": w, "version": v} for (w, v) in writes if (w, v) not in accepted]

    newest: dict[str, Accepted] = {}
    for entry in ledger.accepted:
        current = newest.get(entry.wallet.lower())
        if current is None or entry.version > current.version:
            newest[entry.wallet.lower()] = entry
    states = chain.key_states(list(newest))
    wrong = []
    for wallet, entry in newest.items():
        expected = (digest_from_cid(entry.cid), entry.kind == "revocation")
        if states[wallet] != expected:
            wrong.append(
                {
                    "wallet": entry.wallet,
                    "newest_version": entry.version,
                    "kind": entry.kind,
                    "expected": ["0x" + expected[0].hex(), expected[1]],
                    "onchain": ["0x" + states[wallet][0].hex(), states[wallet][1]],
                    "status": (
                        records.get((wallet, entry.version)).status
                        if records.get((wallet, entry.version))
                        else "no record"
                    ),
                }
            )

    # Never a CID on chain before its document is pinned: every key write event's CID is pinned, and its bytes hash
    # to it (the pinning service keeps what it pinned, by CID).
    unpinned = []
    for (wallet, version), found in writes.items():
        for event in found:
            if event["kind"] != "set":
                continue
            cid = cid_from_digest(event["digest"])
            content = stack.pinning.pins.get(cid)
            if content is None or cid_for_bytes(content) != cid:
                unpinned.append({"wallet": wallet, "version": version, "cid": cid, "tx": event["tx"]})

    latencies.sort()
    return {
        "accepted": len(accepted),
        "onchain_unpinned": len(unpinned),
        "onchain_unpinned_detail": unpinned[:20],
        "confirmed": counts["confirmed"],
        "failed": counts["failed"],
        "lost": counts["lost"],
        "written_twice": counts["written_twice"],
        "wrong_onchain": len(wrong),
        "p50_accept_to_confirmed_s": round(statistics.median(latencies), 1) if latencies else None,
        "p99_accept_to_confirmed_s": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1)
        if latencies
        else None,
        "superseded": counts["superseded"],
        "wrong_write_events": counts["wrong_write"],
        "unexpected_write_events": len(unexpected),
        "status_disagrees_with_chain": len(disagree_detail),
        "write_events": len(events),
        "wallets": len(newest),
        "failed_reasons": dict(failed_reasons),
        "failed_detail": failed_detail[:20],
        "lost_detail": lost_detail[:20],
        "written_twice_detail": twice_detail[:20],
        "wrong_onchain_detail": wrong[:20],
        "wrong_write_detail": mismatch_detail[:10],
        "unexpected_write_detail": unexpected[:10],
        "status_disagrees_detail": disagree_detail[:10],
    }


# ---------------------------------------------------------------- the run


def run(config: SoakConfig) -> dict[str, Any]:
    import boto3

    from devstack.stack import LocalStack

    log_dir = (
        Path(config.log_dir)
        if config.log_dir
        else REPO_ROOT / ".devstack" / "logs" / f"chaos-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    )
    log_dir.mkdir(parents=True, exist_ok=True)
    overrides = {
        "CONFIRMATIONS": str(config.confirmations),
        **UNLIMITED_WRITES,
        "LOG_LEVEL": "INFO",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    os.environ.update(UNLIMITED_WRITES)
    stack = LocalStack(
        block_time=config.block_time,
        with_api=True,
        with_worker=True,
        moto_in_process=False,
        worker_processes=config.worker_processes,
        log_dir=log_dir,
        anvil_state_path=log_dir / "anvil-state.json",
        overrides=overrides,
    )
    begun = time.monotonic()
    stack.start()
    try:
        progress(f"stack up in {time.monotonic() - begun:.1f} s; logs in {log_dir}")
        sqs = boto3.client("sqs", endpoint_url=stack.aws_endpoint)
        queue_url = sqs.get_queue_url(QueueName=stack.env["JOBS_QUEUE_NAME"])["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": str(config.visibility_timeout_s)})
        domain = requests.get(stack.api_url + "/config", timeout=10).json()
        return soak(stack, config, sqs, queue_url, domain, log_dir)
    finally:
        progress("stopping the stack")
        stack.stop()


def soak(
    stack: Any, config: SoakConfig, sqs: Any, queue_url: str, domain: dict[str, Any], log_dir: Path
) -> dict[str, Any]:
    rng = random.Random(config.seed)
    ledger = Ledger(config.n)
    stopping = threading.Event()
    duplicator = Duplicator(sqs, queue_url, config, random.Random(rng.random()))
    ledger.listeners.append(duplicator.offer)
    started = time.monotonic()
    faults = FaultInjector(stack, ledger, config, random.Random(rng.random()), started, stopping)
    pacer = Pacer(config.rate)
    clients = [Client(i, stack.api_url, domain, ledger, pacer, config, stopping) for i in range(config.clients)]
    for thread in (duplicator, faults, *clients):
        thread.start()
    last = 0
    while any(c.is_alive() for c in clients):
        time.sleep(1)
        if ledger.count - last >= max(50, config.n // 20):
            last = ledger.count
            progress(f"{ledger.count} accepted ({ledger.count / (time.monotonic() - started):.1f}/s)")
    input_s = time.monotonic() - started
    progress(f"input done: {ledger.count} accepted in {input_s:.1f} s; {sum(ledger.rejected.values())} refused answers")
    faults.join()
    duplicator.close()
    duplicator.join(timeout=config.duplicate_delay_s + 30)
    errors = [c.error for c in clients if c.error] + ([faults.error] if faults.error else [])
    if errors:
        raise RuntimeError(f"the soak itself failed: {errors[0]!r}") from errors[0]
    quiescent = wait_quiescent(stack, ledger, duplicator, config)
    settled_s = time.monotonic() - started
    result = reconcile(stack, ledger)
    injected = Counter(f.kind for f in faults.done)
    injected["sqs_duplicate"] = duplicator.sent
    rotations = sum(1 for a in ledger.accepted if a.kind == "key" and a.version > 1)
    return {
        **{
            k: result[k]
            for k in (
                "accepted",
                "confirmed",
                "failed",
                "lost",
                "written_twice",
                "wrong_onchain",
                "onchain_unpinned",
                "p50_accept_to_confirmed_s",
                "p99_accept_to_confirmed_s",
            )
        },
        "faults_injected": dict(sorted(injected.items())),
        **{
            k: v
            for k, v in result.items()
            if k
            not in (
                "accepted",
                "confirmed",
                "failed",
                "lost",
                "written_twice",
                "wrong_onchain",
                "onchain_unpinned",
                "p50_accept_to_confirmed_s",
                "p99_accept_to_confirmed_s",
            )
        },
        "new_wallets": sum(1 for a in ledger.accepted if a.kind == "key" and a.version == 1),
        "rotations": rotations,
        "revocations": sum(1 for a in ledger.accepted if a.kind == "revocation"),
        "refused_answers": dict(ledger.rejected.most_common(12)),
        "given_up_submissions": ledger.given_up,
        "quiescent": quiescent,
        "input_s": round(input_s, 1),
        "accept_rate_per_s": round(ledger.count / input_s, 1) if input_s else None,
        "settled_s": round(settled_s, 1),
        "fault_log": [asdict(f) for f in faults.done],
        "config": asdict(config),
        "log_dir": str(log_dir),
        "confirmed_at_source": "the record's updatedAt when confirmed (whole seconds; +0.5 s midpoint)",
    }


def _interrupted(*_: Any) -> None:
    """The first SIGTERM ends the soak; later ones are ignored, so the stack's stop (up to STOP_GRACE_S per
    worker process, then SIGKILL) is not cut short and leaves nothing running."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt("SIGTERM")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chaos", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10_000, help="writes to get accepted through the API (default 10000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--short",
        action="store_true",
        help="the make-test profile: shorter bursts and stops, n=300 unless --n is given",
    )
    parser.add_argument("--clients", type=int)
    parser.add_argument("--rate", type=float, help="writes offered per second in all (0: as fast as the API answers)")
    parser.add_argument("--sigstop-s", type=float)
    parser.add_argument("--log-dir")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="any other SoakConfig field (e.g. --set worker_kills=0)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the result as one JSON object (the only output on stdout)"
    )
    args = parser.parse_args(argv)
    changes: dict[str, Any] = {
        name: value
        for name, value in (
            ("clients", args.clients),
            ("rate", args.rate),
            ("sigstop_s", args.sigstop_s),
            ("log_dir", args.log_dir),
        )
        if value is not None
    }
    types = {f.name: type(getattr(SoakConfig(), f.name)) for f in fields(SoakConfig) if f.name != "log_dir"}
    for setting in args.set:
        name, _, value = setting.partition("=")
        if name not in types:
            parser.error(f"--set: no field {name!r}")
        changes[name] = types[name](value)
    if args.short:
        config = SoakConfig.short(seed=args.seed, **({"n": args.n} if "--n" in (argv or sys.argv) else {}), **changes)
    else:
        config = SoakConfig(n=args.n, seed=args.seed, **changes)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the pinning service's access log
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    signal.signal(signal.SIGTERM, _interrupted)  # stop the stack's processes on the way out
    result = run(config)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
