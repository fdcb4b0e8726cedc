"""Deploy the DMTPKeys registry contract from the committed artifact.

Library::

    from infra.deploy_contract import deploy, transfer_ownership, is_live_registry

CLI::

    python -m infra.deploy_contract --rpc-url URL --deployer-key HEX \
        [--new-owner ADDR] [--existing ADDR]

The deployer key may also come from the DEPLOYER_PRIVATE_KEY environment variable.
With --existing naming a live registry the script refuses to deploy (exit 2).
Prints {"address": ..., "owner": ...} as JSON on success.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACT_PATH = REPO_ROOT / "chalicelib" / "contracts" / "DMTPKeys.json"

RECEIPT_TIMEOUT = 120


def load_artifact() -> dict:
    """The compiled contract artifact (abi, bytecode, ...) written by compile_contract.js."""
    with open(ARTIFACT_PATH, encoding="utf-8") as f:
        return json.load(f)


def _web3(rpc_url: str):
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30}))
    if not w3.is_connected():
        raise RuntimeError(f"cannot reach JSON-RPC endpoint {rpc_url}")
    return w3


def _contract(w3, address: str | None = None):
    artifact = load_artifact()
    if address is None:
        return w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    return w3.eth.contract(address=w3.to_checksum_address(address), abi=artifact["abi"])


def _send(w3, tx_builder, private_key: str) -> Any:
    """Build (EIP-1559 fees from web3 defaults), sign, send, wait; return a status-1 receipt."""
    account = w3.eth.account.from_key(private_key)
    tx = tx_builder.build_transaction(
        {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address, "pending"),
            "chainId": w3.eth.chain_id,
        }
    )
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT)
    if receipt["status"] != 1:
        raise RuntimeError(f"transaction {tx_hash.to_0x_hex()} failed (status {receipt['status']})")
    return receipt


def deploy(rpc_url: str, deployer_key: str) -> str:
    """Deploy a fresh DMTPKeys (owner = deployer); return its checksum address."""
    w3 = _web3(rpc_url)
    receipt = _send(w3, _contract(w3).constructor(), deployer_key)
    address = receipt["contractAddress"]
    if not address or not w3.eth.get_code(address):
        raise RuntimeError("deployment receipt has no contract code")
    return w3.to_checksum_address(address)


def transfer_ownership(
    rpc_url: str, contract_address: str, current_owner_key: str, new_owner: str
) -> str:
    """Transfer ownership to `new_owner`, verify via owner(); return the tx hash (0x hex)."""
    w3 = _web3(rpc_url)
    contract = _contract(w3, contract_address)
    new_owner = w3.to_checksum_address(new_owner)
    receipt = _send(w3, contract.functions.transferOwnership(new_owner), current_owner_key)
    actual = contract.functions.owner().call()
    if w3.to_checksum_address(actual) != new_owner:
        raise RuntimeError(f"owner() is {actual} after transfer, expected {new_owner}")
    return receipt["transactionHash"].to_0x_hex()


def is_live_registry(rpc_url: str, address: str) -> bool:
    """True when `address` holds contract code whose owner() can be called."""
    w3 = _web3(rpc_url)
    try:
        checksum = w3.to_checksum_address(address)
    except (ValueError, TypeError):
        return False
    if not w3.eth.get_code(checksum):
        return False
    try:
        _contract(w3, checksum).functions.owner().call()
    except Exception:
        return False
    return True


def _owner_of(rpc_url: str, address: str) -> str:
    w3 = _web3(rpc_url)
    return w3.to_checksum_address(_contract(w3, address).functions.owner().call())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.deploy_contract", description="Deploy the DMTPKeys registry."
    )
    parser.add_argument("--rpc-url", required=True, help="JSON-RPC endpoint")
    parser.add_argument(
        "--deployer-key",
        default=os.environ.get("DEPLOYER_PRIVATE_KEY"),
        help="deployer private key (hex); default: $DEPLOYER_PRIVATE_KEY",
    )
    parser.add_argument("--new-owner", help="transfer ownership to this address after deploying")
    parser.add_argument(
        "--existing",
        help="address of an already deployed registry; if it is live, refuse to deploy",
    )
    args = parser.parse_args(argv)

    if args.existing and is_live_registry(args.rpc_url, args.existing):
        print(
            f"refusing to deploy: a live DMTPKeys registry already exists at {args.existing} "
            f"(owner {_owner_of(args.rpc_url, args.existing)}); drop --existing to deploy anew",
            file=sys.stderr,
        )
        return 2
    if args.existing:
        print(f"note: no live registry at {args.existing}; deploying a new one", file=sys.stderr)
    if not args.deployer_key:
        parser.error("a deployer key is required (--deployer-key or DEPLOYER_PRIVATE_KEY)")

    address = deploy(args.rpc_url, args.deployer_key)
    if args.new_owner:
        transfer_ownership(args.rpc_url, address, args.deployer_key, args.new_owner)
    print(json.dumps({"address": address, "owner": _owner_of(args.rpc_url, address)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
