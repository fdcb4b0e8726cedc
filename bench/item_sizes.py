"""The DynamoDB items one registration writes, and their sizes: `python -m bench.item_sizes --json`.

A fresh wallet's key is signed as a client signs it (dmtp_key_registry_client.build_registration, coincurve), made
into its stored document by the API's own code, and each item is built by the adapters' own item functions where
they exist; the size follows DynamoDB's rules (docs: "DynamoDB item sizes and formats"): the UTF-8 bytes of every
attribute name and string value, the bytes of a binary, about 1 byte per 2 significant digits of a number plus 1,
1 byte for a boolean or null, and 3 bytes plus 1 per element for a list or map.

A write costs one write request unit per started KB of the larger of the item before and after; inside a
transaction, two. docs/SCALING.md multiplies these by the writes per registration bench.intake (request path) and
bench.worker (the chain side) count. Pure computation: no stack, no network."""

import argparse
import dataclasses
import json
import math
import os
import sys
from decimal import Decimal
from typing import Any


def item_size(value: Any, top: bool = True) -> int:
    """The DynamoDB size of an item (a dict of attribute values as boto3's resource layer takes them)."""
    if top:
        return sum(len(name.encode()) + item_size(v, False) for name, v in value.items())
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, (int, Decimal)):
        digits = len(str(abs(int(value))).rstrip("0") or "0")
        return math.ceil(digits / 2) + 1
    if isinstance(value, dict):
        return 3 + sum(len(k.encode()) + item_size(v, False) + 1 for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return 3 + sum(item_size(v, False) + 1 for v in value)
    raise TypeError(type(value))


def units(size: int, transactional: bool) -> int:
    return math.ceil(size / 1024) * (2 if transactional else 1)


def items_of_one_registration() -> dict[str, dict[str, Any]]:
    from chalicelib.adapters.records import HEAD_VERSION, _to_item
    from chalicelib.model import KIND_KEY, STATUS_CONFIRMED, STATUS_QUEUED, Record
    from dmtp_key_registry_client.registry_client import build_registration
    from dmtp_protocol.cid import cid_for_bytes
    from dmtp_protocol.ethsig import to_checksum_address
    from dmtp_protocol.leaves import LEAF_LENGTH
    from dmtp_protocol.messages import Domain, parse_registration, pinned_document

    domain = Domain(8453, to_checksum_address("0x" + "5f" * 20))
    body = build_registration(os.urandom(32).hex(), domain.chain_id, domain.registry)[0]
    registration = parse_registration(body)
    document = pinned_document(registration, domain)
    now = 1_800_000_000
    queued = Record(
        registration.wallet,
        1,
        cid_for_bytes(document),
        document.decode(),
        STATUS_QUEUED,
        now,
        now,
        kind=KIND_KEY,
        signer_check=json.dumps({"method": "ecdsa"}),
    )
    confirmed = dataclasses.replace(
        queued,
        status=STATUS_CONFIRMED,
        tx_hash="0x" + "ab" * 32,
        nonce=123_456,
        block_number=40_000_000,
        log_index=1_000_000,
    )
    head = {
        "wallet": queued.wallet.lower(),
        "version": HEAD_VERSION,
        "latestVersion": 1,
        "walletEip55": queued.wallet,
        "keyVersion": 1,
        "cid": queued.cid,
        "document": queued.document,
        "keyLogIndex": 1_000_000,
        "keyLogVersion": 1,
    }
    counter = {"key": f"writes#global#{now - now % 86400}#63", "count": 15_625, "expiresAt": now + 2 * 86400}
    leaf = {"part": "leaf", "pos": 1_000_000, "leaf": bytes(LEAF_LENGTH)}
    node = {"part": "node/1", "pos": 500_000, "hash": bytes(32)}
    log_head = {"part": "head", "pos": 0, "size": 1_000_000, "frontier": [bytes(32)] * 20}
    return {
        "document": {"bytes": len(document)},
        "record_queued": _to_item(queued),
        "record_confirmed": _to_item(confirmed),
        "wallet_head": head,
        "budget_counter": counter,
        "log_leaf": leaf,
        "log_node": node,
        "log_head": log_head,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.item_sizes", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    found = items_of_one_registration()
    result: dict[str, Any] = {"document_bytes": found.pop("document")["bytes"]}
    for name, item in found.items():
        size = item_size(item)
        result[name] = {"bytes": size, "wru": units(size, False), "wru_in_transaction": units(size, True)}
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
