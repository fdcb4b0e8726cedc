"""Writes docs/protocol-vectors.json and the vectors section of docs/PROTOCOL.md, computed with the registry's code.

    .venv/bin/python docs/make_protocol_vectors.py

Every input is fixed (a well-known test wallet key, and byte strings derived from fixed labels), and eth_account
signs deterministically (RFC 6979), so running this again writes the same file. tests/test_protocol_vectors.py
recomputes every output and checks that PROTOCOL.md shows the same values.
"""
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_account.messages import encode_defunct, encode_typed_data  # noqa: E402
from nacl.public import Box, PrivateKey, PublicKey  # noqa: E402

from chalicelib import eip712  # noqa: E402
from chalicelib.cid import cid_for_bytes  # noqa: E402
from chalicelib.envelopes import EIP191_AES256_GCM_HKDF_SHA256, X25519_XSALSA20_POLY1305  # noqa: E402
from chalicelib.protocol import (  # noqa: E402
    REGISTRATION_FIELDS,
    REGISTRATION_TYPE,
    REVOCATION_FIELDS,
    REVOCATION_TYPE,
    Domain,
    canonical_json,
    envelope_hash,
    parse_registration,
    parse_revocation,
    pinned_document,
    registration_message,
    revocation_message,
    signed_text,
    signing_digest,
    typed_data,
)

OUT = ROOT / "docs" / "protocol-vectors.json"
DOC = ROOT / "docs" / "PROTOCOL.md"
BEGIN, END = "<!-- vectors:begin -->", "<!-- vectors:end -->"
WALLET_PRIVATE_KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
CHAIN_ID = 31337
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ISSUED_AT = 1800000000
REVOKED_AT = 1800000600
UNLOCK_TEXT_PREFIX = "DMTP Key Registry: unlock my DMTP private key.\n\nKey: 0x"


def fixed(label: str, length: int) -> bytes:
    """A fixed byte string: the first `length` bytes of sha256("dmtp-protocol-vector:" + label)."""
    return hashlib.sha256(f"dmtp-protocol-vector:{label}".encode()).digest()[:length]


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def personal_sign(text: str) -> str:
    signed = Account.from_key(WALLET_PRIVATE_KEY).sign_message(encode_defunct(text=text))
    return "0x" + bytes(signed.signature).hex()


def sign_typed(data: dict[str, Any]) -> str:
    signed = Account.from_key(WALLET_PRIVATE_KEY).sign_message(encode_typed_data(full_message=data))
    return "0x" + bytes(signed.signature).hex()


def x25519_envelope(plaintext: str) -> dict[str, Any]:
    """eth-sig-util `encrypt` for the wallet's own encryption public key, with a fixed ephemeral key and nonce."""
    wallet_secret = bytes.fromhex(WALLET_PRIVATE_KEY[2:])
    receiver = PrivateKey(wallet_secret).public_key  # eth_getEncryptionPublicKey
    ephemeral = PrivateKey(fixed("x25519 ephemeral private key", 32))
    nonce = fixed("x25519 nonce", 24)
    sealed = Box(ephemeral, PublicKey(bytes(receiver))).encrypt(plaintext.encode("utf-8"), nonce).ciphertext
    envelope = {
        "version": X25519_XSALSA20_POLY1305,
        "nonce": b64(nonce),
        "ephemPublicKey": b64(bytes(ephemeral.public_key)),
        "ciphertext": b64(sealed),
    }
    return {
        "walletEncryptionPublicKey": b64(bytes(receiver)),
        "ephemeralPrivateKey": "0x" + bytes(ephemeral).hex(),
        "plaintext": plaintext,
        "envelope": envelope,
        "canonicalJson": canonical_json(envelope).decode("utf-8"),
        "encryptedPrivateKeyHash": envelope_hash(envelope),
    }


def aes_envelope(plaintext: str) -> dict[str, Any]:
    """eip191-aes256-gcm-hkdf-sha256 with a fixed preKey, salt and nonce (the wallet's signature is deterministic)."""
    pre_key = fixed("aes preKey", 32)
    salt = fixed("aes salt", 32)
    nonce = fixed("aes nonce", 12)
    unlock_text = UNLOCK_TEXT_PREFIX + pre_key.hex()
    unlock_signature = personal_sign(unlock_text)
    aes_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"").derive(bytes.fromhex(unlock_signature[2:]))
    ciphertext = AESGCM(aes_key).encrypt(nonce, plaintext.encode("utf-8"), None)  # encrypted bytes || 16-byte tag
    envelope = {
        "version": EIP191_AES256_GCM_HKDF_SHA256,
        "salt": salt.hex(),
        "nonce": nonce.hex(),
        "preKey": pre_key.hex(),
        "ciphertext": ciphertext.hex(),
    }
    return {
        "unlockText": unlock_text,
        "unlockSignature": unlock_signature,
        "aesKey": "0x" + aes_key.hex(),
        "plaintext": plaintext,
        "envelope": envelope,
        "canonicalJson": canonical_json(envelope).decode("utf-8"),
        "encryptedPrivateKeyHash": envelope_hash(envelope),
    }


