"""Builds POST /keys bodies the way a wallet would: eth_account personal_sign over the v1 message."""
import base64
import os
from typing import Any, Optional

from eth_account.messages import encode_defunct

from chalicelib.protocol import ENVELOPE_X25519_XSALSA20_POLY1305, registration_message


def random_envelope() -> dict[str, str]:
    """Right shape for an eth-sig-util envelope (the server cannot open it, and must not need to)."""
    return {
        "version": ENVELOPE_X25519_XSALSA20_POLY1305,
        "nonce": base64.b64encode(os.urandom(24)).decode(),
        "ephemPublicKey": base64.b64encode(os.urandom(32)).decode(),
        "ciphertext": base64.b64encode(os.urandom(80)).decode(),
    }


def sign_text(account: Any, text: str) -> str:
    return "0x" + account.sign_message(encode_defunct(text=text)).signature.hex().removeprefix("0x")


def signed_bundle(account: Any, chain_id: int, registry: str, signer: Optional[Any] = None) -> dict[str, Any]:
    public_key = "0x" + os.urandom(32).hex()
    message = registration_message(account.address, public_key, chain_id, registry)
    return {
        "address": account.address,
        "DMTPpubKey": public_key,
        "DMTPpriKey": random_envelope(),
        "Signature": sign_text(signer or account, message),
    }
