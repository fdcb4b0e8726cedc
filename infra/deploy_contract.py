"""Deploy the DMTPKeys registry contract from the committed artifact and hand it to the KMS owner key.

Library::

    from infra.deploy_contract import deploy, transfer_ownership, is_live_registry

CLI (docs/DEPLOY.md)::

    python -m infra.deploy_contract --stage prod --rpc-url-file FILE [--deployer-key HEX] [--kms-key-id ALIAS]
    python -m infra.deploy_contract --rpc-url-file FILE --deployer-key HEX [--new-owner ADDR] [--existing ADDR]

The RPC URL comes from --rpc-url-file FILE or RPC_URL, never the command line (infra/rpc_url.py).
With --stage, the stage's entry in .chalice/config.json decides: the chain (the RPC must serve its CHAIN_ID),
the owner (its KMS_KEY_ID, unless --kms-key-id or --new-owner says otherwise) and idempotency (when its
REGISTRY_ADDRESS names a live registry the script refuses to deploy). Any funded key can deploy; ownership
then moves to the owner and is checked with owner(). The deployer key may also come from the
DEPLOYER_PRIVATE_KEY environment variable. Exit 2: refused (a live registry exists, or the wrong chain).
Prints {"address", "owner", "chainId"} as JSON on success: put "address" in REGISTRY_ADDRESS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.observability.redaction import redact_url
from infra.kms_owner import kms_address
from infra.rpc_url import add_rpc_url_arguments, required_rpc_url
from infra.stage_config import CHALICE_CONFIG_PATH, StageConfig

if TYPE_CHECKING:  # web3 itself loads on first use
    from web3 import Web3
    from web3.contract import Contract
    from web3.contract.contract import ContractConstructor, ContractFunction
    from web3.types import TxReceipt

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACT_PATH = REPO_ROOT / "packages" / "dmtp-protocol" / "src" / "dmtp_protocol" / "contracts" / "DMTPKeys.json"

RECEIPT_TIMEOUT = 120


def load_artifact() -> dict[str, Any]:
    """The compiled contract artifact (abi, bytecode, ...) written by compile_contract.js."""
    with open(ARTIFACT_PATH, encoding="utf-8") as f:
        artifact: dict[str, Any] = json.load(f)
        return artifact


def _web3(rpc_url: str) -> Web3:
    """web3 on `rpc_url`; nothing it raises names the URL's path, query or userinfo (where the provider's key is)."""
    from web3 import Web3

    from chalicelib.adapters.ethereum import redacting_http_provider

    w3 = Web3(redacting_http_provider(rpc_url, 30))
    if not w3.is_connected():
        raise RuntimeError(f"cannot reach JSON-RPC endpoint {redact_url(rpc_url)}")
    return w3


def _factory(w3: Web3) -> type[Contract]:
    """The contract to deploy (abi and bytecode)."""
    artifact = load_artifact()
    return w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])


def _contract(w3: Web3, address: str) -> Contract:
    """The deployed contract at `address`."""
    return w3.eth.contract(address=w3.to_checksum_address(address), abi=load_artifact()["abi"])


def _send(w3: Web3, tx_builder: ContractConstructor | ContractFunction, private_key: str) -> TxReceipt:
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
    receipt = _send(w3, _factory(w3).constructor(), deployer_key)
    address = receipt["contractAddress"]
    if not address or not w3.eth.get_code(address):
        raise RuntimeError("deployment receipt has no contract code")
    return w3.to_checksum_address(address)


def transfer_ownership(rpc_url: str, contract_address: str, current_owner_key: str, new_owner: str) -> str:
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


REFUSED = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m infra.deploy_contract", description="Deploy the DMTPKeys registry."
    )
    add_rpc_url_arguments(parser)
    parser.add_argument(
        "--deployer-key",
        default=os.environ.get("DEPLOYER_PRIVATE_KEY"),
        help="deployer private key (hex); default: $DEPLOYER_PRIVATE_KEY",
    )
    parser.add_argument("--stage", help="Chalice stage: its CHAIN_ID, KMS_KEY_ID and REGISTRY_ADDRESS apply")
    parser.add_argument("--config", type=Path, default=CHALICE_CONFIG_PATH, help=argparse.SUPPRESS)
    owner = parser.add_mutually_exclusive_group()
    owner.add_argument(
        "--kms-key-id", help="hand ownership to this KMS key's address (e.g. alias/dmtp-registry-prod-owner-blue)"
    )
    owner.add_argument("--new-owner", help="hand ownership to this address")
    parser.add_argument("--existing", help="address of an already deployed registry; if it is live, refuse to deploy")
    return parser


def _refuse_over_live_registry(rpc_url: str, existing: str, owner: str | None) -> bool:
    if not existing or not is_live_registry(rpc_url, existing):
        if existing:
            print(f"note: no live registry at {existing}; deploying a new one", file=sys.stderr)
        return False
    current = _owner_of(rpc_url, existing)
    held = (
        "" if owner is None else (" (the intended owner)" if current == owner else f" (not the intended owner {owner})")
    )
    print(
        f"refusing to deploy: a live DMTPKeys registry already exists at {existing}, owner {current}{held}; "
        "clear REGISTRY_ADDRESS (or drop --existing) to deploy anew",
        file=sys.stderr,
    )
    return True


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    rpc_url = required_rpc_url(parser, args)
    stage = StageConfig.load(args.stage, args.config) if args.stage else None
    existing = args.existing or (stage.registry_address if stage else "")
    kms_key_id = args.kms_key_id or (stage.kms_key_id if stage and not args.new_owner else None)
    w3 = _web3(rpc_url)
    chain_id = w3.eth.chain_id
    if stage and stage.chain_id and chain_id != stage.chain_id:
        print(
            f"refusing to deploy: the RPC serves chain {chain_id}, stage {stage.stage} is chain {stage.chain_id}",
            file=sys.stderr,
        )
        return REFUSED
    new_owner = kms_address(kms_key_id) if kms_key_id else args.new_owner
    if new_owner:
        new_owner = w3.to_checksum_address(new_owner)
    if _refuse_over_live_registry(rpc_url, existing, new_owner):
        return REFUSED
    if not args.deployer_key:
        parser.error("a deployer key is required (--deployer-key or DEPLOYER_PRIVATE_KEY)")

    address = deploy(rpc_url, args.deployer_key)
    print(f"deployed DMTPKeys at {address}", file=sys.stderr)
    if new_owner:
        transfer_ownership(rpc_url, address, args.deployer_key, new_owner)  # checks owner() afterwards
        print(f"ownership moved to {new_owner}" + (f" ({kms_key_id})" if kms_key_id else ""), file=sys.stderr)
    if stage:
        print(
            f"next: set stages.{stage.stage}.environment_variables.REGISTRY_ADDRESS to {address} in {args.config}",
            file=sys.stderr,
        )
    print(json.dumps({"address": address, "owner": _owner_of(rpc_url, address), "chainId": chain_id}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
