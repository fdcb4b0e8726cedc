"""The JavaScript client as a new dapp team gets it (issue 25): `npm pack` of clients/js installed into a fresh npm
project outside the repository together with viem and ethers from the registry, then a dapp script
(tests/support/js/fresh_project_app.mjs, copied into the project) that uses only the package's entry points and its
`/viem` and `/ethers` adapters registers, verifies, opens, rotates and watches a key on the local stack (chalice local, the
worker loop, Anvil, moto) with a viem local account, a viem JSON-RPC account (Anvil's unlocked account over http) and
an ethers signer, and verifies through viem's http, WebSocket and fallback transports and a plain URL.

The npm install runs once per session (a session fixture); it is skipped only when npm cannot reach the registry.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
JS_DIR = REPO_ROOT / "clients" / "js"
APP = REPO_ROOT / "tests" / "support" / "js" / "fresh_project_app.mjs"
NODE = shutil.which("node")
NPM = shutil.which("npm")
VIEM = "viem@2.58.8"
ETHERS = "ethers@6.17.0"
UNREACHABLE_REGISTRY = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ENETUNREACH")
WALLETS = ("viem local account", "viem JSON-RPC account", "ethers signer")
TRANSPORTS = ("http", "webSocket", "fallback", "rpcUrl")

pytestmark = pytest.mark.skipif(NODE is None or NPM is None, reason="needs node and npm")


@pytest.fixture(scope="session")
def fresh_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new npm project with the packed client, viem and ethers installed (once per session)."""
    root = tmp_path_factory.mktemp("fresh-dapp")
    packed = subprocess.run(
        [NPM, "pack", "--json", "--pack-destination", str(root)],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert packed.returncode == 0, packed.stdout + packed.stderr
    tarball = root / json.loads(packed.stdout)[0]["filename"]
    project = root / "app"
    project.mkdir()
    (project / "package.json").write_text(json.dumps({"name": "fresh-dapp", "private": True, "type": "module"}))
    installed = subprocess.run(
        [NPM, "install", "--no-audit", "--no-fund", str(tarball), VIEM, ETHERS],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if installed.returncode != 0 and any(code in installed.stderr for code in UNREACHABLE_REGISTRY):
        pytest.skip(f"npm cannot reach the registry: {installed.stderr[-500:]}")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    shutil.copy(APP, project / "app.mjs")
    return project


@pytest.fixture(scope="session")
def lifecycle(fresh_project: Path) -> dict[str, Any]:
    """The dapp script's report, run once on its own local stack (tests/support/js_stack_runner). The script retries
    verify while it says `log-not-anchored-yet`, as a dapp does, and lets another wallet write every 5 s meanwhile
    (`anchorNudges`): on the local stage an anchor-only transaction can land before the key's own transaction, and
    then only a later anchor covers the key (docs/PROTOCOL.md section 11's anchor rule)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.js_stack_runner", NODE, str(fresh_project / "app.mjs")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(report, indent=1))  # the timings, for the record (pytest -s)
    return report


def test_the_packed_package_installs_beside_viem_and_ethers_without_either_as_its_dependency(
    fresh_project: Path,
) -> None:
    manifest = json.loads(
        (fresh_project / "node_modules" / "@dmtp" / "key-registry-client" / "package.json").read_text()
    )

    assert not {"viem", "ethers"} & set(manifest.get("dependencies", {}))
    assert {"./viem", "./ethers"} <= set(manifest["exports"])


@pytest.mark.parametrize("name", WALLETS)
def test_each_wallet_registers_with_the_signature_derived_envelope_and_verifies_usable(
    lifecycle: dict[str, Any], name: str
) -> None:
    result = next(r for r in lifecycle["results"] if r["name"] == name)

    assert result["envelope"] == "dmtp-eip191-aes256gcm-hkdf-v1", result
    assert result["usable"] is True and result["signerMethod"] == "ecdsa" and result["included"] is True, result
    assert result["opened"] is True, result


@pytest.mark.parametrize("name", WALLETS)
def test_each_wallet_verifies_alike_through_every_viem_transport_and_a_url(
    lifecycle: dict[str, Any], name: str
) -> None:
    result = next(r for r in lifecycle["results"] if r["name"] == name)

    assert result["transports"] == dict.fromkeys(TRANSPORTS), result
    assert result["afterRotation"] == dict.fromkeys(TRANSPORTS), result


@pytest.mark.parametrize("name", WALLETS)
def test_each_wallet_rotates_and_its_old_key_is_no_longer_current(lifecycle: dict[str, Any], name: str) -> None:
    result = next(r for r in lifecycle["results"] if r["name"] == name)

    assert result["versions"] == [1, 2], result
    assert result["rotatedKeyMatches"] is True, result
    assert result["staleReason"] == "not-current", result


@pytest.mark.parametrize("name", WALLETS)
def test_each_wallets_watcher_delivers_its_rotation_once(lifecycle: dict[str, Any], name: str) -> None:
    result = next(r for r in lifecycle["results"] if r["name"] == name)

    assert result["watched"] == [["key", 2]], result


def test_a_wallet_without_a_key_is_a_lookup_value_and_verify_says_not_found(lifecycle: dict[str, Any]) -> None:
    assert lifecycle["lookupMiss"]["found"] is False
    assert lifecycle["notFound"] == "not-found"
