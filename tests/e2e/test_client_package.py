"""The Python client as a dapp backend installs it (clients/python/README.md): `pip install ./packages/dmtp-protocol
'./clients/python[sign]'` into a fresh venv, not editable; then, in that venv, from a directory outside the repository
and with a clean environment (no PYTHONPATH), the installed package alone registers a new key against the local
stack's API (`chalice local` and the worker loop on the session's stack), waits until it is confirmed, and both
command-line forms verify it through Anvil with the pinned chain id and registry (exit 0). A second fresh venv gets the
package without the `[sign]` extra: PyNaCl is not there, it verifies that key all the same, and what needs the extra
says so by name.

The two package directories are copied out of the checkout first (sources only), so the build leaves no build/ or
egg-info behind in it; the command is the README's, run in the copy's root. Versions are pinned with `-c`: a
constraints file of the distributions installed in the development venv (which requirements*.txt pin), so the new
venv gets the same releases, from pip's cache or the configured indexes. Skipped only when pip cannot reach an index.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import boto3
import pytest
import requests

from devstack.anvil import free_port
from devstack.stack import REPO_ROOT, stage_environment
from devstack.worker_loop import WorkerLoop
from tests.support.queues import empty_queue

LOCAL_PACKAGES = {"dmtp-protocol", "dmtp-key-registry-client"}
BUILD_TOOLS = {"pip", "setuptools", "wheel"}  # the build backend comes from build-system.requires, in isolation
PIP_TIMEOUT_S = 900
# What pip says when no index answers (it retries, then gives up); any other failure is the test's to report.
UNREACHABLE_INDEX = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "ProxyError",
    "ConnectTimeoutError",
    "NameResolutionError",
    "Name or service not known",
)

# Run by the fresh venv's interpreter, in a directory outside the repository: argv = repository root, API URL, RPC
# URL, chain id, registry; the wallet key in $DMTP_WALLET_KEY. Prints one JSON line.
BACKEND_SCRIPT = r"""
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

repo, api_url, rpc_url, registry = Path(sys.argv[1]).resolve(), sys.argv[2], sys.argv[3], sys.argv[5]
chain_id = int(sys.argv[4])

# (a) only the installed packages: neither the server's code nor the repository is importable
on_path = [Path(entry or os.getcwd()).resolve() for entry in sys.path]
assert not [entry for entry in on_path if entry == repo or entry.is_relative_to(repo)], sys.path
assert "PYTHONPATH" not in os.environ
for absent in ("chalicelib", "app", "devstack", "tests", "chalice", "boto3", "web3", "eth_account", "eth_abi"):
    assert importlib.util.find_spec(absent) is None, f"{absent} is importable"

started = time.monotonic()
import dmtp_key_registry_client as package
import_ms = (time.monotonic() - started) * 1000
import dmtp_protocol

site = Path(sys.prefix).resolve()
for module in (package, dmtp_protocol):
    assert Path(module.__file__).resolve().is_relative_to(site), module.__file__  # installed, not editable
heavy = sorted({"requests", "nacl", "coincurve", "cryptography"} & {name.split(".")[0] for name in sys.modules})
assert heavy == [], f"importing the package loaded {heavy}"
missing = [name for name in package.__all__ if getattr(package, name, None) is None]
assert missing == [], missing

# (b) register a new key, as the package's docstring shows, and wait until the chain holds it
from dmtp_key_registry_client import RegistryClient, build_registration, verify, wallet_address

wallet_key_hex = os.environ["DMTP_WALLET_KEY"]
client = RegistryClient(api_url, timeout=30)
domain = client.checked_config(chain_id, registry)
wallet = wallet_address(wallet_key_hex)
version = client.next_version(wallet)
body, dmtp_key = build_registration(wallet_key_hex, domain.chain_id, domain.registry, version=version)
accepted = client.register(body)
answer = client.wait_for_status(wallet, timeout=180)
assert answer["status"] == "confirmed", answer

# (c) verified by the library, through the RPC, against the pinned chain id and registry: both forms (once its log
# leaf is anchored: a moment after `confirmed`, docs/PROTOCOL.md section 11's log-not-anchored-yet)
for _ in range(240):
    result = package.verify_answer(answer, rpc_url, wallet=wallet, chain_id=chain_id, registry=registry, log=client)
    if result.reason != "log-not-anchored-yet":
        break
    time.sleep(0.25)
