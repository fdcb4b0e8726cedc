"""The quickstarts run as printed. `python -m devstack run` (what `make run` starts) is brought up as a user would; from
what it prints after "Try" (one `export` line of DMTP_API, DMTP_RPC, DMTP_CHAIN_ID, DMTP_REGISTRY, DMTP_WALLET and
DMTP_CHECKOUT, then commands), the commands are run as printed, then every shell block marked as a quickstart
(`<!-- quickstart: NAME -->` right above a ```sh fence) in README.md, clients/python/README.md and
clients/js/README.md, each in an empty directory outside the repository with only those variables set, under
`bash -euo pipefail`. Each block fails (exits non-zero) unless what it verifies is usable.

The environment is a clean one (PATH of the system's python3, node, npm and openssl; no PYTHONPATH, no venv), but for
two settings a user would not need and that change nothing the blocks print: HOME stays (pip's and npm's caches), and
PIP_CONSTRAINT pins what pip installs to the development venv's releases (as tests/e2e/test_client_package.py does),
so the run is reproducible. Skipped only when pip cannot reach an index.

Also here: the links of clients/js/README.md resolve inside the npm tarball (`npm pack`), where the README is read.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devstack.stack import REPO_ROOT
from tests.e2e.test_client_package import UNREACHABLE_INDEX, _constraints

READMES = ("README.md", "clients/python/README.md", "clients/js/README.md")
QUICKSTART = re.compile(r"<!-- quickstart: ([\w-]+) -->\n```sh\n(.*?)\n```\n", re.S)
# What the READMEs hold today; a block renamed or dropped fails here rather than going untested.
EXPECTED = {
    "python-backend-cli",
    "node-backend",
    "python-backend-library",
    "python-verify-only",
    "node-backend-js-readme",
}
STARTUP_TIMEOUT_S = 300
BLOCK_TIMEOUT_S = 900
PATH = "/usr/local/bin:/usr/bin:/bin"  # the system's python3, node, npm, openssl: not the development venv


@dataclass(frozen=True)
class Block:
    readme: str
    name: str
    script: str

    def __str__(self) -> str:
        return f"{self.readme}#{self.name}"


def quickstart_blocks() -> list[Block]:
    return [
        Block(readme, name, script)
        for readme in READMES
        for name, script in QUICKSTART.findall((REPO_ROOT / readme).read_text())
    ]


@dataclass(frozen=True)
class RunningDevstack:
    printed: str  # everything `python -m devstack run` printed up to "Press Ctrl-C"
    try_lines: list[str]  # the lines after "Try", the export line first
    variables: dict[str, str]  # what the export line sets


def _try_lines(printed: str) -> list[str]:
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Try"))
    block: list[str] = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        block.append(line.strip())
    return block


def _exported(export_line: str) -> dict[str, str]:
    """The variables an `export A=x B=y` line sets, as bash sets them."""
    assert export_line.startswith("export "), export_line
    shown = subprocess.run(
        ["bash", "-c", f"{export_line}\nenv -0"], env={"PATH": PATH}, capture_output=True, text=True, check=True
    ).stdout
    pairs = dict(entry.split("=", 1) for entry in shown.split("\0") if "=" in entry)
    return {name: value for name, value in pairs.items() if name.startswith("DMTP_")}


@pytest.fixture(scope="module")
def devstack() -> Iterator[RunningDevstack]:
    """`python -m devstack run` as `make run` starts it, until it says "Press Ctrl-C"; SIGTERM afterwards."""
    env = {"PATH": f"{Path(sys.executable).parent}:{PATH}", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "run"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    printed: list[str] = []
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        assert process.stdout is not None
        while True:
            line = process.stdout.readline()
            assert line or process.poll() is None, "devstack exited:\n" + "".join(printed)
            printed.append(line)
            if line.startswith("Press Ctrl-C"):
                break
            assert time.monotonic() < deadline, "devstack did not start in time:\n" + "".join(printed)
        text = "".join(printed)
        lines = _try_lines(text)
        yield RunningDevstack(text, lines, _exported(lines[0]))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _run(script: str, cwd: Path, variables: dict[str, str], constraints: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": PATH,
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(cwd / ".config"),  # no client configuration file of the machine's
        "PIP_CONSTRAINT": str(constraints),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
        **variables,
    }
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
    )


def _fail_or_skip(done: subprocess.CompletedProcess[str], what: str) -> None:
    output = done.stdout + done.stderr
    if done.returncode != 0 and any(marker in output for marker in UNREACHABLE_INDEX):
        pytest.skip(f"pip or npm cannot reach a package index: {output[-1500:]}")
    assert done.returncode == 0, f"{what} exited {done.returncode}:\n{output[-8000:]}"


def test_the_readmes_mark_the_quickstarts_this_test_runs():
    blocks = quickstart_blocks()

    assert {block.name for block in blocks} == EXPECTED
    assert len({block.name for block in blocks}) == len(blocks)  # each name once
    for block in blocks:
        used = set(re.findall(r"\$\{?(DMTP_[A-Z_]+)", block.script))
        assert used <= {
            "DMTP_API",
            "DMTP_RPC",
            "DMTP_CHAIN_ID",
            "DMTP_REGISTRY",
            "DMTP_WALLET",
            "DMTP_CHECKOUT",
            "DMTP_WALLET_KEY",
        }, block


def test_the_devstack_prints_the_chain_id_the_registry_and_commands_that_run_as_printed(devstack, tmp_path):
    # Given: what `python -m devstack run` printed
    variables = devstack.variables
    assert set(variables) == {"DMTP_API", "DMTP_RPC", "DMTP_CHAIN_ID", "DMTP_REGISTRY", "DMTP_WALLET", "DMTP_CHECKOUT"}
    assert f"chain id               {variables['DMTP_CHAIN_ID']}" in devstack.printed
    assert f"registry contract      {variables['DMTP_REGISTRY']}" in devstack.printed
    assert Path(variables["DMTP_CHECKOUT"]).resolve() == REPO_ROOT.resolve()

    # When: the lines after "Try" are pasted into a shell, in a directory outside the repository
    done = _run("\n".join(devstack.try_lines), tmp_path, {}, _constraints(tmp_path / "constraints.txt"))

    # Then: every command exits 0; verify says the demo wallet's key is usable, register waits for it on chain
    _fail_or_skip(done, "the devstack's Try commands")
    assert '"usable": true' in done.stdout and '"status": "confirmed"' in done.stdout, done.stdout[-3000:]


@pytest.mark.parametrize("block", quickstart_blocks(), ids=str)
def test_a_quickstart_block_runs_as_printed_against_the_local_stack(devstack, block, tmp_path):
    workdir = tmp_path / "project"
    workdir.mkdir()
    assert not workdir.resolve().is_relative_to(REPO_ROOT.resolve())
    started = time.monotonic()

    done = _run(block.script, workdir, devstack.variables, _constraints(tmp_path / "constraints.txt"))

    _fail_or_skip(done, str(block))
    print(f"\nquickstart {block}: {time.monotonic() - started:.1f} s")


def test_the_js_readmes_links_resolve_inside_the_npm_tarball(tmp_path):
    # Given: the package as npm packs it (prepack copies the docs it links)
    done = subprocess.run(
        ["npm", "pack", "--silent", "--pack-destination", str(tmp_path)],
        cwd=REPO_ROOT / "clients" / "js",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    [tarball] = tmp_path.glob("*.tgz")
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
        readme = archive.extractfile("package/README.md")
        assert readme is not None
        text = readme.read().decode("utf-8")

    # When: every relative link of its README is followed inside the tarball
    links: list[Any] = re.findall(r"\]\(([^)#\s]+)", text)
    relative = [link for link in links if not re.match(r"[a-z]+:", link)]

    # Then: each names a file the tarball holds (absolute links, e.g. https://, leave the package by intent)
    assert relative, "the README links nothing relative: nothing checked"
    missing = [link for link in relative if os.path.normpath(f"package/{link}") not in names]
    assert missing == [], (missing, sorted(names)[:20])
