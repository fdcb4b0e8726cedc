"""The wallet-sealed DMTP private key. Here: MetaMask / @metamask/eth-sig-util `x25519-xsalsa20-poly1305`
encryption, on PyNaCl; `seal` / `open_envelope` also handle `dmtp-eip191-aes256gcm-hkdf-v1` (wallet_envelope.py)
and `dmtp-scrypt-aes256gcm-v1` (passphrase_envelope.py).

This is what `eth_getEncryptionPublicKey` and `eth_decrypt` (deprecated in MetaMask, still widely used) and
eth-sig-util's `getEncryptionPublicKey`, `encrypt` and `decrypt` do:

* the wallet's 32-byte secp256k1 private key is used, unchanged, as an X25519 secret key
  (Curve25519 clamps it when multiplying); its NaCl box public key, base64, is the "encryption public key";
* `encrypt` makes a fresh ephemeral X25519 key pair and a random 24-byte nonce and seals the UTF-8 plaintext with
  `crypto_box` (XSalsa20-Poly1305); the ciphertext field is NaCl's box output, i.e. the 16-byte Poly1305 tag
  followed by the encrypted bytes, exactly as tweetnacl's `nacl.box` returns it;
* every binary field is standard, padded base64.

Not `encryptSafely`: there is no length-hiding padding and no JSON wrapper around the plaintext.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from dmtp_key_registry_client.extras import missing

try:  # PyNaCl is the [sign] extra's: verifying never loads this module
    from nacl.exceptions import CryptoError
    from nacl.public import Box, PrivateKey, PublicKey
    from nacl.utils import random
except ModuleNotFoundError as exc:
    raise missing("sealing or opening a DMTP private key (the x25519-xsalsa20-poly1305 envelope)", exc) from exc

VERSION = "x25519-xsalsa20-poly1305"
ENVELOPE_FIELDS = ("version", "nonce", "ephemPublicKey", "ciphertext")
NONCE_BYTES = Box.NONCE_SIZE  # 24
KEY_BYTES = 32
TAG_BYTES = 16

KeyLike = bytes | bytearray | str


def _secret_key(wallet_private_key: KeyLike) -> PrivateKey:
    """The X25519 secret key of a wallet: its 32 private-key bytes (a 0x-hex string is accepted too)."""
    if isinstance(wallet_private_key, str):
        text = wallet_private_key[2:] if wallet_private_key[:2].lower() == "0x" else wallet_private_key
        try:
            wallet_private_key = bytes.fromhex(text)
        except ValueError as exc:
            raise ValueError("wallet private key must be 32 bytes or 64 hex digits") from exc
    if not isinstance(wallet_private_key, (bytes, bytearray)) or len(wallet_private_key) != KEY_BYTES:
        raise ValueError("wallet private key must be exactly 32 bytes")
    return PrivateKey(bytes(wallet_private_key))


def _b64decode(value: Any, name: str, length: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"envelope field {name!r} must be a base64 string")
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"envelope field {name!r} is not valid base64") from exc
    if length is not None and len(decoded) != length:
        raise ValueError(f"envelope field {name!r} must decode to {length} bytes, not {len(decoded)}")
    return decoded


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encryption_public_key(wallet_private_key: KeyLike) -> str:
    """What `eth_getEncryptionPublicKey` / eth-sig-util `getEncryptionPublicKey(privateKeyHex)` returns."""
    return _b64encode(bytes(_secret_key(wallet_private_key).public_key))


def encrypt(receiver_public_key_b64: str, plaintext: str) -> dict[str, str]:
    """eth-sig-util `encrypt({publicKey, data, version: 'x25519-xsalsa20-poly1305'})`."""
    if not isinstance(plaintext, str):
        raise TypeError("plaintext must be a str (eth-sig-util encrypts strings only)")
    receiver = PublicKey(_b64decode(receiver_public_key_b64, "publicKey", KEY_BYTES))
    ephemeral = PrivateKey.generate()
    nonce = random(NONCE_BYTES)
    sealed = Box(ephemeral, receiver).encrypt(plaintext.encode("utf-8"), nonce)
    return {
        "version": VERSION,
        "nonce": _b64encode(nonce),
        "ephemPublicKey": _b64encode(bytes(ephemeral.public_key)),
        "ciphertext": _b64encode(sealed.ciphertext),  # tag || encrypted bytes, without the nonce
    }


def decrypt(envelope: dict[str, Any], wallet_private_key: KeyLike) -> str:
    """eth-sig-util `decrypt({encryptedData, privateKey})` / `eth_decrypt`. ValueError on a bad envelope or key."""
    if not isinstance(envelope, dict):
        raise ValueError("envelope must be an object with version, nonce, ephemPublicKey and ciphertext")
    missing = [name for name in ENVELOPE_FIELDS if name not in envelope]
    if missing:
        raise ValueError(f"envelope is missing {', '.join(missing)}")
    if envelope["version"] != VERSION:
        raise ValueError(f"unsupported envelope version {envelope['version']!r}; expected {VERSION!r}")
    nonce = _b64decode(envelope["nonce"], "nonce", NONCE_BYTES)
    ephemeral = PublicKey(_b64decode(envelope["ephemPublicKey"], "ephemPublicKey", KEY_BYTES))
    ciphertext = _b64decode(envelope["ciphertext"], "ciphertext")
    if len(ciphertext) < TAG_BYTES:
        raise ValueError("envelope ciphertext is shorter than its 16-byte authentication tag")
    try:
        opened = Box(_secret_key(wallet_private_key), ephemeral).decrypt(ciphertext, nonce)
    except CryptoError as exc:
        raise ValueError("decryption failed: wrong wallet key or tampered envelope") from exc
    try:
        return opened.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("decrypted data is not UTF-8 text") from exc


# ---------------------------------------------------------------- all three envelope forms


def seal(
    version: str,
    wallet_private_key: KeyLike | None,
    plaintext: str,
    *,
    chain_id: int | None = None,
    registry: str | None = None,
    wallet: str | None = None,
    passphrase: str | None = None,
) -> dict[str, Any]:
    """Seal `plaintext` in any accepted form (dmtp_protocol.envelopes.ENVELOPE_VERSIONS): x25519 for the wallet key;
    the signature-derived form for the wallet key at the registry `chain_id`/`registry`, naming `wallet` (default:
    the key's own address); the passphrase form under `passphrase` (no wallet key needed)."""
    from dmtp_key_registry_client import passphrase_envelope, wallet_envelope

    if version == passphrase_envelope.VERSION:
        if passphrase is None:
            raise ValueError(f"{version} needs a passphrase")
        return passphrase_envelope.encrypt(passphrase, plaintext)
    if wallet_private_key is None:
        raise ValueError(f"{version} needs the wallet's private key")
    if version == VERSION:
        return encrypt(encryption_public_key(wallet_private_key), plaintext)
    if version == wallet_envelope.VERSION:
        key = _secret_key_bytes(wallet_private_key)
        return wallet_envelope.encrypt(key, plaintext, **_unlock_domain(chain_id, registry, wallet, key))
    raise ValueError(
        f"unknown envelope {version!r}; expected {VERSION!r}, {wallet_envelope.VERSION!r} or {passphrase_envelope.VERSION!r}"
    )


def open_envelope(
    envelope: dict[str, Any],
    wallet_private_key: KeyLike | None = None,
    *,
    chain_id: int | None = None,
    registry: str | None = None,
    wallet: str | None = None,
    passphrase: str | None = None,
) -> str:
    """Open any envelope form: with the wallet key (x25519; signature-derived, for the registration's chain id,
    registry and wallet) or the passphrase. ValueError on a bad envelope, the wrong wallet or passphrase."""
    from dmtp_key_registry_client import passphrase_envelope, wallet_envelope

    version = envelope.get("version") if isinstance(envelope, dict) else None
    if version == passphrase_envelope.VERSION:
        if passphrase is None:
            raise ValueError(f"{version} needs the passphrase")
        return passphrase_envelope.decrypt(envelope, passphrase)
    if wallet_private_key is None:
        raise ValueError(f"{version} needs the wallet's private key")
    if version == wallet_envelope.VERSION:
        key = _secret_key_bytes(wallet_private_key)
        return wallet_envelope.decrypt(envelope, key, **_unlock_domain(chain_id, registry, wallet, key))
    return decrypt(envelope, wallet_private_key)


def _unlock_domain(chain_id: int | None, registry: str | None, wallet: str | None, key: bytes) -> dict[str, Any]:
    if chain_id is None or registry is None:
        raise ValueError("the signature-derived envelope needs the registry's chain id and registry address")
    if wallet is None:
        from coincurve import PrivateKey

        from dmtp_protocol.ethsig import address_from_public_key

        wallet = address_from_public_key(PrivateKey(key).public_key.format(compressed=False))
    return {"chain_id": chain_id, "registry": registry, "wallet": wallet}


def _secret_key_bytes(wallet_private_key: KeyLike) -> bytes:
    return bytes(_secret_key(wallet_private_key))
