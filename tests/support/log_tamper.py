"""Tampering with the transparency log and the records directly in moto's DynamoDB, as a dishonest (or broken)
registry could: for the tests that show the auditor and `verify` catch it. Nothing here goes through the API.

Log table layout (chalicelib/adapters/translog.py): part/pos keys; "head"/0 {size, frontier}, "leaf"/i {leaf},
"node/L"/j {hash}, "anchor"/size {root, txHash, blockNumber, recordedAt}.
"""

import uuid
from typing import Any

import boto3

from chalicelib.adapters.translog import TransparencyLog
from dmtp_protocol import merkle
from tests.support.cfn import TEMPLATE_PATH, load_yaml


def fresh_log_table(endpoint: str) -> Any:
    """An empty table shaped like the template's LogTable (delete it with .delete())."""
    properties = load_yaml(TEMPLATE_PATH)["Resources"]["LogTable"]["Properties"]
    return boto3.resource("dynamodb", endpoint_url=endpoint).create_table(
        TableName=f"log-{uuid.uuid4().hex[:12]}",
        KeySchema=properties["KeySchema"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
    )


def leaf_at(log_table: Any, index: int) -> bytes | None:
    item = log_table.get_item(Key={"part": "leaf", "pos": index}, ConsistentRead=True).get("Item")
    return bytes(item["leaf"].value) if item else None


def delete_leaf(log_table: Any, index: int) -> bytes:
    """Remove leaf `index` (nodes and head stay as they were: proofs still verify, the leaves no longer add up)."""
    leaf = leaf_at(log_table, index)
    assert leaf is not None, f"no leaf {index}"
    log_table.delete_item(Key={"part": "leaf", "pos": index})
    return leaf


def rewrite_leaf(log_table: Any, index: int, leaf: bytes) -> bytes | None:
    """Write leaf `index`'s bytes (also where a leaf was deleted); returns the old ones (None when there were none)."""
    old = leaf_at(log_table, index)
    log_table.put_item(Item={"part": "leaf", "pos": index, "leaf": leaf})
    return old


def swap_leaves(log_table: Any, first: int, second: int) -> None:
    """Exchange two leaves' bytes (the records keep their logIndex)."""
    a, b = leaf_at(log_table, first), leaf_at(log_table, second)
    assert a is not None and b is not None
    log_table.put_item(Item={"part": "leaf", "pos": first, "leaf": b})
    log_table.put_item(Item={"part": "leaf", "pos": second, "leaf": a})


def rewrite_record(records_table: Any, wallet: str, version: int, **attributes: Any) -> None:
    """Set attributes of a record item directly (e.g. document=..., cid=...)."""
    names = {f"#a{i}": name for i, name in enumerate(attributes)}
    values = {f":a{i}": value for i, value in enumerate(attributes.values())}
    records_table.update_item(
        Key={"wallet": wallet.lower(), "version": version},
        UpdateExpression="SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(attributes))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def delete_record(records_table: Any, wallet: str, version: int) -> None:
    records_table.delete_item(Key={"wallet": wallet.lower(), "version": version})


def rebuild_without(log_table: Any, index: int, records_table: Any | None = None) -> bytes:
    """A consistent lie: the log rebuilt from scratch without leaf `index` (later leaves move down one, every node
    and the head recomputed; the anchors stay). With `records_table`, records' logIndex follow their leaves and the
    record of the dropped leaf is deleted, as a registry hiding that record (e.g. a revocation) would do.
    Returns the dropped leaf."""
    log = TransparencyLog(log_table)
    size = log.head().size
    leaves = [leaf for _, leaf in log.leaves(0, size)]
    dropped = leaves.pop(index)
    with log_table.batch_writer() as batch:
        for part, pos in _keys(log_table):
            if part != "anchor":
                batch.delete_item(Key={"part": part, "pos": pos})
    for leaf in leaves:
        log.append(leaf, lambda _: [])
    if records_table is not None:
        wallet, version = "0x" + dropped[1:21].hex(), int.from_bytes(dropped[21:29], "big")
        delete_record(records_table, wallet, version)
        for new_index, leaf in enumerate(leaves[index:], start=index):
            rewrite_record(
                records_table, "0x" + leaf[1:21].hex(), int.from_bytes(leaf[21:29], "big"), logIndex=new_index
            )
    return dropped


def _keys(log_table: Any) -> list[tuple[str, int]]:
    keys: list[tuple[str, int]] = []
    kwargs: dict[str, Any] = {"ProjectionExpression": "#p, #q", "ExpressionAttributeNames": {"#p": "part", "#q": "pos"}}
    while True:
        page = log_table.scan(**kwargs)
        keys += [(item["part"], int(item["pos"])) for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return keys
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def write_log(log_table: Any, leaves: list[bytes]) -> None:
    """Write into an empty log table the log `leaves` make, item for item as TransparencyLog.append one leaf at a
    time would leave it (every leaf, every node of a perfect subtree, the head with its frontier), in batches: a
    few BatchWriteItem calls instead of one transaction per leaf."""
    items: list[dict[str, Any]] = [{"part": "leaf", "pos": i, "leaf": leaf} for i, leaf in enumerate(leaves)]
    level_hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    frontier: list[bytes] = [level_hashes[-1]] if len(leaves) % 2 else []
    level = 0
    while len(level_hashes) > 1:
        level += 1
        level_hashes = [merkle.node_hash(a, b) for a, b in zip(level_hashes[::2], level_hashes[1::2], strict=False)]
        items += [{"part": f"node/{level}", "pos": j, "hash": h} for j, h in enumerate(level_hashes)]
        if (len(leaves) >> level) & 1:  # a set bit of the size: this level's last subtree is in the frontier
            frontier.insert(0, level_hashes[-1])
    items.append({"part": "head", "pos": 0, "size": len(leaves), "frontier": frontier})
    with log_table.batch_writer() as batch:
        for item in items:
            batch.put_item(Item=item)
