"""DynamoDB (TransactionsTable): one item per (signer, nonce), the single source of truth for what a nonce carries.

An item is created when its nonce is reserved (nonces.py), holding the jobs it is meant for. It is signed,
stored and only then broadcast; a replacement is stored before it is broadcast too, so every byte string that
ever reached a node is on record, with its hash and fees. States:

    reserved -> signed -> mined -> confirmed | failed        (failed: mined with status 0, the revert kept)
    reserved (lease expired) -> signed as a no-op            (the monitor fills the gap)
    signed/mined -> lost                                     (another tx took the nonce, N blocks deep)
    mined -> signed                                          (its block was reorganised away)

Every transaction signed for one nonce carries the same payload (replacements change the fees only), so
whichever of its hashes is mined, the on-chain effect is the same, exactly once.
"""

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import condition_failed
from chalicelib.model import (
    FINAL_STATES,
    IN_FLIGHT_STATES,
    KIND_SET,
    STATE_MINED,
    STATE_RESERVED,
    STATE_SIGNED,
    Attempt,
    Job,
    StaleItem,
    TxItem,
)

COUNTER_NONCE = -1  # the signer's nonce counter lives at this sort key (nonces.py)


def jobs_to_json(jobs: tuple[Job, ...]) -> str:
    return json.dumps([[j.wallet, j.version, j.cid, j.kind] for j in jobs], separators=(",", ":"))


def jobs_from_json(text: str | None) -> tuple[Job, ...]:
    return tuple(Job(w, int(v), c, k) for w, v, c, k in json.loads(text or "[]"))


def _from_item(item: dict[str, Any]) -> TxItem:
    def number(name: str, kind: type = int) -> Any:
        return kind(item[name]) if item.get(name) is not None else None

    return TxItem(
        signer=item["signer"],
        nonce=int(item["nonce"]),
        state=item["state"],
        kind=item.get("kind", KIND_SET),
        owner=item.get("owner", ""),
        reserved_at=float(item.get("reservedAt", 0)),
        candidates=jobs_from_json(item.get("candidates")),
        entries=jobs_from_json(item.get("entries")),
        to=item.get("to"),
        data=item.get("data"),
        gas=int(item.get("gas", 0)),
        raw=item.get("raw"),
        attempts=tuple(Attempt.from_json(a) for a in json.loads(item.get("attempts", "[]"))),
        mined_hash=item.get("minedHash"),
        block_number=number("blockNumber"),
        block_hash=item.get("blockHash"),
        gas_used=number("gasUsed"),
        fee_paid_wei=number("feePaidWei"),
        error=item.get("error"),
        updated_at=float(item.get("updatedAt", 0)),
    )


def reservation_item(signer: str, nonce: int, owner: str, candidates: tuple[Job, ...], now: float) -> dict[str, Any]:
    """The item a nonce reservation creates (nonces.py writes it in the same transaction as the counter)."""
    return {
        "signer": signer.lower(),
        "nonce": nonce,
        "state": STATE_RESERVED,
        "kind": KIND_SET,
        "owner": owner,
        "reservedAt": _decimal(now),
        "candidates": jobs_to_json(candidates),
        "updatedAt": _decimal(now),
    }


def _decimal(value: float) -> Any:
    from decimal import Decimal

    return Decimal(str(round(value, 3)))


