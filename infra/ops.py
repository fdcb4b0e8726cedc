"""The operator's console: what the registry is doing, and the worker's pause switch.

    python -m infra.ops --stage prod status [--json] [--stranded-after 900]
    python -m infra.ops --stage prod pause --reason "RPC provider incident" [--by alice]
    python -m infra.ops --stage prod resume [--by alice]

It reads the stage's resource names from .chalice/config.json and talks to AWS with the operator's own credentials
(AWS_PROFILE / AWS_REGION; AWS_ENDPOINT_URL for the local stack), and to the chain through the URL in
--rpc-url-file FILE, else RPC_URL, else the stage's RPC secret (never a URL on the command line: infra/rpc_url.py).
`status` prints, for a person or with --json for a machine: queue and dead-letter depth and the oldest job's age;
record counts by status and how many are stranded (open, untouched for --stranded-after seconds); the nonce counter
against the chain's latest and pending nonces; each pending transaction with its age, fees and replacement count;
the owner's balance and its runway in days at the last 24 hours' spend; whether the worker is paused, since when,
by whom and why.

`status` reads: it scans the records table (projection of three attributes; about one read unit per 4 KB of
that projection, so on a very large table run it sparingly) and queries the transactions table.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import boto3
from boto3.dynamodb.conditions import Key

from chalicelib.adapters.control import WorkerControl
from chalicelib.adapters.records import HEAD_VERSION
from chalicelib.adapters.rpc import JsonRpc
from chalicelib.adapters.secrets import secret_setting
from chalicelib.adapters.transactions import TxStore
from chalicelib.model import FINAL_STATES, FINAL_STATUSES, STATE_RESERVED

if TYPE_CHECKING:  # the stub packages of requirements-dev.txt: types only
    from mypy_boto3_sqs.literals import QueueAttributeNameType
from infra.rpc_url import add_rpc_url_arguments, rpc_url_from
from infra.stage_config import CHALICE_CONFIG_PATH

DAY_S = 86400
SPEND_LOOKBACK_ITEMS = 2000  # newest transactions read to sum the last 24 hours' fees (far more than a day's)


@dataclass
class QueueStatus:
    visible: int
    in_flight: int
    delayed: int
    dead_letters: int
    oldest_message_age_s: float | None  # CloudWatch's ApproximateAgeOfOldestMessage (None: no datapoint yet)


@dataclass
class RecordStatus:
    by_status: dict[str, int]
    open: int
    stranded: int  # open and untouched for stranded_after_s
    stranded_after_s: int
    oldest_open_age_s: float | None


@dataclass
class PendingTx:
    nonce: int
    state: str
    kind: str
    age_s: float  # since it was first signed (or reserved, when never signed)
    max_fee_gwei: float | None
    tip_gwei: float | None
    replacements: int
    tx_hash: str | None
    jobs: int


@dataclass
class NonceStatus:
    signer: str
    counter_next: int | None  # None: the worker never reserved a nonce for this signer
    counter_floor: int | None
    chain_latest: int | None
    chain_pending: int | None
    drift: int | None  # counter_next - chain_pending: > 0 while transactions are stored but unsent or unmined


@dataclass
class OwnerStatus:
    address: str
    balance_eth: float | None
    spent_24h_eth: float
    transactions_24h: int
    runway_days: float | None  # None when nothing was spent in 24 hours


@dataclass
class Status:
    stage: str
    at: int
    queue: QueueStatus
    records: RecordStatus
    nonces: NonceStatus
    pending: list[PendingTx]
    owner: OwnerStatus
    worker: dict[str, Any]
    problems: list[str] = field(default_factory=list)  # parts that could not be read


def stage_environment(stage: str, config_path: Path = CHALICE_CONFIG_PATH) -> dict[str, str]:
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    if stage not in config.get("stages", {}):
        raise KeyError(f"{config_path} has no stage {stage!r}")
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


class Ops:
    def __init__(self, stage: str, env: dict[str, str], rpc_url: str | None, endpoint_url: str | None = None) -> None:
        self.stage = stage
        self.env = env
        self._endpoint = endpoint_url
        dynamodb = boto3.resource("dynamodb", endpoint_url=endpoint_url)
        self.records = dynamodb.Table(env["RECORDS_TABLE"])
        self.transactions = dynamodb.Table(env["TRANSACTIONS_TABLE"])
        self.control = WorkerControl(self.transactions)
        self.sqs = boto3.client("sqs", endpoint_url=endpoint_url)
        self.rpc = JsonRpc(rpc_url) if rpc_url else None

    def client(self, service: Literal["kms", "cloudwatch"]) -> Any:
        return boto3.client(service, endpoint_url=self._endpoint)

    # ------------------------------------------------------------ status

    def status(self, stranded_after_s: int, now: float | None = None) -> Status:
        now = time.time() if now is None else now
        problems: list[str] = []
        signer = self._signer_address()
        nonces = self._nonces(signer, problems)
        pending = self._pending(signer, nonces.counter_floor, now)
        return Status(
            stage=self.stage,
            at=int(now),
            queue=self._queue(problems),
            records=self._records(stranded_after_s, now),
            nonces=nonces,
            pending=pending,
            owner=self._owner(signer, now, problems),
            worker=asdict(self.control.state()),
            problems=problems,
        )

    def _signer_address(self) -> str:
        from chalicelib.adapters.kms_signer import KmsSigner

        return KmsSigner(self.client("kms"), self.env["KMS_KEY_ID"]).address

    def _queue(self, problems: list[str]) -> QueueStatus:
        name = self.env["JOBS_QUEUE_NAME"]
        names: list[QueueAttributeNameType] = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        jobs = self.sqs.get_queue_attributes(
            QueueUrl=self.sqs.get_queue_url(QueueName=name)["QueueUrl"], AttributeNames=names
        )["Attributes"]
        dlq_url = self.sqs.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]  # infra/template.yaml's name
        dlq = self.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=names[:1])["Attributes"]
        return QueueStatus(
            visible=int(jobs.get(names[0], 0)),
            in_flight=int(jobs.get(names[1], 0)),
            delayed=int(jobs.get(names[2], 0)),
            dead_letters=int(dlq.get(names[0], 0)),
            oldest_message_age_s=self._oldest_message_age(name, problems),
        )

    def _oldest_message_age(self, queue_name: str, problems: list[str]) -> float | None:
        """SQS gives no age through its API without receiving (which would count toward the DLQ): CloudWatch's."""
        try:
            now = time.time()
            answer = self.client("cloudwatch").get_metric_statistics(
                Namespace="AWS/SQS",
                MetricName="ApproximateAgeOfOldestMessage",
                Dimensions=[{"Name": "QueueName", "Value": queue_name}],
                StartTime=now - 600,
                EndTime=now,
                Period=60,
                Statistics=["Maximum"],
            )
        except Exception as exc:
            problems.append(f"oldest message age: {exc}")
            return None
        points = sorted(answer.get("Datapoints", []), key=lambda point: point["Timestamp"])
        return float(points[-1]["Maximum"]) if points else None

    def _records(self, stranded_after_s: int, now: float) -> RecordStatus:
        by_status: dict[str, int] = {}
        open_count = stranded = 0
        oldest: float | None = None
        kwargs: dict[str, Any] = {
            "ProjectionExpression": "#v, #s, updatedAt",
            "ExpressionAttributeNames": {"#v": "version", "#s": "status"},
        }
        while True:
            page = self.records.scan(**kwargs)
            for item in page.get("Items", []):
                if int(_number(item["version"])) == HEAD_VERSION:
                    continue
                status = str(item.get("status", "?"))
                by_status[status] = by_status.get(status, 0) + 1
                if status in FINAL_STATUSES:
                    continue
                open_count += 1
                age = now - float(_number(item.get("updatedAt", now)))
                oldest = age if oldest is None else max(oldest, age)
                if age >= stranded_after_s:
                    stranded += 1
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return RecordStatus(dict(sorted(by_status.items())), open_count, stranded, stranded_after_s, oldest)

    def _nonces(self, signer: str, problems: list[str]) -> NonceStatus:
        from chalicelib.adapters.nonces import NonceManager

        counter = NonceManager(self.transactions, signer).counter()
        latest = pending = None
        if self.rpc is not None:
            try:
                latest = int(self.rpc.call("eth_getTransactionCount", [signer, "latest"]), 16)
                pending = int(self.rpc.call("eth_getTransactionCount", [signer, "pending"]), 16)
            except Exception as exc:
                problems.append(f"chain nonces: {exc}")
        else:
            problems.append("no RPC URL: chain nonces and balance not read (--rpc-url-file or RPC_URL)")
        drift = counter.next - pending if counter is not None and pending is not None else None
        return NonceStatus(
            signer, counter.next if counter else None, counter.floor if counter else None, latest, pending, drift
        )

    def _pending(self, signer: str, floor: int | None, now: float) -> list[PendingTx]:
        pending = []
        for item in TxStore(self.transactions, signer).from_nonce(floor or 0):
            if item.state in FINAL_STATES:
                continue
            started = item.attempts[0].signed_at if item.attempts else item.reserved_at
            latest = item.attempts[-1] if item.attempts else None
            pending.append(
                PendingTx(
                    nonce=item.nonce,
                    state=item.state,
                    kind=item.kind,
                    age_s=round(max(0.0, now - started), 1),
                    max_fee_gwei=latest.max_fee / 1e9 if latest else None,
                    tip_gwei=latest.tip / 1e9 if latest else None,
                    replacements=max(0, len(item.attempts) - 1),
                    tx_hash=latest.tx_hash if latest and item.state != STATE_RESERVED else None,
                    jobs=len(item.entries or item.candidates),
                )
            )
        return pending

    def _owner(self, signer: str, now: float, problems: list[str]) -> OwnerStatus:
        spent, count = self._spent_since(signer, now - DAY_S)
        balance: float | None = None
        if self.rpc is not None:
            try:
                balance = int(self.rpc.call("eth_getBalance", [signer, "latest"]), 16) / 1e18
            except Exception as exc:
                problems.append(f"owner balance: {exc}")
        runway = round(balance / (spent / 1e18), 2) if balance is not None and spent > 0 else None
        return OwnerStatus(signer, balance, spent / 1e18, count, runway)

    def _spent_since(self, signer: str, since: float) -> tuple[int, int]:
        """Fees (wei) of the transactions mined since `since`: the newest items first, a projection only."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("signer").eq(signer.lower()) & Key("nonce").gte(0),
            "ScanIndexForward": False,
            "ProjectionExpression": "feePaidWei, updatedAt",
        }
        spent = count = seen = 0
        while seen < SPEND_LOOKBACK_ITEMS:
            page = self.transactions.query(**kwargs)
            for item in page.get("Items", []):
                seen += 1
                if item.get("feePaidWei") is not None and float(_number(item.get("updatedAt", 0))) >= since:
                    spent += int(_number(item["feePaidWei"]))
                    count += 1
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return spent, count


# ---------------------------------------------------------------- output


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _number(value: object) -> Decimal | float:
    """A number attribute of an item, as boto3 reads it (Decimal), or the caller's float default. A cast: the
    table's schema, not the item's static type (any DynamoDB value), says which attributes are numbers."""
    return cast("Decimal | float", value)


def render(status: Status) -> str:
    q, r, n, o, w = status.queue, status.records, status.nonces, status.owner, status.worker
    at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(status.at))
    if w["paused"]:
        since = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(w["since"]))
        worker = f"PAUSED since {since} by {w['by']}: {w['reason']}"
    else:
        worker = "running"
    dead_letter_hint = "  <- redrive or inspect (python -m infra.recovery)" if q.dead_letters else ""
    balance = "n/a" if o.balance_eth is None else f"{o.balance_eth:.6f} ETH"
    runway = "n/a (nothing spent in 24 h)" if o.runway_days is None else f"{o.runway_days:.1f} days"
    lines = [
        f"DMTP Key Registry, stage {status.stage}, at {at}",
        "",
        f"Worker      {worker}",
        f"Queue       {q.visible} waiting, {q.in_flight} being processed, {q.delayed} delayed;"
        f" oldest job {_age(q.oldest_message_age_s)}",
        f"Dead letter {q.dead_letters} job(s){dead_letter_hint}",
        "Records     " + (", ".join(f"{name} {count}" for name, count in r.by_status.items()) or "none"),
        f"            {r.open} open, {r.stranded} stranded (open and untouched for {_age(r.stranded_after_s)});"
        f" oldest open {_age(r.oldest_open_age_s)}",
        f"Nonces      signer {n.signer}: counter next {n.counter_next} (floor {n.counter_floor});"
        f" chain latest {n.chain_latest}, pending {n.chain_pending}"
        + (f"; counter ahead of the chain's pending by {n.drift}" if n.drift else ""),
        f"Owner       balance {balance}; spent {o.spent_24h_eth:.6f} ETH on {o.transactions_24h} tx in 24 h;"
        f" runway {runway}",
        f"Pending     {len(status.pending)} transaction(s)",
    ]
    for tx in status.pending:
        fees = (
            "unsigned" if tx.max_fee_gwei is None else f"max fee {tx.max_fee_gwei:.3f} gwei, tip {tx.tip_gwei:.3f} gwei"
        )
        lines.append(
            (
                f"  nonce {tx.nonce}: {tx.state} {tx.kind}, {tx.jobs} job(s), age {_age(tx.age_s)}, {fees},"
                f" replaced {tx.replacements}x {tx.tx_hash or ''}"
            ).rstrip()
        )
    for problem in status.problems:
        lines.append(f"Not read    {problem}")
    return "\n".join(lines)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.ops", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument(
        "--config", type=Path, default=CHALICE_CONFIG_PATH, help="Chalice config naming the stage's resources"
    )
    add_rpc_url_arguments(parser, default_text="$RPC_URL, else the stage's RPC secret")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    commands = parser.add_subparsers(dest="command", required=True)
    status_parser = commands.add_parser(
        "status", help="queue, records, nonces, pending transactions, owner runway, pause state"
    )
    status_parser.add_argument(
        "--stranded-after", type=int, default=900, help="seconds an open record may go untouched (default 900)"
    )
    pause_parser = commands.add_parser("pause", help="stop the worker sending transactions (jobs stay queued)")
    pause_parser.add_argument("--reason", required=True)
    pause_parser.add_argument("--by", default=getpass.getuser())
    resume_parser = commands.add_parser("resume", help="let the worker send again")
    resume_parser.add_argument("--by", default=getpass.getuser())
    args = parser.parse_args(argv)

    env = stage_environment(args.stage, args.config)
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    rpc_url = rpc_url_from(parser, args)
    if args.command == "status" and rpc_url is None and env.get("RPC_URL_SECRET_ID"):
        rpc_url = secret_setting("RPC_URL", {**env, **({"AWS_ENDPOINT_URL": endpoint} if endpoint else {})}) or None
    ops = Ops(args.stage, env, rpc_url, endpoint)

    if args.command == "status":
        status = ops.status(args.stranded_after)
        print(json.dumps(asdict(status), default=_json_default, indent=2) if args.json else render(status))
        return 0
    if args.command == "pause":
        ops.control.pause(args.reason, args.by, int(time.time()))
    else:
        ops.control.resume(args.by, int(time.time()))
    state = asdict(ops.control.state())
    print(json.dumps(state) if args.json else f"worker {'paused' if state['paused'] else 'running'} (by {state['by']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
