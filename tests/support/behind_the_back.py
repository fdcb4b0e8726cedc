"""A key registered for a wallet behind its owner's back, as a compromised registry (or anyone holding its database and
queue) could: a registration document signed by another key, stored with RecordStore.create and queued for the chain
exactly as the API stores and queues an accepted one, but never checked against the wallet. The worker then puts it
on chain and in the log like any other record. For the tests that show the owner's monitor reports it.

`python -m tests.support.behind_the_back WALLET VERSION` does it on the stage its environment names (the JS stack
tests run it so, with the local stack's environment) and prints `{"wallet", "version", "cid"}`.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from typing import Any

from chalicelib.model import JOB_SET_KEY, KIND_KEY, STATUS_QUEUED, Job, Record
from dmtp_key_registry_client.registry_client import build_registration
from dmtp_protocol.cid import cid_for_bytes
from dmtp_protocol.messages import Domain, parse_address, parse_registration, pinned_document


def register_behind_the_back(
    wallet: str, version: int, *, chain_id: int, registry: str, records: Any, queue: Any
) -> Record:
    """Store and queue key `version` for `wallet`, signed by a key that is not the wallet's (records: a RecordStore,
    queue: a JobQueue). Returns the record stored."""
    intruder = "0x" + secrets.token_hex(32)
    address = parse_address(wallet)
    body, _ = build_registration(intruder, chain_id, registry, version=version, wallet=address)
    document = pinned_document(parse_registration(body), Domain(chain_id, parse_address(registry)))
    cid = cid_for_bytes(document)
    now = int(time.time())
    record = Record(address, version, cid, document.decode("utf-8"), STATUS_QUEUED, now, now, kind=KIND_KEY)
    records.create(record)
    queue.enqueue(Job(address, version, cid, JOB_SET_KEY))
    return record


def on_this_stage(wallet: str, version: int) -> Record:
    """register_behind_the_back on the stage the environment names (chalicelib.bootstrap's settings)."""
    import boto3

    from chalicelib import bootstrap
    from chalicelib.adapters.jobs import JobQueue

    settings = bootstrap.settings()
    queue = JobQueue(boto3.client("sqs", endpoint_url=settings.aws_endpoint_url), settings.jobs_queue_name)
    return register_behind_the_back(
        wallet,
        version,
        chain_id=settings.chain_id,
        registry=settings.registry_address,
        records=bootstrap.record_store(settings),
        queue=queue,
    )


def main(argv: list[str]) -> int:
    wallet, version = argv
    record = on_this_stage(wallet, int(version))
    print(json.dumps({"wallet": record.wallet, "version": record.version, "cid": record.cid}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