def eip712_parts(domain: Domain, primary: str, fields: eip712.Fields, message: dict[str, Any]) -> dict[str, str]:
    """The intermediate hashes of an EIP-712 digest, for debugging an implementation step by step."""
    return {
        "encodedType": eip712.encode_type(primary, fields),
        "typeHash": "0x" + eip712.type_hash(primary, fields).hex(),
        "domainSeparator": "0x" + eip712.hash_struct("EIP712Domain", eip712.EIP712_DOMAIN_FIELDS, domain.as_eip712()).hex(),
        "structHash": "0x" + eip712.hash_struct(primary, fields, message).hex(),
    }


def registration_vector(domain: Domain, wallet: str, public_key: str, envelope: dict[str, str], signature_type: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "address": wallet,
        "keyType": "x25519",
        "DMTPpubKey": public_key,
        "DMTPpriKey": envelope,
        "version": 1,
        "issuedAt": ISSUED_AT,
        "expiresAt": 0,
        "signatureType": signature_type,
        "Signature": "0x00",
    }
    message = registration_message(parse_registration(body))
    vector: dict[str, Any] = {"message": message}
    if signature_type == "eip712":
        vector["typedData"] = typed_data(REGISTRATION_TYPE, message, domain)
        vector["eip712"] = eip712_parts(domain, REGISTRATION_TYPE, REGISTRATION_FIELDS, message)
        body["Signature"] = sign_typed(vector["typedData"])
    else:
        vector["text"] = signed_text(REGISTRATION_TYPE, message, domain)
        body["Signature"] = personal_sign(vector["text"])
    registration = parse_registration(body)
    document = pinned_document(registration, domain)
    vector.update(
        digest="0x" + signing_digest(REGISTRATION_TYPE, message, domain, signature_type).hex(),
        signature=body["Signature"],
        body=body,
        document=document.decode("utf-8"),
        documentSha256="0x" + hashlib.sha256(document).hexdigest(),
        cid=cid_for_bytes(document),
    )
    return vector


def revocation_vector(domain: Domain, wallet: str, revoked_public_key: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "address": wallet,
        "revokedVersion": 1,
        "version": 2,
        "issuedAt": REVOKED_AT,
        "signatureType": "eip712",
        "Signature": "0x00",
    }
    message = revocation_message(parse_revocation(body), revoked_public_key)
    data = typed_data(REVOCATION_TYPE, message, domain)
    body["Signature"] = sign_typed(data)
    text = signed_text(REVOCATION_TYPE, message, domain)
    return {
        "message": message,
        "typedData": data,
        "eip712": eip712_parts(domain, REVOCATION_TYPE, REVOCATION_FIELDS, message),
        "digest": "0x" + signing_digest(REVOCATION_TYPE, message, domain, "eip712").hex(),
        "signature": body["Signature"],
        "body": body,
        "eip191": {
            "text": text,
            "digest": "0x" + signing_digest(REVOCATION_TYPE, message, domain, "eip191").hex(),
            "signature": personal_sign(text),
        },
    }


def build_vectors() -> dict[str, Any]:
    wallet = Account.from_key(WALLET_PRIVATE_KEY).address
    domain = Domain(CHAIN_ID, REGISTRY)
    dmtp = PrivateKey(fixed("DMTP private key", 32))
    dmtp_private = "0x" + bytes(dmtp).hex()
    dmtp_public = "0x" + bytes(dmtp.public_key).hex()
    x25519 = x25519_envelope(dmtp_private)
    aes = aes_envelope(dmtp_private)
    return {
        "about": "Test vectors of docs/PROTOCOL.md; written by docs/make_protocol_vectors.py, checked by tests/test_protocol_vectors.py.",
        "inputs": {
            "walletPrivateKey": WALLET_PRIVATE_KEY,
            "wallet": wallet,
            "chainId": CHAIN_ID,
            "registry": REGISTRY,
            "dmtpPrivateKey": dmtp_private,
            "dmtpPublicKey": dmtp_public,
            "issuedAt": ISSUED_AT,
            "version": 1,
            "expiresAt": 0,
        },
        "envelopes": {X25519_XSALSA20_POLY1305: x25519, EIP191_AES256_GCM_HKDF_SHA256: aes},
        "registrations": {
            "eip712": registration_vector(domain, wallet, dmtp_public, x25519["envelope"], "eip712"),
            "eip191": registration_vector(domain, wallet, dmtp_public, aes["envelope"], "eip191"),
        },
        "revocation": revocation_vector(domain, wallet, dmtp_public),
    }


