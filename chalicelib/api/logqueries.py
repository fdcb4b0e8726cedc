"""Use cases of the transparency log's read API (GET /log/head, /log/inclusion, /log/consistency, /log/leaves).

Every answer is computed from the stored log (translog.py) and writes nothing. Bounds are checked here, each
failure a 400 problem naming the parameter; sizes are bounded by the log's current size, read once per request.
The latest anchor comes from `anchors` (in the API, a cache of the log's: adapters/anchor_cache.py), so it may be
up to ANCHOR_CACHE_S older than the newest stored one: still a true anchored head, of a size at most the log's.
"""

import re
from typing import Any

from chalicelib.api.ports import Anchors, LogReader, Records
from dmtp_protocol.errors import InvalidField, NotAnchored, NotFound
from dmtp_protocol.leaves import LEAF_KIND_KEY, Leaf
from dmtp_protocol.messages import MAX_SAFE_INTEGER, parse_address

MAX_LEAVES_PAGE = 1000
_DECIMAL = re.compile(r"[0-9]{1,16}")  # int() would also take " 7", "1_0" and non-ASCII digits


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _integer(value: str | None, name: str, low: int, high: int) -> int:
    """A required decimal query parameter within [low, high] (high < low: no value can do)."""
    if value is None:
        raise InvalidField(f"{name} is required", field=name)
    if not _DECIMAL.fullmatch(value) or int(value) > MAX_SAFE_INTEGER:
        raise InvalidField(f"{name} must be a decimal integer", field=name)
    number = int(value)
    if not low <= number <= high:
        raise InvalidField(
            f"{name} must be from {low} to {high}" if high >= low else f"no {name} fits: the log is too short",
            field=name,
        )
    return number


class LogQueries:
    def __init__(self, log: LogReader, records: Records, anchors: Anchors | None = None) -> None:
        """`anchors`: where the latest anchor is read (default: `log` itself, on every request)."""
        self._log = log
        self._records = records
        self._anchors: Anchors = log if anchors is None else anchors

    def head(self) -> dict[str, Any]:
        head = self._log.head()
        anchor = self._anchors.latest_anchor()
        return {"size": head.size, "root": _hex(head.root), "anchored": anchor.as_dict() if anchor else None}

    def inclusion(self, address: str | None, version: str | None, tree_size: str | None) -> dict[str, Any]:
        if address is None:
            raise InvalidField("wallet is required", field="wallet")
        wallet = parse_address(address)
        number = _integer(version, "version", 1, MAX_SAFE_INTEGER)
        record = self._records.get(wallet, number)
        if record is None or record.log_index is None:
            raise NotFound(f"{wallet} has no version {number} in the log")
        index = record.log_index
        anchor = self._anchors.latest_anchor()
        if tree_size is None:
            if anchor is None or anchor.size <= index:
                raise NotAnchored(
                    f"leaf {index} ({wallet} version {number}) is not under an anchored head yet", leafIndex=index
                )
            size = anchor.size
        else:
            current = self._log.head().size
            size = _integer(tree_size, "treeSize", index + 1, current)
        root, path = self._log.inclusion(index, size)
        leaf = self._log.leaf(index)
        if leaf is None:  # a record exists only with its leaf (one transaction): the store was changed behind our back
            raise LookupError(f"the log has no leaf {index}, though {wallet} version {number} names it")
        return {
            "leafIndex": index,
            "treeSize": size,
            "root": _hex(root),
            "leaf": _hex(leaf),
            "auditPath": [_hex(h) for h in path],
            "anchored": anchor.as_dict() if anchor is not None and anchor.size == size else None,
        }

    def consistency(self, first: str | None, second: str | None) -> dict[str, Any]:
        current = self._log.head().size
        old = _integer(first, "from", 1, current)
        new = _integer(second, "to", old, current)
        old_root, new_root, proof = self._log.consistency(old, new)
        return {
            "from": old,
            "to": new,
            "fromRoot": _hex(old_root),
            "toRoot": _hex(new_root),
            "proof": [_hex(h) for h in proof],
        }

    def leaves(self, first: str | None, last: str | None) -> dict[str, Any]:
        from dmtp_protocol.ethsig import to_checksum_address

        current = self._log.head().size
        start = _integer(first, "start", 0, current - 1)
        end = min(_integer(last, "end", start + 1, current), start + MAX_LEAVES_PAGE)
        found = self._log.leaves(start, end)
        entries = []
        for index, raw in found:
            leaf = Leaf.parse(raw)
            entries.append(
                {
                    "index": index,
                    "kind": "key" if leaf.kind == LEAF_KIND_KEY else "revocation",
                    "wallet": to_checksum_address(leaf.wallet),
                    "version": leaf.version,
                    "documentHash": _hex(leaf.document_hash),
                    "leaf": _hex(raw),
                }
            )
        return {"start": start, "end": end, "leaves": entries}