key = verify(answer, rpc_url, wallet=wallet, chain_id=chain_id, registry=registry, log=client)
assert key.usable() and key.public_key == dmtp_key.public_key_hex, key
result = package.verify_answer(answer, rpc_url, wallet=wallet, chain_id=chain_id, registry=registry, log=client)
assert result.usable and result.reason is None and result.key.public_key == dmtp_key.public_key_hex, result.to_json()
assert client.lookup("0x" + "00" * 19 + "01") is None  # a wallet without a key: None, as the JS client's null
outcome = {"wallet": wallet, "accepted": accepted.get("status"), "status": answer["status"]}
print(json.dumps({**outcome, "signer": key.signer_method, "import_ms": round(import_ms, 1)}))
"""

# Run by the venv without the [sign] extra: argv = API URL, RPC URL, chain id, registry, wallet. Prints one JSON line.
VERIFY_ONLY_SCRIPT = r"""
import importlib.util
import json
import sys

api_url, rpc_url, chain_id, registry, wallet = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
assert importlib.util.find_spec("nacl") is None, "PyNaCl is installed without the [sign] extra"

from dmtp_key_registry_client import RegistryClient, SignExtraMissing, build_registration, verify_answer

client = RegistryClient(api_url, timeout=30)
result = verify_answer(client.lookup(wallet), rpc_url, wallet=wallet, chain_id=chain_id, registry=registry, log=client)
try:
    build_registration("0x" + "11" * 32, chain_id, registry)
    refused = None
except SignExtraMissing as missing:
    refused = str(missing)
print(json.dumps({"usable": result.usable, "reason": result.reason, "refused": refused}))
"""


@dataclass(frozen=True)
class InstalledClient:
    python: Path
    scripts: Path  # the venv's bin directory (the dmtp-key-registry console script)
    install_s: float

    def run(self, argv: list[str], cwd: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """argv[0] from the venv's bin, in `cwd`, with a clean environment (PATH, HOME, locale) and nothing else."""
        env = {
            "PATH": f"{self.scripts}:/usr/bin:/bin",
            "HOME": str(cwd),  # no ~/.config/dmtp/client.json: every pin is a flag
            "LANG": "C.UTF-8",
            **(extra_env or {}),
        }
        return subprocess.run(
            [str(self.scripts / argv[0]), *argv[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
        )


def _constraints(path: Path) -> Path:
    """One `name==version` per distribution of the development venv, but the two packages under test and the
    build tools: the releases the fresh venv gets."""
    pins = sorted(
        {
            f"{dist.metadata['Name']}=={dist.version}"
            for dist in metadata.distributions()
            if dist.metadata["Name"]
            and dist.metadata["Name"].lower().replace("_", "-") not in LOCAL_PACKAGES | BUILD_TOOLS
        }
    )
    path.write_text("\n".join(pins) + "\n")
    return path


def _copy_sources(destination: Path) -> Path:
    """packages/dmtp-protocol and clients/python, as a checkout has them (no build output), under `destination`."""
    ignore = shutil.ignore_patterns("*.egg-info", "build", "dist", "__pycache__", "*.pyc")
    for relative in ("packages/dmtp-protocol", "clients/python"):
        shutil.copytree(REPO_ROOT / relative, destination / relative, ignore=ignore)
    return destination


def _install(tmp_path_factory: pytest.TempPathFactory, client_requirement: str) -> InstalledClient:
    """A fresh venv with `./packages/dmtp-protocol` and `client_requirement` (the client, with or without extras)
    installed from a copy of the sources, as the README says."""
    root = tmp_path_factory.mktemp("client-package")
    checkout = _copy_sources(root / "checkout")
    environment = root / "venv"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(environment)], check=True, timeout=300)
    python = environment / "bin" / "python"
    pip_env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-c",
            str(_constraints(root / "constraints.txt")),
            "./packages/dmtp-protocol",
            client_requirement,
        ],
        cwd=checkout,
        env=pip_env,
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT_S,
    )
    output = install.stdout + install.stderr
    if install.returncode != 0 and any(marker in output for marker in UNREACHABLE_INDEX):
        pytest.skip(f"pip cannot reach a package index to install the client's dependencies: {output[-1500:]}")
    assert install.returncode == 0, output[-6000:]
    return InstalledClient(python, environment / "bin", time.monotonic() - started)


@pytest.fixture(scope="module")
def installed_client(tmp_path_factory: pytest.TempPathFactory) -> InstalledClient:
    """The client with its [sign] extra: what a backend that registers keys installs."""
    return _install(tmp_path_factory, "./clients/python[sign]")


@pytest.fixture(scope="module")
def verify_only_client(tmp_path_factory: pytest.TempPathFactory) -> InstalledClient:
    """The client without extras: what a backend that only looks up and verifies keys installs."""
    return _install(tmp_path_factory, "./clients/python")


