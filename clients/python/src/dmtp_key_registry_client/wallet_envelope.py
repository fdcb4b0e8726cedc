"""`dmtp-eip191-aes256gcm-hkdf-v1`: the DMTP private key sealed under a key derived from a wallet signature.

For EOA wallets without `eth_getEncryptionPublicKey` (every wallet but MetaMask, and MetaMask deprecated it): any
EOA that can `personal_sign` can open it again, because EOA signatures are deterministic (RFC 6979).

Sealing:

1. `preKey` = 32 random bytes, `salt` = 32 random bytes, `nonce` = 12 random bytes;
2. the wallet signs (EIP-191 `personal_sign`) the UTF-8 text `unlock_text(preKey, chainId, registry, wallet)`, which
   names the registry deployment (chain id, registry contract) and the wallet, so a signature made for another
   deployment, another wallet or another protocol never opens this envelope;
3. the 65-byte signature r || s || v (v = 27 or 28) is the input keying material of HKDF-SHA256 with `salt`,
   `info` = the UTF-8 version string and 32 bytes of output: the AES-256-GCM key;
4. AES-256-GCM of the plaintext (the DMTP private key as "0x" + 64 lowercase hex) with `nonce`, no AAD;
   `ciphertext` = encrypted bytes || 16-byte tag.

Every field is lowercase hex without 0x: `{version, salt, nonce, preKey, ciphertext}`. Opening signs the same
text again; the chain id, registry and wallet come from the registration document that carries the envelope.
Smart-contract wallets (ERC-1271, ERC-6492, passkeys) do not sign deterministically: they cannot use it
(`passphrase_envelope` serves them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dmtp_protocol.envelopes import EIP191_AES256GCM_HKDF
from dmtp_protocol.messages import parse_address

VERSION = EIP191_AES256GCM_HKDF  # the envelope this module seals and opens (envelope.py dispatches on it)

ENVELOPE_FIELDS = ("version", "salt", "nonce", "preKey", "ciphertext")
UNLOCK_TEXT_HEAD = (
    "DMTP Key Registry: unlock my DMTP private key.\n"
    "\n"
    "Sign this only in a DMTP app: this signature opens your DMTP private key.\n"
    "\n"
)
PRE_KEY_BYTES = 32
SALT_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
HKDF_INFO = VERSION.encode("ascii")
_LOWER_HEX = re.compile(r"^([0-9a-f]{2})*$")

# A signer is a wallet private key (32 bytes or hex) or a callable doing personal_sign: text -> signature (0x hex or bytes).
Signer = bytes | bytearray | str | Callable[[str], str | bytes]


def unlock_text(pre_key: bytes, chain_id: int, registry: str, wallet: str) -> str:
    """The text the wallet signs to seal or open an envelope with this `preKey`, for this registry and wallet
    (both written EIP-55)."""
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id < 1:
        raise ValueError("chain id must be a positive integer")
    return (
        UNLOCK_TEXT_HEAD
        + f"Wallet: {parse_address(wallet)}\n"
        + f"Chain ID: {chain_id}\n"
        + f"Registry: {parse_address(registry)}\n"
        + f"Key: 0x{pre_key.hex()}"
    )


def personal_sign(wallet_private_key: bytes | bytearray | str, text: str) -> bytes:
    """EIP-191 personal_sign of a UTF-8 text by an EOA key: r || s || v with v in {27, 28}, low s, RFC 6979
    nonces (libsecp256k1), i.e. the same 65 bytes ethers' `signMessage` and MetaMask return."""
    from dmtp_key_registry_client.signing import sign_digest
    from dmtp_protocol.ethsig import personal_sign_digest

    return sign_digest(_key_bytes(wallet_private_key), personal_sign_digest(text.encode("utf-8")))


def _key_bytes(key: bytes | bytearray | str) -> bytes:
    if isinstance(key, str):
        try:
            key = bytes.fromhex(key.removeprefix("0x").removeprefix("0X"))
        except ValueError as exc:
            raise ValueError("wallet private key must be 64 hex digits (0x optional)") from exc
    if not isinstance(key, (bytes, bytearray)) or len(key) != 32:
        raise ValueError("wallet private key must be exactly 32 bytes")
    return bytes(key)


