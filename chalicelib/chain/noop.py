"""Filling a nonce nobody will use with a 0-value self-transfer (the worker's and the monitor's one no-op)."""

from chalicelib.chain.decisions.fees import Fees
from chalicelib.chain.ports import Chain, Signer, Transactions
from chalicelib.model import TxItem


def fill_with_noop(txs: Transactions, chain: Chain, signer: Signer, item: TxItem, fees: Fees, now: float) -> TxItem:
    """Sign a 0-value self-transfer for a reserved nonce nobody will use, and store it (reserved -> signed).

    The one no-op of the worker (a reservation none of whose jobs was its to send) and the monitor (a hole, or a
    reservation whose worker died). StaleItem when someone else signed or took the reservation first. The caller
    broadcasts the returned item's bytes (stored first, so a crash before the broadcast leaves them to the monitor).
    """
    from chalicelib.model import KIND_NOOP, NOOP_GAS, Attempt

    signed = chain.sign(
        signer, nonce=item.nonce, to=signer.address, data="0x", gas=NOOP_GAS, max_fee=fees.max_fee, tip=fees.tip
    )
    return txs.sign_reserved(
        item,
        kind=KIND_NOOP,
        entries=(),
        to=signer.address,
        data="0x",
        gas=NOOP_GAS,
        raw=signed.raw,
        attempt=Attempt(signed.tx_hash, fees.max_fee, fees.tip, now),
    )
