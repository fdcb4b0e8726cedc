"""Use cases of the API: register, revoke, look up (single, as of a time, batch) and list history."""

import functools
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, overload

from chalicelib.api.ports import Anchors, JobQueue, ReadLimits, Records, SignatureChecker, WriteBudgets
from chalicelib.api.sources import source_of
from chalicelib.model import (
    JOB_REVOKE_KEY,
    JOB_SET_KEY,
    KIND_KEY,
    KIND_REVOCATION,
    STATUS_PINNED,
    STATUS_QUEUED,
    Anchor,
    Charge,
    Head,
    Job,
    Record,
    VersionTaken,
)
from dmtp_protocol.canonical import canonical_json
from dmtp_protocol.cid import cid_for_bytes
from dmtp_protocol.errors import (
    DependencyUnavailable,
    InvalidField,
    MalformedRequest,
    NotFound,
    SignatureExpired,
    SignatureNotYetValid,
    VersionConflict,
)
from dmtp_protocol.messages import (
    MAX_SAFE_INTEGER,
    REGISTRATION_TYPE,
    REVOCATION_TYPE,
    SIGNATURE_EIP191,
    ClockRules,
    Domain,
    Registration,
    Revocation,
    check_clock,
    check_point,
    check_revocation_version,
    parse_address,
    parse_registration,
    parse_revocation,
    pinned_document,
    registration_from_document,
    registration_message,
    revocation_message,
    signed_text,
    signing_digest,
    typed_data,
)

log = logging.getLogger(__name__)
MAX_BATCH_LOOKUP = 100
MAX_HISTORY_PAGE = 100


