"""DynamoDB: one item per (wallet, version), with its document, CID and on-chain status, plus a head item.

Versions start at 1. The head item (version 0) names the wallet's latest version and carries a copy of
the current key's immutable fields, so a batch lookup is one BatchGetItem, and so that writing version n
can be made conditional on the head still saying n - 1 (of two racing writers, exactly one wins). Writing
version n also marks version n - 1 with `nextVersion` in the same transaction, so a write conditional on a
record having no `nextVersion` holds only while that record is the wallet's latest.

The open index (OPEN_INDEX, infra/template.yaml) is a sparse global secondary index of the records still on their way
(pinned, queued, submitted): a record carries `openShard` exactly while its status is open (every write that sets a
status sets or removes it: _to_item, set_status, set_statuses), keyed by that shard and `updatedAt`, so the sweeper
asks for "open and not updated since T" without reading the rest of the table (open_page).
"""

import functools
import random
import time
import zlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import condition_failed
from chalicelib.adapters.quotas import counter_update
from chalicelib.adapters.translog import CallerConditionFailed, TransparencyLog
from chalicelib.model import (
    BUDGET_GLOBAL,
    BUDGET_NETWORK,
    BUDGET_SOURCE,
    BUDGET_WALLET,
    KIND_KEY,
    KIND_REVOCATION,
    OPEN_STATUSES,
    STATUS_FAILED,
    BudgetSpent,
    Charge,
    Head,
    LogHead,
    OpenCursor,
    Record,
    StatusChange,
    VersionTaken,
)
from dmtp_protocol.leaves import LEAF_KIND_KEY, LEAF_KIND_REVOCATION, document_hash, leaf_bytes

HEAD_VERSION = 0


MAX_BATCH_GET = 100
AS_OF_PAGE = 10  # versions per Query of an as-of lookup (records are ~2-5 KB: one page is a few read units)
CONFLICT_ATTEMPTS = 8  # a transaction that conflicts with another on one of its items is sent again this often
# The most leaves tried per transaction: each takes its leaf, about one completed subtree, its record's logIndex and
# (a key) its wallet head, plus the log head once; the log trims a chunk to what fits in DynamoDB's 100 items
# (translog.append_batch), about 24.
SEQUENCE_CHUNK = 32
BUDGET_ORDER = (
    BUDGET_WALLET,
    BUDGET_SOURCE,
    BUDGET_NETWORK,
    BUDGET_GLOBAL,
)  # which spent budget is named first (the owner can act)


_ATTRIBUTES = {
    "cid": "cid",
    "document": "document",
    "status": "status",
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "tx_hash": "txHash",
    "nonce": "nonce",
    "block_number": "blockNumber",
    "error": "error",
    "kind": "kind",
    "revokes_cid": "revokesCid",
    "signer_check": "signerCheck",
    "next_version": "nextVersion",
    "log_index": "logIndex",
}

OPEN_INDEX = "open"  # RecordsTable's sparse index of the open records (infra/template.yaml)
OPEN_SHARD = "openShard"  # its partition key: present on a record exactly while its status is open
OPEN_SHARDS = 16  # partitions the index's writes spread over (1,000 registrations/s at launch)
# The Record fields the index gives back besides wallet and version: what the sweeper reads of a record, no more.
OPEN_INDEX_FIELDS = ("cid", "status", "created_at", "updated_at", "nonce", "kind")
# Its projection (template.yaml, NonKeyAttributes): those fields but updatedAt (its sort key), and walletEip55.
OPEN_INDEX_PROJECTION = ("walletEip55", *(_ATTRIBUTES[f] for f in OPEN_INDEX_FIELDS if f != "updated_at"))


def open_shard(wallet: str) -> int:
    """The open index's partition of the wallet's records: CRC-32 of the lowercase address modulo OPEN_SHARDS (the
    same in every process, and even over wallets that are not random, as test wallets are)."""
    return zlib.crc32(wallet.lower().encode()) % OPEN_SHARDS


def _open_index_attributes(wallet: str, status: str) -> dict[str, Any]:
    """What a record of `wallet` with `status` carries for the open index: its shard while the status is open,
    nothing once it is final (so the index holds exactly the open records)."""
    return {OPEN_SHARD: open_shard(wallet)} if status in OPEN_STATUSES else {}


