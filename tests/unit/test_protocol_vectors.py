"""docs/protocol-vectors.json and the vectors in docs/PROTOCOL.md are what the registry's code computes.

Every output is recomputed here from the vector's inputs, with the protocol code and, independently, with
eth_account (EIP-712 / EIP-191 hashing and RFC 6979 signing), PyNaCl and `cryptography`; then the Markdown is
checked to show the same values. The last test has ethers v6 and @metamask/eth-sig-util recompute them too.
"""

import base64
import copy
import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from coincurve import PrivateKey as CoincurvePrivateKey
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_utils import keccak
from nacl.public import Box, PrivateKey, PublicKey

from chalicelib.api.signatures import SignatureVerifier
from dmtp_key_registry_client import passphrase_envelope, wallet_envelope
from dmtp_protocol import eip712
from dmtp_protocol.canonical import canonical_json
from dmtp_protocol.cid import cid_for_bytes
from dmtp_protocol.envelopes import parse_envelope
from dmtp_protocol.ethsig import recover_address
from dmtp_protocol.messages import (
    REGISTRATION_FIELDS,
    REGISTRATION_TYPE,
    REVOCATION_FIELDS,
    REVOCATION_TYPE,
    ClockRules,
    Domain,
    check_clock,
    envelope_hash,
    parse_registration,
    parse_revocation,
    pinned_document,
    registration_from_document,
    registration_message,
    revocation_message,
    signed_text,
    signing_digest,
    typed_data,
)
from dmtp_protocol.smart_wallets import erc6492_calldata, validator_bytecode

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
VECTORS = json.loads((DOCS / "protocol-vectors.json").read_text())
MARKDOWN = (DOCS / "PROTOCOL.md").read_text()
INPUTS = VECTORS["inputs"]
DOMAIN = Domain(INPUTS["chainId"], INPUTS["registry"])
ACCOUNT = Account.from_key(INPUTS["walletPrivateKey"])
X25519 = VECTORS["envelopes"]["x25519-xsalsa20-poly1305"]
AES = VECTORS["envelopes"]["dmtp-eip191-aes256gcm-hkdf-v1"]
PASSPHRASE = VECTORS["envelopes"]["dmtp-scrypt-aes256gcm-v1"]
SECP = VECTORS["secp256k1Uncompressed"]
ERC6492 = VECTORS["erc6492"]
UNLOCK_TEXT = (  # docs/PROTOCOL.md section 3, written out
    "DMTP Key Registry: unlock my DMTP private key.\n\n"
    "Sign this only in a DMTP app: this signature opens your DMTP private key.\n\n"
    "Wallet: {wallet}\nChain ID: {chain_id}\nRegistry: {registry}\nKey: 0x{pre_key}"
)


def hex0x(data: bytes) -> str:
    return "0x" + bytes(data).hex()


def eth_account_digest(signature_type: str, primary: str, message: dict[str, Any]) -> bytes:
    """The digest as eth_account computes it (its own EIP-712 / EIP-191 code, not ours)."""
    if signature_type == "eip712":
        signable = encode_typed_data(full_message=typed_data(primary, message, DOMAIN))
    else:
        signable = encode_defunct(text=signed_text(primary, message, DOMAIN))
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def eth_account_sign(signature_type: str, primary: str, message: dict[str, Any]) -> str:
    if signature_type == "eip712":
        signable = encode_typed_data(full_message=typed_data(primary, message, DOMAIN))
    else:
        signable = encode_defunct(text=signed_text(primary, message, DOMAIN))
    return hex0x(ACCOUNT.sign_message(signable).signature)