class Registry:
    def __init__(
        self,
        records: Records,
        queue: JobQueue,
        domain: Domain,
        verifier: SignatureChecker,
        quotas: WriteBudgets,
        clock: ClockRules = ClockRules(),
        now: Callable[[], float] = time.time,
        log: Anchors | None = None,
        reads: ReadLimits | None = None,
    ) -> None:
        """`log`: the transparency log's anchors, shown with each record (None: a registry without a log).
        `reads`: the per-source limits of reads that POST /batch-lookup charges (None: no limit)."""
        self._records = records
        self._queue = queue
        self._domain = domain
        self._verifier = verifier
        self._quotas = quotas
        self._clock = clock
        self._now = now
        self._log = log
        self._reads = reads

    # ------------------------------------------------------------ writes

    def register(self, body: Any, source: str = "unknown") -> tuple[bool, dict[str, Any]]:
        """Verify, store and queue a key bundle sent from `source` (the caller's IP address); returns (created,
        public view of the record).

        The request path of a new key writes one DynamoDB transaction (the record, its wallet head and the budget
        counters it charges: nothing that every registration writes) and sends one message; it reads nothing first.
        The transaction's conditions decide the version (the head must say version - 1); only when they refuse is
        the wallet's newest record read, to tell the same bundle sent again (200, queued again if left pinned)
        from a wrong version (409). Pinning and the transparency log are the worker's, in batches, before the
        record's transaction is signed.

        Cheap checks first: a signature that needs the chain (a contract wallet's, or a forgery) reaches it only
        after every check that needs none (its `before_chain`): the source's cap on such checks, the version against
        the stored newest record and whether the budgets still have room. An EOA's signature needs no chain, so
        its request still reads nothing before its transaction, which decides version and budgets itself."""
        registration = parse_registration(body)
        now = int(self._now())
        sender = source_of(source)
        document = pinned_document(registration, self._domain)
        cid = cid_for_bytes(document)
        try:
            check_clock(registration.issued_at, registration.expires_at, now, self._clock)
        except (SignatureExpired, SignatureNotYetValid):
            # The stored bundle again, however long ago it was signed: a record left pinned (its job never reached
            # the queue) is queued by resubmitting it, as the 503 says.
            resent = self._resent_key(registration.wallet, cid)
            if resent is None:
                raise
            return False, resent
        message = registration_message(registration)
        digest = signing_digest(REGISTRATION_TYPE, message, self._domain, registration.signature_type)
        existing_wallet = registration.version > 1

        def before_chain() -> None:
            self._quotas.charge_chain_check(sender, now)
            newest = self._records.newest(registration.wallet, 1)
            if newest and newest[0].kind == KIND_KEY and newest[0].cid == cid:
                raise _AlreadyStored()  # byte for byte the stored bundle, whose signature was checked then
            self._expect_next_version(registration.wallet, registration.version, newest)
            self._quotas.check_room(registration.wallet, sender, now, existing_wallet)

        try:
            signer = self._verifier.verify(
                registration.wallet, digest, registration.signature, before_chain=before_chain
            )
        except _AlreadyStored:
            resent = self._resent_key(registration.wallet, cid)
            if resent is None:  # a concurrent write replaced it meanwhile: this version is no longer the next one
                raise VersionConflict(
                    "the wallet's newest record changed during this request; read it and retry",
                    currentVersion=self._current_version(registration.wallet),
                ) from None
            return False, resent
        check_point(registration)
        record = Record(
            registration.wallet,
            registration.version,
            cid,
            document.decode("utf-8"),
            STATUS_QUEUED,
            now,
            now,
            kind=KIND_KEY,
            signer_check=json.dumps(signer.as_dict()),
        )
        try:
            self._quotas.within_budget(
                record.wallet, sender, now, functools.partial(self._records.create, record), existing_wallet
            )
        except VersionTaken as taken:
            resent = self._resent_key(record.wallet, cid)
            if resent is not None:  # its signature was verified when it was first accepted, and just now
                return False, resent
            current = self._current_version(record.wallet)
            raise VersionConflict(
                f"version must be {current + 1} (the wallet's current version is {current})", currentVersion=current
            ) from taken
        record = self._enqueue(record, Job(record.wallet, record.version, cid, JOB_SET_KEY))
        return True, self._view(record, [record])

    def _current_version(self, wallet: str) -> int:
        newest = self._records.newest(wallet, 1)
        return newest[0].version if newest else 0

    def _resent_key(self, wallet: str, cid: str) -> dict[str, Any] | None:
        """When the wallet's newest record is this very bundle (the same CID): queue it if it was left pinned; its
        answer. None otherwise."""
        newest = self._records.newest(wallet, 1)
        existing = newest[0] if newest and newest[0].kind == KIND_KEY and newest[0].cid == cid else None
        if existing is None:
            return None
        if existing.status == STATUS_PINNED:
            existing = self._enqueue(existing, Job(existing.wallet, existing.version, existing.cid, JOB_SET_KEY))
        return self._view(existing, newest)

    def revoke(self, address: str, body: Any, source: str = "unknown") -> dict[str, Any]:
        """Verify, store and queue a wallet-signed revocation of its current key, sent from `source`.

        The same revocation sent again (its record is the wallet's newest, byte for byte) stores nothing new and
        queues a record left pinned, however long ago it was signed: what the 503 of a failed enqueue asks for. It
        is recognised only once the clock rule fails or passes, so that every other revocation meets the acceptance
        rules in their documented order (docs/PROTOCOL.md section 9)."""
        wallet = parse_address(address)
        revocation = parse_revocation(body)
        now = int(self._now())
        try:
            check_clock(revocation.issued_at, 0, now, self._clock)
        except (SignatureExpired, SignatureNotYetValid):
            resent = self._resent_revocation(wallet, revocation)
            if resent is None:
                raise
            return resent
        key = self._records.get(wallet, revocation.revoked_version)
        if key is None or key.kind != KIND_KEY:
            raise NotFound(f"{wallet} has no key version {revocation.revoked_version}")
        if wallet != revocation.wallet:
            raise InvalidField("the body's address differs from the path's", field="address")
        check_revocation_version(revocation)
        message, document = self._revocation_document(revocation, key)
        newest = self._records.newest(revocation.wallet, 1)
        resent = self._resent(key, newest, document)
        if resent is not None:
            return resent
        digest = signing_digest(REVOCATION_TYPE, message, self._domain, revocation.signature_type)
        sender = source_of(source)

        def before_chain() -> None:  # the checks that need no chain, before one that does (see register)
            self._quotas.charge_chain_check(sender, now)
            self._expect_next_version(revocation.wallet, revocation.version, newest)
            self._quotas.check_room(revocation.wallet, sender, now, existing_wallet=True)

        signer = self._verifier.verify(revocation.wallet, digest, revocation.signature, before_chain=before_chain)
        self._expect_next_version(revocation.wallet, revocation.version, newest)
        record = Record(
            revocation.wallet,
            revocation.version,
            key.cid,
            document,
            STATUS_QUEUED,
            now,
            now,
            kind=KIND_REVOCATION,
            revokes_cid=key.cid,
            signer_check=json.dumps(signer.as_dict()),
        )
        # A revocation's version is at least 2: the wallet has a key (its transaction requires it), so it may use
        # the budget's reserve for existing wallets.
        self._quotas.within_budget(
            record.wallet, sender, now, functools.partial(self._create, record), existing_wallet=True
        )
        record = self._enqueue(record, Job(record.wallet, record.version, key.cid, JOB_REVOKE_KEY))
        return self._view(key, [record, key])

    def _revocation_document(self, revocation: Revocation, key: Record) -> tuple[dict[str, Any], str]:
        """The signed message of a revocation of `key`, and the canonical document stored for it."""
        message = revocation_message(revocation, json.loads(key.document)["DMTPpubKey"])
        document = {
            "kind": KIND_REVOCATION,
            **message,
            "signatureType": revocation.signature_type,
            "Signature": revocation.signature,
            "chainId": self._domain.chain_id,
            "registry": self._domain.registry,
        }
        return message, canonical_json(document).decode("utf-8")

    def _resent_revocation(self, wallet: str, revocation: Revocation) -> dict[str, Any] | None:
        """The answer to a revocation sent again outside the clock window, or None when it is not one."""
        key = self._records.get(wallet, revocation.revoked_version)
        if key is None or key.kind != KIND_KEY or wallet != revocation.wallet:
            return None
        if revocation.version != revocation.revoked_version + 1:
            return None
        _, document = self._revocation_document(revocation, key)
        return self._resent(key, self._records.newest(wallet, 1), document)

    def _resent(self, key: Record, newest: list[Record], document: str) -> dict[str, Any] | None:
        """When the wallet's newest record is this very revocation: queue it if it was left pinned; its answer."""
        stored = newest[0] if newest and newest[0].kind == KIND_REVOCATION and newest[0].document == document else None
        if stored is None:
            return None
        if stored.status == STATUS_PINNED:
            stored = self._enqueue(stored, Job(stored.wallet, stored.version, key.cid, JOB_REVOKE_KEY))
        return self._view(key, [stored, key])

    def _expect_next_version(self, wallet: str, version: int, newest: list[Record]) -> None:
        current = newest[0].version if newest else 0
        if version != current + 1:
            raise VersionConflict(
                f"version must be {current + 1} (the wallet's current version is {current})", currentVersion=current
            )

    def _create(self, record: Record, charge: Charge) -> None:
        """Store `record` with `charge` in one transaction; a version lost to a concurrent write is 409."""
        try:
            self._records.create(record, charge)
        except VersionTaken as exc:
            current = self._records.latest(record.wallet)
            version = current.version if current else 0
            raise VersionConflict(
                f"version {record.version} lost to a concurrent write; the wallet's version is now {version}",
                currentVersion=version,
            ) from exc

    def _enqueue(self, record: Record, job: Job) -> Record:
        """Send the record's job; the record as it stands then. A record is stored `queued`, so the happy path
        writes nothing more. When the send fails, the record is moved back to `pinned` (stored, its job not on
        the queue: the same request sent again queues it, as the 503 says) and, should even that write fail, the
        sweeper queues it once it has waited past its threshold. A record resubmitted while `pinned` is moved to
        `queued` once its job is sent."""
        try:
            self._queue.enqueue(job)
        except Exception as exc:  # boto3 raises many kinds
            log.exception("enqueue failed for %s v%s", record.wallet, record.version)
            try:
                self._records.set_status(record, STATUS_PINNED, only_from=(STATUS_QUEUED,))
            except Exception:  # the sweeper's threshold covers it
                log.exception("could not mark %s v%s pinned", record.wallet, record.version)
            raise DependencyUnavailable(
                "stored, but queueing the on-chain write failed; submit the same request again", cid=record.cid
            ) from exc
        if record.status == STATUS_PINNED:
            self._records.set_status(record, STATUS_QUEUED, only_from=(STATUS_PINNED,))
            return replace(record, status=STATUS_QUEUED)
        return record

    # ------------------------------------------------------------ reads

    def lookup(self, address: str, as_of: str | None = None) -> dict[str, Any]:
        wallet = parse_address(address)
        if as_of is None:
            newest = self._records.newest(wallet, 2)
            key = next((r for r in newest if r.kind == KIND_KEY), None)
            if key is None:
                raise NotFound(f"no DMTP key registered for {wallet}")
            return self._view(key, newest)
        moment = _unix_seconds(as_of)
        # Newest first, stopping at the first key at or before the moment: what came after it by then (at most its
        # revocation) is all the view needs, and older versions are never read.
        seen: list[Record] = []
        for record in self._records.versions_at_or_before(wallet, moment):
            seen.append(record)
            if record.kind == KIND_KEY:
                return self._view(record, seen)
        raise NotFound(f"{wallet} had no DMTP key at {moment}")

    def history(self, address: str, limit: str | None, cursor: str | None) -> dict[str, Any]:
        wallet = parse_address(address)
        size = _bounded_int(limit, "limit", 1, MAX_HISTORY_PAGE, default=20)
        before = _bounded_int(cursor, "cursor", 2, MAX_SAFE_INTEGER, default=None)
        page = self._records.history(wallet, size, before)
        if not page and before is None:
            raise NotFound(f"no DMTP key registered for {wallet}")
        more = len(page) == size and page[-1].version > 1
        return {
            "wallet": wallet,
            "items": [self._history_item(record, anchor) for anchor in [self._latest_anchor()] for record in page],
            "nextCursor": str(page[-1].version) if more else None,
        }

    def batch_lookup(self, body: Any, source: str = "unknown") -> dict[str, Any]:
        """The heads of 1 to 100 wallets. Charged first against `source`'s read limits, one unit per address asked
        for (at most MAX_BATCH_LOOKUP; one for a body without a list of addresses), so a refused or malformed
        batch costs its units as well."""
        asked = body.get("addresses") if isinstance(body, dict) else None
        if self._reads is not None:
            self._reads.charge(source, min(len(asked), MAX_BATCH_LOOKUP) if isinstance(asked, list) and asked else 1)
        if not isinstance(body, dict) or set(body) != {"addresses"} or not isinstance(body["addresses"], list):
            raise MalformedRequest('body must be {"addresses": [...]}')
        raw = body["addresses"]
        if not 1 <= len(raw) <= MAX_BATCH_LOOKUP:
            raise InvalidField(f"addresses must hold 1 to {MAX_BATCH_LOOKUP} entries", field="addresses")
        wallets = [parse_address(a) for a in raw]
        duplicates = sorted({w for w in wallets if wallets.count(w) > 1})
        if duplicates:
            raise InvalidField(
                f"duplicate address(es): {', '.join(duplicates)}", field="addresses", duplicates=duplicates
            )
        heads = self._records.heads(wallets)
        anchor = self._latest_anchor()  # one read for the whole batch
        results = [self._head_view(wallet, heads.get(wallet.lower()), anchor) for wallet in wallets]
        found = sum(1 for r in results if r["found"])
        return {"results": results, "countFound": found, "countNotFound": len(results) - found}

    # ------------------------------------------------------------ views

    def _proof(self, registration: Registration, domain: Domain) -> dict[str, Any]:
        message = registration_message(registration)
        proof: dict[str, Any] = {
            "chainId": domain.chain_id,
            "registry": domain.registry,
            "signatureType": registration.signature_type,
            "signature": registration.signature,
            "typedData": typed_data(REGISTRATION_TYPE, message, domain),
            "digest": "0x" + signing_digest(REGISTRATION_TYPE, message, domain, registration.signature_type).hex(),
        }
        if registration.signature_type == SIGNATURE_EIP191:
            proof["personalSignText"] = signed_text(REGISTRATION_TYPE, message, domain)
        return proof

    def _view(self, key: Record, context: list[Record]) -> dict[str, Any]:
        """A key record, with its revocation if `context` holds one, and everything a client needs to verify."""
        document = json.loads(key.document)
        registration, domain = registration_from_document(document)
        revocation = next((r for r in context if r.kind == KIND_REVOCATION and r.revokes_cid == key.cid), None)
        anchor = self._latest_anchor()
        revocation_view = None
        if revocation is not None:
            revocation_view = {**_revocation_view(revocation), "log": self._log_view(revocation.log_index, anchor)}
        return {
            "wallet": key.wallet,
            "version": key.version,
            "keyType": registration.key_type,
            "DMTPpubKey": registration.public_key,
            "cid": key.cid,
            "status": key.status,
            "txHash": key.tx_hash,
            "blockNumber": key.block_number,
            "error": key.error,
            "createdAt": key.created_at,
            "updatedAt": key.updated_at,
            "expiresAt": registration.expires_at or None,
            "revoked": revocation is not None,
            "revocation": revocation_view,
            "signerCheck": json.loads(key.signer_check) if key.signer_check else None,
            "bundle": document,
            "proof": self._proof(registration, domain),
            "log": self._log_view(key.log_index, anchor),
        }

    def _history_item(self, record: Record, anchor: Anchor | None) -> dict[str, Any]:
        base = {
            "version": record.version,
            "kind": record.kind,
            "cid": record.cid,
            "status": record.status,
            "txHash": record.tx_hash,
            "createdAt": record.created_at,
            "log": self._log_view(record.log_index, anchor),
        }
        if record.kind == KIND_KEY:
            base["document"] = json.loads(record.document)
        else:
            base["revocation"] = json.loads(record.document)
        return base

    _NO_ANCHOR_READ: Any = object()

    def _log_view(self, index: int | None, anchor: Any = _NO_ANCHOR_READ) -> dict[str, Any] | None:
        """The record's transparency-log leaf and the latest anchored head that covers it (null until one does).
        Null for a record stored without a log (before the log existed)."""
        if index is None or self._log is None:
            return None
        if anchor is Registry._NO_ANCHOR_READ:
            anchor = self._log.latest_anchor()
        covered = anchor is not None and anchor.size > index
        return {"leafIndex": index, "anchoredHead": anchor.as_dict() if covered else None}

    def _latest_anchor(self) -> Anchor | None:
        return self._log.latest_anchor() if self._log is not None else None

    def _head_view(self, wallet: str, head: Head | None, anchor: Anchor | None = None) -> dict[str, Any]:
        if head is None:
            return {"address": wallet, "found": False}
        document = json.loads(head.document)
        return {
            "address": wallet,
            "found": True,
            "version": head.key_version,
            "keyType": document["keyType"],
            "DMTPpubKey": document["DMTPpubKey"],
            "cid": head.cid,
            "revoked": head.revocation is not None,
            "bundle": document,
            "log": self._log_view(head.key_log_index, anchor),
        }


