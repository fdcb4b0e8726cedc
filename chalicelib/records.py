"""DynamoDB: one item per (wallet, version) registration, with its document, CID and on-chain status."""
import time
from dataclasses import dataclass, replace
from typing import Any, Optional

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

STATUS_PINNED = "pinned"
STATUS_QUEUED = "queued"
STATUS_SUBMITTED = "submitted"
STATUS_CONFIRMED = "confirmed"
STATUS_FAILED = "failed"
FINAL_STATUSES = (STATUS_CONFIRMED, STATUS_FAILED)


class VersionTaken(Exception):
    """Another registration already holds this (wallet, version)."""


class SignedTxConflict(Exception):
    """The record already carries a different signed transaction."""


@dataclass(frozen=True)
class Record:
    wallet: str  # EIP-55; the key is its lowercase form
    version: int
    cid: str
    document: str
    status: str
    created_at: int
    updated_at: int
    tx_hash: Optional[str] = None
    raw_tx: Optional[str] = None
    nonce: Optional[int] = None
    block_number: Optional[int] = None
    error: Optional[str] = None


_ATTRIBUTES = {
    "cid": "cid",
    "document": "document",
    "status": "status",
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "tx_hash": "txHash",
    "raw_tx": "rawTx",
    "nonce": "nonce",
    "block_number": "blockNumber",
    "error": "error",
}


def _to_item(record: Record) -> dict[str, Any]:
    item: dict[str, Any] = {"wallet": record.wallet.lower(), "version": record.version, "walletEip55": record.wallet}
    for name, attribute in _ATTRIBUTES.items():
        value = getattr(record, name)
        if value is not None:
            item[attribute] = value
    return item


def _from_item(item: dict[str, Any]) -> Record:
    values = {name: item.get(attribute) for name, attribute in _ATTRIBUTES.items()}
    for numeric in ("created_at", "updated_at", "nonce", "block_number"):
        if values[numeric] is not None:
            values[numeric] = int(values[numeric])
    return Record(wallet=item["walletEip55"], version=int(item["version"]), **values)


class RecordStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    def latest(self, wallet: str) -> Optional[Record]:
        answer = self._table.query(
            KeyConditionExpression=Key("wallet").eq(wallet.lower()),
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = answer.get("Items", [])
        return _from_item(items[0]) if items else None

    def get(self, wallet: str, version: int) -> Optional[Record]:
        item = self._table.get_item(Key={"wallet": wallet.lower(), "version": version}, ConsistentRead=True).get("Item")
        return _from_item(item) if item else None

    def create(self, record: Record) -> None:
        try:
            self._table.put_item(Item=_to_item(record), ConditionExpression=Attr("wallet").not_exists())
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise VersionTaken(f"{record.wallet} version {record.version} exists") from exc
            raise

    def set_status(self, record: Record, status: str, only_from: tuple[str, ...] = (), **changes: Any) -> bool:
        """Move a record to `status` (and set `changes`); with `only_from`, only if its status is one of those."""
        values = {"status": status, "updated_at": int(time.time()), **changes}
        names = {f"#{name}": _ATTRIBUTES[name] for name in values}
        expression = "SET " + ", ".join(f"#{name} = :{name}" for name in values)
        attribute_values = {f":{name}": value for name, value in values.items()}
        condition = Attr("wallet").exists()
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
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def save_signed_tx(self, record: Record, raw_tx: str, tx_hash: str, nonce: int) -> Record:
        """Persist a signed tx before it is broadcast; if one is already stored, return the record holding it.

        `record.tx_hash` names the tx this call replaces (None for the first one), so two workers can never
        both store a transaction for the same registration.
        """
        changes = {"raw_tx": raw_tx, "tx_hash": tx_hash, "nonce": nonce, "status": STATUS_SUBMITTED}
        expected = Attr("txHash").not_exists() if record.tx_hash is None else Attr("txHash").eq(record.tx_hash)
        now = int(time.time())
        try:
            self._table.update_item(
                Key={"wallet": record.wallet.lower(), "version": record.version},
                UpdateExpression="SET " + ", ".join(f"#{n} = :{n}" for n in (*changes, "updated_at")),
                ExpressionAttributeNames={f"#{n}": _ATTRIBUTES[n] for n in (*changes, "updated_at")},
                ExpressionAttributeValues={**{f":{n}": v for n, v in changes.items()}, ":updated_at": now},
                ConditionExpression=Attr("wallet").exists() & expected,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            stored = self.get(record.wallet, record.version)
            if stored is None or stored.raw_tx is None:
                raise SignedTxConflict(f"{record.wallet} v{record.version}: signed tx changed underneath") from exc
            return stored
        return replace(record, updated_at=now, **changes)
