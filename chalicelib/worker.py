"""The worker: turns an addKey job into exactly one KMS-signed transaction on chain.

The signed raw tx is stored on the record before it is broadcast, so a redelivered job rebroadcasts the
same bytes instead of signing a second transaction. A stored tx is re-signed only once the chain has
mined another tx at its nonce, which proves ours can never land.
"""
import logging

from .chain import RegistryChain, WriteRefused
from .jobs import Job
from .kms_signer import KmsSigner
from .records import FINAL_STATUSES, STATUS_CONFIRMED, STATUS_FAILED, Record, RecordStore

log = logging.getLogger(__name__)


class JobNotDone(RuntimeError):
    """The job must be delivered again (no receipt yet, or a dependency failed)."""


class UnknownRecord(RuntimeError):
    pass


class ChainWorker:
    def __init__(self, records: RecordStore, chain: RegistryChain, signer: KmsSigner, receipt_timeout_s: float):
        self._records = records
        self._chain = chain
        self._signer = signer
        self._receipt_timeout_s = receipt_timeout_s

    def process(self, job: Job) -> Record:
        record = self._records.get(job.wallet, job.version)
        if record is None or record.cid != job.cid:
            raise UnknownRecord(f"no record {job.wallet} v{job.version} with CID {job.cid}")
        if record.status in FINAL_STATUSES:
            return record
        if record.raw_tx is None or self._nonce_taken_by_another_tx(record):
            try:
                record = self._sign_and_store(record)
            except WriteRefused as refused:
                self._records.set_status(record, STATUS_FAILED, error=f"contract refused the write: {refused}")
                return self._records.get(record.wallet, record.version) or record
        self._chain.broadcast(record.raw_tx)
        receipt = self._chain.wait_for_receipt(record.tx_hash, self._receipt_timeout_s)
        if receipt is None:
            raise JobNotDone(f"{record.tx_hash} not mined within {self._receipt_timeout_s} s")
        if receipt.status == 1:
            self._records.set_status(record, STATUS_CONFIRMED, block_number=receipt.block_number, error=None)
        else:
            reason = self._chain.revert_reason(record.tx_hash, receipt.block_number)
            self._records.set_status(record, STATUS_FAILED, block_number=receipt.block_number, error=reason)
        return self._records.get(record.wallet, record.version) or record

    def _nonce_taken_by_another_tx(self, record: Record) -> bool:
        # Nonce first: once it is consumed, a missing receipt for our hash is final (short of a reorg).
        if self._chain.mined_nonce(self._signer.address) <= (record.nonce or 0):
            return False
        return self._chain.receipt(record.tx_hash) is None

    def _sign_and_store(self, record: Record) -> Record:
        nonce = self._chain.pending_nonce(self._signer.address)
        tx = self._chain.build_set_key(self._signer.address, record.wallet, record.cid, record.version, nonce)
        signed = self._chain.sign(tx, self._signer)
        stored = self._records.save_signed_tx(record, signed.raw, signed.tx_hash, signed.nonce)
        log.info("signed %s for %s v%s at nonce %s", stored.tx_hash, record.wallet, record.version, stored.nonce)
        return stored

