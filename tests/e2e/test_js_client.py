"""The JavaScript client (clients/js, @dmtp/key-registry-client) as part of `make test`:

* its node tests (`node --test`): every protocol vector, envelopes, client, verify and watchWallet decisions;
* its declarations type-check (`tsc --noEmit`), and the committed browser bundle is a fresh build within budget;
* Python ↔ JS: envelopes and signed bodies made by one client are opened/accepted by the other;
* register → confirmed → verify against the running local stack (chalice local + worker + Anvil + moto);
* the committed bundle recomputing protocol vectors in headless Chromium (WebCrypto, noble, no imports).
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest

from dmtp_key_registry_client.envelope import open_envelope, seal
from dmtp_key_registry_client.keys import DmtpKeyPair
from dmtp_key_registry_client.registry_client import build_registration, build_revocation, wallet_address
from dmtp_protocol.ethsig import recover_address
from dmtp_protocol.messages import (
    REGISTRATION_TYPE,
    REVOCATION_TYPE,
    Domain,
    parse_registration,
    parse_revocation,
    registration_message,
    revocation_message,
    signing_digest,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
JS_DIR = REPO_ROOT / "clients" / "js"
BUNDLE = REPO_ROOT / "chalicelib" / "api" / "static" / "dmtp-client.js"
BUDGET_GZIP_BYTES = 60 * 1024
NODE = shutil.which("node")
WALLET_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Anvil's first dev account
CHAIN_ID = 31337
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ENVELOPES = ("x25519-xsalsa20-poly1305", "dmtp-eip191-aes256gcm-hkdf-v1", "dmtp-scrypt-aes256gcm-v1")
PASSPHRASE = "tulip ladder ochre gravity 42 zeppelin"
DOMAIN_OPTIONS = {"chain_id": CHAIN_ID, "registry": REGISTRY, "passphrase": PASSPHRASE}  # what each envelope needs
JS_DOMAIN_OPTIONS = {"chainId": CHAIN_ID, "registry": REGISTRY, "passphrase": PASSPHRASE}
UNIT_TEST_FILES = ("vectors", "envelopes", "client", "verify", "watch", "signers", "no-webcrypto")
FEWEST_TESTS = {"no-webcrypto": 5}  # each file's floor (default 10), so a file that stops running its tests is caught
# The entry points: the /abi entry is the compiled contract's, verify's secp256k1 and X25519 rules agree with noble's,
# and `npm run size` meets its targets (lookup ≤ 3 KB, verify ≤ 20 KB, everything ≤ 45 KB gzipped; one noble with viem).
ENTRY_POINT_TEST_FILES = ("abi", "curves", "size")

pytestmark = pytest.mark.skipif(
    NODE is None
    or not (JS_DIR / "node_modules" / "@noble" / "curves").is_dir()
    or not (REPO_ROOT / "node_modules" / "ethers").is_dir(),
    reason="needs node, `npm ci` and `npm ci --prefix clients/js` (make setup)",
)


def tap_counts(output: str) -> dict[str, int]:
    """The summary of node's TAP reporter: {"tests", "pass", "fail", "skipped", ...}."""
    return {name: int(count) for name, count in re.findall(r"^# (\w+) (\d+)$", output, re.MULTILINE)}


def node_test(path: str, runner: list[str] | None = None, timeout: int = 120) -> dict[str, int]:
    command = [*(runner or []), NODE, "--test", "--test-reporter=tap", path]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
    counts = tap_counts(done.stdout)
    assert done.returncode == 0 and counts.get("fail") == 0, f"{path}: {done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    return counts