class TxStore:
    def __init__(self, table: Any, signer: str) -> None:
        self._table = table
        self.signer = signer.lower()

    @property
    def table(self) -> Any:
        return self._table

    def get(self, nonce: int) -> TxItem | None:
        item = self._table.get_item(Key={"signer": self.signer, "nonce": nonce}, ConsistentRead=True).get("Item")
        return _from_item(item) if item else None

    def between(self, low: int, high: int) -> list[TxItem]:
        """Items with low <= nonce <= high, by nonce."""
        if high < low:
            return []
        return list(self._query(Key("signer").eq(self.signer) & Key("nonce").between(max(low, 0), high)))

    def from_nonce(self, low: int) -> list[TxItem]:
        """Items with nonce >= low, by nonce."""
        return list(self._query(Key("signer").eq(self.signer) & Key("nonce").gte(max(low, 0))))

    def newest(self) -> TxItem | None:
        answer = self._table.query(
            KeyConditionExpression=Key("signer").eq(self.signer) & Key("nonce").gte(0),
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = answer.get("Items", [])
        return _from_item(items[0]) if items else None

    def _query(self, condition: Any) -> Iterator[TxItem]:
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True}
        while True:
            answer = self._table.query(**kwargs)
            for item in answer.get("Items", []):
                yield _from_item(item)
            if "LastEvaluatedKey" not in answer:
                return
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    # ------------------------------------------------------------ transitions (each conditional)

    def sign_reserved(
        self,
        item: TxItem,
        *,
        kind: str,
        entries: tuple[Job, ...],
        to: str,
        data: str,
        gas: int,
        raw: str,
        attempt: Attempt,
        owner: str | None = None,
        reserved_at: float | None = None,
    ) -> TxItem:
        """reserved -> signed, only while the reservation is the one we hold (same owner and time).

        `owner`/`reserved_at` name the reservation expected (default: the item's); the monitor passes the
        expired one it takes over. StaleItem if someone else signed or took it over first.
        """
        now = time.time()
        changes = {
            "state": STATE_SIGNED,
            "kind": kind,
            "entries": jobs_to_json(entries),
            "to": to,
            "data": data,
            "gas": gas,
            "raw": raw,
            "attempts": json.dumps([attempt.to_json()]),
            "attemptCount": 1,
            "updatedAt": _decimal(now),
        }
        condition = (
            Attr("state").eq(STATE_RESERVED)
            & Attr("owner").eq(owner if owner is not None else item.owner)
            & Attr("reservedAt").eq(_decimal(reserved_at if reserved_at is not None else item.reserved_at))
        )
        self._update(item.nonce, changes, condition)
        return replace(
            item,
            state=STATE_SIGNED,
            kind=kind,
            entries=entries,
            to=to,
            data=data,
            gas=gas,
            raw=raw,
            attempts=(attempt,),
            updated_at=now,
        )

    def add_attempt(self, item: TxItem, raw: str, attempt: Attempt) -> TxItem:
        """A replacement for the same nonce and payload, stored before it is broadcast."""
        attempts = (*item.attempts, attempt)
        changes = {
            "raw": raw,
            "attempts": json.dumps([a.to_json() for a in attempts]),
            "attemptCount": len(attempts),
            "updatedAt": _decimal(time.time()),
        }
        self._update(item.nonce, changes, Attr("attemptCount").eq(len(item.attempts)) & Attr("state").eq(STATE_SIGNED))
        return replace(item, raw=raw, attempts=attempts)

    def mark_mined(
        self, item: TxItem, *, tx_hash: str, block_number: int, block_hash: str, gas_used: int, fee_paid_wei: int
    ) -> TxItem:
        changes = {
            "state": STATE_MINED,
            "minedHash": tx_hash,
            "blockNumber": block_number,
            "blockHash": block_hash,
            "gasUsed": gas_used,
            "feePaidWei": fee_paid_wei,
            "updatedAt": _decimal(time.time()),
        }
        self._update(item.nonce, changes, Attr("state").is_in(list(IN_FLIGHT_STATES)))
        return replace(
            item,
            state=STATE_MINED,
            mined_hash=tx_hash,
            block_number=block_number,
            block_hash=block_hash,
            gas_used=gas_used,
            fee_paid_wei=fee_paid_wei,
        )

    def mark_unmined(self, item: TxItem) -> TxItem:
        """Its block left the canonical chain: in flight again."""
        changes = {"state": STATE_SIGNED, "updatedAt": _decimal(time.time())}
        self._update(item.nonce, changes, Attr("state").eq(STATE_MINED) & Attr("blockHash").eq(item.block_hash))
        return replace(item, state=STATE_SIGNED, mined_hash=None, block_number=None, block_hash=None)

    def mark_final(
        self, item: TxItem, state: str, error: str | None = None, receipt: dict[str, Any] | None = None
    ) -> TxItem:
        """In flight -> final; with `receipt` (minedHash, blockNumber, ...) when it was never marked mined."""
        assert state in FINAL_STATES
        changes: dict[str, Any] = {"state": state, "updatedAt": _decimal(time.time()), **(receipt or {})}
        if error is not None:
            changes["error"] = error
        self._update(item.nonce, changes, Attr("state").eq(item.state))
        return replace(item, state=state, error=error)

    def _update(self, nonce: int, changes: dict[str, Any], condition: Any) -> None:
        try:
            self._table.update_item(
                Key={"signer": self.signer, "nonce": nonce},
                UpdateExpression="SET " + ", ".join(f"#{n} = :{n}" for n in changes),
                ExpressionAttributeNames={f"#{n}": n for n in changes},
                ExpressionAttributeValues={f":{n}": v for n, v in changes.items()},
                ConditionExpression=condition,
            )
        except ClientError as exc:
            if condition_failed(exc):
                raise StaleItem(f"{self.signer} nonce {nonce} changed underneath") from exc
            raise