@pytest.fixture(scope="module")
def registry_api(stack) -> Iterator[str]:
    """`chalice local` and the worker loop on the session's stack, as `make run` starts them; stopped afterwards.
    The session's queue is emptied first: jobs other modules left there (they run no worker) are theirs."""
    sqs = boto3.client("sqs", endpoint_url=stack.aws_endpoint)
    empty_queue(sqs, sqs.get_queue_url(QueueName=stack.env["JOBS_QUEUE_NAME"])["QueueUrl"])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "devstack.chalice_local", "local", "--no-autoreload"]
    command += ["--stage", stack.stage, "--host", "127.0.0.1", "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env={**os.environ, **stack.env, "LOG_LEVEL": "WARNING"}, stdout=log, stderr=log
        )
        worker = None
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, "chalice local exited"
                assert time.monotonic() < deadline, "chalice local did not answer within 60 s"
                try:
                    requests.get(url + "/config", timeout=5)
                    break
                except (requests.ConnectionError, requests.Timeout):
                    time.sleep(0.2)
            worker = WorkerLoop(
                stack.aws_endpoint, stack.env["JOBS_QUEUE_NAME"], batch_window_s=0.5, monitor_interval_s=0.5
            ).start()
            yield url
        finally:
            if worker is not None:
                worker.stop()
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_a_fresh_venv_with_the_installed_client_registers_and_verifies_a_key_outside_the_repository(
    installed_client, registry_api, stack, tmp_path
):
    # Given: the client installed into a fresh venv, a working directory outside the repository, the user's pins
    started = time.monotonic()
    assert not tmp_path.resolve().is_relative_to(REPO_ROOT.resolve())
    (tmp_path / "backend.py").write_text(BACKEND_SCRIPT)
    chain_id = stage_environment(stack.stage)["CHAIN_ID"]
    pins = ["--chain-id", chain_id, "--registry", stack.registry_address]
    wallet_key = "0x" + os.urandom(32).hex()

    # When: the backend script registers a new key and waits for it to be confirmed
    done = installed_client.run(
        ["python", "backend.py", str(REPO_ROOT), registry_api, stack.anvil.url, chain_id, stack.registry_address],
        tmp_path,
        {"DMTP_WALLET_KEY": wallet_key},
    )

    # Then: it ran on the installed packages alone, the key is confirmed and verified by the library
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["status"] == "confirmed" and outcome["signer"] == "ecdsa"
    wallet = outcome["wallet"]

    # And: both command-line forms verify it with the pinned RPC, chain id and registry, exit 0
    for command in (["dmtp-key-registry"], ["python", "-m", "dmtp_key_registry_client"]):
        checked = installed_client.run(
            [*command, "verify", "--api", registry_api, "--rpc", stack.anvil.url, *pins, wallet], tmp_path
        )
        assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
        verified = json.loads(checked.stdout)
        assert verified["usable"] is True and verified["reason"] is None and verified["key"]["wallet"] == wallet

    print(
        f"\nclient package: fresh venv + pip install {installed_client.install_s:.1f} s; register, confirm and "
        f"verify {time.monotonic() - started:.1f} s; package import {outcome['import_ms']} ms"
    )


def test_a_fresh_venv_without_the_sign_extra_verifies_a_key_and_names_the_extra_for_signing(
    installed_client, verify_only_client, registry_api, stack, tmp_path
):
    # Given: a key registered and confirmed by a backend with the [sign] extra
    chain_id = stage_environment(stack.stage)["CHAIN_ID"]
    (tmp_path / "backend.py").write_text(BACKEND_SCRIPT)
    registered = installed_client.run(
        ["python", "backend.py", str(REPO_ROOT), registry_api, stack.anvil.url, chain_id, stack.registry_address],
        tmp_path,
        {"DMTP_WALLET_KEY": "0x" + os.urandom(32).hex()},
    )
    assert registered.returncode == 0, registered.stdout[-3000:] + registered.stderr[-6000:]
    wallet = json.loads(registered.stdout.strip().splitlines()[-1])["wallet"]

    # When: a backend installed without the extra verifies it, by the library and by the command line
    (tmp_path / "verify_only.py").write_text(VERIFY_ONLY_SCRIPT)
    checked = verify_only_client.run(
        ["python", "verify_only.py", registry_api, stack.anvil.url, chain_id, stack.registry_address, wallet], tmp_path
    )
    pins = ["--chain-id", chain_id, "--registry", stack.registry_address]
    cli = verify_only_client.run(
        ["dmtp-key-registry", "verify", "--api", registry_api, "--rpc", stack.anvil.url, *pins, wallet], tmp_path
    )

    # Then: usable both ways; registering says which extra it needs
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-6000:]
    outcome = json.loads(checked.stdout.strip().splitlines()[-1])
    assert (outcome["usable"], outcome["reason"]) == (True, None)
    assert "pip install 'dmtp-key-registry-client[sign]'" in outcome["refused"] and "nacl" in outcome["refused"]
    assert cli.returncode == 0 and json.loads(cli.stdout)["usable"] is True, cli.stdout[-3000:] + cli.stderr[-3000:]
    print(f"\nclient package without [sign]: fresh venv + pip install {verify_only_client.install_s:.1f} s")
