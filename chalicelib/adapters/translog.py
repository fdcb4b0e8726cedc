"""The transparency log (issue 13): an append-only RFC 9162 Merkle log of every accepted record, in DynamoDB.

One leaf per accepted record (registrations and revocations alike), in order of acceptance. A leaf is 61 bytes:
kind (0x01 key, 0x02 revocation) || wallet (20 bytes) || version (uint64 big-endian) || documentHash (32 bytes:
SHA-256 of the exact document bytes the registry stores; for a key, the digest inside its CID). Hashing is
packages/dmtp-protocol/src/dmtp_protocol/merkle.py's (RFC 9162 section 2.1).

Table layout (its own table, LOG_TABLE; key `part` (S) + `pos` (N)):
- part "head",   pos 0:      {size, frontier}: the roots of the perfect subtrees covering [0, size), left to right
                              (one per set bit of size, largest first).
- part "leaf",   pos i:      {leaf}: leaf i's 61 bytes.
- part "node/L", pos j:      {hash}: the root of the perfect subtree of 2^L leaves [j * 2^L, (j + 1) * 2^L), L >= 1,
                              written once, when its last leaf is appended (level 0 is the leaf item itself).
- part "anchor", pos size:   {root, txHash, blockNumber, recordedAt}: a head confirmed on chain (LogAnchored).

Invariants (issue 22: sequenced in batches by the chain worker, never on the request path):
- One order, no gaps: leaves are appended by `append_batch`, one TransactWriteItems per batch (a chunk of a
  worker's batch) holding the caller's own items (each record's logIndex, set only while it has none, and its
  wallet head's keyLogIndex) and the log's: the batch's leaves at size .. size + n - 1 (attribute_not_exists),
  the perfect subtrees they complete (attribute_not_exists), and the head moved from size to size + n
  (conditional on the size read). So a leaf exists if and only if its record names it; two workers racing for
  the head cannot both win the same positions (the loser re-reads the head and retries, a bounded number of times);
  a record already sequenced by the other is reported as CallerConditionFailed and left out, never given a second
  leaf. A crash leaves either the whole batch appended or none of it.
- A wallet's versions are sequenced in increasing order (the worker sequences a record's unsequenced earlier
  versions with it, records.py), so the log never shows version n before n - 1.
- Every record that goes on chain has its leaf before its transaction is signed, and a key-setting transaction of
  several keys anchors the head read when its calldata is built, which covers its own leaves. A lone key or a
  revocation (revokeKey carries no head) is covered by the next anchor: the next batch's, or the monitor's
  anchor-only transaction once the oldest unanchored leaf has waited LOG_ANCHOR_SINGLE_AFTER_S.
- Stored nodes never change: every perfect subtree inside [0, n) is stored once n leaves exist, so the root of
  any size n <= current size and inclusion and consistency proofs for it are computed from O(log n) perfect
  subtrees per range (O(log^2 n) items at most for a proof, fetched with BatchGetItem), never from all leaves.
- Reads write nothing.

Residual limits:
- One head item serialises the batches: a transaction holds at most 100 items, and each record takes about four
  (its logIndex, its wallet head, its leaf, about one completed subtree), so a worker's batch of 100 records is
  5 transactions of about 24 records, one head write each. A worker keeps the head it wrote for its next
  transaction instead of reading it; when the other worker appended meanwhile, the compare-and-swap fails, that
  transaction is lost (nothing written) and the head is read. Nothing on the request path touches the log.
- An accepted record has no leaf until the worker takes its job (seconds; longer while the worker is paused): a
  lookup shows `log: null` until then.
- The registry can still refuse to accept a record at all (censorship); the log makes what it accepted
  append-only and equal for every reader, and the chain anchors make the head public.
"""

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.model import Anchor, LogHead
from dmtp_protocol import merkle
from dmtp_protocol.errors import LogBusy
from dmtp_protocol.leaves import LEAF_LENGTH

APPEND_ATTEMPTS = 30
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's TransactWriteItems limit


@dataclass(frozen=True)
class Appended:
    """What one append_batch wrote: leaves [first, first + count) (a prefix of those asked for), and the head."""

    first: int
    count: int
    head: LogHead


