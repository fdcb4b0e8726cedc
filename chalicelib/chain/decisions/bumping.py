"""When to bump: which stuck transaction the monitor replaces, with which fees, and when one counts as lost.

Pure decisions over plain data, no I/O: the monitor (monitor.py) reads the chain (head, nonces, whether a node
knows a hash, the market) and its nonce items, asks these, and signs, stores and sends what they answer.

Invariants:
- one nonce, one transaction that lands: a replacement reuses the nonce, the calldata and the gas of the item, only
  the fees change, each at least 10% higher than the last attempt (fees.py), and is stored before it is sent;
- a replacement's gas * maxFeePerGas plus its L1 data fee (OP-stack chains) stays within MAX_TX_COST_ETH, as the
  worker's first offer does (packing.payable): its maxFeePerGas is capped below MAX_FEE_CAP_GWEI when needed;
- only a transaction that blocks the queue is bumped: the one at the chain's next nonce, one no node knows, or one
  priced under the base fee; the others wait behind it without paying more;
- a transaction counts as lost only once its nonce is used, by none of its hashes, in a block CONFIRMATIONS deep
  (a shallower use may still be reorganised away, and ours land after all);
- a reservation is taken over (filled with a no-op) only after its lease, well above a worker's reserve-to-store.

Residual race: a worker whose lease ran out may still be storing its signed bytes while the monitor fills its
nonce; the conditional store (transactions.py: reserved -> signed) lets exactly one of them sign that nonce, and the
loser's jobs go back to the queue.
"""

from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.chain.decisions.fees import Fees, replacement
from chalicelib.model import Market


def bump_due(
    waited_s: float, bump_after_s: float, at_next_nonce: bool, known: bool, underpriced: Callable[[], bool]
) -> bool:
    """Whether to replace a transaction that has waited `waited_s` since its last attempt: only after `bump_after_s`,
    and only if it blocks the queue (at the chain's next nonce, unknown to the node, or priced under the base fee).
    `underpriced` (it reads the market) is asked only when the other two do not decide it."""
    return waited_s >= bump_after_s and (at_next_nonce or not known or underpriced())


@dataclass(frozen=True)
class Bump:
    """A replacement's fees (None: the cap leaves no room for +10%, the transaction waits), and whether the cap
    held them down (the FeeCapReached alarm)."""

    fees: Fees | None
    cap_reached: bool


def bump(previous: Fees, market: Market, max_fee_cap_wei: int) -> Bump:
    """The fees of a replacement for a transaction last sent with `previous`."""
    offer = replacement(previous, market, max_fee_cap_wei)
    if offer is None:
        return Bump(None, True)
    return Bump(offer.fees, offer.capped)


def max_fee_cap(max_fee_cap_wei: int, max_tx_cost_wei: int, gas: int, l1_fee_wei: int | None) -> int:
    """The highest maxFeePerGas a replacement with gas limit `gas` may offer: MAX_FEE_CAP_GWEI, lowered so that
    gas * maxFeePerGas + `l1_fee_wei` stays within `max_tx_cost_wei`. `l1_fee_wei` is the L1 data fee of the
    replacement the fee cap alone allows (None: there is none, and the fee cap stands)."""
    if l1_fee_wei is None:
        return max_fee_cap_wei
    return min(max_fee_cap_wei, max(0, max_tx_cost_wei - l1_fee_wei) // gas)


def lost_check_block(head: int, confirmations: int) -> int:
    """The block whose nonce decides whether ours is lost: CONFIRMATIONS deep (its own counted), at least 0."""
    return max(0, head - confirmations + 1)


def lost(nonce: int, nonce_at_deep_block: int) -> bool:
    """Whether a transaction none of whose hashes was mined can never land: its nonce is used deep enough."""
    return nonce < nonce_at_deep_block


def lease_expired(now: float, reserved_at: float, nonce_lease_s: float) -> bool:
    """Whether a reservation's worker is taken for dead: it has not signed within the lease."""
    return now - reserved_at > nonce_lease_s
