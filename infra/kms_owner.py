"""The contract owner's KMS key, seen from the operator's machine: its address, and sending a transaction it signs.

Uses the operator's AWS credentials (AWS_PROFILE, AWS_REGION; AWS_ENDPOINT_URL for moto). The key policy from
infra/template.yaml lets operators read the public key; signing needs the RotationSignerArn parameter.

CLI: ``python -m infra.kms_owner alias/dmtp-registry-prod-owner-blue`` prints the key's Ethereum address.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from chalicelib.adapters.kms_signer import KmsSigner

RECEIPT_TIMEOUT = 120


def kms_signer(key_id: str) -> KmsSigner:
    import boto3

    return KmsSigner(boto3.client("kms", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None), key_id)


def kms_address(key_id: str) -> str:
    """The Ethereum address of a KMS secp256k1 key (checksummed)."""
    return kms_signer(key_id).address


def send_signed_by_kms(w3: Any, call: Any, signer: KmsSigner) -> Any:
    """Build `call` (a contract function call) from the key's address, sign it with KMS, send it, wait.

    Returns the receipt; raises if the transaction reverted.
    """
    from eth_account._utils.legacy_transactions import encode_transaction, serializable_unsigned_transaction_from_dict
    from eth_account.typed_transactions.typed_transaction import TypedTransaction

    sender = signer.address
    tx = call.build_transaction(
        {"from": sender, "nonce": w3.eth.get_transaction_count(sender, "pending"), "chainId": w3.eth.chain_id}
    )
    tx.pop("from", None)
    unsigned = serializable_unsigned_transaction_from_dict(tx)
    r, s, recovery_id = signer.sign_digest(bytes(unsigned.hash()))
    # A typed (EIP-1559) transaction takes the y parity as v; a legacy one takes EIP-155's v.
    v = recovery_id if isinstance(unsigned, TypedTransaction) else recovery_id + 35 + 2 * tx["chainId"]
    raw = encode_transaction(unsigned, vrs=(v, r, s))
    tx_hash = w3.eth.send_raw_transaction(raw)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT)
    if receipt["status"] != 1:
        raise RuntimeError(f"transaction {tx_hash.to_0x_hex()} reverted")
    return receipt


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m infra.kms_owner KMS_KEY_ID")
    print(kms_address(sys.argv[1]))