def _signature(signer: Signer, text: str) -> bytes:
    if callable(signer):
        raw = signer(text)
        if isinstance(raw, str):
            try:
                raw = bytes.fromhex(raw.removeprefix("0x"))
            except ValueError as exc:
                raise ValueError("the wallet's signature is not hex") from exc
        raw = bytes(raw)
    else:
        raw = personal_sign(signer, text)
    if len(raw) != 65:
        raise ValueError(f"{VERSION} needs a 65-byte EOA signature, got {len(raw)} bytes")
    if raw[64] in (0, 1):  # some signers (hardware wallets) answer v as 0/1: one key for both forms
        raw = raw[:64] + bytes([raw[64] + 27])
    if raw[64] not in (27, 28):
        raise ValueError("signature v must be 27, 28, 0 or 1")
    return raw


def aes_key(signature: bytes, salt: bytes) -> bytes:
    """HKDF-SHA256(ikm = the 65-byte unlock signature, salt, info = the version string) -> 32-byte AES key."""
    return HKDF(algorithm=SHA256(), length=32, salt=salt, info=HKDF_INFO).derive(signature)


def encrypt(signer: Signer, plaintext: str, *, chain_id: int, registry: str, wallet: str) -> dict[str, str]:
    """Seal `plaintext` (UTF-8) for `wallet` (whose EOA key or personal_sign is `signer`) at this registry."""
    if not isinstance(plaintext, str):
        raise TypeError("plaintext must be a str")
    pre_key, salt, nonce = os.urandom(PRE_KEY_BYTES), os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    key = aes_key(_signature(signer, unlock_text(pre_key, chain_id, registry, wallet)), salt)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), None)
    return {
        "version": VERSION,
        "salt": salt.hex(),
        "nonce": nonce.hex(),
        "preKey": pre_key.hex(),
        "ciphertext": sealed.hex(),
    }


def hex_field(envelope: dict[str, Any], name: str, length: int | None) -> bytes:
    """An envelope member as bytes: lowercase hex without 0x, of `length` bytes when given (both hex envelopes)."""
    value = envelope[name]
    if not isinstance(value, str) or not _LOWER_HEX.match(value):
        raise ValueError(f"envelope field {name!r} must be lowercase hex without 0x")
    raw = bytes.fromhex(value)
    if length is not None and len(raw) != length:
        raise ValueError(f"envelope field {name!r} must decode to {length} bytes, not {len(raw)}")
    return raw


def decrypt(envelope: dict[str, Any], signer: Signer, *, chain_id: int, registry: str, wallet: str) -> str:
    """Open an envelope by having the wallet sign its unlock text again (for the registry and wallet of the document
    that carries it). ValueError on a bad envelope, another wallet or another deployment."""
    if not isinstance(envelope, dict):
        raise ValueError(f"envelope must be an object with {', '.join(ENVELOPE_FIELDS)}")
    missing = [name for name in ENVELOPE_FIELDS if name not in envelope]
    if missing:
        raise ValueError(f"envelope is missing {', '.join(missing)}")
    if envelope["version"] != VERSION:
        raise ValueError(f"unsupported envelope version {envelope['version']!r}; expected {VERSION!r}")
    salt = hex_field(envelope, "salt", SALT_BYTES)
    nonce = hex_field(envelope, "nonce", NONCE_BYTES)
    pre_key = hex_field(envelope, "preKey", PRE_KEY_BYTES)
    ciphertext = hex_field(envelope, "ciphertext", None)
    if len(ciphertext) < TAG_BYTES:
        raise ValueError("envelope ciphertext is shorter than its 16-byte authentication tag")
    key = aes_key(_signature(signer, unlock_text(pre_key, chain_id, registry, wallet)), salt)
    try:
        opened = AESGCM(key).decrypt(nonce, ciphertext, None)
    except InvalidTag as exc:
        raise ValueError("decryption failed: wrong wallet, another registry or chain, or a tampered envelope") from exc
    try:
        return opened.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("decrypted data is not UTF-8 text") from exc