def _revocation_view(record: Record) -> dict[str, Any]:
    document = json.loads(record.document)
    return {
        "version": record.version,
        "status": record.status,
        "txHash": record.tx_hash,
        "createdAt": record.created_at,
        "document": document,
    }


class _AlreadyStored(Exception):
    """Raised before a call to the chain: the request is the wallet's newest record, byte for byte."""


_DECIMAL = re.compile(r"[0-9]{1,16}")  # int() would also take " 7", "1_0" and non-ASCII digits


def _unix_seconds(value: str) -> int:
    if not _DECIMAL.fullmatch(value) or int(value) > MAX_SAFE_INTEGER:
        raise InvalidField("asOf must be unix seconds, 0 to 2^53-1", field="asOf")
    return int(value)


@overload
def _bounded_int(value: str | None, name: str, low: int, high: int, default: int) -> int: ...


@overload
def _bounded_int(value: str | None, name: str, low: int, high: int, default: None) -> int | None: ...


def _bounded_int(value: str | None, name: str, low: int, high: int, default: int | None) -> int | None:
    if value is None:
        return default
    if not _DECIMAL.fullmatch(value):
        raise InvalidField(f"{name} must be a decimal integer from {low} to {high}", field=name)
    number = int(value)
    if not low <= number <= high:
        raise InvalidField(f"{name} must be from {low} to {high}", field=name)
    return number