def _pretty(value: Any, indent: int = 0) -> str:
    """JSON with every object or array that fits in 110 columns on one line."""
    flat = json.dumps(value, separators=(", ", ": "))
    if indent + len(flat) <= 110 or not isinstance(value, (dict, list)) or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {_pretty(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    return "[\n" + ",\n".join(pad + _pretty(v, indent + 2) for v in value) + "\n" + " " * indent + "]"


def _block(kind: str, value: Any) -> str:
    body = _pretty(value) if kind == "json" else value
    return f"```{kind}\n{body}\n```\n"


def _values(pairs: list[tuple[str, Any]]) -> str:
    return "".join(f"* {name}: `{value}`\n" for name, value in pairs)


def markdown(v: dict[str, Any]) -> str:
    """The vectors section of PROTOCOL.md (between its markers)."""
    i, x, a = v["inputs"], v["envelopes"][X25519_XSALSA20_POLY1305], v["envelopes"][EIP191_AES256_GCM_HKDF_SHA256]
    r712, r191, rev = v["registrations"]["eip712"], v["registrations"]["eip191"], v["revocation"]
    out = ["### Inputs\n\n", _values([
        ("wallet private key", i["walletPrivateKey"]), ("wallet", i["wallet"]),
        ("DMTP private key (the plaintext of both envelopes)", i["dmtpPrivateKey"]),
        ("DMTP public key (X25519)", i["dmtpPublicKey"]),
    ])]
    out += ["\n### Envelope `x25519-xsalsa20-poly1305`\n\n", _values([
        ("wallet encryption public key (`eth_getEncryptionPublicKey`)", x["walletEncryptionPublicKey"]),
        ("ephemeral X25519 private key", x["ephemeralPrivateKey"]),
    ]), "\n", _block("json", x["envelope"]), "\nIts canonical JSON and `encryptedPrivateKeyHash`:\n\n",
        _block("text", x["canonicalJson"]), "\n", _values([("keccak256", x["encryptedPrivateKeyHash"])])]
    out += ["\n### Envelope `eip191-aes256-gcm-hkdf-sha256`\n\nUnlock text (personal_sign):\n\n", _block("text", a["unlockText"]),
        "\n", _values([("unlock signature (HKDF input keying material)", a["unlockSignature"]),
                        ("HKDF-SHA256 output (AES-256 key)", a["aesKey"])]), "\n", _block("json", a["envelope"]),
        "\nIts canonical JSON and `encryptedPrivateKeyHash`:\n\n", _block("text", a["canonicalJson"]), "\n",
        _values([("keccak256", a["encryptedPrivateKeyHash"])])]
    out += ["\n### Registration, `eip712` (x25519 envelope)\n\nTyped data (`eth_signTypedData_v4`):\n\n", _block("json", r712["typedData"]),
        "\n", _values([("encoded type", r712["eip712"]["encodedType"]), ("type hash", r712["eip712"]["typeHash"]),
                        ("domain separator", r712["eip712"]["domainSeparator"]), ("struct hash", r712["eip712"]["structHash"]),
                        ("digest", r712["digest"]), ("signature", r712["signature"])]),
        "\nRequest body:\n\n", _block("json", r712["body"]), "\nDocument bytes (one line, no trailing newline):\n\n",
        _block("text", r712["document"]), "\n", _values([("sha256", r712["documentSha256"]), ("CID", r712["cid"])])]
    out += ["\n### Registration, `eip191` (AES envelope)\n\nText (`personal_sign`):\n\n", _block("text", r191["text"]), "\n",
        _values([("digest", r191["digest"]), ("signature", r191["signature"])]),
        "\nRequest body:\n\n", _block("json", r191["body"]), "\nDocument bytes (one line, no trailing newline):\n\n",
        _block("text", r191["document"]), "\n", _values([("sha256", r191["documentSha256"]), ("CID", r191["cid"])])]
    out += ["\n### Revocation of version 1 (version 2, `issuedAt` 1800000600)\n\nTyped data:\n\n", _block("json", rev["typedData"]),
        "\n", _values([("encoded type", rev["eip712"]["encodedType"]), ("type hash", rev["eip712"]["typeHash"]),
                        ("struct hash", rev["eip712"]["structHash"]), ("digest", rev["digest"]), ("signature", rev["signature"])]),
        "\nRequest body (`POST /keys/0x2c7536E3605D9C16a7a3D7b1898e529396a65c23/revocation`):\n\n", _block("json", rev["body"]),
        "\nThe same revocation signed as `eip191` (`signatureType: \"eip191\"`), text:\n\n", _block("text", rev["eip191"]["text"]),
        "\n", _values([("digest", rev["eip191"]["digest"]), ("signature", rev["eip191"]["signature"])])]
    return "".join(out)


def main() -> None:
    vectors = build_vectors()
    OUT.write_text(json.dumps(vectors, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")
    text = DOC.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    DOC.write_text(f"{head}{BEGIN}\n{markdown(vectors)}{END}{tail}")
    print(f"wrote the vectors section of {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
