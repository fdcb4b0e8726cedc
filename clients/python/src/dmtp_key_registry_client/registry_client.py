"""Reference client of the DMTP Key Registry API (protocol v2: docs/PROTOCOL.md, dmtp_protocol.messages).

Registering a key takes three steps, all in `build_registration`:

1. make (or take) a DMTP key pair (X25519, or secp256k1 as a 33-byte compressed or 65-byte uncompressed point);
2. seal its private key hex in one of the accepted envelopes: MetaMask's `x25519-xsalsa20-poly1305`
   (`eth_getEncryptionPublicKey` + eth-sig-util `encrypt`, opened by `eth_decrypt`),
   `dmtp-eip191-aes256gcm-hkdf-v1` (a key derived from a personal_sign signature bound to this registry and wallet;
   EOA wallets) or `dmtp-scrypt-aes256gcm-v1` (a key derived from a passphrase; any wallet);
3. sign the `KeyRegistration` (wallet, key, key type, envelope hash, version, issuedAt, expiresAt) for the
   registry's domain (chainId, contract): EIP-712 typed data, or its personal_sign text.

`build_revocation` signs a `KeyRevocation` of the current key; `client.verify` checks a lookup answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

from dmtp_key_registry_client.keys import KEY_TYPE_X25519, DmtpKeyPair
from dmtp_key_registry_client.signing import wallet_signature
from dmtp_protocol.envelopes import X25519_XSALSA20_POLY1305 as X25519_ENVELOPE
from dmtp_protocol.errors import RegistryError
from dmtp_protocol.messages import (
    REGISTRATION_TYPE,
    REVOCATION_TYPE,
    SIGNATURE_EIP712,
    Domain,
    parse_address,
    parse_registration,
    parse_revocation,
    registration_message,
    revocation_message,
)

if TYPE_CHECKING:
    from dmtp_key_registry_client.monitor import OwnWrites

FINAL_STATUSES = ("confirmed", "failed", "superseded")
_PLACEHOLDER_SIGNATURE = "0x00"


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


def _wallet_address(wallet_key: bytes) -> str:
    from coincurve import PrivateKey

    from dmtp_protocol.ethsig import address_from_public_key

    return address_from_public_key(PrivateKey(wallet_key).public_key.format(compressed=False))


def wallet_address(wallet_private_key_hex: str) -> str:
    """The EIP-55 address of a wallet private key."""
    return _wallet_address(_wallet_key_bytes(wallet_private_key_hex))


def build_registration(
    wallet_private_key_hex: str,
    chain_id: int,
    registry: str,
    version: int = 1,
    dmtp: DmtpKeyPair | None = None,
    signature_type: str = SIGNATURE_EIP712,
    envelope: str = X25519_ENVELOPE,
    key_type: str = KEY_TYPE_X25519,
    issued_at: int | None = None,
    expires_at: int | None = None,
    wallet: str | None = None,
    passphrase: str | None = None,
) -> tuple[dict[str, Any], DmtpKeyPair]:
    """The POST /keys body registering `dmtp` (default: a fresh pair of `key_type`) as the wallet's key
    `version`, and that key pair. `chain_id`/`registry` come from GET /config.

    `wallet`: a smart-contract (ERC-1271) wallet the key signs for, e.g. its owner EOA; the registry asks the
    contract's `isValidSignature`. Default: the key's own address. The envelope is sealed for the key, or under
    `passphrase` for `dmtp-scrypt-aes256gcm-v1`."""
    from dmtp_key_registry_client.envelope import seal  # the [sign] extra's

    wallet_key = _wallet_key_bytes(wallet_private_key_hex)
    if dmtp is None:
        dmtp = DmtpKeyPair.generate(key_type)
    elif dmtp.key_type != key_type:
        raise ValueError(f"the DMTP key pair is {dmtp.key_type}, but key_type is {key_type}")
    domain = Domain(int(chain_id), parse_address(registry))
    address = _wallet_address(wallet_key) if wallet is None else parse_address(wallet)
    sealed = seal(
        envelope,
        wallet_key,
        dmtp.private_key_hex,
        chain_id=domain.chain_id,
        registry=domain.registry,
        wallet=address,
        passphrase=passphrase,
    )
    body: dict[str, Any] = {
        "address": address,
        "keyType": dmtp.key_type,
        "DMTPpubKey": dmtp.public_key_hex,
        "DMTPpriKey": sealed,
        "version": version,
        "issuedAt": int(time.time()) if issued_at is None else issued_at,
        "signatureType": signature_type,
        "Signature": _PLACEHOLDER_SIGNATURE,
    }
    if expires_at is not None:
        body["expiresAt"] = expires_at
    # The server's own parser normalises the fields; the message signed is the one it will rebuild.
    message = registration_message(parse_registration(body))
    body["Signature"] = wallet_signature(wallet_key, REGISTRATION_TYPE, message, domain, signature_type)
    return body, dmtp


def build_revocation(
    wallet_private_key_hex: str,
    chain_id: int,
    registry: str,
    revoked_version: int,
    revoked_public_key: str,
    signature_type: str = SIGNATURE_EIP712,
    issued_at: int | None = None,
    wallet: str | None = None,
) -> dict[str, Any]:
    """The POST /keys/{address}/revocation body revoking the wallet's key `revoked_version` (its current key),
    whose public key is `revoked_public_key`; the revocation takes version `revoked_version + 1`.
    `wallet`: as for build_registration (a smart-contract wallet this key signs for)."""
    wallet_key = _wallet_key_bytes(wallet_private_key_hex)
    domain = Domain(int(chain_id), parse_address(registry))
    body: dict[str, Any] = {
        "address": _wallet_address(wallet_key) if wallet is None else parse_address(wallet),
        "revokedVersion": revoked_version,
        "version": revoked_version + 1,
        "issuedAt": int(time.time()) if issued_at is None else issued_at,
        "signatureType": signature_type,
        "Signature": _PLACEHOLDER_SIGNATURE,
    }
    message = revocation_message(parse_revocation(body), str(revoked_public_key).lower())
    body["Signature"] = wallet_signature(wallet_key, REVOCATION_TYPE, message, domain, signature_type)
    return body


def open_private_key(
    record_or_bundle: dict[str, Any],
    wallet_private_key_hex: str | None = None,
    *,
    passphrase: str | None = None,
    chain_id: int | None = None,
    registry: str | None = None,
) -> str:
    """The DMTP private key hex sealed in a lookup answer (`answer["bundle"]["DMTPpriKey"]`), a pinned
    document, or a POST body, in any envelope form (the wallet key, or `passphrase` for the passphrase form).
    The signature-derived form is opened for the document's chainId, registry and wallet; a POST body carries no
    chainId/registry, so pass them. When the document names its `DMTPpubKey`, the opened key must match it (for its
    `keyType`)."""
    from dmtp_key_registry_client.envelope import open_envelope  # the [sign] extra's

    if not isinstance(record_or_bundle, dict):
        raise ValueError("expected a lookup answer, a pinned document or a registration body")
    document = record_or_bundle.get("bundle", record_or_bundle)
    if not isinstance(document, dict) or "DMTPpriKey" not in document:
        raise ValueError("no DMTPpriKey envelope in this record")
    wallet_key = None if wallet_private_key_hex is None else _wallet_key_bytes(wallet_private_key_hex)
    private_key_hex = open_envelope(
        document["DMTPpriKey"],
        wallet_key,
        chain_id=document.get("chainId", chain_id),
        registry=document.get("registry", registry),
        wallet=document.get("wallet", document.get("address")),
        passphrase=passphrase,
    )
    expected = document.get("DMTPpubKey")
    if expected is not None:
        try:
            pair = DmtpKeyPair.from_private_key_hex(private_key_hex, document.get("keyType", KEY_TYPE_X25519))
        except ValueError as exc:
            raise ValueError("the envelope does not hold a DMTP private key") from exc
        if not pair.has_public_key(expected):
            raise ValueError("the sealed DMTP private key does not belong to the registered DMTPpubKey")
    return private_key_hex


class RegistryClientError(Exception):
    """A non-2xx answer; `problem` is the RFC 9457 problem+json body (or `{"detail": <text>}`)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.code = problem.get("code")
        super().__init__(
            f"HTTP {status}: {problem.get('code') or problem.get('title') or ''} {problem.get('detail') or ''}".strip()
        )


