"""What to pack: a batch's keys into setKeys transactions under the gas cap, and whether the owner can pay for them.

Pure decisions over plain data, no I/O: the worker (worker.py) builds the calldata, asks the node for each chunk's
gas estimate, simulates refused keys one by one, and reads the balance; these say what follows from the answers.

Invariants:
- the chunks are taken in the order the jobs came (a wallet's keys never reorder inside one batch: the worker keeps
  only a wallet's newest key in a batch anyway), and a chunk that is split or loses refused keys is tried again
  before any later chunk, so the planned transactions keep that order;
- a chunk of one key is never split: if it is over the cap alone it goes out with its own estimate (the cap can
  only be met by sending fewer keys, and there is nothing fewer than one);
- every planned transaction's gas limit is at least its estimate, and at most the larger of the estimate and the cap.

Residual race: an estimate is made against the chain as it is now; the write is mined later. The headroom (20%,
at least 10,000 gas) covers a key that was an overwrite when estimated and is fresh again when mined (after a
reorg); the contract refusing a key between estimate and mining costs that transaction's gas, and the monitor
fails its jobs with the revert reason.
"""

from dataclasses import dataclass
from typing import Generic, TypeVar

GAS_PER_BATCHED_KEY = 27_000  # measured 25.8k per new key at 100 per setKeys; sizes the first try of a chunk
SETKEYS_BASE_GAS = 60_000  # the transaction and the call, before its first key

T = TypeVar("T")


def keys_per_tx(gas_cap_per_tx: int, max_keys_per_tx: int) -> int:
    """The first try of a chunk's size: as many keys as the cap holds at the measured gas per key (at least one)."""
    return max(1, min(max_keys_per_tx, (gas_cap_per_tx - SETKEYS_BASE_GAS) // GAS_PER_BATCHED_KEY))


def gas_limit(estimate: int, gas_cap_per_tx: int) -> int:
    """The gas limit sent for an estimate: 20% headroom (at least 10,000), but not past the cap unless the estimate is."""
    return min(max(estimate * 6 // 5, estimate + 10_000), max(estimate, gas_cap_per_tx))


def revoke_gas_limit(estimate: int, floor: int) -> int:
    """A revocation simulated against its key on chain: 20% headroom over the estimate, never under `floor`."""
    return max(floor, estimate * 6 // 5)


class Chunks(Generic[T]):
    """The worklist of setKeys chunks: `next()` the chunk to estimate, then `fits(chunk, gas)` (its gas limit, or
    None when it is over the cap and has been split in halves, to be tried first), or `again(...)` with what is left
    of a chunk the contract refused."""

    def __init__(self, jobs: list[T], per_tx: int, gas_cap_per_tx: int) -> None:
        self._todo = [jobs[i : i + per_tx] for i in range(0, len(jobs), per_tx)]
        self._cap = gas_cap_per_tx

    def next(self) -> list[T] | None:
        return self._todo.pop(0) if self._todo else None

    def fits(self, chunk: list[T], estimate: int) -> int | None:
        if estimate > self._cap and len(chunk) > 1:
            half = len(chunk) // 2
            self._todo[:0] = [chunk[:half], chunk[half:]]
            return None
        return gas_limit(estimate, self._cap)

    def again(self, chunks: list[list[T]]) -> None:
        self._todo[:0] = chunks


def without_refused(chunk: list[T], kept: list[T], refusal: str) -> list[list[T]]:
    """What is tried again of a chunk the contract refused, once each key was simulated alone and `kept` are those
    it accepts. Every key accepted alone but not together is not a refusal of any key: that is a bug, raised."""
    if len(kept) == len(chunk):
        raise RuntimeError(f"setKeys of {len(chunk)} keys reverts ({refusal}) though each key alone does not")
    return [kept] if kept else []


@dataclass(frozen=True)
class Unpayable:
    """Why a batch's transactions are held: the owner cannot pay (`cost_cap` False), or one costs over the cap."""

    cost_cap: bool
    reason: str


def payable(balance_wei: int, costs_wei: list[int], max_tx_cost_wei: int) -> Unpayable | None:
    """None when the owner can pay every transaction (gas * maxFeePerGas plus its L1 data fee) and none costs more
    than the per-transaction cap; else why not (the cap first: funding the owner would not help)."""
    needed = sum(costs_wei)
    if balance_wei >= needed and max(costs_wei) <= max_tx_cost_wei:
        return None
    if max(costs_wei) > max_tx_cost_wei:
        return Unpayable(
            True,
            f"paused: a transaction may cost {max(costs_wei)} wei (gas and L1 data fee), over the cap of {max_tx_cost_wei} wei",
        )
    return Unpayable(
        False,
        f"paused: the owner holds {balance_wei} wei, these transactions may cost up to {needed} wei (gas and L1 data fee)",
    )