def _status_update(wallet: str, values: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """UpdateExpression, names and values that set `values` (Record fields; "status" among them) and keep the open
    index in step with the new status: SET openShard when it is open, REMOVE it when it is final."""
    names = {f"#{name}": _ATTRIBUTES[name] for name in values}
    attribute_values = {f":{name}": value for name, value in values.items()}
    assignments = [f"#{name} = :{name}" for name in values]
    indexed = _open_index_attributes(wallet, values["status"])
    for attribute, value in indexed.items():
        names[f"#{attribute}"] = attribute
        attribute_values[f":{attribute}"] = value
        assignments.append(f"#{attribute} = :{attribute}")
    expression = "SET " + ", ".join(assignments)
    if not indexed:
        names[f"#{OPEN_SHARD}"] = OPEN_SHARD
        expression += f" REMOVE #{OPEN_SHARD}"
    return expression, names, attribute_values


def _to_item(record: Record) -> dict[str, Any]:
    item: dict[str, Any] = {"wallet": record.wallet.lower(), "version": record.version, "walletEip55": record.wallet}
    for name, attribute in _ATTRIBUTES.items():
        value = getattr(record, name)
        if value is not None:
            item[attribute] = value
    item.update(_open_index_attributes(record.wallet, record.status))
    return item


def _from_item(item: dict[str, Any]) -> Record:
    values: dict[str, Any] = {name: item.get(attribute) for name, attribute in _ATTRIBUTES.items()}
    values["kind"] = values["kind"] or KIND_KEY
    for numeric in ("created_at", "updated_at", "nonce", "block_number", "next_version", "log_index"):
        if values[numeric] is not None:
            values[numeric] = int(values[numeric])
    return Record(wallet=item["walletEip55"], version=int(item["version"]), **values)


def _key_log_index(head: dict[str, Any]) -> int | None:
    """The head's current key's leaf: named only once that very version is sequenced (keyLogVersion), or by a head
    written before the log was sequenced in batches (keyLogIndex alone, set with the key)."""
    if "keyLogIndex" not in head:
        return None
    if "keyLogVersion" in head and int(head["keyLogVersion"]) != int(head["keyVersion"]):
        return None
    return int(head["keyLogIndex"])


def leaf_of(record: Record) -> bytes:
    """The record's transparency-log leaf (translog.py): a key's documentHash is the digest in its CID (what the
    contract stores), a revocation's the SHA-256 of its stored canonical JSON."""
    from dmtp_protocol.cid import digest_from_cid

    if record.kind == KIND_KEY:
        return leaf_bytes(LEAF_KIND_KEY, record.wallet, record.version, digest_from_cid(record.cid))
    return leaf_bytes(LEAF_KIND_REVOCATION, record.wallet, record.version, document_hash(record.document))


class RecordStore:
    def __init__(self, table: Any, log: TransparencyLog | None = None) -> None:
        """With `log`, `sequence` appends records to the transparency log (issue 13; in batches since issue 22)."""
        self._table = table
        self.log = log

    def latest(self, wallet: str) -> Record | None:
        found = self.newest(wallet, 1)
        return found[0] if found else None

    def newest(self, wallet: str, count: int) -> list[Record]:
        """The wallet's `count` newest versions, newest first."""
        answer = self._table.query(
            KeyConditionExpression=Key("wallet").eq(wallet.lower()) & Key("version").gt(HEAD_VERSION),
            ScanIndexForward=False,
            Limit=count,
            ConsistentRead=True,
        )
        return [_from_item(item) for item in answer.get("Items", [])]

    def history(self, wallet: str, limit: int, before_version: int | None = None) -> list[Record]:
        """Versions newest first, at most `limit`, only those below `before_version` when given."""
        condition: ConditionBase = Key("wallet").eq(wallet.lower())
        if before_version is None:
            condition = condition & Key("version").gt(HEAD_VERSION)
        else:
            condition = condition & Key("version").between(HEAD_VERSION + 1, before_version - 1)
        answer = self._table.query(
            KeyConditionExpression=condition, ScanIndexForward=False, Limit=limit, ConsistentRead=True
        )
        return [_from_item(item) for item in answer.get("Items", [])]

    def all_versions(self, wallet: str) -> Iterator[Record]:
        """Every version, newest first, page by page."""
        before: int | None = None
        while True:
            page = self.history(wallet, 100, before)
            yield from page
            if len(page) < 100 or page[-1].version == 1:
                return
            before = page[-1].version

    def versions_at_or_before(self, wallet: str, moment: int) -> Iterator[Record]:
        """The wallet's versions created at or before `moment`, newest first: a Query from the newest version down,
        AS_OF_PAGE items a page, the next page read only when the caller asks for more. Versions newer than the
        moment are read (there is no index by time) and skipped; a caller that stops at the first it needs reads no
        older page (GET /keys/{a}?asOf= stops at the first key)."""
        start: dict[str, Any] | None = None
        while True:
            options: dict[str, Any] = {"ExclusiveStartKey": start} if start is not None else {}
            answer = self._table.query(
                KeyConditionExpression=Key("wallet").eq(wallet.lower()) & Key("version").gt(HEAD_VERSION),
                ScanIndexForward=False,
                Limit=AS_OF_PAGE,
                ConsistentRead=True,
                **options,
            )
            for item in answer.get("Items", []):
                record = _from_item(item)
                if record.created_at <= moment:
                    yield record
            start = answer.get("LastEvaluatedKey")
            if start is None:
                return

    def get(self, wallet: str, version: int) -> Record | None:
        item = self._table.get_item(Key={"wallet": wallet.lower(), "version": version}, ConsistentRead=True).get("Item")
        return _from_item(item) if item else None

    def create(self, record: Record, charge: Charge = Charge()) -> None:
        """Store `record` as the wallet's next version, with `charge`'s budget counters, in one transaction:
        VersionTaken unless the head says version - 1, BudgetSpent when a counter is at its limit (a version
        taken is reported first, as the API checks versions before budgets); nothing is written in either case.

        The transparency log is not touched here: the worker sequences records into it in batches (`sequence`).
        A transaction that conflicts with another on one of its items (two writes of one wallet, two charges of
        one budget counter) is sent again, up to CONFLICT_ATTEMPTS times."""
        items = self._create_items(record) + [counter_update(counter) for counter in charge.counters]
        own = len(items) - len(charge.counters)
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self._table.meta.client.transact_write_items(TransactItems=items)
                return
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons") or []]
                if "ConditionalCheckFailed" in reasons[:own]:
                    raise VersionTaken(f"{record.wallet} version {record.version} is not the next version") from exc
                spent = [
                    c
                    for c, code in zip(charge.counters, reasons[own:], strict=False)
                    if code == "ConditionalCheckFailed"
                ]
                if spent:
                    raise BudgetSpent(min(spent, key=lambda c: BUDGET_ORDER.index(c.budget))) from exc
                if "TransactionConflict" not in reasons or attempt == CONFLICT_ATTEMPTS - 1:
                    raise
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))

    def _create_items(self, record: Record) -> list[dict[str, Any]]:
        """The record's put, the wallet head's conditional update and the previous version's mark."""
        head_changes: dict[str, Any] = {"latestVersion": record.version, "walletEip55": record.wallet}
        if record.kind == KIND_KEY:
            head_changes.update(keyVersion=record.version, cid=record.cid, document=record.document)
            remove = ["revocation", "keyLogIndex", "keyLogVersion"]  # the new key is sequenced later
        else:
            head_changes["revocation"] = record.document
            remove = []
        previous = record.version - 1
        head_condition = "attribute_not_exists(wallet)" if previous == 0 else "latestVersion = :previous"
        if record.kind == KIND_REVOCATION:
            head_condition += " AND keyVersion = :previous AND attribute_not_exists(revocation)"
        values = {f":{name}": value for name, value in head_changes.items()}
        if previous:
            values[":previous"] = previous
        update = "SET " + ", ".join(f"#{name} = :{name}" for name in head_changes)
        if remove:
            update += " REMOVE " + ", ".join(f"#{name}" for name in remove)
        # The resource's client (de)serialises attribute values itself: plain Python values go in and out.
        return [
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": _to_item(record),
                    "ConditionExpression": "attribute_not_exists(wallet)",
                }
            },
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": {"wallet": record.wallet.lower(), "version": HEAD_VERSION},
                    "UpdateExpression": update,
                    "ConditionExpression": head_condition,
                    "ExpressionAttributeNames": {f"#{n}": n for n in (*head_changes, *remove)},
                    "ExpressionAttributeValues": values,
                }
            },
            *([self._mark_next(record.wallet, previous)] if previous else []),
        ]

    # ------------------------------------------------------------ the transparency log (the chain worker)

    def sequence(self, records: list[Record]) -> list[Record]:
        """Append the leaves of `records` (none sequenced yet; a wallet's versions in increasing order) to the
        transparency log, SEQUENCE_CHUNK at a time: each chunk is one transaction that writes its leaves and the
        subtrees they complete, moves the log head once (compare-and-swap on its size), and sets each record's
        `logIndex` (only while it has none) and, for a key, its wallet head's `keyLogIndex`/`keyLogVersion`.

        Returns the records as sequenced, with their indices. A record another worker sequenced meanwhile is
        left out (its index is whatever that worker gave it: a record has one leaf, never two). Raises LogBusy
        after the log's append attempts when the head keeps moving."""
        if self.log is None or not records:
            return []
        done: list[Record] = []
        pending = list(records)
        head: LogHead | None = None  # the head this call last wrote: the next chunk tries it before reading
        while pending:
            chunk = pending[:SEQUENCE_CHUNK]
            items = functools.partial(self._sequence_items, chunk)
            try:
                appended = self.log.append_batch([leaf_of(r) for r in chunk], items, head)
            except CallerConditionFailed as failed:
                taken = {chunk[i] for i in failed.positions if i < len(chunk)}
                if not taken:
                    raise
                pending = [r for r in pending if r not in taken]
                head = None
                continue
            done += [replace(r, log_index=appended.first + i) for i, r in enumerate(chunk[: appended.count])]
            pending = pending[appended.count :]
            head = appended.head
        return done

    def _sequence_items(self, chunk: list[Record], first: int, count: int) -> list[dict[str, Any]]:
        """For each of the first `count` records of a chunk appended from leaf index `first`: its logIndex (once),
        and a key's head."""
        chunk = chunk[:count]
        items: list[dict[str, Any]] = []
        for offset, record in enumerate(chunk):
            items.append(
                {
                    "Update": {
                        "TableName": self._table.name,
                        "Key": {"wallet": record.wallet.lower(), "version": record.version},
                        "UpdateExpression": "SET #index = :index",
                        "ConditionExpression": "attribute_exists(wallet) AND attribute_not_exists(#index)",
                        "ExpressionAttributeNames": {"#index": _ATTRIBUTES["log_index"]},
                        "ExpressionAttributeValues": {":index": first + offset},
                    }
                }
            )
        heads = {}
        for offset, record in enumerate(chunk):
            if record.kind == KIND_KEY:  # the wallet's newest key in the chunk names its leaf on the head
                heads[record.wallet.lower()] = (record.version, first + offset)
        for wallet, (version, index) in heads.items():
            items.append(
                {
                    "Update": {
                        "TableName": self._table.name,
                        "Key": {"wallet": wallet, "version": HEAD_VERSION},
                        "UpdateExpression": "SET keyLogIndex = :index, keyLogVersion = :version",
                        "ExpressionAttributeValues": {":index": index, ":version": version},
                    }
                }
            )
        return items

    def _mark_next(self, wallet: str, version: int) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": {"wallet": wallet.lower(), "version": version},
                "UpdateExpression": "SET #next = :next",
                "ConditionExpression": "attribute_exists(wallet)",
                "ExpressionAttributeNames": {"#next": _ATTRIBUTES["next_version"]},
                "ExpressionAttributeValues": {":next": version + 1},
            }
        }

    def heads(self, wallets: list[str]) -> dict[str, Head]:
        """Head items of up to 100 wallets in one BatchGetItem (repeated only for UnprocessedKeys)."""
        if len(wallets) > MAX_BATCH_GET:
            raise ValueError(f"at most {MAX_BATCH_GET} wallets per batch")
        client = self._table.meta.client  # the resource's client: plain Python values in and out
        pending: dict[str, Any] = {
            self._table.name: {
                "Keys": [{"wallet": w.lower(), "version": HEAD_VERSION} for w in wallets],
                "ConsistentRead": True,
            }
        }
        found: dict[str, Head] = {}
        delay = 0.05
        while pending:
            answer = client.batch_get_item(RequestItems=pending)
            for item in answer.get("Responses", {}).get(self._table.name, []):
                found[item["wallet"]] = Head(
                    wallet=item["walletEip55"],
                    latest_version=int(item["latestVersion"]),
                    key_version=int(item["keyVersion"]),
                    cid=item["cid"],
                    document=item["document"],
                    revocation=item.get("revocation"),
                    key_log_index=_key_log_index(item),
                )
            pending = answer.get("UnprocessedKeys") or {}
            if pending:
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        return found

    def set_status(self, record: Record, status: str, only_from: tuple[str, ...] = (), **changes: Any) -> bool:
        """Move a record to `status` (and set `changes`); with `only_from`, only if its status is one of those."""
        values = {"status": status, "updated_at": int(time.time()), **changes}
        expression, names, attribute_values = _status_update(record.wallet, values)
        condition: ConditionBase = Attr("wallet").exists()
        if only_from:
            condition = condition & Attr("status").is_in(list(only_from))
        try:
            self._table.update_item(
                Key={"wallet": record.wallet.lower(), "version": record.version},
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=attribute_values,
                ConditionExpression=condition,
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    # ------------------------------------------------------------ the open records (the sweeper)

    def open_page(self, before: int, cursor: OpenCursor | None, limit: int) -> tuple[list[Record], OpenCursor | None]:
        """Open records not updated since `before` (epoch seconds), at most `limit`, read from the open index shard by
        shard from `cursor` (None: the first shard from its start); and the cursor to go on from, None once the last
        shard was read to its end.

        Each shard is one Query (`openShard = n AND updatedAt < before`, oldest first, Limit = what is left of
        `limit`), eventually consistent (an index cannot be read otherwise): a record may show a state a moment old,
        or be missing for a moment. The records carry only what the index projects (OPEN_INDEX_FIELDS, with wallet
        and version; document ""; error, txHash and the others None). Records written before the index existed have
        no openShard and are not found until backfill_open_index() has run.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        found: list[Record] = []
        shard, after = (cursor.shard, cursor.after) if cursor is not None else (0, None)
        while shard < OPEN_SHARDS:
            if len(found) >= limit:
                return found, OpenCursor(shard, after)
            if after is not None and int(after["updatedAt"]) >= before:
                shard, after = shard + 1, None  # nothing past it is older than `before` (the clock went back)
                continue
            kwargs: dict[str, Any] = {
                "IndexName": OPEN_INDEX,
                "KeyConditionExpression": Key(OPEN_SHARD).eq(shard) & Key("updatedAt").lt(before),
                "Limit": limit - len(found),
            }
            if after is not None:
                kwargs["ExclusiveStartKey"] = after
            answer = self._table.query(**kwargs)
            found.extend(_from_item({"document": "", **item}) for item in answer.get("Items", []))
            after = answer.get("LastEvaluatedKey")  # None: the shard was read to its end
            if after is None:
                shard += 1
        return found, None

    def backfill_open_index(self) -> dict[str, int]:
        """Bring the open index in step with the statuses, for records written by code from before it; how many
        records it put in ("indexed") and took out ("unindexed"). An operator's one-off after the deploy that adds
        the index (infra/recovery.py backfill-open-index), never the monitor's: a Scan of the whole table for open
        records without openShard (written before the index) and final ones with it (made final, during the deploy,
        by code that did not remove it), each mended by an UpdateItem conditional on it still being so."""
        open_status = Attr("status").is_in(list(OPEN_STATUSES))
        unindexed = open_status & Attr(OPEN_SHARD).not_exists()
        left_behind = ~open_status & Attr(OPEN_SHARD).exists()
        done = {"indexed": 0, "unindexed": 0}
        for record in self._scan(unindexed | left_behind):
            key = {"wallet": record.wallet.lower(), "version": record.version}
            try:
                if record.status in OPEN_STATUSES:
                    self._table.update_item(
                        Key=key,
                        UpdateExpression="SET #shard = :shard",
                        ExpressionAttributeNames={"#shard": OPEN_SHARD},
                        ExpressionAttributeValues={":shard": open_shard(record.wallet)},
                        ConditionExpression=unindexed,
                    )
                    done["indexed"] += 1
                else:
                    self._table.update_item(
                        Key=key,
                        UpdateExpression="REMOVE #shard",
                        ExpressionAttributeNames={"#shard": OPEN_SHARD},
                        ConditionExpression=left_behind,
                    )
                    done["unindexed"] += 1
            except ClientError as exc:
                if not condition_failed(exc):
                    raise
        return done

    # ------------------------------------------------------------ scans (operators' recovery)

    def failed(self, wallet: str | None = None) -> list[Record]:
        """Failed records (of one wallet: a Query; of all: a Scan), without documents."""
        if wallet is not None:
            return [r for r in self.all_versions(wallet) if r.status == STATUS_FAILED]
        return list(self._scan(Attr("status").eq(STATUS_FAILED)))

    def _scan(self, condition: Any) -> Iterator[Record]:
        names = ["wallet", "version", "walletEip55", *(a for a in _ATTRIBUTES.values() if a != "document")]
        kwargs: dict[str, Any] = {
            "FilterExpression": condition,
            "ProjectionExpression": ", ".join(f"#p{i}" for i in range(len(names))),
            "ExpressionAttributeNames": {f"#p{i}": name for i, name in enumerate(names)},
            "ConsistentRead": True,
        }
        while True:
            answer = self._table.scan(**kwargs)
            for item in answer.get("Items", []):
                yield _from_item({"document": "", **item})
            if "LastEvaluatedKey" not in answer:
                return
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    # ------------------------------------------------------------ many records at once (the chain worker)

    def get_many(self, keys: list[tuple[str, int]], documents: bool = True) -> dict[tuple[str, int], Record]:
        """Records by (wallet, version), 100 per BatchGetItem; the answer is keyed by (lowercase wallet, version).

        With documents=False the records come without their documents (document is "").
        """
        client = self._table.meta.client  # the resource's client: plain Python values in and out
        wanted = list(dict.fromkeys((wallet.lower(), version) for wallet, version in keys))
        found: dict[tuple[str, int], Record] = {}
        projection: dict[str, Any] = {}
        if not documents:
            names = ["wallet", "version", "walletEip55", *(a for a in _ATTRIBUTES.values() if a != "document")]
            projection = {
                "ProjectionExpression": ", ".join(f"#p{i}" for i in range(len(names))),
                "ExpressionAttributeNames": {f"#p{i}": name for i, name in enumerate(names)},
            }
        for start in range(0, len(wanted), MAX_BATCH_GET):
            pending: dict[str, Any] = {
                self._table.name: {
                    "Keys": [{"wallet": w, "version": v} for w, v in wanted[start : start + MAX_BATCH_GET]],
                    "ConsistentRead": True,
                    **projection,
                }
            }
            delay = 0.05
            while pending:
                answer = client.batch_get_item(RequestItems=pending)
                for item in answer.get("Responses", {}).get(self._table.name, []):
                    record = _from_item({"document": "", **item})
                    found[(record.wallet.lower(), record.version)] = record
                pending = answer.get("UnprocessedKeys") or {}
                if pending:
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
        return found

    def set_statuses(self, changes: list[StatusChange]) -> list[StatusChange]:
        """Apply many status changes, up to 100 per TransactWriteItems; returns those whose condition did not hold.

        A transaction is all or nothing, so the changes whose condition failed are dropped and the rest sent again.
        """
        skipped: list[StatusChange] = []
        now = int(time.time())
        for start in range(0, len(changes), 100):
            chunk = list(changes[start : start + 100])
            while chunk:
                actions = []
                for change in chunk:
                    values = {"status": change.status, "updated_at": now, **dict(change.changes)}
                    expression, names, attribute_values = _status_update(change.wallet, values)
                    condition = "#status IN (" + ", ".join(f":from{i}" for i in range(len(change.only_from))) + ")"
                    extra: dict[str, Any] = {f":from{i}": s for i, s in enumerate(change.only_from)}
                    if change.expect_nonce is not None:
                        condition += " AND #nonce = :expectNonce"
                        names["#nonce"] = _ATTRIBUTES["nonce"]
                        extra[":expectNonce"] = change.expect_nonce
                    for i, name in enumerate(change.absent):
                        names[f"#a{i}"] = _ATTRIBUTES[name]
                        condition += f" AND attribute_not_exists(#a{i})"
                    for i, (name, value) in enumerate(change.expect):
                        names[f"#x{i}"] = _ATTRIBUTES[name]
                        extra[f":x{i}"] = value
                        if name == "kind" and value == KIND_KEY:  # records written before kinds existed are keys
                            condition += f" AND (attribute_not_exists(#x{i}) OR #x{i} = :x{i})"
                        else:
                            condition += f" AND #x{i} = :x{i}"
                    actions.append(
                        {
                            "Update": {
                                "TableName": self._table.name,
                                "Key": {"wallet": change.wallet.lower(), "version": change.version},
                                "UpdateExpression": expression,
                                "ConditionExpression": condition,
                                "ExpressionAttributeNames": names,
                                "ExpressionAttributeValues": {**attribute_values, **extra},
                            }
                        }
                    )
                try:
                    self._table.meta.client.transact_write_items(TransactItems=actions)
                    chunk = []
                except ClientError as exc:
                    reasons = exc.response.get("CancellationReasons") or []
                    failed = {i for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"}
                    if exc.response["Error"]["Code"] != "TransactionCanceledException" or not failed:
                        raise
                    skipped.extend(chunk[i] for i in sorted(failed))
                    chunk = [change for i, change in enumerate(chunk) if i not in failed]
        return skipped
