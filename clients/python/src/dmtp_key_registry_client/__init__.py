"""The Python client of the DMTP Key Registry: register, look up, verify, revoke and audit DMTP keys from a dapp's
backend, trusting only what you pin (chain id, DMTPKeys contract, your RPC), never the registry's word.

    from dmtp_key_registry_client import RegistryClient, build_registration, verify_answer, wallet_address

    CHAIN_ID, REGISTRY, RPC = 8453, "0x…DMTPKeys", "https://your.node"  # your pins, never the registry's word
    client = RegistryClient("https://registry.example")
    domain = client.checked_config(CHAIN_ID, REGISTRY)  # PinMismatch unless the registry serves your pins
    wallet = wallet_address(wallet_key_hex)  # registering needs the [sign] extra
    body, dmtp_key = build_registration(wallet_key_hex, CHAIN_ID, REGISTRY, version=client.next_version(wallet))
    client.register(body)
    answer = client.wait_for_status(wallet)  # confirmed, failed or superseded
    result = verify_answer(answer, RPC, wallet=wallet, chain_id=CHAIN_ID, registry=REGISTRY, log=client)
    result.usable  # True: on chain (read through your RPC), unrevoked, unexpired: encrypt to result.key.public_key
    # else result.reason, one of REASONS (the JS client's), and result.detail say why; it never raises for an answer

Everything a backend uses is importable from here (`__all__`); the submodules hold the rest. Importing the package
loads only the verification module (no HTTP library, no curve library); the other names load their module on
first use (PEP 562), so `from dmtp_key_registry_client import verify` stays cheap. `python -m
dmtp_key_registry_client` (or the `dmtp-key-registry` script) is the command line (`__main__.py`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Bound here, not lazily: `verify` is both a function and the submodule defining it. Importing the submodule binds
# the package attribute `verify` to the module; the name is then bound to the function, once and for all.
from dmtp_key_registry_client.verify import (
    REASONS,
    AnswerKey,
    LogHead,
    LogPosition,
    LogSource,
    VerificationFailed,
    VerifiedKey,
    VerifyResult,
    check_log_consistency,
    read_log_head,
    verify,
    verify_answer,
    verify_batch_entry,
)

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from dmtp_key_registry_client.audit import Auditor, AuditResult, Discrepancy, run_audit
    from dmtp_key_registry_client.envelope import open_envelope, seal
    from dmtp_key_registry_client.extras import SignExtraMissing
    from dmtp_key_registry_client.keys import KEY_TYPE_SECP256K1, KEY_TYPE_X25519, KEY_TYPES, DmtpKeyPair
    from dmtp_key_registry_client.monitor import MonitorReport, MonitorUnavailable, OwnWrites, monitor_wallet
    from dmtp_key_registry_client.pins import Pins, load_pins
    from dmtp_key_registry_client.registry_client import (
        FINAL_STATUSES,
        PinMismatch,
        RegistryClient,
        RegistryClientError,
        build_registration,
        build_revocation,
        open_private_key,
        wallet_address,
    )
    from dmtp_key_registry_client.signing import SIGNATURE_TYPES
    from dmtp_key_registry_client.watch import KeyChange, KeyProblem, WatchUnavailable, watch_keys
    from dmtp_protocol.envelopes import (
        EIP191_AES256GCM_HKDF,
        ENVELOPE_VERSIONS,
        SCRYPT_AES256GCM,
        X25519_XSALSA20_POLY1305,
    )

# name -> the module that defines it, imported on first access
_LAZY = {
    # the registry API
    "RegistryClient": "dmtp_key_registry_client.registry_client",
    "RegistryClientError": "dmtp_key_registry_client.registry_client",
    "PinMismatch": "dmtp_key_registry_client.registry_client",
    "FINAL_STATUSES": "dmtp_key_registry_client.registry_client",
    # signed requests, and the sealed private key
    "build_registration": "dmtp_key_registry_client.registry_client",
    "build_revocation": "dmtp_key_registry_client.registry_client",
    "open_private_key": "dmtp_key_registry_client.registry_client",
    "wallet_address": "dmtp_key_registry_client.registry_client",
    "SIGNATURE_TYPES": "dmtp_key_registry_client.signing",
    "DmtpKeyPair": "dmtp_key_registry_client.keys",
    "KEY_TYPES": "dmtp_key_registry_client.keys",
    "KEY_TYPE_X25519": "dmtp_key_registry_client.keys",
    "KEY_TYPE_SECP256K1": "dmtp_key_registry_client.keys",
    "seal": "dmtp_key_registry_client.envelope",
    "open_envelope": "dmtp_key_registry_client.envelope",
    "ENVELOPE_VERSIONS": "dmtp_protocol.envelopes",
    "X25519_XSALSA20_POLY1305": "dmtp_protocol.envelopes",
    "EIP191_AES256GCM_HKDF": "dmtp_protocol.envelopes",
    "SCRYPT_AES256GCM": "dmtp_protocol.envelopes",
    # the user's pins, from flags or the client's configuration file
    "Pins": "dmtp_key_registry_client.pins",
    "load_pins": "dmtp_key_registry_client.pins",
    # the transparency log's audit
    "Auditor": "dmtp_key_registry_client.audit",
    "AuditResult": "dmtp_key_registry_client.audit",
    "Discrepancy": "dmtp_key_registry_client.audit",
    "run_audit": "dmtp_key_registry_client.audit",
    # a wallet watches its own key
    "monitor_wallet": "dmtp_key_registry_client.monitor",
    "MonitorReport": "dmtp_key_registry_client.monitor",
    "MonitorUnavailable": "dmtp_key_registry_client.monitor",
    "OwnWrites": "dmtp_key_registry_client.monitor",
    # other wallets' keys, watched: each change verified
    "watch_keys": "dmtp_key_registry_client.watch",
    "KeyChange": "dmtp_key_registry_client.watch",
    "KeyProblem": "dmtp_key_registry_client.watch",
    "WatchUnavailable": "dmtp_key_registry_client.watch",
    # what needs the [sign] extra says so
    "SignExtraMissing": "dmtp_key_registry_client.extras",
}

__all__ = [
    "EIP191_AES256GCM_HKDF",
    "ENVELOPE_VERSIONS",
    "FINAL_STATUSES",
    "KEY_TYPES",
    "KEY_TYPE_SECP256K1",
    "KEY_TYPE_X25519",
    "REASONS",
    "SCRYPT_AES256GCM",
    "SIGNATURE_TYPES",
    "X25519_XSALSA20_POLY1305",
    "AnswerKey",
    "AuditResult",
    "Auditor",
    "Discrepancy",
    "DmtpKeyPair",
    "KeyChange",
    "KeyProblem",
    "LogHead",
    "LogPosition",
    "LogSource",
    "MonitorReport",
    "MonitorUnavailable",
    "OwnWrites",
    "PinMismatch",
    "Pins",
    "RegistryClient",
    "RegistryClientError",
    "SignExtraMissing",
    "VerificationFailed",
    "VerifiedKey",
    "VerifyResult",
    "WatchUnavailable",
    "build_registration",
    "build_revocation",
    "check_log_consistency",
    "load_pins",
    "monitor_wallet",
    "open_envelope",
    "open_private_key",
    "read_log_head",
    "run_audit",
    "seal",
    "verify",
    "verify_answer",
    "verify_batch_entry",
    "wallet_address",
    "watch_keys",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once loaded, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
