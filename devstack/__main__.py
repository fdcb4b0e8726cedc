"""`python -m devstack run`: the whole registry on this machine, with one demo registration, until Ctrl-C.
`python -m devstack demo`: the same, non-interactive: register, wait for the chain, print one JSON line, stop.
"""

import argparse
import contextlib
import hashlib
import json
import logging
import os
import secrets
import shlex
import signal
import sys
import threading
import time
from typing import Any

import requests

from chalicelib.adapters.ethereum import RegistryChain
from devstack.stack import REPO_ROOT, LocalStack
from dmtp_key_registry_client.registry_client import (
    RegistryClient,
    build_registration,
    open_private_key,
    wallet_address,
)
from dmtp_key_registry_client.verify import VerificationFailed, verify
from dmtp_protocol.cid import cid_for_bytes


def register_demo_wallet(stack: LocalStack, timeout_s: float = 60) -> dict[str, Any]:
    """Registers a fresh wallet through the HTTP API with the reference client, checks every copy of it, and
    verifies the lookup answer the way a third party would (CID, EIP-712 signature, contract state)."""
    wallet_key = "0x" + secrets.token_hex(32)
    api = RegistryClient(stack.api_url)
    # What the demo trusts is the stack it started (its Anvil, its contract), never the API's word: /config must agree.
    pinned = api.checked_config(int(stack.anvil.rpc("eth_chainId", []), 16), stack.registry_address)
    version = api.next_version(wallet_address(wallet_key))  # 1 for a fresh wallet
    body, dmtp = build_registration(
        wallet_key, pinned.chain_id, pinned.registry, version=version, signature_type="eip712"
    )
    accepted = api.register(body)
    final = api.wait_for_status(body["address"], timeout=timeout_s)
    onchain_cid = RegistryChain(stack.anvil.url, stack.registry_address, pinned.chain_id).get_key(body["address"])
    content = requests.get(f"{stack.pinning.url}/ipfs/{accepted['cid']}", timeout=5).content
    verified: bool = False
    verify_error: str | None = "not verified"
    deadline = time.monotonic() + timeout_s
    while not verified:  # its log leaf is anchored a moment after it is confirmed: log-not-anchored-yet until then
        try:
            verify(
                final,
                stack.anvil.url,
                wallet=body["address"],
                chain_id=pinned.chain_id,
                registry=pinned.registry,
                log=api,
            )
            verified, verify_error = True, None
        except VerificationFailed as failure:
            verify_error = str(failure)
            if failure.code != "log-not-anchored-yet" or time.monotonic() >= deadline:
                break
            time.sleep(0.25)
    return {
        "address": body["address"],
        "version": version,
        "cid": accepted["cid"],
        "tx_hash": final["txHash"],
        "status": final["status"],
        "onchain_cid": onchain_cid,
        "ipfs_ok": cid_for_bytes(content) == accepted["cid"],
        "ipfs_sha256": hashlib.sha256(content).hexdigest(),
        "private_key_opens": open_private_key(final, wallet_key) == dmtp.private_key_hex,
        "verified": verified,
        "verify_error": verify_error,
    }


def demo(block_time: float | None) -> int:
    with LocalStack(block_time=block_time) as stack:
        print("server logs: " + ", ".join(str(path) for path in stack.log_paths.values()), file=sys.stderr, flush=True)
        result = register_demo_wallet(stack)
    print(json.dumps(result), flush=True)
    ok = (
        result["status"] == "confirmed"
        and result["onchain_cid"] == result["cid"]
        and result["ipfs_ok"]
        and result["verified"]
    )
    return 0 if ok else 1


def quickstart_lines(stack: LocalStack, chain_id: int, wallet: str) -> list[str]:
    """What `run` prints after "Try": one `export` line of the stack's pins and URLs (the variables README.md's
    quickstarts use: DMTP_API, DMTP_RPC, DMTP_CHAIN_ID, DMTP_REGISTRY, DMTP_WALLET, DMTP_CHECKOUT), then complete
    commands that run as printed in a shell where it was pasted (tests/e2e/test_quickstarts.py runs them). The client
    is this interpreter's, so they work from any directory."""
    client = f"{shlex.quote(sys.executable)} -m dmtp_key_registry_client"
    pins = '--chain-id "$DMTP_CHAIN_ID" --registry "$DMTP_REGISTRY"'
    exports = {
        "DMTP_API": stack.api_url,
        "DMTP_RPC": stack.anvil.url,
        "DMTP_CHAIN_ID": str(chain_id),
        "DMTP_REGISTRY": stack.registry_address,
        "DMTP_WALLET": wallet,
        "DMTP_CHECKOUT": str(REPO_ROOT),
    }
    new_key = "DMTP_WALLET_KEY=0x$(openssl rand -hex 32)"
    return [
        "export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in exports.items()),
        f'{client} lookup --api "$DMTP_API" "$DMTP_WALLET"',
        f'{client} verify --api "$DMTP_API" --rpc "$DMTP_RPC" {pins} "$DMTP_WALLET"',
        f'{new_key} {client} register --api "$DMTP_API" {pins} --wait',
    ]


def run(block_time: float | None) -> int:
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with LocalStack(block_time=block_time) as stack:
        chain_id = int(stack.anvil.rpc("eth_chainId", []), 16)
        print("DMTP Key Registry is running locally:")
        for name, value in (
            ("API (chalice local)", stack.api_url),
            ("AWS (moto server)", stack.aws_endpoint),
            ("chain (Anvil)", stack.anvil.url),
            ("chain id", str(chain_id)),
            ("pinning service", stack.pinning.url),
            ("registry contract", stack.registry_address),
            ("owner (KMS key)", stack.owner_address),
        ):
            print(f"  {name:22} {value}")
        print("Server output (logs):")
        for name, path in stack.log_paths.items():
            print(f"  {name:22} {path}")
        print("\nRegistering a demo wallet through the reference client...")
        result = register_demo_wallet(stack)
        print(f"  wallet       {result['address']}\n  CID          {result['cid']}\n  tx hash      {result['tx_hash']}")
        print(
            f"  status       {result['status']}\n  getKey()     {result['onchain_cid']}\n  IPFS bytes hash to the CID: {result['ipfs_ok']}"
        )
        print(
            f"  verified     {result['verified']}" + (f" ({result['verify_error']})" if result["verify_error"] else "")
        )
        print("\nTry (in another terminal; the export line is what README.md's quickstarts use):")
        for line in quickstart_lines(stack, chain_id, result["address"]):
            print(f"  {line}")
        print("\nPress Ctrl-C to stop everything.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stopping.wait()
        print("\nStopping...", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("command", choices=("run", "demo"))
    parser.add_argument(
        "--block-time", type=float, default=None, help="Anvil seconds per block (default: mine on every tx)"
    )
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s %(levelname)s %(message)s"
    )
    if not args.verbose:
        os.environ["LOG_LEVEL"] = "WARNING"  # the app's own logger, in the worker loop and chalice local
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # the worker's EMF metrics would print on stdout
    return (demo if args.command == "demo" else run)(args.block_time)


if __name__ == "__main__":
    sys.exit(main())
