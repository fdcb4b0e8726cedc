"""What the owner offers per gas (EIP-1559): first offers, replacements, and the cap.

Nodes replace a pending transaction only for at least 10% more on both maxFeePerGas and the tip (geth's
default price bump). Anvil takes a 1-wei bump, so this module enforces the 10% itself. The cap bounds every
offer; a transaction that would need more waits at the cap (and raises the FeeCapReached alarm) rather than
stopping the worker: when fees fall it is mined, and everything behind it with it.
"""

from dataclasses import dataclass

from chalicelib.model import Market


@dataclass(frozen=True)
class Fees:
    max_fee: int  # maxFeePerGas, wei
    tip: int  # maxPriorityFeePerGas, wei


@dataclass(frozen=True)
class Offer:
    fees: Fees
    capped: bool  # the market asked for more than the cap; we offer the cap


def at_least_ten_percent_more(value: int) -> int:
    """ceil(value * 1.1), and at least one wei more: the smallest replacement every node accepts."""
    return max(-(-value * 11 // 10), value + 1)


def first_offer(market: Market, cap: int) -> Offer:
    """Twice the base fee plus the suggested tip: survives six full blocks of base-fee rises (12.5% each)."""
    tip = market.tip
    max_fee = 2 * market.base_fee + tip
    capped = max_fee > cap
    if capped:
        max_fee = cap
    return Offer(Fees(max_fee=max_fee, tip=min(tip, max_fee)), capped)


def replacement(previous: Fees, market: Market, cap: int) -> Offer | None:
    """Fees for a replacement of a tx sent with `previous`, or None when the cap leaves no room for +10%."""
    tip = max(at_least_ten_percent_more(previous.tip), market.tip)
    floor = at_least_ten_percent_more(previous.max_fee)
    max_fee = max(floor, 2 * market.base_fee + tip)
    capped = max_fee > cap
    if capped:
        if floor > cap:
            return None
        max_fee = cap
    if tip > max_fee:
        if at_least_ten_percent_more(previous.tip) > max_fee:
            return None
        tip = max_fee
    return Offer(Fees(max_fee=max_fee, tip=tip), capped)
