"""python -m dmtp_key_registry_client {keygen,register,revoke,lookup,history,verify,audit,monitor}: the reference client from a shell.

What you trust is pinned on your side, by flags or in the client's configuration file (client/pins.py:
`--config PATH`, `$DMTP_CLIENT_CONFIG`, or ~/.config/dmtp/client.json with chainId, registry, deployBlock, rpc, api),
never taken from the registry: `register` and `revoke` refuse to sign unless GET /config names the pinned chain id
and registry, and `verify` checks against the pinned registry through the pinned RPC, reading the wallet's events
from the pinned deployment block (`--from-block`, `deployBlock`; 0 when not pinned).

  python -m dmtp_key_registry_client keygen [--key-type secp256k1]
  DMTP_WALLET_KEY=0x... python -m dmtp_key_registry_client register --api http://127.0.0.1:8000 --chain-id 31337 --registry 0x... [--wait]
      [--signature-type eip712|eip191]
      [--envelope x25519-xsalsa20-poly1305|dmtp-eip191-aes256gcm-hkdf-v1|dmtp-scrypt-aes256gcm-v1]
      [--key-type x25519|secp256k1 [--uncompressed]] [--version N]
      (dmtp-scrypt-aes256gcm-v1 reads the passphrase from $DMTP_PASSPHRASE, never from the command line)
  DMTP_WALLET_KEY=0x... python -m dmtp_key_registry_client revoke --api http://127.0.0.1:8000 --chain-id 31337 --registry 0x...
  python -m dmtp_key_registry_client lookup --api http://127.0.0.1:8000 [--as-of UNIX] 0xWALLET
  python -m dmtp_key_registry_client history --api http://127.0.0.1:8000 [--limit N] [--cursor C] 0xWALLET
  python -m dmtp_key_registry_client verify --api URL --rpc http://127.0.0.1:8545 --chain-id 31337 --registry 0x...
      [--from-block N] [--log-state FILE] [--wait S] 0xWALLET
  python -m dmtp_key_registry_client audit --rpc URL --registry 0x... [--api URL] [--from-block N]
      [--revocation-window S] [--json]
  python -m dmtp_key_registry_client monitor --state FILE --api URL --rpc URL --chain-id 31337 --registry 0x...
      [--from-block N] [--confirmations N] 0xWALLET
  (`register`/`revoke` with --state FILE record the owner's own writes there, so `monitor` does not report them)

Answers go to stdout as JSON; API errors go to stderr as the problem+json body, with exit status 1.
`verify` prints `{"usable", "reason", "detail", "checks", "key", "log"}` (the JS client's verify result) and exits 0
only when the key is usable, else 1 (0 with --allow-pending for a record the wallet signed that the contract does not
hold yet: `not-onchain` or `not-current`, still never usable). `keygen` prints `{"keyType", "DMTPpubKey",
"dmtpPrivateKeyHex"}`: the raw private key, to keep secret (`register --dmtp-key` seals it).
`audit` exits 0 only when the log and the chain agree.
`monitor` prints its report and exits 0 when it found nothing the owner did not make, 1 with a change she did not
make (its transaction and log leaf) or a log that does not match the chain, 2 when it could not check.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from dmtp_key_registry_client.keys import KEY_TYPE_X25519, KEY_TYPES, DmtpKeyPair
from dmtp_key_registry_client.pins import Pins, load_pins
from dmtp_key_registry_client.registry_client import (
    FINAL_STATUSES,
    PinMismatch,
    RegistryClient,
    RegistryClientError,
    build_registration,
    build_revocation,
    wallet_address,
)
from dmtp_key_registry_client.signing import SIGNATURE_TYPES
from dmtp_key_registry_client.verify import LogHead, verify_answer
from dmtp_protocol.envelopes import ENVELOPE_VERSIONS, SCRYPT_AES256GCM, X25519_XSALSA20_POLY1305
from dmtp_protocol.errors import RegistryError
from dmtp_protocol.messages import Domain

if TYPE_CHECKING:
    from dmtp_key_registry_client.monitor import OwnWrites

WALLET_KEY_ENV = "DMTP_WALLET_KEY"
PENDING_REASONS = ("not-onchain", "not-current")  # signed by the wallet, not (yet) the contract's key
SETTLING_REASONS = ("log-not-anchored-yet", "not-onchain")  # what `verify --wait` asks again about
VERIFY_RETRY_S = 0.5
PASSPHRASE_ENV = "DMTP_PASSPHRASE"


def _print(value: Any, stream: Any = None) -> None:
    print(json.dumps(value, indent=2, sort_keys=True), file=stream or sys.stdout)


def _api_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api", help="base URL of the registry API (or `api` in the configuration file)")
    parser.add_argument("--timeout", type=float, default=10, help="HTTP timeout in seconds (default 10)")
    parser.add_argument(
        "--config", help="the client's configuration file (JSON: chainId, registry, deployBlock, rpc, api)"
    )


def _pin_options(parser: argparse.ArgumentParser, rpc: bool = False) -> None:
    parser.add_argument("--chain-id", type=int, help="the chain id you trust (or `chainId` in the configuration file)")
    parser.add_argument(
        "--registry",
        help="the DMTPKeys contract you trust (or `registry` in the configuration file); never the registry's word",
    )
    if rpc:
        parser.add_argument("--rpc", help="JSON-RPC URL of the chain, yours (or `rpc` in the configuration file)")


def _state_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state",
        help="the monitor's state file: record this write there as the owner's own (see `monitor`)",
    )


def _wallet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wallet-key",
        default=os.environ.get(WALLET_KEY_ENV),
        help=f"wallet private key hex (default: ${WALLET_KEY_ENV})",
    )
    parser.add_argument(
        "--signature-type", choices=SIGNATURE_TYPES, default="eip712", help="eip712 (default) or eip191 (personal_sign)"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dmtp_key_registry_client", description="DMTP Key Registry reference client"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    register = commands.add_parser("register", help="register a fresh (or given) DMTP key for a wallet")
    _api_options(register)
    _pin_options(register)
    _wallet_option(register)
    register.add_argument(
        "--envelope",
        choices=ENVELOPE_VERSIONS,
        default=X25519_XSALSA20_POLY1305,
        help="how the private key is sealed for the wallet",
    )
    register.add_argument(
        "--key-type", choices=KEY_TYPES, default=KEY_TYPE_X25519, help="DMTP key type (default x25519)"
    )
    register.add_argument(
        "--uncompressed",
        action="store_true",
        help="secp256k1: register the 65-byte uncompressed point (as dmtp-sdk-react makes it)",
    )
    register.add_argument(
        "--version", type=int, help="key version (default: the wallet's current version + 1, from the API)"
    )
    register.add_argument("--expires-at", type=int, help="unix time after which the signature is void")
    register.add_argument("--dmtp-key", help="register this DMTP private key hex instead of a new one (see keygen)")
    register.add_argument("--wait", action="store_true", help="poll until the record is confirmed or failed")
    register.add_argument("--wait-timeout", type=float, default=120, help="seconds to wait with --wait (default 120)")
    _state_option(register)

    revoke = commands.add_parser("revoke", help="revoke the wallet's current DMTP key")
    _api_options(revoke)
    _pin_options(revoke)
    _wallet_option(revoke)
    _state_option(revoke)

    lookup = commands.add_parser("lookup", help="show the registered DMTP key of a wallet")
    _api_options(lookup)
    lookup.add_argument("--as-of", type=int, help="the key that was current at this unix time")
    lookup.add_argument("address")

    history = commands.add_parser("history", help="list a wallet's keys and revocations, newest first")
    _api_options(history)
    history.add_argument("--limit", type=int)
    history.add_argument("--cursor")
    history.add_argument("address")

    check = commands.add_parser("verify", help="look a wallet up and verify the answer (CID, signature, contract, log)")
    _api_options(check)
    _pin_options(check, rpc=True)
    check.add_argument(
        "--allow-pending",
        action="store_true",
        help="report a signed record that is not on chain yet (never usable) instead of failing",
    )
    check.add_argument(
        "--from-block",
        type=int,
        help="read the wallet's events from this block: the registry's deployment block or earlier "
        "(or `deployBlock` in the configuration file; default 0)",
    )
    check.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="S",
        help="ask again for up to S seconds while the key is not anchored in the log or not on chain yet "
        "(log-not-anchored-yet, not-onchain: normal just after a registration; default 0: answer at once)",
    )
    check.add_argument(
        "--log-state",
        help="a file remembering the last on-chain log head seen: the new one must extend it (consistency)",
    )
    check.add_argument("address")

    audit = commands.add_parser("audit", help="audit the registry's transparency log against the chain")
    audit.add_argument("--rpc", help="JSON-RPC URL of the chain (or `rpc` in the configuration file)")
    audit.add_argument("--registry", help="the DMTPKeys contract (or `registry` in the configuration file)")
    audit.add_argument("--api", help="base URL of the registry API (or `api` in the configuration file)")
    audit.add_argument(
        "--config", help="the client's configuration file (JSON: chainId, registry, deployBlock, rpc, api)"
    )
    audit.add_argument(
        "--from-block",
        type=int,
        help="first block to read events from: the contract's deployment block (or `deployBlock` in the "
        "configuration file; default 0)",
    )
    audit.add_argument(
        "--revocation-window",
        type=float,
        default=None,
        help="seconds an accepted revocation may take to reach the chain, counted from the block time of the first "
        "anchor covering its leaf; later, it is a failure (default 900)",
    )
    audit.add_argument("--json", action="store_true", help="print the result as JSON")
    audit.add_argument("--timeout", type=float, default=30, help="HTTP/RPC timeout in seconds (default 30)")

    monitor = commands.add_parser(
        "monitor", help="report every change of a wallet's key the owner did not make (events and log leaves)"
    )
    _api_options(monitor)
    _pin_options(monitor, rpc=True)
    monitor.add_argument(
        "--state",
        required=True,
        help="the owner's record of her own writes and the monitor's cursor (register/revoke --state add to it)",
    )
    monitor.add_argument(
        "--from-block",
        type=int,
        default=0,
        help="first block the first run reads events from (the registry's deployment block; later runs go on)",
    )
    monitor.add_argument(
        "--confirmations", type=int, default=0, help="blocks to stay behind the chain's head (default 0)"
    )
    monitor.add_argument("wallet")

    keygen = commands.add_parser("keygen", help="print a fresh DMTP key pair as JSON")
    keygen.add_argument("--key-type", choices=KEY_TYPES, default=KEY_TYPE_X25519)
    return parser


def _need_wallet(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if not args.wallet_key:
        parser.error(f"{args.command} needs --wallet-key or ${WALLET_KEY_ENV}")


_T = TypeVar("_T")


def _pinned(value: _T | None) -> _T:
    """A pin that _pins was asked for: it is there (_pins stops with a usage error naming it otherwise)."""
    assert value is not None
    return value


def _pins(args: argparse.Namespace, parser: argparse.ArgumentParser, *needed: str) -> Pins:
    """The user's pins (flags over the configuration file); a usage error naming what is missing."""
    try:
        pins = load_pins(
            getattr(args, "config", None),
            chain_id=getattr(args, "chain_id", None),
            registry=getattr(args, "registry", None),
            rpc_url=getattr(args, "rpc", None),
            api_url=getattr(args, "api", None),
            deploy_block=getattr(args, "from_block", None),
        )
    except ValueError as exc:
        parser.error(str(exc))
    flags = {
        "chain_id": "--chain-id (chainId)",
        "registry": "--registry (registry)",
        "rpc_url": "--rpc (rpc)",
        "api_url": "--api (api)",
    }
    missing = [flags[name] for name in needed if getattr(pins, name) is None]
    if missing:
        parser.error(
            f"{args.command} needs {', '.join(missing)}: pin them by flag or in the configuration file;"
            " they are never taken from the registry"
        )
    return pins


