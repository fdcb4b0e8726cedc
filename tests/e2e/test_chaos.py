"""The whole stack under faults (issue 11, part 4): the short profile of `python -m bench.chaos` with a fixed seed.

Every kind of fault of the full soak, shortened: worker processes killed with SIGKILL (5 times) and restarted,
the monitor killed once, Anvil stopped (SIGSTOP) for longer than the worker's RPC timeout and restarted once
from its state file, the pinning service answering 5xx and timing out in bursts, jobs delivered twice, a reorg.
300 writes (new keys, rotations, revocations) arrive through the HTTP API from 4 client threads; then the chain
itself (events and contract state) is reconciled against what the API accepted. The soak runs as a process of
its own (it starts a whole stack with its own environment); its logs stay in the test's temporary directory.
"""

import json
import os
import signal
import subprocess
import sys
from typing import Any

import pytest

from devstack.stack import REPO_ROOT
from tests.e2e.test_local_stack import processes_in_group

SEED = 7
# The soak takes ~3 minutes on an idle 2-core machine (more under load); the subprocess has its own 420 s bound.
pytestmark = pytest.mark.timeout(480)


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    log_dir = tmp_path_factory.mktemp("chaos")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    # Daily write budgets as a deployed stage has them: the soak must lift them for its own stage (bench/chaos.py
    # UNLIMITED_WRITES), or its writes are refused with 429 (test_pinning_faults_... allows only 502 refusals).
    env.update({"SOURCE_WRITES_PER_DAY": "20", "WRITES_PER_DAY": "100"})
    with open(log_dir / "soak.err", "wb") as progress:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.chaos_soak",  # bench.chaos, keeping every refused answer (its JSON has the top 12)
                "--every-refusal",
                str(log_dir / "every_refused_answer.json"),
                "--short",
                "--seed",
                str(SEED),
                "--json",
                "--log-dir",
                str(log_dir),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=progress,
            start_new_session=True,
        )
        try:
            stdout, _ = process.communicate(timeout=420)
        except BaseException:  # timed out (here or by pytest-timeout): end the soak and every server it started
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
    assert process.returncode == 0, (log_dir / "soak.err").read_text()[-3000:]
    assert processes_in_group(process.pid) == [], "the soak left processes running"
    return {
        **json.loads(stdout),
        "every_refused_answer": json.loads((log_dir / "every_refused_answer.json").read_text()),
    }


def test_every_kind_of_fault_was_injected_during_the_input(soak: dict[str, Any]) -> None:
    injected = soak["faults_injected"]
    assert injected["worker_kill9"] >= 5
    assert injected["monitor_kill9"] >= 1
    assert injected["anvil_sigstop"] >= 1 and injected["anvil_restart"] >= 1
    assert injected["pinning_5xx"] >= 1 and injected["pinning_timeout"] >= 1
    assert injected["sqs_duplicate"] >= 1
    assert injected["reorg"] >= 1
    reorgs = [fault for fault in soak["fault_log"] if fault["kind"] == "reorg"]
    assert sum(fault["detail"]["txs_removed"] for fault in reorgs) >= 1, "the reorg removed no registry transaction"


def test_pinning_faults_never_reach_the_clients_and_no_cid_goes_on_chain_unpinned(soak: dict[str, Any]) -> None:
    """Issue 22: pinning is the worker's, in batches. Its outages (5xx and timeout bursts, injected: see the test
    above) delay chain writes; no client answer is refused for them, and every CID written on chain is pinned."""
    refused = soak["every_refused_answer"]  # every answer that was not 2xx, not only the 12 most common
    assert soak["refused_answers"].items() <= refused.items()  # the soak's own top 12 are among them, counts too
    assert [reason for reason in refused if "pinning" in reason or reason.startswith("5")] == [], refused
    assert soak["given_up_submissions"] == 0
    assert soak["onchain_unpinned"] == 0, soak["onchain_unpinned_detail"]


def test_every_accepted_write_is_on_chain_once_or_visibly_settled(soak: dict[str, Any]) -> None:
    assert soak["accepted"] == 300
    assert soak["rotations"] > 0 and soak["revocations"] > 0
    assert soak["quiescent"] is True
    assert soak["lost"] == 0, soak["lost_detail"]
    assert soak["written_twice"] == 0, soak["written_twice_detail"]
    assert soak["confirmed"] + soak["superseded"] + soak["failed"] == soak["accepted"]
    assert soak["wrong_write_events"] == 0 and soak["unexpected_write_events"] == 0
    assert soak["status_disagrees_with_chain"] == 0, soak["status_disagrees_detail"]
    assert "no reason" not in soak["failed_reasons"]


def test_no_accepted_write_fails_and_the_contract_holds_each_wallets_newest_write(soak: dict[str, Any]) -> None:
    # Strict since the revocation windows of issue 10 were closed (a revocation ordered behind a claim at a nonce
    # filled with a no-op; one reverted NotCurrentKey while its key's transaction was re-queued; one of a key
    # superseded in its batch): the short, 3,000 and 10,000-write soaks since ended with failed 0.
    assert soak["failed"] == 0, soak["failed_reasons"]
    assert soak["wrong_onchain"] == 0, soak["wrong_onchain_detail"]
