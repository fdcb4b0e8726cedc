"""The API's cold start and overhead, each measured side by side with the bare equivalent in one run:

(a) import: a fresh interpreter's `import app` against `import chalice, boto3` (from the first line of the
    script, so the interpreter's own start is left out of both); median of --imports runs of each, interleaved;
(b) cold request: a fresh interpreter imports app, builds its clients and answers one GET /keys/{address}
    (app.app called with an API Gateway proxy event, as Lambda calls it) against a fresh interpreter that
    imports boto3, builds a DynamoDB client and makes the same two Queries (the record's, and the log's latest
    anchor, which a fresh process has not cached yet); median of --colds runs;
(c) warm handler time, in this process, after a warm-up: POST /keys (a new wallet each time) and GET
    /keys/{address} through app.app, against the same I/O done bare with boto3 on the same endpoints: for a POST
    (issue 22) the one TransactWriteItems of record, wallet head and budget counters, and the SQS SendMessage
    (no read, no pin, no log: the worker's); for a GET the record's Query (the anchor comes from the app's
    in-process cache: no request). Median of --warm runs each.
    ANCHOR_CACHE_S is raised for the run so that the cache outlasts it and every warm GET does exactly that one
    Query; in a container at the default 5 s, one anchor Query is shared by every request of those 5 s.

Everything talks to the local stack (moto in a process of its own, Anvil, the local pinning service).
Prints import_ratio, cold_request_ratio, warm_post_ratio and warm_get_ratio (targets: import <= 1.15, warm
<= 1.3), with the medians they come from, and the DynamoDB requests one warm GET and one POST make on each side,
counted on every botocore client of the process (each side's must equal the other's, for a GET and for a POST:
the bare side does the handler's I/O, no less; the run stops otherwise).

    python -m bench.api --json
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

IMPORT_APP = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"
IMPORT_BARE = "import time; t = time.perf_counter(); import chalice, boto3; print(time.perf_counter() - t)"

COLD_APP = """
import time; t = time.perf_counter()
import json, sys
import app
event = json.loads(sys.argv[1])
response = app.app(event, None)
assert response["statusCode"] == 200, response
print(time.perf_counter() - t)
"""
COLD_BARE = """
import time; t = time.perf_counter()
import os, sys
import boto3
client = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
answer = client.query(
    TableName=os.environ["RECORDS_TABLE"], KeyConditionExpression="wallet = :w AND version > :head",
    ExpressionAttributeValues={":w": {"S": sys.argv[1]}, ":head": {"N": "0"}}, ScanIndexForward=False, Limit=2, ConsistentRead=True,
)
assert answer["Items"]
client.query(
    TableName=os.environ["LOG_TABLE"], KeyConditionExpression="#part = :anchor",
    ExpressionAttributeNames={"#part": "part"}, ExpressionAttributeValues={":anchor": {"S": "anchor"}},
    ScanIndexForward=False, Limit=1, ConsistentRead=True,
)
print(time.perf_counter() - t)
"""


def progress(text: str) -> None:
    print(f"[bench.api] {text}", file=sys.stderr, flush=True)


def api_event(
    method: str, path: str, body: Any = None, path_parameters: dict[str, str] | None = None, resource: str | None = None
) -> dict[str, Any]:
    """An API Gateway (REST, proxy) event as Lambda hands it to the API function."""
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": {"content-type": "application/json", "host": "bench.local"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "isBase64Encoded": False,
        "body": None if body is None else json.dumps(body),
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "stage": "api",
            "requestId": "bench",
            "identity": {"sourceIp": "198.51.100.7"},
        },
    }


def get_event(wallet: str) -> dict[str, Any]:
    return api_event("GET", f"/keys/{wallet}", path_parameters={"address": wallet}, resource="/keys/{address}")


def _child_seconds(code: str, env: dict[str, str], *args: str) -> float:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return float(result.stdout.strip().splitlines()[-1])


def side_by_side(runs: int, ours: Callable[[], float], bare: Callable[[], float]) -> tuple[float, float]:
    """Medians of `runs` of each, interleaved so that load on the machine falls on both alike."""
    mine, theirs = [], []
    for _ in range(runs):
        mine.append(ours())
        theirs.append(bare())
    return statistics.median(mine), statistics.median(theirs)


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


class BareIo:
    """The API's I/O for one request with nothing of ours around it: boto3 and requests on the same endpoints."""

    def __init__(self, env: dict[str, str]) -> None:
        import boto3

        self.env = env
        endpoint = env["AWS_ENDPOINT_URL"]
        self.dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
        self.sqs = boto3.client("sqs", endpoint_url=endpoint)
        self.queue_url = self.sqs.get_queue_url(QueueName=env["JOBS_QUEUE_NAME"])["QueueUrl"]
        self.records, self.quotas = env["RECORDS_TABLE"], env["QUOTAS_TABLE"]

    def get(self, wallet: str) -> None:
        """A warm GET's I/O: the record's Query (the anchor is in the app's cache)."""
        answer = self.dynamodb.query(
            TableName=self.records,
            KeyConditionExpression="wallet = :w AND version > :head",
            ExpressionAttributeValues={":w": {"S": wallet.lower()}, ":head": {"N": "0"}},
            ScanIndexForward=False,
            Limit=2,
            ConsistentRead=True,
        )
        assert answer["Items"]

    def post(self, wallet: str, document: bytes, n: int) -> None:
        """A new key's I/O (issue 22): one transaction storing the record (queued, in the open index), moving the
        wallet's head and charging the wallet's quota and the source's, its network's and everyone's daily write
        budgets (one of the 64 global shards; all on, with limits the benchmark never reaches), then the job's
        message. No
        read, no pin, no log: those are the worker's."""
        now = int(time.time())
        key = wallet.lower()
        day = now - now % 86400
        cid = "bafkreibare" + f"{n:049d}"  # the app computes its CID in memory: no I/O to copy
        text = document.decode()

        def counter(subject: str) -> Any:
            return {
                "Update": {
                    "TableName": self.quotas,
                    "Key": {"key": {"S": f"{subject}#{day}"}},
                    "UpdateExpression": "ADD #count :one SET expiresAt = :expires",
                    "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
                    "ExpressionAttributeNames": {"#count": "count"},
                    "ExpressionAttributeValues": {
                        ":one": {"N": "1"},
                        ":limit": {"N": "1000000"},
                        ":expires": {"N": str(day + 2 * 86400)},
                    },
                }
            }

        head_names = ("latestVersion", "walletEip55", "keyVersion", "cid", "document")
        removed = ("revocation", "keyLogIndex", "keyLogVersion")
        self.dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.records,
                        "ConditionExpression": "attribute_not_exists(wallet)",
                        "Item": {
                            "wallet": {"S": key},
                            "version": {"N": "1"},
                            "walletEip55": {"S": wallet},
                            "cid": {"S": cid},
                            "document": {"S": text},
                            "status": {"S": "queued"},
                            "createdAt": {"N": str(now)},
                            "updatedAt": {"N": str(now)},
                            "kind": {"S": "key"},
                            "signerCheck": {"S": '{"method": "ecdsa"}'},
                            "openShard": {"N": str(n % 16)},
                        },
                    }
                },
                {
                    "Update": {
                        "TableName": self.records,
                        "Key": {"wallet": {"S": key}, "version": {"N": "0"}},
                        "UpdateExpression": "SET "
                        + ", ".join(f"#{name} = :{name}" for name in head_names)
                        + " REMOVE "
                        + ", ".join(f"#{name}" for name in removed),
                        "ConditionExpression": "attribute_not_exists(wallet)",
                        "ExpressionAttributeNames": {f"#{name}": name for name in (*head_names, *removed)},
                        "ExpressionAttributeValues": {
                            ":latestVersion": {"N": "1"},
                            ":walletEip55": {"S": wallet},
                            ":keyVersion": {"N": "1"},
                            ":cid": {"S": cid},
                            ":document": {"S": text},
                        },
                    }
                },
                counter(f"wallet#{key}"),
                counter(f"writes#source#bare{n}"),
                counter(f"writes#network#bare{n}"),  # the source's /24 (issue 24)
                counter(f"writes#global#bare#{n % 64}"),
            ]
        )
        self.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps({"cid": cid, "kind": "set", "version": 1, "wallet": wallet}, sort_keys=True),
        )


