"""Use cases of the API: submit a key bundle, look a wallet up."""
import json
import logging
import time
from typing import Any

from .cid import cid_for_bytes
from .errors import DependencyUnavailable, NotFound, PinningFailed, RegistryError
from .jobs import Job, JobQueue
from .pinning import Pinner
from .protocol import parse_address, parse_bundle, pinned_document, verify_bundle
from .records import STATUS_PINNED, STATUS_QUEUED, Record, RecordStore, VersionTaken

log = logging.getLogger(__name__)


class VersionConflict(RegistryError):
    status, code, title = 409, "version-conflict", "A concurrent registration for this wallet won"


class Registry:
    def __init__(self, records: RecordStore, queue: JobQueue, pinner: Pinner, chain_id: int, registry_address: str):
        self._records = records
        self._queue = queue
        self._pinner = pinner
        self._chain_id = chain_id
        self._registry_address = registry_address

    def submit(self, body: Any) -> tuple[bool, dict[str, Any]]:
        """Verify, pin, store and queue a bundle. Returns (created, public view of the record)."""
        bundle = parse_bundle(body)
        message = verify_bundle(bundle, self._chain_id, self._registry_address)
        document = pinned_document(bundle, message, self._chain_id, self._registry_address)
        cid = cid_for_bytes(document)

        latest = self._records.latest(bundle.wallet)
        if latest is not None and latest.cid == cid:
            if latest.status == STATUS_PINNED:
                latest = self._enqueue(latest)
            return False, public_view(latest)

        pinned_cid = self._pinner.pin(document, f"dmtp-{bundle.wallet.lower()}-{cid}.json")
        if pinned_cid != cid:
            raise PinningFailed(f"pinning service computed {pinned_cid}, expected {cid}", expected=cid, got=pinned_cid)

        now = int(time.time())
        version = 1 if latest is None else latest.version + 1
        record = Record(bundle.wallet, version, cid, document.decode("utf-8"), STATUS_PINNED, now, now)
        try:
            self._records.create(record)
        except VersionTaken as exc:
            raise VersionConflict(f"version {version} of {bundle.wallet} was registered concurrently; retry") from exc
        return True, public_view(self._enqueue(record))

    def _enqueue(self, record: Record) -> Record:
        try:
            self._queue.enqueue(Job(record.wallet, record.version, record.cid))
        except Exception as exc:  # boto3 raises many kinds; the record stays 'pinned' and a resubmission re-queues it
            log.exception("enqueue failed for %s v%s", record.wallet, record.version)
            raise DependencyUnavailable(
                "stored and pinned, but queueing the on-chain write failed; submit the same bundle again",
                cid=record.cid,
            ) from exc
        self._records.set_status(record, STATUS_QUEUED, only_from=(STATUS_PINNED,))
        return self._records.get(record.wallet, record.version) or record

    def lookup(self, address: str) -> dict[str, Any]:
        wallet = parse_address(address)
        record = self._records.latest(wallet)
        if record is None:
            raise NotFound(f"no DMTP key registered for {wallet}")
        return public_view(record)


def public_view(record: Record) -> dict[str, Any]:
    bundle = json.loads(record.document)
    return {
        "wallet": record.wallet,
        "version": record.version,
        "cid": record.cid,
        "status": record.status,
        "txHash": record.tx_hash,
        "blockNumber": record.block_number,
        "error": record.error,
        "chainId": bundle["chainId"],
        "registry": bundle["registry"],
        "createdAt": record.created_at,
        "updatedAt": record.updated_at,
        "bundle": bundle,
    }
