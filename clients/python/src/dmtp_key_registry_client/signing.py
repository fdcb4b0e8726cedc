"""A wallet's signature made from its private key: what `eth_signTypedData_v4` (EIP-712) or `personal_sign`
(EIP-191) returns, computed with libsecp256k1 (coincurve) over the digest the protocol package defines
(dmtp_protocol.messages.signing_digest; dmtp_protocol.eip712, dmtp_protocol.ethsig).

Invariants: a signature is 65 bytes r || s || v, v in {27, 28}, s in the lower half of the curve order (EIP-2;
libsecp256k1 only makes lower-s signatures) and the nonce is RFC 6979's, so it is deterministic: byte for byte what
eth_account's `Account.sign_message`, ethers and MetaMask return for the same key and message
(tests/unit/test_client_signing.py checks it against eth_account and docs/protocol-vectors.json).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dmtp_protocol.messages import SIGNATURE_EIP191, SIGNATURE_EIP712, Domain, signing_digest

SIGNATURE_TYPES = (SIGNATURE_EIP712, SIGNATURE_EIP191)
DIGEST_BYTES = 32


def sign_digest(wallet_private_key: bytes, digest: bytes) -> bytes:
    """The 65-byte r || s || v (v = 27 + recovery id) ECDSA signature of a 32-byte digest (already hashed: the
    EIP-712 or EIP-191 digest), as a wallet returns it. ValueError for a key that is not a secp256k1 private key."""
    if not isinstance(digest, bytes) or len(digest) != DIGEST_BYTES:
        raise ValueError("the digest to sign must be exactly 32 bytes")
    if not isinstance(wallet_private_key, bytes) or len(wallet_private_key) != 32:
        raise ValueError("wallet private key must be exactly 32 bytes")
    from coincurve import PrivateKey  # loaded on first use: ~20 ms

    try:
        compact = PrivateKey(wallet_private_key).sign_recoverable(digest, hasher=None)
    except ValueError as exc:  # 0 or not below the curve order
        raise ValueError("not a valid secp256k1 private key (0 or >= the curve order)") from exc
    recovery_id = compact[64]
    if recovery_id > 1:  # r overflowed the curve order: probability ~2^-127, and no v of 27/28 can say it
        raise ValueError("the signature's recovery id cannot be written as v = 27 or 28")
    return compact[:64] + bytes([27 + recovery_id])


def wallet_signature(
    wallet_private_key: bytes, primary: str, message: Mapping[str, Any], domain: Domain, signature_type: str
) -> str:
    """What the wallet returns for eth_signTypedData_v4 (`eip712`) or personal_sign (`eip191`) of the protocol
    message `primary` (KeyRegistration, KeyRevocation) for `domain`: 0x + 130 lowercase hex digits."""
    if signature_type not in SIGNATURE_TYPES:
        raise ValueError(f"signature type must be one of {', '.join(SIGNATURE_TYPES)}, not {signature_type!r}")
    digest = signing_digest(primary, message, domain, signature_type)
    return "0x" + sign_digest(wallet_private_key, digest).hex()