def run(stack: Any, args: argparse.Namespace) -> dict[str, Any]:
    from eth_account import Account

    import app
    from chalicelib import bootstrap
    from dmtp_key_registry_client.registry_client import build_registration

    env = {
        **os.environ,
        **stack.env,
        "SOURCE_REQUESTS_PER_MINUTE": "1000000",
        "WRITES_PER_DAY": "1000000",
        "SOURCE_WRITES_PER_DAY": "1000000",
        "NETWORK_WRITES_PER_DAY": "1000000",
        "NETWORK_REQUESTS_PER_MINUTE": "1000000",
        # Reads are limited as deployed (a token bucket per source and per network in the process), with limits
        # the run cannot reach: a report to the shared count every limit/10 reads would be one UpdateItem per
        # 100,000 reads here (at the default 600 a minute: one per 60 reads of a source, none on the others).
        "SOURCE_READS_PER_MINUTE": "1000000",
        "NETWORK_READS_PER_MINUTE": "1000000",
        "ANCHOR_CACHE_S": "3600",  # warm: the anchor stays cached for the whole run (a cold process reads it)
        "PYTHONPATH": str(REPO_ROOT),
    }
    os.environ.update(env)
    bootstrap.reset()

    def registration() -> dict[str, Any]:
        """A new wallet's first key, signed as its wallet would (the reference client's library)."""
        body, _ = build_registration(secrets.token_hex(32), int(stack.env["CHAIN_ID"]), stack.registry_address)
        return body

    def post_event(body: dict[str, Any]) -> dict[str, Any]:
        return api_event("POST", "/keys", body)

    def call(event: dict[str, Any], expected: int) -> None:
        response = app.app(event, None)
        assert response["statusCode"] == expected, response

    # A registered wallet for the GETs.
    reader = registration()
    call(post_event(reader), 202)
    wallet = reader["address"]
    progress(f"stack up; reading {wallet}")

    # (a) import
    import_app, import_bare = side_by_side(
        args.imports, lambda: _child_seconds(IMPORT_APP, env), lambda: _child_seconds(IMPORT_BARE, env)
    )
    progress(f"import: app {import_app * 1000:.0f} ms, chalice+boto3 {import_bare * 1000:.0f} ms")

    # (b) cold first request
    event = json.dumps(get_event(wallet))
    cold_app, cold_bare = side_by_side(
        args.colds, lambda: _child_seconds(COLD_APP, env, event), lambda: _child_seconds(COLD_BARE, env, wallet.lower())
    )
    progress(f"cold GET: app {cold_app * 1000:.0f} ms, bare boto3 {cold_bare * 1000:.0f} ms")

    # (c) warm: bodies signed beforehand (the client's work, not the API's)
    bare = BareIo(env)
    posts = [registration() for _ in range(args.warm + 4)]
    documents = [json.dumps(body, sort_keys=True).encode() + os.urandom(8).hex().encode() for body in posts]
    bare_wallets = [Account.create().address for _ in posts]
    for i in range(3):  # warm-up: clients built, connections open, lazy imports done
        call(post_event(posts[i]), 202)
        bare.post(bare_wallets[i], documents[i], i)
        call(get_event(wallet), 200)
        bare.get(wallet)
    warm_post_app, warm_post_bare = side_by_side(
        args.warm,
        iter_timer(lambda i: call(post_event(posts[i]), 202), start=3),
        iter_timer(lambda i: bare.post(bare_wallets[i], documents[i], i), start=3),
    )
    warm_get_app, warm_get_bare = side_by_side(
        args.warm, lambda: timed(lambda: call(get_event(wallet), 200)), lambda: timed(lambda: bare.get(wallet))
    )
    progress(
        f"warm POST: app {warm_post_app * 1000:.1f} ms, bare {warm_post_bare * 1000:.1f} ms; "
        f"warm GET: app {warm_get_app * 1000:.2f} ms, bare {warm_get_bare * 1000:.2f} ms"
    )

    # One warm request of each kind on each side, after the timed runs (the anchor is cached, as in them).
    get_requests = dynamodb_requests_of(lambda: call(get_event(wallet), 200))
    get_requests_bare = dynamodb_requests_of(lambda: bare.get(wallet))
    if get_requests != get_requests_bare:  # the ratio would compare different work
        raise RuntimeError(f"a GET makes {get_requests}, its bare side {get_requests_bare}: make them the same")
    post_requests = dynamodb_requests_of(lambda: call(post_event(posts[-1]), 202))
    post_requests_bare = dynamodb_requests_of(lambda: bare.post(Account.create().address, documents[-1], len(posts)))
    if post_requests != post_requests_bare:
        raise RuntimeError(f"a POST makes {post_requests}, its bare side {post_requests_bare}: make them the same")
    return {
        "import_ratio": round(import_app / import_bare, 3),
        "cold_request_ratio": round(cold_app / cold_bare, 3),
        "warm_post_ratio": round(warm_post_app / warm_post_bare, 3),
        "warm_get_ratio": round(warm_get_app / warm_get_bare, 3),
        "import_app_s": round(import_app, 4),
        "import_chalice_boto3_s": round(import_bare, 4),
        "cold_get_app_s": round(cold_app, 4),
        "cold_get_bare_boto3_s": round(cold_bare, 4),
        "warm_post_app_ms": round(warm_post_app * 1000, 2),
        "warm_post_bare_ms": round(warm_post_bare * 1000, 2),
        "warm_get_app_ms": round(warm_get_app * 1000, 3),
        "warm_get_bare_ms": round(warm_get_bare * 1000, 3),
        "get_dynamodb_requests": get_requests,
        "get_dynamodb_requests_bare": get_requests_bare,
        "post_dynamodb_requests": post_requests,
        "post_dynamodb_requests_bare": post_requests_bare,
        "runs": {"imports": args.imports, "colds": args.colds, "warm": args.warm},
        "targets": {"import_ratio": 1.15, "warm_post_ratio": 1.3, "warm_get_ratio": 1.3},
    }


