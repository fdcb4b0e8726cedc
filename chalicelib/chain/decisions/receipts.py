"""What a receipt means: when a mined transaction is final, and what its records and its nonce item become.

Pure decisions over plain data, no I/O: the monitor (monitor.py) reads the receipt, the block hash and the revert
reason through its ports (and, for a revocation that reverted NotCurrentKey, the record of the key it revokes,
through the `revoked_key` lookup these call only then) and writes what these answer.

Invariants:
- a transaction is final CONFIRMATIONS blocks deep (its own block counts as one), and only if its block is still
  the chain's block at that height when looked at again (else it was reorganised away between the two reads);
- a receipt settles every job the nonce item carries in one verdict: all confirmed, or all failed with the one
  revert reason; a revert for a signer that is not the owner (NotOwner, OwnableUnauthorizedAccount) is no job's
  fault: its jobs are queued again and the worker is paused, never failed; nor is a revocation's NotCurrentKey
  while the key it revokes is still on its way (`key_still_coming`): it is queued again;
- a confirmed transaction that anchored the transparency log (LogAnchored) has that head recorded, after its
  records;
- the records are written before the item is marked final (a final item is never looked at again), and each record
  write is conditional on the record still being claimed at this nonce, so settling twice is harmless.

Residual race: a reorg deeper than CONFIRMATIONS after settling is not undone (the records stay confirmed); the
depth is the operator's choice per chain (config.py).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.model import (
    KIND_KEY,
    KIND_REVOKE,
    OPEN_STATUSES,
    STATE_CONFIRMED,
    STATE_FAILED,
    STATE_MINED,
    STATUS_CONFIRMED,
    STATUS_FAILED,
    STATUS_SUPERSEDED,
    Job,
    Receipt,
    Record,
    TxItem,
)

RevokedKey = Callable[[Job], Record | None]  # a revocation job's key record (version - 1): RecordStore.get


def deep_enough(head: int, block_number: int, confirmations: int) -> bool:
    """Whether a transaction mined in `block_number` has `confirmations` blocks (its own included) at `head`."""
    return head - block_number + 1 >= confirmations


def newly_mined(item: TxItem, receipt: Receipt) -> bool:
    """Whether the item does not yet record this receipt's block and hash (first seen, or mined again elsewhere)."""
    return item.state != STATE_MINED or item.block_hash != receipt.block_hash or item.mined_hash != receipt.tx_hash


@dataclass(frozen=True)
class Settlement:
    """A final receipt's meaning. `state`: the item's final state. `status`: the records' (when not re-queued),
    with `record_changes`. `requeue`: the jobs go back to the queue with this reason (and the worker pauses with
    `pause`, when set). `error`: the revert reason, kept on the item. `anchor`: the transparency log head (size,
    root) the transaction anchored, to record once its records are written."""

    state: str
    status: str
    error: str | None
    record_changes: dict[str, Any] = field(default_factory=dict)
    requeue: str | None = None
    pause: str | None = None
    anchor: tuple[int, bytes] | None = None


def settlement(
    receipt: Receipt,
    nonce: int,
    latest_hash: str,
    revert_reason: str | None,
    kind: str,
    entries: Sequence[Job],
    revoked_key: RevokedKey,
) -> Settlement:
    """What a final receipt means for the item at `nonce` (of `kind`, carrying `entries`; newest attempt
    `latest_hash`). `revert_reason` is read only for a reverted receipt (status 0), None for a successful one.
    `revoked_key` is read only for a revocation that reverted NotCurrentKey (see `key_still_coming`)."""
    if receipt.status == 1:
        state, status, error = STATE_CONFIRMED, STATUS_CONFIRMED, None
    else:
        state, status, error = STATE_FAILED, STATUS_FAILED, revert_reason
    if error is not None and is_owner_mismatch(error):
        # Signed by a key that is not (or no longer) the owner: the registrations are not at fault.
        return Settlement(
            state,
            status,
            error,
            requeue=f"its transaction reverted {error}; queued again, the worker is paused",
            pause=f"transaction at nonce {nonce} reverted {error}",
        )
    if (
        error is not None
        and kind == KIND_REVOKE
        and error.startswith("NotCurrentKey")
        and key_still_coming(nonce, entries, revoked_key)
    ):
        # The revocation went out trusting an earlier nonce to carry its key, and that transaction did not
        # land it (it reverted, say NotOwner, and was queued again): the revocation is not at fault either.
        return Settlement(
            state,
            status,
            error,
            requeue=f"its transaction reverted {error} before its key reached the chain; queued again",
        )
    changes: dict[str, Any] = {"block_number": receipt.block_number}
    if receipt.tx_hash != latest_hash:  # the records name the newest attempt; an older one was mined
        changes["tx_hash"] = receipt.tx_hash
    if error is not None:
        changes["error"] = error
    return Settlement(state, status, error, changes, anchor=receipt.log_anchor if status == STATUS_CONFIRMED else None)


def key_still_coming(nonce: int, entries: Sequence[Job], revoked_key: RevokedKey) -> bool:
    """Whether the key each revocation at `nonce` revokes may still decide the revocation's fate: the key is on its
    way (open), landed only after it (confirmed at a later nonce), or gives way to a newer key of the wallet
    (superseded: the worker, delivered the revocation again, holds it until that key is confirmed and then
    supersedes it, claims.after_newer_key). `revoked_key` is read job by job, and no further once one answer is no.

    Invariant: only then is the revocation queued again. A key that is confirmed at an earlier nonce and still
    not current means the chain holds another key, and a key that failed never reached the chain: the revocation
    fails with the contract's reason."""
    for job in entries:
        key = revoked_key(job)
        if key is None or key.kind != KIND_KEY:
            return False
        if key.status in OPEN_STATUSES or key.status == STATUS_SUPERSEDED:
            continue
        if key.status == STATUS_CONFIRMED and key.nonce is not None and key.nonce > nonce:
            continue
        return False
    return bool(entries)


def mined_fields(receipt: Receipt) -> dict[str, Any]:
    """What the final item keeps of its receipt."""
    return {
        "minedHash": receipt.tx_hash,
        "blockNumber": receipt.block_number,
        "blockHash": receipt.block_hash,
        "gasUsed": receipt.gas_used,
        "feePaidWei": receipt.gas_used * receipt.effective_gas_price,
    }


def is_owner_mismatch(revert_reason: str) -> bool:
    """A revert (as adapters/ethereum.py decodes it) saying the signer is not the contract's owner: no registration's
    fault."""
    return revert_reason.startswith("NotOwner")