def _register(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    _need_wallet(args, parser)
    pins = _pins(args, parser, "api_url", "chain_id", "registry")
    client = RegistryClient(_pinned(pins.api_url), timeout=args.timeout)
    # refuses unless /config is what the user pinned
    domain = client.checked_config(_pinned(pins.chain_id), _pinned(pins.registry))
    compressed = not args.uncompressed
    if args.uncompressed and args.key_type != "secp256k1":
        parser.error("--uncompressed applies to --key-type secp256k1 only")
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if args.envelope == SCRYPT_AES256GCM and not passphrase:
        parser.error(f"--envelope {SCRYPT_AES256GCM} needs the passphrase in ${PASSPHRASE_ENV}")
    if args.dmtp_key:
        dmtp = DmtpKeyPair.from_private_key_hex(args.dmtp_key, args.key_type, compressed)
    else:
        dmtp = DmtpKeyPair.generate(args.key_type, compressed)
    version = args.version
    if version is None:
        version = client.next_version(wallet_address(args.wallet_key))
    body, _ = build_registration(
        args.wallet_key,
        domain.chain_id,
        domain.registry,
        version=version,
        dmtp=dmtp,
        signature_type=args.signature_type,
        envelope=args.envelope,
        key_type=args.key_type,
        expires_at=args.expires_at,
        passphrase=passphrase,
    )
    own = _own_writes(args, domain)
    answer = client.register(body) if own is None else client.register(body, own_writes=own)
    _print(answer)
    if not args.wait:
        return 0
    final = client.wait_for_status(answer.get("wallet", body["address"]), FINAL_STATUSES, timeout=args.wait_timeout)
    _print(final)
    return 0 if final.get("status") == "confirmed" else 1


def _revoke(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    _need_wallet(args, parser)
    pins = _pins(args, parser, "api_url", "chain_id", "registry")
    client = RegistryClient(_pinned(pins.api_url), timeout=args.timeout)
    # refuses unless /config is what the user pinned
    domain = client.checked_config(_pinned(pins.chain_id), _pinned(pins.registry))
    wallet = wallet_address(args.wallet_key)
    current = client.found(wallet)
    if current.get("revoked"):
        print(f"error: {wallet}'s key version {current['version']} is already revoked", file=sys.stderr)
        return 1
    body = build_revocation(
        args.wallet_key,
        domain.chain_id,
        domain.registry,
        current["version"],
        current["DMTPpubKey"],
        signature_type=args.signature_type,
    )
    own = _own_writes(args, domain)
    _print(client.revoke(wallet, body) if own is None else client.revoke(wallet, body, own, revoked_key=current))
    return 0


def _own_writes(args: argparse.Namespace, domain: Domain) -> OwnWrites | None:
    """The owner's record in the monitor's state file (--state), for the pinned domain; None without --state."""
    if not args.state:
        return None
    from dmtp_key_registry_client.monitor import OwnWrites

    return OwnWrites(args.state, domain.chain_id, domain.registry)


def _monitor(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dmtp_key_registry_client.monitor import run_monitor

    pins = _pins(args, parser, "api_url", "rpc_url", "chain_id", "registry")
    return run_monitor(
        args.wallet,
        rpc_url=_pinned(pins.rpc_url),
        chain_id=_pinned(pins.chain_id),
        registry=_pinned(pins.registry),
        api_url=_pinned(pins.api_url),
        state=args.state,
        from_block=args.from_block,
        confirmations=args.confirmations,
        timeout=args.timeout,
    )


def _verify(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    pins = _pins(args, parser, "api_url", "rpc_url", "chain_id", "registry")
    client = RegistryClient(_pinned(pins.api_url), timeout=args.timeout)
    previous = _load_head(args.log_state) if args.log_state else None
    deadline = time.monotonic() + max(0.0, args.wait)
    while True:
        result = verify_answer(
            client.lookup(args.address),  # None: not found, a `not-found` result
            _pinned(pins.rpc_url),
            wallet=args.address,
            chain_id=_pinned(pins.chain_id),
            registry=_pinned(pins.registry),
            log=client,
            previous_head=previous,
            from_block=pins.deploy_block or 0,
        )
        if result.reason not in SETTLING_REASONS or time.monotonic() >= deadline:
            break
        time.sleep(VERIFY_RETRY_S)
    if args.log_state and result.usable and result.log is not None:
        _save_head(args.log_state, result.log.head)
    _print(result.to_json())
    # --allow-pending: a record the wallet signed that the contract does not hold (yet) is reported, never usable
    pending = result.reason in PENDING_REASONS and result.checks["signature"] is True
    return 0 if result.usable or (args.allow_pending and pending) else 1


def _load_head(path: str) -> LogHead | None:
    try:
        with open(path) as handle:
            saved = json.load(handle)
    except FileNotFoundError:
        return None
    return LogHead(int(saved["size"]), bytes.fromhex(saved["root"][2:]))


def _save_head(path: str, head: LogHead) -> None:
    with open(path, "w") as handle:
        json.dump(head.to_json(), handle)


def _audit(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dmtp_key_registry_client.audit import run_audit

    pins = _pins(args, parser, "api_url", "rpc_url", "registry")
    window = {} if args.revocation_window is None else {"revocation_window_s": args.revocation_window}
    return run_audit(
        _pinned(pins.rpc_url),
        _pinned(pins.registry),
        _pinned(pins.api_url),
        from_block=pins.deploy_block or 0,
        as_json=args.json,
        timeout=args.timeout,
        **window,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "keygen":
            _print(DmtpKeyPair.generate(args.key_type).to_json())
            return 0
        if args.command == "lookup":
            api = _pinned(_pins(args, parser, "api_url").api_url)
            _print(RegistryClient(api, timeout=args.timeout).found(args.address, as_of=args.as_of))
            return 0
        if args.command == "history":
            api = _pinned(_pins(args, parser, "api_url").api_url)
            _print(RegistryClient(api, timeout=args.timeout).history(args.address, args.limit, args.cursor))
            return 0
        if args.command == "verify":
            return _verify(args, parser)
        if args.command == "audit":
            return _audit(args, parser)
        if args.command == "monitor":
            return _monitor(args, parser)
        if args.command == "revoke":
            return _revoke(args, parser)
        return _register(args, parser)
    except RegistryClientError as exc:
        _print(exc.problem, sys.stderr)
        return 1
    except PinMismatch as exc:  # the registry is not the one the user pinned: nothing was signed
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except RegistryError as exc:  # the request we were about to send breaks a protocol rule
        _print(exc.to_problem(), sys.stderr)
        return 1
    except (
        ValueError,
        TimeoutError,
        OSError,
    ) as exc:  # bad key, timeout, connection refused (requests' errors are OSErrors)
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
