"""bench.intake still runs end to end at a tiny size, prints every figure issue 22 names, and leaves nothing
running (the figures themselves come from full runs and are never asserted here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.cfn import REPO_ROOT

FIGURES = (
    "accepted_per_s",
    "floor_per_s",
    "ratio",
    "first_try_5xx",
    "p50_ms",
    "p99_ms",
    "accept_to_confirmed_p50_s",
    "accept_to_confirmed_p99_s",
    "dynamodb_requests_per_write",
    "hot_item_writes_per_write",
    "pin_requests_per_write",
    "writers",
    "n",
    "latency_ms",
    "seconds",
    "statuses",
    "targets",
    "load_average",
)


def processes_in_session(session: int) -> list[str]:
    """Command lines of the live processes whose session is `session` (/proc/PID/stat, field 6)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(f"{entry.name}: {cmdline}")
    return found


def test_bench_intake_prints_every_figure_and_its_targets_and_leaves_nothing_running():
    run = subprocess.Popen(
        [sys.executable, "-m", "bench.intake", "--json", "--n", "12", "--writers", "3", "--confirm-timeout-s", "120"],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the run's session: whatever it started and left behind is still in it
    )
    stdout, stderr = run.communicate(timeout=600)

    assert run.returncode == 0, stderr[-3000:]
    figures = json.loads(stdout)
    assert [name for name in FIGURES if name not in figures] == []
    assert set(figures["targets"]) == {"ratio", "first_try_5xx", "hot_item_writes_per_write", "pin_requests_per_write"}
    assert figures["submitted"] == 12 and figures["writers"] == 3
    assert processes_in_session(run.pid) == []
