"""Reference client of the DMTP Key Registry API (protocol v1, see chalicelib/protocol.py).

Registering a key takes three steps, all in `build_registration`:

1. make (or take) an X25519 DMTP key pair;
2. seal its private key hex for the wallet itself, the way MetaMask's `eth_getEncryptionPublicKey` +
   eth-sig-util `encrypt` would, so only the wallet (`eth_decrypt`) can open it again;
3. sign `registration_message(wallet, DMTPpubKey, chainId, registry)` with EIP-191 personal_sign.
"""
from __future__ import annotations

import time
from typing import Any, Iterable
from urllib.parse import quote

import requests

from chalicelib.protocol import registration_message

from .envelope import decrypt, encrypt, encryption_public_key
from .keys import DmtpKeyPair

FINAL_STATUSES = ("confirmed", "failed")


def _wallet_key_bytes(wallet_private_key_hex: str) -> bytes:
    if not isinstance(wallet_private_key_hex, str):
        raise ValueError("wallet private key must be a hex string")
    digits = wallet_private_key_hex[2:] if wallet_private_key_hex[:2].lower() == "0x" else wallet_private_key_hex
    try:
        key = bytes.fromhex(digits)
    except ValueError as exc:
        raise ValueError("wallet private key must be 64 hex digits (0x optional)") from exc
    if len(key) != 32:
        raise ValueError("wallet private key must be 32 bytes (64 hex digits)")
    return key


def build_registration(
    wallet_private_key_hex: str, chain_id: int, registry: str, dmtp: DmtpKeyPair | None = None
) -> tuple[dict[str, Any], DmtpKeyPair]:
    """The POST /keys body for this wallet, and the DMTP key pair it registers."""
    from eth_account import Account  # lazy: heavy import, only needed to sign
    from eth_account.messages import encode_defunct

    wallet_key = _wallet_key_bytes(wallet_private_key_hex)
    dmtp = dmtp if dmtp is not None else DmtpKeyPair.generate()
    account = Account.from_key(wallet_key)
    envelope = encrypt(encryption_public_key(wallet_key), dmtp.private_key_hex)
    message = registration_message(account.address, dmtp.public_key_hex, chain_id, registry)
    signed = Account.sign_message(encode_defunct(text=message), private_key=wallet_key)
    body = {
        "address": account.address,
        "DMTPpubKey": dmtp.public_key_hex,
        "DMTPpriKey": envelope,
        # HexBytes.hex() has no 0x prefix in hexbytes >= 1.0; build the string explicitly.
        "Signature": "0x" + bytes(signed.signature).hex(),
    }
    return body, dmtp


def open_private_key(record_or_bundle: dict[str, Any], wallet_private_key_hex: str) -> str:
    """The DMTP private key hex sealed in a lookup answer (`answer["bundle"]["DMTPpriKey"]`), a pinned
    document, or a POST body. When the document names its `DMTPpubKey`, the opened key must match it."""
    if not isinstance(record_or_bundle, dict):
        raise ValueError("expected a lookup answer, a pinned document or a registration body")
    document = record_or_bundle.get("bundle", record_or_bundle)
    if not isinstance(document, dict) or "DMTPpriKey" not in document:
        raise ValueError("no DMTPpriKey envelope in this record")
    private_key_hex = decrypt(document["DMTPpriKey"], _wallet_key_bytes(wallet_private_key_hex))
    expected = document.get("DMTPpubKey")
    if expected is not None:
        try:
            pair = DmtpKeyPair.from_private_key_hex(private_key_hex)
        except ValueError as exc:
            raise ValueError("the envelope does not hold a DMTP private key") from exc
        if pair.public_key_hex != str(expected).lower():
            raise ValueError("the sealed DMTP private key does not belong to the registered DMTPpubKey")
    return private_key_hex


class RegistryClientError(Exception):
    """A non-2xx answer; `problem` is the RFC 9457 problem+json body (or `{"detail": <text>}`)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.code = problem.get("code")
        super().__init__(f"HTTP {status}: {problem.get('code') or problem.get('title') or ''} {problem.get('detail') or ''}".strip())


class RegistryClient:
    def __init__(self, base_url: str, timeout: float = 10, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not 200 <= response.status_code < 300:
            problem = payload if isinstance(payload, dict) else {"status": response.status_code, "detail": response.text[:2000]}
            raise RegistryClientError(response.status_code, problem)
        if not isinstance(payload, dict):
            raise RegistryClientError(response.status_code, {"detail": "expected a JSON object", "body": response.text[:2000]})
        return payload

    def config(self) -> dict[str, Any]:
        """`{"chainId", "registry"}`: what a registration must be signed for."""
        return self._request("GET", "/config")

    def register(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /keys; the public view of the stored record (202 when new, 200 when already registered)."""
        return self._request("POST", "/keys", json=body)

    def lookup(self, address: str) -> dict[str, Any]:
        return self._request("GET", "/keys/" + quote(address, safe=""))

    def wait_for_status(
        self, address: str, statuses: Iterable[str] = FINAL_STATUSES, timeout: float = 60, poll: float = 0.25
    ) -> dict[str, Any]:
        """Poll the lookup until the record's status is one of `statuses`; TimeoutError after `timeout` seconds.
        A 404 is treated as "not visible yet" while waiting."""
        wanted = tuple(statuses)
        deadline = time.monotonic() + timeout
        last: dict[str, Any] | None = None
        while True:
            try:
                last = self.lookup(address)
                if last.get("status") in wanted:
                    return last
            except RegistryClientError as exc:
                if exc.status != 404:
                    raise
            if time.monotonic() >= deadline:
                seen = last.get("status") if last else "not found"
                raise TimeoutError(f"{address} did not reach {'/'.join(wanted)} within {timeout}s (last: {seen})")
            time.sleep(poll)
