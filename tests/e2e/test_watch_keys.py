"""watchKeys (clients/js, @dmtp/key-registry-client) as part of `make test`: its node tests (decisions against a
scripted chain and registry), and the Anvil-backed run (clients/js/test/watch-keys.stack.test.js) against the local
stack: a wallet registers, rotates and revokes while one watcher follows the chain's events and another the log's
leaves, and each change arrives once, verified."""

from __future__ import annotations

import sys

import pytest

from tests.e2e.test_js_client import JS_DIR, NODE, REPO_ROOT, node_test

pytestmark = pytest.mark.skipif(
    NODE is None
    or not (JS_DIR / "node_modules" / "@noble" / "curves").is_dir()
    or not (REPO_ROOT / "node_modules" / "ethers").is_dir(),
    reason="needs node, `npm ci` and `npm ci --prefix clients/js` (make setup)",
)


def test_watch_keys_node_unit_tests_pass() -> None:
    counts = node_test("clients/js/test/watch-keys.test.js")

    assert counts["pass"] == counts["tests"] >= 10 and counts["skipped"] == 0, counts


def test_watchers_on_the_chain_and_on_the_log_deliver_each_verified_change_of_the_local_stack_once() -> None:
    counts = node_test(
        "clients/js/test/watch-keys.stack.test.js",
        runner=[sys.executable, "-m", "tests.support.js_stack_runner"],
        timeout=400,
    )

    assert counts["pass"] == counts["tests"] == 1 and counts["skipped"] == 0, counts
