"""@dmtp/key-registry-react (clients/react) as part of `make test`: its node tests (server-side rendering of every hook
with react-dom/server in Node, the query function, keys and polling rule) and its declarations (`tsc --noEmit`),
after `npm ci` from its own lockfile (skipped while node_modules holds that lockfile's install). The hooks in a real
browser against the stack: tests/e2e/test_react_dapp.py."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_js_client import JS_DIR, NODE, REPO_ROOT, node_test

REACT_DIR = REPO_ROOT / "clients" / "react"
NPM = shutil.which("npm")

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None or not (JS_DIR / "node_modules" / "@noble" / "curves").is_dir(),
    reason="needs node, npm and `npm ci --prefix clients/js` (make setup)",
)


@pytest.fixture(scope="module")
def installed() -> Path:
    assert NPM is not None
    lock = hashlib.sha256((REACT_DIR / "package-lock.json").read_bytes()).hexdigest()
    stamp = REACT_DIR / "node_modules" / ".installed-lock-sha256"
    if not stamp.is_file() or stamp.read_text() != lock:
        done = subprocess.run(
            [NPM, "ci", "--no-audit", "--no-fund"], cwd=REACT_DIR, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        stamp.write_text(lock)
    return REACT_DIR / "node_modules"


def test_react_package_node_tests_pass_server_side_rendering_included(installed: Path) -> None:
    counts = node_test("clients/react/test/hooks.test.js")

    assert counts["pass"] == counts["tests"] >= 8 and counts["skipped"] == 0, counts


def test_react_package_declarations_check_with_tsc_no_emit(installed: Path) -> None:
    done = subprocess.run(
        [str(installed / ".bin" / "tsc"), "--noEmit", "-p", "tsconfig.json"],
        cwd=REACT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
