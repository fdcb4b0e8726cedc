"""python -m client {register,lookup,keygen}: the reference client from a shell.

  python -m client keygen
  DMTP_WALLET_KEY=0x... python -m client register --api http://127.0.0.1:8000 [--wait]
  python -m client lookup --api http://127.0.0.1:8000 0xWALLET

Answers go to stdout as JSON; API errors go to stderr as the problem+json body, with exit status 1.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Sequence

from .keys import DmtpKeyPair
from .registry_client import FINAL_STATUSES, RegistryClient, RegistryClientError, build_registration

WALLET_KEY_ENV = "DMTP_WALLET_KEY"


def _print(value: Any, stream: Any = None) -> None:
    print(json.dumps(value, indent=2, sort_keys=True), file=stream or sys.stdout)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m client", description="DMTP Key Registry reference client")
    commands = parser.add_subparsers(dest="command", required=True)

    register = commands.add_parser("register", help="register a fresh (or given) DMTP key for a wallet")
    register.add_argument("--api", required=True, help="base URL of the registry API")
    register.add_argument(
        "--wallet-key", default=os.environ.get(WALLET_KEY_ENV), help=f"wallet private key hex (default: ${WALLET_KEY_ENV})"
    )
    register.add_argument("--dmtp-key", help="register this DMTP private key hex instead of a new one (see keygen)")
    register.add_argument("--wait", action="store_true", help="poll until the record is confirmed or failed")
    register.add_argument("--wait-timeout", type=float, default=120, help="seconds to wait with --wait (default 120)")
    register.add_argument("--timeout", type=float, default=10, help="HTTP timeout in seconds (default 10)")

    lookup = commands.add_parser("lookup", help="show the registered DMTP key of a wallet")
    lookup.add_argument("--api", required=True, help="base URL of the registry API")
    lookup.add_argument("--timeout", type=float, default=10, help="HTTP timeout in seconds (default 10)")
    lookup.add_argument("address")

    commands.add_parser("keygen", help="print a fresh DMTP (X25519) key pair as JSON")
    return parser


def _register(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not args.wallet_key:
        parser.error(f"register needs --wallet-key or ${WALLET_KEY_ENV}")
    client = RegistryClient(args.api, timeout=args.timeout)
    config = client.config()
    dmtp = DmtpKeyPair.from_private_key_hex(args.dmtp_key) if args.dmtp_key else None
    body, _ = build_registration(args.wallet_key, int(config["chainId"]), config["registry"], dmtp)
    answer = client.register(body)
    _print(answer)
    if not args.wait:
        return 0
    final = client.wait_for_status(answer.get("wallet", body["address"]), FINAL_STATUSES, timeout=args.wait_timeout)
    _print(final)
    return 0 if final.get("status") == "confirmed" else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "keygen":
            _print(DmtpKeyPair.generate().to_json())
            return 0
        if args.command == "lookup":
            _print(RegistryClient(args.api, timeout=args.timeout).lookup(args.address))
            return 0
        return _register(args, parser)
    except RegistryClientError as exc:
        _print(exc.problem, sys.stderr)
        return 1
    except (ValueError, TimeoutError, OSError) as exc:  # bad key, timeout, connection refused (requests' errors are OSErrors)
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