def iter_timer(action: Callable[[int], Any], start: int) -> Callable[[], float]:
    counter = iter(range(start, 10**9))
    return lambda: timed(lambda: action(next(counter)))


def dynamodb_requests_of(action: Callable[[], Any]) -> dict[str, int]:
    """DynamoDB requests one call makes, by operation, on every botocore client of this process (each of the
    app's tables has a client of its own: chalicelib/adapters/dynamo.py), seen where botocore sends them."""
    from botocore.client import BaseClient

    # _make_api_call is where every client sends every request; botocore-stubs leave the private method out.
    original: Callable[..., Any] = BaseClient._make_api_call  # type: ignore[attr-defined]
    seen: dict[str, int] = {}

    def counting(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            seen[operation] = seen.get(operation, 0) + 1
        return original(client, operation, params)

    BaseClient._make_api_call = counting  # type: ignore[attr-defined]
    try:
        action()
    finally:
        BaseClient._make_api_call = original  # type: ignore[attr-defined]
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.api", description="API cold start and overhead against bare Chalice/boto3"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--imports", type=int, default=15, help="import runs of each side")
    parser.add_argument("--colds", type=int, default=9, help="cold-request runs of each side")
    parser.add_argument("--warm", type=int, default=60, help="warm requests of each kind and side")
    args = parser.parse_args(argv)

    from devstack.stack import LocalStack

    with LocalStack(with_api=False, with_worker=False, moto_in_process=False) as stack:
        result = run(stack, args)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