class PinMismatch(ValueError):
    """The registry's /config names another chain or contract than the one the user pinned: signing for it could
    register the key with, or for, someone else. Never sign then."""


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
            problem = (
                payload
                if isinstance(payload, dict)
                else {"status": response.status_code, "detail": response.text[:2000]}
            )
            raise RegistryClientError(response.status_code, problem)
        if not isinstance(payload, dict):
            raise RegistryClientError(
                response.status_code, {"detail": "expected a JSON object", "body": response.text[:2000]}
            )
        return payload

    def config(self) -> dict[str, Any]:
        """`{"chainId", "registry"}`: what a registration must be signed for."""
        return self._request("GET", "/config")

    def checked_config(self, chain_id: int, registry: str) -> Domain:
        """GET /config, which must name exactly the chain id and registry the caller pinned (from its flags or its
        own configuration file, never from the registry); PinMismatch otherwise. Returns the pinned domain."""
        pinned = Domain(int(chain_id), parse_address(registry))
        served = self.config()
        try:
            domain = Domain(int(served["chainId"]), parse_address(served["registry"]))
        except (KeyError, TypeError, ValueError, RegistryError) as exc:
            raise PinMismatch(f"the registry's /config is not a chain id and registry: {served!r}") from exc
        if domain != pinned:
            raise PinMismatch(
                f"the registry's /config names chain {domain.chain_id} registry {domain.registry}; you pinned chain "
                f"{pinned.chain_id} registry {pinned.registry}: refusing to sign"
            )
        return pinned

    # The transparency log (docs/PROTOCOL.md): answers to check against heads read from the chain, never to trust.

    def log_head(self) -> dict[str, Any]:
        return self._request("GET", "/log/head")

    def log_inclusion(self, wallet: str, version: int, tree_size: int | None = None) -> dict[str, Any]:
        params = {"wallet": wallet, "version": str(version)}
        if tree_size is not None:
            params["treeSize"] = str(tree_size)
        return self._request("GET", "/log/inclusion", params=params)

    def log_consistency(self, old_size: int, new_size: int) -> dict[str, Any]:
        return self._request("GET", "/log/consistency", params={"from": str(old_size), "to": str(new_size)})

    def log_leaves(self, start: int, end: int) -> dict[str, Any]:
        return self._request("GET", "/log/leaves", params={"start": str(start), "end": str(end)})

    def register(self, body: dict[str, Any], own_writes: OwnWrites | None = None) -> dict[str, Any]:
        """POST /keys; the public view of the stored record (202 when new, 200 when already registered).
        `own_writes` (the monitor's state file, monitor.OwnWrites): the signed body is recorded there as the owner's own
        before it is sent, so `monitor` does not report it."""
        if own_writes is not None:
            own_writes.record_registration(body)
        return self._request("POST", "/keys", json=body)

    def lookup(self, address: str, as_of: int | str | None = None) -> dict[str, Any] | None:
        """GET /keys/{address}: the current key record, or the one current at unix time `as_of`; None when the
        registry has no key for the wallet (its 404 `not-found`), as the JS client's `lookup` answers null. Any other
        error answer raises RegistryClientError. `verify_answer(None, ...)` is `not-found`."""
        params = None if as_of is None else {"asOf": str(as_of)}
        try:
            return self._request("GET", "/keys/" + quote(address, safe=""), params=params)
        except RegistryClientError as exc:
            if exc.status == 404 and exc.code == "not-found":
                return None
            raise

    def found(self, address: str, as_of: int | str | None = None) -> dict[str, Any]:
        """`lookup` for a wallet that must have a key: RegistryClientError 404 `not-found` when it has none."""
        answer = self.lookup(address, as_of)
        if answer is None:
            raise RegistryClientError(
                404, {"status": 404, "code": "not-found", "detail": f"the registry has no key for {address}"}
            )
        return answer

    def revoke(
        self,
        address: str,
        body: dict[str, Any],
        own_writes: OwnWrites | None = None,
        revoked_key: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """POST /keys/{address}/revocation with a `build_revocation` body; the revoked key's record.
        `own_writes`: as for `register`; `revoked_key` is the lookup answer of the key revoked (its DMTPpubKey and
        cid go into the record; looked up when not given)."""
        if own_writes is not None:
            revoked = revoked_key if revoked_key is not None else self.found(address)
            same = revoked.get("version") == body.get("revokedVersion")
            own_writes.record_revocation(
                body,
                revoked_public_key=revoked.get("DMTPpubKey") if same else None,
                revoked_cid=revoked.get("cid") if same else None,
            )
        return self._request("POST", f"/keys/{quote(address, safe='')}/revocation", json=body)

    def history(self, address: str, limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:
        """GET /keys/{address}/history: `{"wallet", "items" (newest first), "nextCursor"}`."""
        params = {name: str(value) for name, value in (("limit", limit), ("cursor", cursor)) if value is not None}
        return self._request("GET", f"/keys/{quote(address, safe='')}/history", params=params or None)

    def batch_lookup(self, addresses: Iterable[str]) -> dict[str, Any]:
        """POST /batch-lookup: `{"results": [{"address", "found", ...}], "countFound", "countNotFound"}`."""
        return self._request("POST", "/batch-lookup", json={"addresses": list(addresses)})

    def next_version(self, address: str) -> int:
        """The version a new registration of this wallet must carry: the newest record's version + 1 (a
        revocation takes a version too), or 1 for a wallet the registry does not know."""
        current = self.lookup(address)
        if current is None:
            return 1
        newest: int = current["version"]
        if current.get("revocation"):
            newest = max(newest, current["revocation"]["version"])
        return newest + 1

    def wait_for_status(
        self, address: str, statuses: Iterable[str] = FINAL_STATUSES, timeout: float = 60, poll: float = 0.25
    ) -> dict[str, Any]:
        """Poll the lookup until the record's status is one of `statuses`; TimeoutError after `timeout` seconds.
        A 404 is treated as "not visible yet" while waiting."""
        wanted = tuple(statuses)
        deadline = time.monotonic() + timeout
        last: dict[str, Any] | None = None
        while True:
            last = self.lookup(address) or last  # None: not visible yet
            if last is not None and last.get("status") in wanted:
                return last
            if time.monotonic() >= deadline:
                seen = last.get("status") if last else "not found"
                raise TimeoutError(f"{address} did not reach {'/'.join(wanted)} within {timeout}s (last: {seen})")
            time.sleep(poll)