MAX_BATCH_GET = 100


HEAD = ("head", 0)


class CallerConditionFailed(Exception):
    """One of the caller's own items' conditions did not hold (nothing was written): `positions` in its list."""

    def __init__(self, message: str, positions: list[int] | None = None) -> None:
        super().__init__(message)
        self.positions = positions or []


def perfect_pieces(start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) as aligned perfect subtrees (level, index), left to right: how RFC 9162 splits a range that
    starts at a multiple of the largest power of two below its length (every range a proof asks for does)."""
    pieces = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else 63
        while (1 << level) > end - start:
            level -= 1
        pieces.append((level, start >> level))
        start += 1 << level
    return pieces


class _Size(Sequence[bytes]):
    """Stands for a list of `n` leaf hashes that merkle.py never reads (it is given `subtree`)."""

    def __init__(self, n: int) -> None:
        self._n = n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: Any) -> Any:
        raise AssertionError("merkle.py reads leaves only through the subtree callback here")


def _noting(ranges: list[tuple[int, int]]) -> Callable[[int, int], bytes]:
    """A subtree callback for a first pass of merkle.py: notes each (start, end) asked for, answers a placeholder."""

    def note(start: int, end: int) -> bytes:
        ranges.append((start, end))
        return merkle.EMPTY_ROOT

    return note


def _bytes(value: Any) -> bytes:
    return bytes(value.value) if hasattr(value, "value") else bytes(value)


class TransparencyLog:
    def __init__(
        self,
        table: Any,
        clock: Callable[[], float] = time.time,
        anchor_single_after_s: float = 300.0,
        attempts: int = APPEND_ATTEMPTS,
    ) -> None:
        self._table = table
        self._attempts = attempts
        self._client = table.meta.client  # the resource's client: plain Python values in and out
        self._clock = clock
        self.anchor_single_after_s = anchor_single_after_s

    # ------------------------------------------------------------ appending (records.py, in the record's transaction)

    def append(self, leaf: bytes, caller_items: Callable[[int], list[dict[str, Any]]]) -> int:
        """Append one leaf with `caller_items(index)`; its index."""
        return self.append_batch([leaf], lambda first, _count: caller_items(first)).first

    def append_batch(
        self,
        leaves: list[bytes],
        caller_items: Callable[[int, int], list[dict[str, Any]]],
        head: LogHead | None = None,
    ) -> "Appended":
        """Append the longest prefix of `leaves` (one leaf at least) that fits in one transaction with
        `caller_items(first, count)` (the caller's writes for those `count` leaves, told the first one's index):
        the leaves, the subtrees they complete, and one compare-and-swap of the head. A transaction holds at most
        MAX_TRANSACTION_ITEMS (DynamoDB's limit), and the subtrees a batch completes vary with the size (up to the
        batch's length plus the set bits of the old size), so the count is decided against the head itself.

        `head`: the head as the caller last wrote it (Appended.head), tried first instead of reading it; when
        another append moved it meanwhile, the compare-and-swap fails, nothing is written, and the head is read.
        Returns what was appended. CallerConditionFailed (with the positions of the caller's items whose condition
        failed) when one of the caller's conditions fails; LogBusy after APPEND_ATTEMPTS lost races."""
        if not leaves or any(len(leaf) != LEAF_LENGTH for leaf in leaves):
            raise ValueError(f"a batch of one or more leaves of {LEAF_LENGTH} bytes each")
        for attempt in range(self._attempts):
            supplied = head is not None
            if head is None:
                head = self.head()
            count = len(leaves)
            own, items, after = self._fitting(head, leaves, count, caller_items)
            while len(own) + len(items) > MAX_TRANSACTION_ITEMS and count > 1:
                count -= 1
                own, items, after = self._fitting(head, leaves, count, caller_items)
            try:
                self._client.transact_write_items(TransactItems=own + items)
                return Appended(head.size, count, after)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons") or []]
                failed = [i for i, code in enumerate(reasons[: len(own)]) if code == "ConditionalCheckFailed"]
                if failed:
                    raise CallerConditionFailed(str(exc), failed) from exc
                if not any(code in ("ConditionalCheckFailed", "TransactionConflict") for code in reasons):
                    raise
            head = None
            if not supplied:  # the head read just now moved: back off before reading it again
                time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
        raise LogBusy("the transparency log is busy; nothing was stored, send the same request again")

    def _fitting(
        self,
        head: LogHead,
        leaves: list[bytes],
        count: int,
        caller_items: Callable[[int, int], list[dict[str, Any]]],
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], LogHead]:
        """The caller's items and the log's for the first `count` leaves, and the head they write."""
        items, after = self._append_items(head, leaves[:count])
        return caller_items(head.size, count), items, after

    def _append_items(self, head: LogHead, leaves: list[bytes]) -> tuple[list[dict[str, Any]], LogHead]:
        """The leaves' puts, the perfect subtrees they complete, and the head moved from its size (conditional);
        and that new head."""
        items = []
        frontier = list(head.frontier)
        for index, leaf in enumerate(leaves, start=head.size):
            items.append(self._put({"part": "leaf", "pos": index, "leaf": leaf}))
            carry, level, bits = merkle.leaf_hash(leaf), 0, index
            while bits & 1:  # the leaf completes a perfect subtree for every trailing 1 bit of the old size
                carry = merkle.node_hash(frontier.pop(), carry)
                level += 1
                bits >>= 1
                items.append(self._put({"part": f"node/{level}", "pos": ((index + 1) >> level) - 1, "hash": carry}))
            frontier.append(carry)
        new_head = {"part": HEAD[0], "pos": HEAD[1], "size": head.size + len(leaves), "frontier": frontier}
        if head.size == 0:
            items.append(self._put(new_head))
        else:
            items.append(
                {
                    "Put": {
                        "TableName": self._table.name,
                        "Item": new_head,
                        "ConditionExpression": "#size = :size",
                        "ExpressionAttributeNames": {"#size": "size"},
                        "ExpressionAttributeValues": {":size": head.size},
                    }
                }
            )
        return items, LogHead(head.size + len(leaves), tuple(frontier))

    def _put(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {"TableName": self._table.name, "Item": item, "ConditionExpression": "attribute_not_exists(part)"}
        }

    # ------------------------------------------------------------ anchors (the monitor, once a transaction is final)

    def record_anchor(self, size: int, root: bytes, tx_hash: str, block_number: int) -> None:
        """Remember a head the chain confirmed (idempotent: the same size is written with the same values)."""
        self._table.put_item(
            Item={
                "part": "anchor",
                "pos": size,
                "root": root,
                "txHash": tx_hash,
                "blockNumber": block_number,
                "recordedAt": int(self._clock()),
            }
        )

    def latest_anchor(self) -> Anchor | None:
        answer = self._table.query(
            KeyConditionExpression="#part = :anchor",
            ExpressionAttributeNames={"#part": "part"},
            ExpressionAttributeValues={":anchor": "anchor"},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = answer.get("Items") or []
        if not items:
            return None
        item = items[0]
        return Anchor(
            int(item["pos"]),
            _bytes(item["root"]),
            item["txHash"],
            int(item["blockNumber"]),
            int(item.get("recordedAt", 0)),
        )

    def head_to_anchor(self, keys: int) -> tuple[int, bytes] | None:
        """The (size, root) a transaction setting `keys` keys should anchor, or None. Several keys always carry the
        head (~100 gas per key at 100); a lone key, or the monitor's anchor-only transaction (keys 0), only when
        leaves are uncovered and the last anchor is older than anchor_single_after_s (or there is none)."""
        head = self.head()
        if head.size == 0:
            return None
        if keys < 2:
            latest = self.latest_anchor()
            if latest is not None and (
                latest.size >= head.size or self._clock() - latest.recorded_at < self.anchor_single_after_s
            ):
                return None
        return head.size, head.root

    # ------------------------------------------------------------ reads

    def head(self) -> LogHead:
        item = self._table.get_item(Key={"part": HEAD[0], "pos": HEAD[1]}, ConsistentRead=True).get("Item")
        if item is None:
            return LogHead(0, ())
        return LogHead(int(item["size"]), tuple(_bytes(h) for h in item["frontier"]))

    def leaves(self, start: int, end: int) -> list[tuple[int, bytes]]:
        """(index, leaf) of the stored leaves in [start, end), in order."""
        found: list[tuple[int, bytes]] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "#part = :leaf AND #pos BETWEEN :start AND :last",
            "ExpressionAttributeNames": {"#part": "part", "#pos": "pos"},
            "ExpressionAttributeValues": {":leaf": "leaf", ":start": start, ":last": end - 1},
            "ConsistentRead": True,
        }
        while True:
            answer = self._table.query(**kwargs)
            found += [(int(item["pos"]), _bytes(item["leaf"])) for item in answer.get("Items", [])]
            if "LastEvaluatedKey" not in answer:
                return found
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def leaf(self, index: int) -> bytes | None:
        item = self._table.get_item(Key={"part": "leaf", "pos": index}, ConsistentRead=True).get("Item")
        return _bytes(item["leaf"]) if item else None

    def root(self, size: int) -> bytes:
        return self._ranges([(0, size)])[(0, size)] if size else merkle.EMPTY_ROOT

    def inclusion(self, index: int, size: int) -> tuple[bytes, list[bytes]]:
        """(root of `size`, audit path of leaf `index` in it): RFC 9162 PATH, from stored subtrees."""
        return self._with_root(size, lambda subtree: merkle.inclusion_proof(index, _Size(size), subtree))

    def consistency(self, old_size: int, new_size: int) -> tuple[bytes, bytes, list[bytes]]:
        """(root of old_size, root of new_size, RFC 9162 PROOF(old_size, D[new_size])), from stored subtrees."""
        ranges: list[tuple[int, int]] = [(0, old_size), (0, new_size)]
        merkle.consistency_proof(old_size, _Size(new_size), _noting(ranges))
        hashes = self._ranges(ranges)
        proof = merkle.consistency_proof(old_size, _Size(new_size), lambda s, e: hashes[(s, e)])
        return hashes[(0, old_size)], hashes[(0, new_size)], proof

    def _with_root(
        self, size: int, compute: Callable[[Callable[[int, int], bytes]], list[bytes]]
    ) -> tuple[bytes, list[bytes]]:
        ranges: list[tuple[int, int]] = [(0, size)]
        compute(_noting(ranges))  # first pass: which ranges, not their hashes
        hashes = self._ranges(ranges)
        return hashes[(0, size)], compute(lambda s, e: hashes[(s, e)])

    def _ranges(self, ranges: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The RFC 9162 hash of each range [start, end), from its perfect pieces, fetched in BatchGetItems."""
        wanted = {r: perfect_pieces(*r) for r in ranges}
        pieces = self._pieces({p for found in wanted.values() for p in found})
        hashes = {}
        for span, parts in wanted.items():
            folded = pieces[parts[-1]]
            for part in reversed(parts[:-1]):
                folded = merkle.node_hash(pieces[part], folded)
            hashes[span] = folded
        return hashes

    def _pieces(self, pieces: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        keys = [{"part": "leaf" if level == 0 else f"node/{level}", "pos": index} for level, index in sorted(pieces)]
        found: dict[tuple[int, int], bytes] = {}
        for start in range(0, len(keys), MAX_BATCH_GET):
            pending: dict[str, Any] = {
                self._table.name: {"Keys": keys[start : start + MAX_BATCH_GET], "ConsistentRead": True}
            }
            delay = 0.05
            while pending:
                answer = self._client.batch_get_item(RequestItems=pending)
                for item in answer.get("Responses", {}).get(self._table.name, []):
                    index = int(item["pos"])
                    if item["part"] == "leaf":
                        found[(0, index)] = merkle.leaf_hash(_bytes(item["leaf"]))
                    else:
                        found[(int(item["part"].split("/")[1]), index)] = _bytes(item["hash"])
                pending = answer.get("UnprocessedKeys") or {}
                if pending:
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
        missing = pieces - set(found)
        if missing:
            raise LookupError(f"the log is missing stored subtrees {sorted(missing)[:5]}")
        return found
