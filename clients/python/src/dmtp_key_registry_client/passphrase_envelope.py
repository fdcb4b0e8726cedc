"""`dmtp-scrypt-aes256gcm-v1`: the DMTP private key sealed under a key derived from a passphrase.

For every wallet, whatever it can sign: smart wallets, passkey wallets (Coinbase Smart Wallet) and MetaMask after
`eth_decrypt`'s deprecation give no deterministic signature and no encryption key, so the wallet cannot seal the
key for itself; the user's passphrase does. The parameters are Web3 Secret Storage's (the Ethereum keystore):

1. `salt` = 32 random bytes, `nonce` = 12 random bytes;
2. key = scrypt(password = UTF-8 of the passphrase in Unicode NFKC, salt, n, r, p, dkLen = 32), with
   n = 2^17, r = 8, p = 1 by default (n a power of two from 2^17 to 2^20, r = 8, p from 1 to 4 are accepted);
3. `ciphertext` = AES-256-GCM(key, nonce, plaintext, no AAD) = encrypted bytes || 16-byte tag.

Members: `{version, n, r, p, salt, nonce, ciphertext}`; n, r, p JSON integers, the rest lowercase hex without 0x.
The envelope is public (pinned to IPFS): its strength is the passphrase's. scrypt at n = 2^17 makes each guess cost
128 MiB and a memory-hard computation (2.9 s measured once in Python on the loaded 2-core test machine), which stops
guessing of a strong passphrase, not of a weak one.
"""

from __future__ import annotations

import os
import unicodedata
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from dmtp_key_registry_client.wallet_envelope import hex_field
from dmtp_protocol.envelopes import SCRYPT_AES256GCM, SCRYPT_LOG2_N_RANGE, SCRYPT_P_RANGE, SCRYPT_R

VERSION = SCRYPT_AES256GCM  # the envelope this module seals and opens (envelope.py dispatches on it)

ENVELOPE_FIELDS = ("version", "n", "r", "p", "salt", "nonce", "ciphertext")
DEFAULT_N = 2**17
DEFAULT_R = SCRYPT_R
DEFAULT_P = 1
SALT_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
MIN_PASSPHRASE_CHARS = 8  # a client-side floor for sealing; the envelope cannot tell how strong a passphrase is


def passphrase_bytes(passphrase: str) -> bytes:
    """The scrypt password: UTF-8 of the NFKC form, so the same typed text gives the same key on every platform."""
    if not isinstance(passphrase, str) or not passphrase:
        raise ValueError("the passphrase must be a non-empty string")
    return unicodedata.normalize("NFKC", passphrase).encode("utf-8")


def _check_cost(n: Any, r: Any, p: Any) -> tuple[int, int, int]:
    low, high = SCRYPT_LOG2_N_RANGE
    if isinstance(n, bool) or not isinstance(n, int) or n not in {2**e for e in range(low, high + 1)}:
        raise ValueError(f"scrypt n must be a power of two from 2^{low} to 2^{high}")
    if isinstance(r, bool) or r != SCRYPT_R:
        raise ValueError(f"scrypt r must be {SCRYPT_R}")
    if isinstance(p, bool) or not isinstance(p, int) or not SCRYPT_P_RANGE[0] <= p <= SCRYPT_P_RANGE[1]:
        raise ValueError(f"scrypt p must be from {SCRYPT_P_RANGE[0]} to {SCRYPT_P_RANGE[1]}")
    return n, r, p


def derive_key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """scrypt(NFKC UTF-8 passphrase, salt, n, r, p) -> the 32-byte AES-256 key."""
    n, r, p = _check_cost(n, r, p)
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase_bytes(passphrase))


def encrypt(passphrase: str, plaintext: str, *, n: int = DEFAULT_N, p: int = DEFAULT_P) -> dict[str, Any]:
    """Seal `plaintext` (UTF-8) under `passphrase`."""
    if not isinstance(plaintext, str):
        raise TypeError("plaintext must be a str")
    if not isinstance(passphrase, str) or len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise ValueError(f"the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters")
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    key = derive_key(passphrase, salt, n, DEFAULT_R, p)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), None)
    return {
        "version": VERSION,
        "n": n,
        "r": DEFAULT_R,
        "p": p,
        "salt": salt.hex(),
        "nonce": nonce.hex(),
        "ciphertext": sealed.hex(),
    }


def decrypt(envelope: dict[str, Any], passphrase: str) -> str:
    """Open an envelope with its passphrase. ValueError on a bad envelope, out-of-range costs (checked before any
    work, so a hostile envelope cannot make us spend more than n = 2^20) or the wrong passphrase."""
    if not isinstance(envelope, dict):
        raise ValueError(f"envelope must be an object with {', '.join(ENVELOPE_FIELDS)}")
    missing = [name for name in ENVELOPE_FIELDS if name not in envelope]
    if missing:
        raise ValueError(f"envelope is missing {', '.join(missing)}")
    if envelope["version"] != VERSION:
        raise ValueError(f"unsupported envelope version {envelope['version']!r}; expected {VERSION!r}")
    n, r, p = _check_cost(envelope["n"], envelope["r"], envelope["p"])
    salt = hex_field(envelope, "salt", SALT_BYTES)
    nonce = hex_field(envelope, "nonce", NONCE_BYTES)
    ciphertext = hex_field(envelope, "ciphertext", None)
    if len(ciphertext) < TAG_BYTES:
        raise ValueError("envelope ciphertext is shorter than its 16-byte authentication tag")
    try:
        opened = AESGCM(derive_key(passphrase, salt, n, r, p)).decrypt(nonce, ciphertext, None)
    except InvalidTag as exc:
        raise ValueError("decryption failed: wrong passphrase or tampered envelope") from exc
    try:
        return opened.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("decrypted data is not UTF-8 text") from exc
