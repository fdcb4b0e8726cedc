"""Writes docs/protocol-vectors.json and the vectors section of docs/PROTOCOL.md, computed with the registry's code.

    .venv/bin/python docs/make_protocol_vectors.py

Every input is fixed (a well-known test wallet key, and byte strings derived from fixed labels), and eth_account
signs deterministically (RFC 6979), so running this again writes the same file. tests/unit/test_protocol_vectors.py
recomputes every output and checks that PROTOCOL.md shows the same values.
"""

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from nacl.public import Box, PrivateKey, PublicKey

from dmtp_protocol import eip712
from dmtp_protocol.canonical import canonical_json
from dmtp_protocol.cid import cid_for_bytes
from dmtp_protocol.envelopes import EIP191_AES256GCM_HKDF, SCRYPT_AES256GCM, X25519_XSALSA20_POLY1305
from dmtp_protocol.messages import (
    REGISTRATION_FIELDS,
    REGISTRATION_TYPE,
    REVOCATION_FIELDS,
    REVOCATION_TYPE,
    Domain,
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
from dmtp_protocol.smart_wallets import erc6492_calldata, validator_bytecode, wrap_erc6492

# Run as a script (`python docs/make_protocol_vectors.py`), the repository root is not on sys.path: docs/ is.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from docs.make_log_vectors import build as log_vectors  # noqa: E402 (needs ROOT on sys.path, just above)
from docs.make_rule_vectors import build as rule_vectors  # noqa: E402
from docs.make_rule_vectors import markdown as rule_markdown  # noqa: E402

OUT = ROOT / "docs" / "protocol-vectors.json"
DOC = ROOT / "docs" / "PROTOCOL.md"
BEGIN, END = "<!-- vectors:begin -->", "<!-- vectors:end -->"
WALLET_PRIVATE_KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
CHAIN_ID = 31337
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ISSUED_AT = 1800000000
REVOKED_AT = 1800000600
OTHER_CHAIN_ID = 1  # the unlock signature made for another deployment must not open the envelope
PASSPHRASE = "correct horse battery staple, cafe\u0301 \u2460"  # NFKC: "café 1" (composed é, circled one -> 1)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
FACTORY = "0x9406Cc6185a346906296840746125a0E44976454"  # an ERC-4337 account factory address (any will do here)
ACCOUNT_SALT = 0


def unlock_text(pre_key: bytes, chain_id: int, registry: str, wallet: str) -> str:
    """The signature-derived envelope's unlock text, as docs/PROTOCOL.md states it (written out here, not imported)."""
    return (
        "DMTP Key Registry: unlock my DMTP private key.\n\n"
        "Sign this only in a DMTP app: this signature opens your DMTP private key.\n\n"
        f"Wallet: {wallet}\nChain ID: {chain_id}\nRegistry: {registry}\nKey: 0x{pre_key.hex()}"
    )


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


def aes_envelope(plaintext: str, wallet: str) -> dict[str, Any]:
    """dmtp-eip191-aes256gcm-hkdf-v1 with a fixed preKey, salt and nonce (the wallet's signature is deterministic)."""
    pre_key = fixed("aes preKey", 32)
    salt = fixed("aes salt", 32)
    nonce = fixed("aes nonce", 12)
    text = unlock_text(pre_key, CHAIN_ID, REGISTRY, wallet)
    unlock_signature = personal_sign(text)
    info = EIP191_AES256GCM_HKDF.encode("ascii")
    aes_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(
        bytes.fromhex(unlock_signature[2:])
    )
    ciphertext = AESGCM(aes_key).encrypt(nonce, plaintext.encode("utf-8"), None)  # encrypted bytes || 16-byte tag
    envelope = {
        "version": EIP191_AES256GCM_HKDF,
        "salt": salt.hex(),
        "nonce": nonce.hex(),
        "preKey": pre_key.hex(),
        "ciphertext": ciphertext.hex(),
    }
    other_text = unlock_text(pre_key, OTHER_CHAIN_ID, REGISTRY, wallet)
    other_signature = personal_sign(other_text)
    other_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(
        bytes.fromhex(other_signature[2:])
    )
    return {
        "unlockText": text,
        "unlockSignature": unlock_signature,
        "hkdfInfo": EIP191_AES256GCM_HKDF,
        "aesKey": "0x" + aes_key.hex(),
        "plaintext": plaintext,
        "envelope": envelope,
        "canonicalJson": canonical_json(envelope).decode("utf-8"),
        "encryptedPrivateKeyHash": envelope_hash(envelope),
        "otherChain": {
            "chainId": OTHER_CHAIN_ID,
            "unlockText": other_text,
            "unlockSignature": other_signature,
            "aesKey": "0x" + other_key.hex(),
            "opens": False,
        },
    }


def passphrase_envelope(plaintext: str) -> dict[str, Any]:
    """dmtp-scrypt-aes256gcm-v1 with a fixed salt and nonce."""
    import unicodedata

    salt = fixed("scrypt salt", 32)
    nonce = fixed("scrypt nonce", 12)
    password = unicodedata.normalize("NFKC", PASSPHRASE).encode("utf-8")
    key = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(password)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), None)
    envelope = {
        "version": SCRYPT_AES256GCM,
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": salt.hex(),
        "nonce": nonce.hex(),
        "ciphertext": ciphertext.hex(),
    }
    return {
        "passphrase": PASSPHRASE,
        "passphraseUtf8Hex": "0x" + password.hex(),
        "scryptKey": "0x" + key.hex(),
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
        "domainSeparator": "0x"
        + eip712.hash_struct("EIP712Domain", eip712.EIP712_DOMAIN_FIELDS, domain.as_eip712()).hex(),
        "structHash": "0x" + eip712.hash_struct(primary, fields, message).hex(),
    }


