"""Builds request bodies the way a wallet would: eth_account signs EIP-712 typed data or personal_sign text."""

import base64
import os
import time
from typing import Any

from eth_account.messages import encode_defunct, encode_typed_data

from dmtp_protocol.envelopes import CIPHERTEXT_BYTES, X25519_XSALSA20_POLY1305
from dmtp_protocol.messages import (
    REGISTRATION_TYPE,
    REVOCATION_TYPE,
    Domain,
    parse_registration,
    parse_revocation,
    registration_message,
    revocation_message,
    signed_text,
    typed_data,
)


def random_envelope() -> dict[str, str]:
    """Right shape for an eth-sig-util envelope (the server cannot open it, and must not need to)."""
    return {
        "version": X25519_XSALSA20_POLY1305,
        "nonce": base64.b64encode(os.urandom(24)).decode(),
        "ephemPublicKey": base64.b64encode(os.urandom(32)).decode(),
        "ciphertext": base64.b64encode(os.urandom(CIPHERTEXT_BYTES)).decode(),
    }


def sign(account: Any, primary: str, message: dict[str, Any], domain: Domain, signature_type: str) -> str:
    if signature_type == "eip712":
        signable = encode_typed_data(full_message=typed_data(primary, message, domain))
    else:
        signable = encode_defunct(text=signed_text(primary, message, domain))
    return "0x" + bytes(account.sign_message(signable).signature).hex()


def registration_body(
    account: Any,
    domain: Domain,
    version: int = 1,
    signature_type: str = "eip712",
    signer: Any | None = None,
    issued_at: int | None = None,
    expires_at: int | None = None,
    key_type: str = "x25519",
    public_key: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "address": account.address,
        "keyType": key_type,
        "DMTPpubKey": public_key or "0x" + os.urandom(32).hex(),
        "DMTPpriKey": random_envelope(),
        "version": version,
        "issuedAt": int(time.time()) if issued_at is None else issued_at,
        "signatureType": signature_type,
        "Signature": "0x00",
    }
    if expires_at is not None:
        body["expiresAt"] = expires_at
    message = registration_message(parse_registration(body))
    body["Signature"] = sign(signer or account, REGISTRATION_TYPE, message, domain, signature_type)
    return body


def revocation_body(
    account: Any, domain: Domain, revoked_version: int, public_key: str, signature_type: str = "eip712"
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "address": account.address,
        "revokedVersion": revoked_version,
        "version": revoked_version + 1,
        "issuedAt": int(time.time()),
        "signatureType": signature_type,
        "Signature": "0x00",
    }
    message = revocation_message(parse_revocation(body), public_key)
    body["Signature"] = sign(account, REVOCATION_TYPE, message, domain, signature_type)
    return body
