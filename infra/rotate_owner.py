"""Move the DMTPKeys contract's ownership from one KMS owner key to the other (docs/DEPLOY.md, rotation).

CLI::

    python -m infra.rotate_owner --stage prod --rpc-url-file FILE --to-kms-key-id alias/dmtp-registry-prod-owner-green
    python -m infra.rotate_owner --stage prod --rpc-url-file FILE --to-address 0x...   # tearing a stage down

The RPC URL comes from --rpc-url-file FILE or RPC_URL, never the command line (infra/rpc_url.py).

The outgoing key is the stage's KMS_KEY_ID (or --from-kms-key-id) and signs transferOwnership itself, so the
caller must be the stack's RotationSignerArn. Refuses (exit 2) unless the outgoing key owns the contract, an
incoming KMS key's address holds ETH for gas, the outgoing key has no transaction waiting in the mempool
(pause the worker and the monitor first: a transaction it signed after the transfer would revert NotOwner),
and the stage's transactions table holds none of its transactions unfinished: one stored but never broadcast
(its worker died) is not in any mempool, and after the transfer nothing would send it, so its registrations
would stay `submitted` for good. Let the monitor settle those first.
Prints {"registry", "from", "to", "txHash"} as JSON once owner() returns the incoming address.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from chalicelib.adapters.kms_signer import KmsSigner
from infra.deploy_contract import _contract, _owner_of, _web3
from infra.kms_owner import kms_signer, send_signed_by_kms
from infra.rpc_url import add_rpc_url_arguments, required_rpc_url
from infra.stage_config import CHALICE_CONFIG_PATH, StageConfig

REFUSED = 2


class RotationRefused(RuntimeError):
    pass


def unfinished_nonces(transactions_table: str, signer: str) -> list[int]:
    """The signer's nonces whose item in the transactions table is not final (reserved, signed or mined)."""
    import os

    import boto3

    from chalicelib.adapters.nonces import NonceManager
    from chalicelib.adapters.transactions import TxStore
    from chalicelib.model import FINAL_STATES

    table = boto3.resource("dynamodb", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None).Table(
        transactions_table
    )
    counter = NonceManager(table, signer).counter()
    if counter is None:
        return []
    return [item.nonce for item in TxStore(table, signer).from_nonce(counter.floor) if item.state not in FINAL_STATES]


def rotate(
    rpc_url: str,
    registry: str,
    outgoing: KmsSigner,
    incoming: str,
    incoming_pays_gas: bool = True,
    unfinished: tuple[int, ...] = (),
) -> dict[str, str]:
    """transferOwnership(incoming), signed by the outgoing KMS key; checked with owner()."""
    if unfinished:
        raise RotationRefused(
            f"the transactions table holds {len(unfinished)} unfinished transaction(s) of {outgoing.address} "
            f"(nonces {', '.join(map(str, unfinished[:10]))}): resume the monitor until they are confirmed or failed"
        )
    w3 = _web3(rpc_url)
    incoming = w3.to_checksum_address(incoming)
    owner = _owner_of(rpc_url, registry)
    if owner == incoming:
        raise RotationRefused(f"{incoming} already owns {registry}")
    if owner != outgoing.address:
        raise RotationRefused(f"{registry} is owned by {owner}, not by the outgoing key ({outgoing.address})")
    if incoming_pays_gas and w3.eth.get_balance(incoming) == 0:
        raise RotationRefused(f"fund {incoming} before it takes over: it pays the registry's gas")
    sender = w3.to_checksum_address(outgoing.address)  # already EIP-55 (KmsSigner.address): the same string
    pending = w3.eth.get_transaction_count(sender, "pending") - w3.eth.get_transaction_count(sender, "latest")
    if pending:
        raise RotationRefused(
            f"{outgoing.address} has {pending} transaction(s) in the mempool: pause the worker and the monitor "
            "and wait for them to be mined"
        )
    receipt = send_signed_by_kms(w3, _contract(w3, registry).functions.transferOwnership(incoming), outgoing)
    now = _owner_of(rpc_url, registry)
    if now != incoming:
        raise RuntimeError(f"owner() is {now} after the transfer, expected {incoming}")
    return {
        "registry": w3.to_checksum_address(registry),
        "from": outgoing.address,
        "to": incoming,
        "txHash": receipt["transactionHash"].to_0x_hex(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.rotate_owner", description="Hand the registry to another owner."
    )
    add_rpc_url_arguments(parser)
    parser.add_argument("--stage", required=True, help="Chalice stage: its REGISTRY_ADDRESS and KMS_KEY_ID apply")
    parser.add_argument("--config", type=Path, default=CHALICE_CONFIG_PATH, help=argparse.SUPPRESS)
    parser.add_argument("--from-kms-key-id", help="outgoing owner key; default: the stage's KMS_KEY_ID")
    incoming = parser.add_mutually_exclusive_group(required=True)
    incoming.add_argument("--to-kms-key-id", help="incoming owner key, e.g. alias/dmtp-registry-prod-owner-green")
    incoming.add_argument("--to-address", help="hand the registry to a plain address (tearing a stage down)")
    args = parser.parse_args(argv)
    rpc_url = required_rpc_url(parser, args)
    stage = StageConfig.load(args.stage, args.config)
    if not stage.registry_address:
        parser.error(f"stage {stage.stage} names no REGISTRY_ADDRESS")
    outgoing = kms_signer(args.from_kms_key_id or stage.kms_key_id)
    to_kms = bool(args.to_kms_key_id)
    try:
        result = rotate(
            rpc_url,
            stage.registry_address,
            outgoing,
            kms_signer(args.to_kms_key_id).address if to_kms else args.to_address,
            incoming_pays_gas=to_kms,
            unfinished=tuple(unfinished_nonces(stage.transactions_table, outgoing.address)),
        )
    except RotationRefused as refused:
        print(f"refusing to rotate: {refused}", file=sys.stderr)
        return REFUSED
    if to_kms:
        print(
            f"next: set stages.{stage.stage}.environment_variables.KMS_KEY_ID to {args.to_kms_key_id}, deploy the app, "
            "then resume the worker and the monitor",
            file=sys.stderr,
        )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