def js(request: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [NODE, "clients/js/test/interop-cli.js"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert done.returncode == 0, f"interop-cli {request['op']} failed: {done.stdout} {done.stderr}"
    return json.loads(done.stdout)


# ---------------------------------------------------------------- the package's own tests, types and bundle


@pytest.mark.parametrize("name", UNIT_TEST_FILES)
def test_node_unit_tests_pass(name: str) -> None:
    counts = node_test(f"clients/js/test/{name}.test.js")
    assert counts["pass"] >= FEWEST_TESTS.get(name, 10) and counts["skipped"] == 0, counts


@pytest.mark.parametrize("name", ENTRY_POINT_TEST_FILES)
def test_node_tests_of_the_entry_points_pass(name: str) -> None:
    counts = node_test(f"clients/js/test/{name}.test.js")
    assert counts["pass"] >= 3 and counts["skipped"] == 0, counts


def test_type_declarations_check_with_tsc_no_emit() -> None:
    done = subprocess.run(
        [str(JS_DIR / "node_modules" / ".bin" / "tsc"), "--noEmit", "-p", "tsconfig.json"],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_committed_browser_bundle_is_a_fresh_build_within_the_size_budget(tmp_path: Path) -> None:
    fresh = tmp_path / "dmtp-client.js"
    done = subprocess.run(
        [NODE, "scripts/build.js", "--outfile", str(fresh), "--json"],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(done.stdout)
    assert fresh.read_bytes() == BUNDLE.read_bytes(), (
        "chalicelib/api/static/dmtp-client.js is stale: run `npm run build` in clients/js"
    )
    assert 0 < figures["gzipBytes"] <= BUDGET_GZIP_BYTES, figures
    assert not re.search(rb"""(?:^|[;}])\s*import\s*[{*"']|\bimport\s*\(""", BUNDLE.read_bytes()), (
        "the bundle must not import anything"
    )


# ---------------------------------------------------------------- envelopes: Python ↔ JS


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_python_made_envelope_opens_in_js(envelope: str) -> None:
    dmtp = DmtpKeyPair.generate()
    sealed = seal(envelope, bytes.fromhex(WALLET_KEY[2:]), dmtp.private_key_hex, **DOMAIN_OPTIONS)

    opened = js({"op": "open", "walletPrivateKey": WALLET_KEY, "source": sealed, **JS_DOMAIN_OPTIONS})

    assert opened["privateKey"] == dmtp.private_key_hex


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_js_made_envelope_opens_in_python(envelope: str) -> None:
    dmtp = DmtpKeyPair.generate("secp256k1")
    sealed = js(
        {
            "op": "seal",
            "walletPrivateKey": WALLET_KEY,
            "privateKey": dmtp.private_key_hex,
            "envelope": envelope,
            **JS_DOMAIN_OPTIONS,
        }
    )["envelope"]

    assert sealed["version"] == envelope
    assert open_envelope(sealed, bytes.fromhex(WALLET_KEY[2:]), **DOMAIN_OPTIONS) == dmtp.private_key_hex


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_python_registration_body_opens_in_js_against_its_public_key(envelope: str) -> None:
    body, dmtp = build_registration(
        WALLET_KEY, CHAIN_ID, REGISTRY, envelope=envelope, key_type="secp256k1", passphrase=PASSPHRASE
    )

    assert (
        js({"op": "open", "walletPrivateKey": WALLET_KEY, "source": body, **JS_DOMAIN_OPTIONS})["privateKey"]
        == dmtp.private_key_hex
    )


def test_passphrase_envelope_made_in_js_opens_in_python_and_one_made_in_python_opens_in_js() -> None:
    """No wallet at all: the envelope a smart or passkey wallet's user keeps the key in (docs/PROTOCOL.md section 3)."""
    from dmtp_key_registry_client import passphrase_envelope

    from_js = DmtpKeyPair.generate("secp256k1")
    sealed_in_js = js(
        {
            "op": "seal",
            "privateKey": from_js.private_key_hex,
            "envelope": "dmtp-scrypt-aes256gcm-v1",
            "passphrase": "cafe\u0301 " + PASSPHRASE,
        }
    )
    assert (
        passphrase_envelope.decrypt(sealed_in_js["envelope"], "caf\u00e9 " + PASSPHRASE) == from_js.private_key_hex
    )  # NFKC both sides

    from_python = DmtpKeyPair.generate()
    sealed_in_python = passphrase_envelope.encrypt(PASSPHRASE, from_python.private_key_hex)
    assert (
        js({"op": "open", "source": sealed_in_python, "passphrase": PASSPHRASE})["privateKey"]
        == from_python.private_key_hex
    )
    done = subprocess.run(
        [NODE, "clients/js/test/interop-cli.js"],
        input=json.dumps({"op": "open", "source": sealed_in_python, "passphrase": PASSPHRASE + "!"}),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert done.returncode == 1 and "decryption failed" in json.loads(done.stdout)["error"]


def test_js_registration_of_an_uncompressed_secp256k1_key_passes_the_server_parser_as_signed() -> None:
    made = js(
        {
            "op": "registration",
            "walletPrivateKey": WALLET_KEY,
            "chainId": CHAIN_ID,
            "registry": REGISTRY,
            "version": 1,
            "envelope": "dmtp-scrypt-aes256gcm-v1",
            "passphrase": PASSPHRASE,
            "signatureType": "eip712",
            "keyType": "secp256k1",
            "compressed": False,
        }
    )
    registration = parse_registration(made["body"])
    assert registration.public_key == made["key"]["publicKey"] and len(registration.public_key) == 2 + 130
    digest = signing_digest(REGISTRATION_TYPE, registration_message(registration), Domain(CHAIN_ID, REGISTRY), "eip712")
    assert recover_address(digest, registration.signature) == wallet_address(WALLET_KEY)


# ---------------------------------------------------------------- signed bodies: Python ↔ JS


@pytest.mark.parametrize("signature_type", ("eip712", "eip191"))
@pytest.mark.parametrize("envelope", ENVELOPES)
def test_js_registration_body_passes_the_server_parser_and_recovers_to_the_wallet(
    signature_type: str, envelope: str
) -> None:
    made = js(
        {
            "op": "registration",
            "walletPrivateKey": WALLET_KEY,
            "chainId": CHAIN_ID,
            "registry": REGISTRY,
            "version": 4,
            "envelope": envelope,
            "signatureType": signature_type,
            "keyType": "x25519",
            "expiresAt": 1900000000,
            "passphrase": PASSPHRASE,
        }
    )
    registration = parse_registration(made["body"])
    digest = signing_digest(
        REGISTRATION_TYPE, registration_message(registration), Domain(CHAIN_ID, REGISTRY), signature_type
    )

    assert recover_address(digest, registration.signature) == wallet_address(WALLET_KEY)
    assert registration.public_key == made["key"]["publicKey"]
    assert (
        open_envelope(made["body"]["DMTPpriKey"], bytes.fromhex(WALLET_KEY[2:]), **DOMAIN_OPTIONS)
        == made["key"]["privateKey"]
    )


@pytest.mark.parametrize("signature_type", ("eip712", "eip191"))
def test_js_revocation_body_recovers_to_the_wallet_through_the_server_digest(signature_type: str) -> None:
    public_key = DmtpKeyPair.generate().public_key_hex
    made = js(
        {
            "op": "revocation",
            "walletPrivateKey": WALLET_KEY,
            "chainId": CHAIN_ID,
            "registry": REGISTRY,
            "revokedVersion": 2,
            "revokedPublicKey": public_key,
            "signatureType": signature_type,
        }
    )["body"]
    revocation = parse_revocation(made)
    digest = signing_digest(
        REVOCATION_TYPE, revocation_message(revocation, public_key), Domain(CHAIN_ID, REGISTRY), signature_type
    )

    assert recover_address(digest, revocation.signature) == wallet_address(WALLET_KEY)


@pytest.mark.parametrize("signature_type", ("eip712", "eip191"))
def test_python_signed_bodies_recover_to_the_wallet_in_js(signature_type: str) -> None:
    body, _ = build_registration(WALLET_KEY, CHAIN_ID, REGISTRY, signature_type=signature_type)
    public_key = body["DMTPpubKey"]
    revocation = build_revocation(WALLET_KEY, CHAIN_ID, REGISTRY, 1, public_key, signature_type=signature_type)

    registration_signer = js({"op": "signer", "body": body, "chainId": CHAIN_ID, "registry": REGISTRY})
    revocation_signer = js(
        {"op": "signer", "body": revocation, "chainId": CHAIN_ID, "registry": REGISTRY, "revokedPublicKey": public_key}
    )

    assert registration_signer["signer"] == revocation_signer["signer"] == wallet_address(WALLET_KEY)
    message = registration_message(parse_registration(body))
    assert (
        registration_signer["digest"]
        == "0x" + signing_digest(REGISTRATION_TYPE, message, Domain(CHAIN_ID, REGISTRY), signature_type).hex()
    )


# ---------------------------------------------------------------- the real local stack


def test_register_confirm_verify_revoke_against_the_running_local_stack() -> None:
    counts = node_test(
        "clients/js/test/stack.test.js", runner=[sys.executable, "-m", "tests.support.js_stack_runner"], timeout=400
    )

    assert counts["pass"] == counts["tests"] >= 9 and counts["skipped"] == 0, counts


# ---------------------------------------------------------------- the committed bundle in a real browser

CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_committed_bundle_recomputes_the_vectors_in_headless_chromium() -> None:
    handler = functools.partial(QuietHandler, directory=str(REPO_ROOT))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/clients/js/test/browser-smoke.html"
        done = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=30000", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.shutdown()
        server.server_close()
    found = re.search(r'<pre id="result">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found, f"no result in the page: {done.stdout[-2000:]} {done.stderr[-2000:]}"
    result = json.loads(html.unescape(found.group(1)))

    assert result == {
        "typedDataDigest": True,
        "recover": True,
        "document": True,
        "cid": True,
        "openAes": True,
        "openPassphrase": True,
        "sealX25519": True,
        "generate": True,
        "verifyWithoutRpc": True,
    }, result


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the repository read-only to the browser, ES modules as text/javascript, without access logs."""

    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
    }

    def log_message(self, *args: Any) -> None:  # keep pytest's output clean
        pass