def registration_vector(
    domain: Domain,
    wallet: str,
    public_key: str,
    envelope: dict[str, Any],
    signature_type: str,
    key_type: str = "x25519",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "address": wallet,
        "keyType": key_type,
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


def erc6492_vector(domain: Domain, public_key: str, envelope: dict[str, Any]) -> dict[str, Any]:
    """A registration of a counterfactual smart account owned by the test wallet: the owner's EIP-712 signature,
    ERC-6492-wrapped with the factory call that deploys the account, and the deployless validator's eth_call
    arguments. `wallet` stands for the factory's CREATE2 address of the account (any address serves as a vector)."""
    from eth_abi import encode

    from dmtp_protocol.ethsig import keccak256, to_checksum_address

    owner = Account.from_key(WALLET_PRIVATE_KEY).address
    account = to_checksum_address("0x" + keccak256(b"dmtp-protocol-vector:counterfactual account")[12:].hex())
    calldata = keccak256(b"createAccount(address,uint256)")[:4] + encode(["address", "uint256"], [owner, ACCOUNT_SALT])
    signed = registration_vector(domain, account, public_key, envelope, "eip712")
    wrapped = wrap_erc6492(FACTORY, calldata, bytes.fromhex(signed["signature"][2:]))
    digest = bytes.fromhex(signed["digest"][2:])
    arguments = erc6492_calldata(account, digest, wrapped)[len(validator_bytecode()) :]
    return {
        "wallet": account,
        "owner": owner,
        "factory": FACTORY,
        "factoryCalldata": "0x" + calldata.hex(),
        "digest": signed["digest"],
        "innerSignature": signed["signature"],
        "magicSuffix": "0x" + "6492" * 16,
        "wrappedSignature": "0x" + wrapped.hex(),
        "validatorArguments": "0x" + arguments.hex(),
        "validatorBytecodeKeccak256": "0x" + keccak256(validator_bytecode()).hex(),
        "body": {**signed["body"], "Signature": "0x" + wrapped.hex()},
    }


def uncompressed_key() -> dict[str, str]:
    """A secp256k1 DMTP key in the 65-byte uncompressed form dmtp-sdk-react makes."""
    from coincurve import PrivateKey as Secp256k1PrivateKey

    secret = fixed("DMTP secp256k1 private key", 32)
    public = Secp256k1PrivateKey(secret).public_key
    return {
        "privateKey": "0x" + secret.hex(),
        "publicKeyUncompressed": "0x" + public.format(compressed=False).hex(),
        "publicKeyCompressed": "0x" + public.format(compressed=True).hex(),
    }


def build_vectors() -> dict[str, Any]:
    wallet = Account.from_key(WALLET_PRIVATE_KEY).address
    domain = Domain(CHAIN_ID, REGISTRY)
    dmtp = PrivateKey(fixed("DMTP private key", 32))
    dmtp_private = "0x" + bytes(dmtp).hex()
    dmtp_public = "0x" + bytes(dmtp.public_key).hex()
    x25519 = x25519_envelope(dmtp_private)
    aes = aes_envelope(dmtp_private, wallet)
    secp = uncompressed_key()
    scrypt = passphrase_envelope(secp["privateKey"])
    uncompressed = registration_vector(
        domain, wallet, secp["publicKeyUncompressed"], scrypt["envelope"], "eip712", "secp256k1"
    )
    return {
        "about": (
            "Test vectors of docs/PROTOCOL.md; written by docs/make_protocol_vectors.py,"
            " checked by tests/unit/test_protocol_vectors.py."
        ),
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
        "envelopes": {X25519_XSALSA20_POLY1305: x25519, EIP191_AES256GCM_HKDF: aes, SCRYPT_AES256GCM: scrypt},
        "registrations": {
            "eip712": registration_vector(domain, wallet, dmtp_public, x25519["envelope"], "eip712"),
            "eip191": registration_vector(domain, wallet, dmtp_public, aes["envelope"], "eip191"),
        },
        "secp256k1Uncompressed": {**secp, "registration": uncompressed},
        "erc6492": erc6492_vector(domain, dmtp_public, x25519["envelope"]),
        "revocation": revocation_vector(domain, wallet, dmtp_public),
        "transparencyLog": log_vectors(),  # §15 (docs/make_log_vectors.py; tests/unit/test_log_vectors.py)
        "verificationRules": rule_vectors(),  # §11 (docs/make_rule_vectors.py; tests/unit/test_rule_vectors.py)
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
    i, x, a = v["inputs"], v["envelopes"][X25519_XSALSA20_POLY1305], v["envelopes"][EIP191_AES256GCM_HKDF]
    pw, secp, w = v["envelopes"][SCRYPT_AES256GCM], v["secp256k1Uncompressed"], v["erc6492"]
    r712, r191, rev = v["registrations"]["eip712"], v["registrations"]["eip191"], v["revocation"]
    out = [
        "### Inputs\n\n",
        _values(
            [
                ("wallet private key", i["walletPrivateKey"]),
                ("wallet", i["wallet"]),
                ("DMTP private key (the plaintext of the x25519 and signature-derived envelopes)", i["dmtpPrivateKey"]),
                ("DMTP public key (X25519)", i["dmtpPublicKey"]),
            ]
        ),
    ]
    out += [
        "\n### Envelope `x25519-xsalsa20-poly1305`\n\n",
        _values(
            [
                ("wallet encryption public key (`eth_getEncryptionPublicKey`)", x["walletEncryptionPublicKey"]),
                ("ephemeral X25519 private key", x["ephemeralPrivateKey"]),
            ]
        ),
        "\n",
        _block("json", x["envelope"]),
        "\nIts canonical JSON and `encryptedPrivateKeyHash`:\n\n",
        _block("text", x["canonicalJson"]),
        "\n",
        _values([("keccak256", x["encryptedPrivateKeyHash"])]),
    ]
    o = a["otherChain"]
    out += [
        f"\n### Envelope `{EIP191_AES256GCM_HKDF}`\n\nUnlock text (personal_sign) for chain {i['chainId']}, the registry and "
        "the wallet above:\n\n",
        _block("text", a["unlockText"]),
        "\n",
        _values(
            [
                ("unlock signature (HKDF input keying material)", a["unlockSignature"]),
                ("HKDF info (UTF-8)", a["hkdfInfo"]),
                ("HKDF-SHA256 output (AES-256 key)", a["aesKey"]),
            ]
        ),
        "\n",
        _block("json", a["envelope"]),
        "\nIts canonical JSON and `encryptedPrivateKeyHash`:\n\n",
        _block("text", a["canonicalJson"]),
        "\n",
        _values([("keccak256", a["encryptedPrivateKeyHash"])]),
        f"\nThe same `preKey` signed for chain {o['chainId']} (another deployment) gives another key, and the envelope does not "
        "open with it (the GCM tag fails):\n\n",
        _block("text", o["unlockText"]),
        "\n",
        _values([("signature", o["unlockSignature"]), ("HKDF-SHA256 output", o["aesKey"])]),
    ]
    out += [
        f"\n### Envelope `{SCRYPT_AES256GCM}`\n\n",
        _values(
            [
                ("passphrase", pw["passphrase"]),
                (
                    "the same, JSON-escaped (NFKC composes `e` + U+0301 into U+00E9 and maps U+2460 to `1`)",
                    json.dumps(pw["passphrase"]),
                ),
                ("NFKC-normalised passphrase, UTF-8", pw["passphraseUtf8Hex"]),
                ("plaintext (the secp256k1 DMTP private key below)", pw["plaintext"]),
                ("scrypt output (AES-256 key)", pw["scryptKey"]),
            ]
        ),
        "\n",
        _block("json", pw["envelope"]),
        "\nIts canonical JSON and `encryptedPrivateKeyHash`:\n\n",
        _block("text", pw["canonicalJson"]),
        "\n",
        _values([("keccak256", pw["encryptedPrivateKeyHash"])]),
    ]
    ru = secp["registration"]
    out += [
        "\n### Registration of an uncompressed secp256k1 key (`eip712`, passphrase envelope)\n\n",
        _values(
            [
                ("secp256k1 DMTP private key", secp["privateKey"]),
                ("its public key, uncompressed (registered and signed as is)", secp["publicKeyUncompressed"]),
                (
                    "the same point compressed (a different `DMTPpubKey`, so a different registration)",
                    secp["publicKeyCompressed"],
                ),
            ]
        ),
        "\nTyped data:\n\n",
        _block("json", ru["typedData"]),
        "\n",
        _values(
            [("struct hash", ru["eip712"]["structHash"]), ("digest", ru["digest"]), ("signature", ru["signature"])]
        ),
        "\nRequest body:\n\n",
        _block("json", ru["body"]),
        "\nDocument bytes:\n\n",
        _block("text", ru["document"]),
        "\n",
        _values([("sha256", ru["documentSha256"]), ("CID", ru["cid"])]),
    ]
    out += [
        "\n### ERC-6492: a smart account that is not deployed yet\n\n",
        _values(
            [
                ("wallet (the account's counterfactual address)", w["wallet"]),
                ("its owner (the test wallet)", w["owner"]),
                ("factory", w["factory"]),
                ("factory calldata (`createAccount(owner, 0)`)", w["factoryCalldata"]),
                ("digest (EIP-712 `KeyRegistration` of the x25519 key for this wallet)", w["digest"]),
                ("the owner's signature (what the account's ERC-1271 accepts)", w["innerSignature"]),
                ("magic suffix", w["magicSuffix"]),
                ("wrapped signature: abi.encode(factory, calldata, signature) ++ suffix", w["wrappedSignature"]),
                (
                    "validator arguments: abi.encode(wallet, digest, wrapped signature), appended to the validator's creation code",
                    w["validatorArguments"],
                ),
                (
                    "keccak256 of the validator's creation code"
                    " (`packages/dmtp-protocol/src/dmtp_protocol/contracts/ValidateSigOffchain.json`)",
                    w["validatorBytecodeKeccak256"],
                ),
            ]
        ),
        "\nRequest body:\n\n",
        _block("json", w["body"]),
    ]
    out += [
        "\n### Registration, `eip712` (x25519 envelope)\n\nTyped data (`eth_signTypedData_v4`):\n\n",
        _block("json", r712["typedData"]),
        "\n",
        _values(
            [
                ("encoded type", r712["eip712"]["encodedType"]),
                ("type hash", r712["eip712"]["typeHash"]),
                ("domain separator", r712["eip712"]["domainSeparator"]),
                ("struct hash", r712["eip712"]["structHash"]),
                ("digest", r712["digest"]),
                ("signature", r712["signature"]),
            ]
        ),
        "\nRequest body:\n\n",
        _block("json", r712["body"]),
        "\nDocument bytes (one line, no trailing newline):\n\n",
        _block("text", r712["document"]),
        "\n",
        _values([("sha256", r712["documentSha256"]), ("CID", r712["cid"])]),
    ]
    out += [
        "\n### Registration, `eip191` (AES envelope)\n\nText (`personal_sign`):\n\n",
        _block("text", r191["text"]),
        "\n",
        _values([("digest", r191["digest"]), ("signature", r191["signature"])]),
        "\nRequest body:\n\n",
        _block("json", r191["body"]),
        "\nDocument bytes (one line, no trailing newline):\n\n",
        _block("text", r191["document"]),
        "\n",
        _values([("sha256", r191["documentSha256"]), ("CID", r191["cid"])]),
    ]
    out += [
        "\n### Revocation of version 1 (version 2, `issuedAt` 1800000600)\n\nTyped data:\n\n",
        _block("json", rev["typedData"]),
        "\n",
        _values(
            [
                ("encoded type", rev["eip712"]["encodedType"]),
                ("type hash", rev["eip712"]["typeHash"]),
                ("struct hash", rev["eip712"]["structHash"]),
                ("digest", rev["digest"]),
                ("signature", rev["signature"]),
            ]
        ),
        "\nRequest body (`POST /keys/0x2c7536E3605D9C16a7a3D7b1898e529396a65c23/revocation`):\n\n",
        _block("json", rev["body"]),
        '\nThe same revocation signed as `eip191` (`signatureType: "eip191"`), text:\n\n',
        _block("text", rev["eip191"]["text"]),
        "\n",
        _values([("digest", rev["eip191"]["digest"]), ("signature", rev["eip191"]["signature"])]),
    ]
    out.append(rule_markdown(v["verificationRules"]))
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