def load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("make_protocol_vectors", DOCS / "make_protocol_vectors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- inputs and envelopes


def test_the_wallet_is_the_fixed_keys_address():
    assert ACCOUNT.address == INPUTS["wallet"]


def test_the_dmtp_public_key_is_the_x25519_public_key_of_the_dmtp_private_key():
    private = PrivateKey(bytes.fromhex(INPUTS["dmtpPrivateKey"][2:]))
    assert hex0x(bytes(private.public_key)) == INPUTS["dmtpPublicKey"]


def test_x25519_envelope_is_crypto_box_to_the_wallets_encryption_public_key():
    wallet_secret = PrivateKey(bytes.fromhex(INPUTS["walletPrivateKey"][2:]))
    assert hex0x(bytes(wallet_secret.public_key)) == hex0x(base64.b64decode(X25519["walletEncryptionPublicKey"]))
    ephemeral = PrivateKey(bytes.fromhex(X25519["ephemeralPrivateKey"][2:]))
    nonce = base64.b64decode(X25519["envelope"]["nonce"])
    sealed = Box(ephemeral, wallet_secret.public_key).encrypt(INPUTS["dmtpPrivateKey"].encode(), nonce).ciphertext
    assert base64.b64encode(sealed).decode() == X25519["envelope"]["ciphertext"]
    assert base64.b64encode(bytes(ephemeral.public_key)).decode() == X25519["envelope"]["ephemPublicKey"]
    opened = Box(wallet_secret, PublicKey(bytes(ephemeral.public_key))).decrypt(sealed, nonce)
    assert opened.decode() == X25519["plaintext"] == INPUTS["dmtpPrivateKey"]


def test_aes_envelope_is_aes_gcm_under_hkdf_of_the_wallets_unlock_signature_for_this_registry_and_wallet():
    envelope = AES["envelope"]
    assert AES["unlockText"] == UNLOCK_TEXT.format(
        wallet=INPUTS["wallet"], chain_id=INPUTS["chainId"], registry=INPUTS["registry"], pre_key=envelope["preKey"]
    )
    assert (
        wallet_envelope.unlock_text(
            bytes.fromhex(envelope["preKey"]), INPUTS["chainId"], INPUTS["registry"], INPUTS["wallet"].lower()
        )
        == AES["unlockText"]
    )
    signature = hex0x(ACCOUNT.sign_message(encode_defunct(text=AES["unlockText"])).signature)
    assert signature == AES["unlockSignature"]
    assert AES["hkdfInfo"] == envelope["version"] == "dmtp-eip191-aes256gcm-hkdf-v1"
    key = HKDF(hashes.SHA256(), 32, bytes.fromhex(envelope["salt"]), AES["hkdfInfo"].encode()).derive(
        bytes.fromhex(signature[2:])
    )
    assert hex0x(key) == AES["aesKey"]
    sealed = AESGCM(key).encrypt(bytes.fromhex(envelope["nonce"]), INPUTS["dmtpPrivateKey"].encode(), None)
    assert sealed.hex() == envelope["ciphertext"]
    assert AESGCM(key).decrypt(bytes.fromhex(envelope["nonce"]), sealed, None).decode() == AES["plaintext"]
    domain = dict(chain_id=INPUTS["chainId"], registry=INPUTS["registry"], wallet=INPUTS["wallet"])
    assert wallet_envelope.decrypt(envelope, INPUTS["walletPrivateKey"], **domain) == AES["plaintext"]


def test_aes_envelope_does_not_open_with_the_unlock_signature_made_for_another_chain():
    other, envelope = AES["otherChain"], AES["envelope"]
    assert other["unlockText"] == UNLOCK_TEXT.format(
        wallet=INPUTS["wallet"], chain_id=other["chainId"], registry=INPUTS["registry"], pre_key=envelope["preKey"]
    )
    assert hex0x(ACCOUNT.sign_message(encode_defunct(text=other["unlockText"])).signature) == other["unlockSignature"]
    key = HKDF(hashes.SHA256(), 32, bytes.fromhex(envelope["salt"]), AES["hkdfInfo"].encode()).derive(
        bytes.fromhex(other["unlockSignature"][2:])
    )
    assert hex0x(key) == other["aesKey"] != AES["aesKey"]
    with pytest.raises(InvalidTag):
        AESGCM(key).decrypt(bytes.fromhex(envelope["nonce"]), bytes.fromhex(envelope["ciphertext"]), None)
    with pytest.raises(ValueError, match="decryption failed"):
        wallet_envelope.decrypt(
            envelope,
            INPUTS["walletPrivateKey"],
            chain_id=other["chainId"],
            registry=INPUTS["registry"],
            wallet=INPUTS["wallet"],
        )
    assert other["opens"] is False


def test_passphrase_envelope_is_aes_gcm_under_scrypt_of_the_nfkc_passphrase():
    envelope = PASSPHRASE["envelope"]
    assert (envelope["n"], envelope["r"], envelope["p"]) == (2**17, 8, 1)
    password = unicodedata.normalize("NFKC", PASSPHRASE["passphrase"]).encode()
    assert hex0x(password) == PASSPHRASE["passphraseUtf8Hex"] and password.endswith("café 1".encode())
    key = Scrypt(
        salt=bytes.fromhex(envelope["salt"]), length=32, n=envelope["n"], r=envelope["r"], p=envelope["p"]
    ).derive(password)
    assert hex0x(key) == PASSPHRASE["scryptKey"]
    sealed = AESGCM(key).encrypt(bytes.fromhex(envelope["nonce"]), PASSPHRASE["plaintext"].encode(), None)
    assert sealed.hex() == envelope["ciphertext"]
    assert (
        passphrase_envelope.decrypt(envelope, PASSPHRASE["passphrase"]) == PASSPHRASE["plaintext"] == SECP["privateKey"]
    )
    composed = unicodedata.normalize("NFC", PASSPHRASE["passphrase"])  # the same text typed another way opens it too
    assert (
        composed != PASSPHRASE["passphrase"]
        and passphrase_envelope.decrypt(envelope, composed) == PASSPHRASE["plaintext"]
    )


@pytest.mark.parametrize("vector", [X25519, AES, PASSPHRASE], ids=["x25519", "aes", "passphrase"])
def test_envelope_passes_the_servers_checks_and_hashes_to_its_encrypted_private_key_hash(vector):
    assert parse_envelope(copy.deepcopy(vector["envelope"])) == vector["envelope"]
    assert canonical_json(vector["envelope"]).decode() == vector["canonicalJson"]
    assert envelope_hash(vector["envelope"]) == vector["encryptedPrivateKeyHash"]


# ---------------------------------------------------------------- uncompressed secp256k1 keys and ERC-6492


def test_the_uncompressed_secp256k1_key_is_the_private_keys_point_and_registers_exactly_as_signed():
    public = CoincurvePrivateKey(bytes.fromhex(SECP["privateKey"][2:])).public_key
    assert SECP["publicKeyUncompressed"] == hex0x(public.format(compressed=False)) and SECP[
        "publicKeyUncompressed"
    ].startswith("0x04")
    assert SECP["publicKeyCompressed"] == hex0x(public.format(compressed=True))
    vector = SECP["registration"]
    registration = parse_registration(copy.deepcopy(vector["body"]))
    assert registration.public_key == vector["message"]["publicKey"] == SECP["publicKeyUncompressed"]
    digest = signing_digest(REGISTRATION_TYPE, registration_message(registration), DOMAIN, "eip712")
    assert (
        hex0x(digest) == vector["digest"]
        and eth_account_digest("eip712", REGISTRATION_TYPE, vector["message"]) == digest
    )
    assert eth_account_sign("eip712", REGISTRATION_TYPE, vector["message"]) == vector["signature"]
    document = pinned_document(registration, DOMAIN)
    assert document.decode() == vector["document"] and cid_for_bytes(document) == vector["cid"]
    assert json.loads(document)["DMTPpubKey"] == SECP["publicKeyUncompressed"]


def test_the_erc6492_signature_is_the_abi_encoded_wrapping_and_the_validator_arguments_follow_it():
    inner = bytes.fromhex(ERC6492["innerSignature"][2:])
    calldata = bytes.fromhex(ERC6492["factoryCalldata"][2:])
    assert calldata == keccak(b"createAccount(address,uint256)")[:4] + encode(
        ["address", "uint256"], [ERC6492["owner"], 0]
    )
    wrapped = encode(["address", "bytes", "bytes"], [ERC6492["factory"], calldata, inner]) + bytes.fromhex(
        ERC6492["magicSuffix"][2:]
    )
    assert hex0x(wrapped) == ERC6492["wrappedSignature"] == ERC6492["body"]["Signature"]
    assert ERC6492["magicSuffix"] == "0x" + "6492" * 16
    registration = parse_registration(copy.deepcopy(ERC6492["body"]))
    digest = signing_digest(REGISTRATION_TYPE, registration_message(registration), DOMAIN, "eip712")
    assert hex0x(digest) == ERC6492["digest"] and recover_address(digest, ERC6492["innerSignature"]) == ERC6492["owner"]
    arguments = encode(["address", "bytes32", "bytes"], [ERC6492["wallet"], digest, wrapped])
    assert hex0x(arguments) == ERC6492["validatorArguments"]
    assert hex0x(keccak(validator_bytecode())) == ERC6492["validatorBytecodeKeccak256"]
    assert erc6492_calldata(ERC6492["wallet"], digest, wrapped) == validator_bytecode() + arguments


# ---------------------------------------------------------------- registrations and revocation


@pytest.mark.parametrize("signature_type", ["eip712", "eip191"])
def test_registration_message_digest_and_signature(signature_type):
    vector = VECTORS["registrations"][signature_type]
    registration = parse_registration(copy.deepcopy(vector["body"]))
    message = registration_message(registration)
    assert message == vector["message"]
    digest = signing_digest(REGISTRATION_TYPE, message, DOMAIN, signature_type)
    assert hex0x(digest) == vector["digest"]
    assert eth_account_digest(signature_type, REGISTRATION_TYPE, message) == digest
    assert (
        eth_account_sign(signature_type, REGISTRATION_TYPE, message)
        == vector["signature"]
        == vector["body"]["Signature"]
    )
    assert recover_address(digest, vector["signature"]) == INPUTS["wallet"]


def test_registration_typed_data_and_its_intermediate_hashes():
    vector = VECTORS["registrations"]["eip712"]
    message = vector["message"]
    assert typed_data(REGISTRATION_TYPE, message, DOMAIN) == vector["typedData"]
    parts = vector["eip712"]
    assert eip712.encode_type(REGISTRATION_TYPE, REGISTRATION_FIELDS) == parts["encodedType"]
    assert hex0x(eip712.type_hash(REGISTRATION_TYPE, REGISTRATION_FIELDS)) == parts["typeHash"]
    assert (
        hex0x(eip712.hash_struct("EIP712Domain", eip712.EIP712_DOMAIN_FIELDS, DOMAIN.as_eip712()))
        == parts["domainSeparator"]
    )
    assert hex0x(eip712.hash_struct(REGISTRATION_TYPE, REGISTRATION_FIELDS, message)) == parts["structHash"]


def test_registration_personal_sign_text():
    vector = VECTORS["registrations"]["eip191"]
    assert signed_text(REGISTRATION_TYPE, vector["message"], DOMAIN) == vector["text"]
    assert "Issued At: 2027-01-15T08:00:00Z\nExpiration Time: never" in vector["text"]


@pytest.mark.parametrize("signature_type", ["eip712", "eip191"])
def test_registration_document_bytes_and_cid(signature_type):
    vector = VECTORS["registrations"][signature_type]
    registration = parse_registration(copy.deepcopy(vector["body"]))
    document = pinned_document(registration, DOMAIN)
    assert document.decode() == vector["document"]
    assert hex0x(hashlib.sha256(document).digest()) == vector["documentSha256"]
    assert cid_for_bytes(document) == vector["cid"]
    assert registration_from_document(json.loads(document)) == (registration, DOMAIN)


@pytest.mark.parametrize("signature_type", ["eip712", "eip191"])
def test_the_servers_verification_path_accepts_the_vector_at_its_issued_at(signature_type):
    vector = VECTORS["registrations"][signature_type]
    registration = parse_registration(copy.deepcopy(vector["body"]))
    check_clock(registration.issued_at, registration.expires_at, INPUTS["issuedAt"], ClockRules())
    digest = signing_digest(REGISTRATION_TYPE, registration_message(registration), DOMAIN, signature_type)
    assert (
        SignatureVerifier(None, INPUTS["chainId"]).verify(INPUTS["wallet"], digest, registration.signature).method
        == "ecdsa"
    )


def test_revocation_vector():
    vector = VECTORS["revocation"]
    revocation = parse_revocation(copy.deepcopy(vector["body"]))
    message = revocation_message(revocation, INPUTS["dmtpPublicKey"])
    assert message == vector["message"]
    assert typed_data(REVOCATION_TYPE, message, DOMAIN) == vector["typedData"]
    parts = vector["eip712"]
    assert eip712.encode_type(REVOCATION_TYPE, REVOCATION_FIELDS) == parts["encodedType"]
    assert hex0x(eip712.type_hash(REVOCATION_TYPE, REVOCATION_FIELDS)) == parts["typeHash"]
    assert hex0x(eip712.hash_struct(REVOCATION_TYPE, REVOCATION_FIELDS, message)) == parts["structHash"]
    digest = signing_digest(REVOCATION_TYPE, message, DOMAIN, "eip712")
    assert hex0x(digest) == vector["digest"] and eth_account_digest("eip712", REVOCATION_TYPE, message) == digest
    assert eth_account_sign("eip712", REVOCATION_TYPE, message) == vector["signature"] == vector["body"]["Signature"]
    text = vector["eip191"]
    assert signed_text(REVOCATION_TYPE, message, DOMAIN) == text["text"]
    text_digest = signing_digest(REVOCATION_TYPE, message, DOMAIN, "eip191")
    assert (
        hex0x(text_digest) == text["digest"] and eth_account_digest("eip191", REVOCATION_TYPE, message) == text_digest
    )
    assert eth_account_sign("eip191", REVOCATION_TYPE, message) == text["signature"]
    assert recover_address(text_digest, text["signature"]) == INPUTS["wallet"]


# ---------------------------------------------------------------- the files agree


def test_the_generator_reproduces_the_json_file():
    assert load_generator().build_vectors() == VECTORS


def test_the_generator_reproduces_the_markdown_section():
    generator = load_generator()
    section = MARKDOWN.split(generator.BEGIN, 1)[1].split(generator.END, 1)[0]
    assert section == "\n" + generator.markdown(VECTORS)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _json_blocks() -> list[Any]:
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", MARKDOWN, flags=re.S)]


def test_the_markdown_shows_every_vector_value():
    vectors = {key: value for key, value in VECTORS.items() if key != "about"}
    missing = [value for value in _strings(vectors) if value not in MARKDOWN]
    assert missing == []


def test_the_markdown_shows_every_typed_data_body_and_envelope_as_json():
    blocks = _json_blocks()
    registrations = VECTORS["registrations"].values()
    expected = [
        X25519["envelope"],
        AES["envelope"],
        PASSPHRASE["envelope"],
        VECTORS["revocation"]["typedData"],
        VECTORS["revocation"]["body"],
    ]
    expected += [SECP["registration"]["typedData"], SECP["registration"]["body"], ERC6492["body"]]
    expected += [vector["body"] for vector in registrations] + [VECTORS["registrations"]["eip712"]["typedData"]]
    assert [value for value in expected if value not in blocks] == []


def test_the_markdown_shows_each_document_and_text_as_its_own_block():
    texts = re.findall(r"```text\n(.*?)\n```", MARKDOWN, flags=re.S)
    wanted = [vector["document"] for vector in VECTORS["registrations"].values()]
    wanted += [VECTORS["registrations"]["eip191"]["text"], VECTORS["revocation"]["eip191"]["text"], AES["unlockText"]]
    wanted += [AES["otherChain"]["unlockText"], SECP["registration"]["document"]]
    assert [value for value in wanted if value not in texts] == []


NODE = shutil.which("node")


@pytest.mark.skipif(
    NODE is None
    or not (ROOT / "node_modules" / "ethers").is_dir()
    or not (ROOT / "node_modules" / "@metamask" / "eth-sig-util").is_dir(),
    reason="needs node and `npm ci` (ethers, @metamask/eth-sig-util)",
)
def test_javascript_libraries_reproduce_the_vectors():
    done = subprocess.run(
        [NODE, str(DOCS / "verify_protocol_vectors.js")], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    answer = json.loads(done.stdout or "{}")
    assert done.returncode == 0 and answer.get("ok"), answer.get("error") or done.stderr
    assert answer["checked"] >= 74
