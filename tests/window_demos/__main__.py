"""python -m tests.window_demos [--only N[,N]] [--modes ci,random] [--escalate] [--seed S] [--json]

For each window of issue 10 (tests/window_demos/__init__.py): copy the tree (the tracked files, and untracked ones not
ignored, as they are in the working tree) to a temporary directory, apply the window's patch there, and with this
worktree's .venv python, at nice 10:
- run the random simulation (TestRegistrySimulation) under each mode, stopping at the first failing example:
    ci        the ci profile exactly (2,000 examples of 25 steps, derandomized: what `make test` runs);
    random    the same budget, random from --hypothesis-seed=SEED;
    after-writes  the same budget and seed, every crash right after a write (tests/unit/test_simulation_profiles.py);
    targeted  as after-writes, and every example starts with a transaction in flight (tests/unit/test_simulation_profiles.py);
    deep      the deep budget (20,000 examples of 40 steps) from the seed;
  with --escalate, targeted and then deep run only for a window the modes given did not find;
- run the window's regression tests, each of which must fail.
Reports per window and mode: found, examples that passed before the first failure (Hypothesis' statistics), seconds
to it and in all (with shrinking), the check that failed (its first line), and the shrunk schedule's length in steps.
The temporary directory is removed afterwards. Exit status 0 when every regression test failed as it must.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.window_demos import HERE, WINDOWS, Window

ROOT = HERE.parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
SIMULATION = "tests/unit/test_simulation.py::TestRegistrySimulation"
TARGETED = "tests/unit/test_simulation_profiles.py::TestTargetedRegistry"
MODES = {  # mode: (test, profile, seeded, environment)
    "ci": (SIMULATION, "window-ci", False, {}),
    "random": (SIMULATION, "window-random", True, {}),
    "after-writes": (TARGETED, "window-random", True, {"WINDOW_DEMO_BUSY_START": "0"}),
    "targeted": (TARGETED, "window-random", True, {"WINDOW_DEMO_BUSY_START": "1"}),
    "deep": (SIMULATION, "window-deep", True, {}),
}


@dataclass
class SimulationRun:
    mode: str
    found: bool
    passing_before: int | None  # examples that passed before the first failing one
    invalid_before: int | None
    seconds_to_failure: float | None  # Hypothesis' generate phase
    seconds: float  # the whole run, shrinking and pytest included
    failed_check: str | None = None  # where (the simulation's function) and the first line of the error
    schedule_steps: int | None = None  # rule steps of the shrunk schedule
    schedule: list[str] = field(default_factory=list)
    error: str | None = None  # the run did not work (not a finding)


@dataclass
class RegressionRun:
    test: str
    failed: bool
    first_error: str | None
    seconds: float
    ran: bool = True  # False: pytest could not run it (an error in setup, say): no answer either way


@dataclass
class WindowReport:
    number: int
    title: str
    patch: str
    simulated: bool
    note: str
    runs: list[SimulationRun]
    regressions: list[RegressionRun]
    seconds: float


def copy_tree(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    for name in listed.decode().split("\0"):
        source = ROOT / name
        if not name or not source.is_file() or source.is_symlink():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    # The real-part tests start Anvil and compile the contract from node_modules: the copy uses this worktree's,
    # read only, through a link (rmtree removes the link, not what it points to).
    if (ROOT / "node_modules").is_dir():
        (target / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)


def pytest_in(tree: Path, args: list[str], env: dict[str, str], log: Path, timeout_s: float) -> tuple[int, str, float]:
    """Run pytest in `tree` with this worktree's python at nice 10; output to a file (never an unread pipe)."""
    started = time.monotonic()
    command = [
        "nice",
        "-n",
        "10",
        str(PYTHON),
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-p",
        "tests.window_demos.profiles",
        *args,
    ]
    full_env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1", **env}
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=tree, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            code = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 15)
            process.wait()
            code = -1
    return code, log.read_text(errors="replace"), time.monotonic() - started


# The schedule Hypothesis prints also names the setup, the teardown and every invariant check: not steps.
INVARIANTS = re.findall(r"@invariant\(\)\n    def (\w+)", (ROOT / "tests" / "unit" / "test_simulation.py").read_text())
NOT_RULES = {"start", "teardown", *INVARIANTS}
GENERATE = re.compile(
    r"during generate phase \(([\d.]+) seconds\):.*?(\d+) passing, (\d+) failing, and (\d+) invalid", re.S
)
WHERE = re.compile(r"^(tests/[\w/]+\.py):\d+: in (\w+)$", re.M)
ERROR = re.compile(r"^E\s+((?:\w+\.)*\w*(?:Error|Exception|Crash)\b.*)$", re.M)


def parse_simulation(mode: str, code: int, output: str, seconds: float) -> SimulationRun:
    generate = GENERATE.search(output)
    passing = invalid = None
    to_failure = None
    if generate:
        to_failure, passing, invalid = float(generate.group(1)), int(generate.group(2)), int(generate.group(4))
    if code == 0:
        return SimulationRun(mode, False, passing, invalid, to_failure, round(seconds, 1))
    if code != 1 or not ("Failing test case" in output or "Falsifying example" in output):
        return SimulationRun(
            mode,
            False,
            passing,
            invalid,
            to_failure,
            round(seconds, 1),
            error=f"pytest exit {code}: {output.strip().splitlines()[-1:]}",
        )
    error = ERROR.search(output)
    steps, schedule = [], []  # the rule steps; the steps with the notes of what each did, in order
    for line in output.splitlines():
        text = line[1:].strip() if line.startswith("E ") else ""
        if re.match(r"^state\.\w+\(", text) and text.split("(")[0].removeprefix("state.") not in NOT_RULES:
            steps.append(text)
            schedule.append(text)
        elif re.match(r"^(worker \d|monitor|sweeper|api):", text):
            schedule.append(f"# {text}")
    places = [
        m
        for m in WHERE.findall(output[: error.start()] if error else output)
        if m[0].startswith("tests/test_simulation")
    ]
    check = (error.group(1) if error else "?")[:300]
    if places:
        check = f"{places[-1][1]}: {check}"
    return SimulationRun(mode, True, passing, invalid, to_failure, round(seconds, 1), check, len(steps), schedule)


def run_simulation(tree: Path, mode: str, seed: int, logs: Path, timeout_s: float) -> SimulationRun:
    test, profile, seeded, environment = MODES[mode]
    args = [test, "-q", "--tb=short", "--hypothesis-show-statistics", "--hypothesis-verbosity=normal"]
    if seeded:
        args.append(f"--hypothesis-seed={seed}")
    code, output, seconds = pytest_in(
        tree, args, {"HYPOTHESIS_PROFILE": profile, **environment}, logs / f"{mode}.log", timeout_s
    )
    if code == -1:
        return SimulationRun(
            mode, False, None, None, None, round(seconds, 1), error=f"stopped after {timeout_s:.0f} s without an answer"
        )
    return parse_simulation(mode, code, output, seconds)


def run_regression(tree: Path, test: str, logs: Path) -> RegressionRun:
    name = re.sub(r"\W+", "_", test)[-80:]
    code, output, seconds = pytest_in(tree, [test, "-q", "--tb=short", "-x"], {}, logs / f"{name}.log", 600)
    error = ERROR.search(output)
    failed = (
        code == 1 and " failed" in output.strip().splitlines()[-1] and " error" not in output.strip().splitlines()[-1]
    )
    if code not in (0, 1) or " error" in output.strip().splitlines()[-1]:
        return RegressionRun(
            test,
            False,
            f"did not run: pytest exit {code}: {output.strip().splitlines()[-1:]}",
            round(seconds, 1),
            ran=False,
        )
    return RegressionRun(test, failed, error.group(1)[:300] if error and failed else None, round(seconds, 1))


def demonstrate(
    window: Window,
    modes: list[str],
    escalate: bool,
    seed: int,
    timeout_s: float,
    keep_logs: Path | None,
    also: tuple[Window, ...] = (),
) -> WindowReport:
    """`also`: other windows whose patches are applied too (a fix that covers another window's consequence)."""
    started = time.monotonic()
    tree = Path(tempfile.mkdtemp(prefix=f"window{window.number}-"))
    try:
        copy_tree(tree)
        for patch in (window, *also):
            subprocess.run(["git", "apply", str(patch.patch_path)], cwd=tree, check=True)
        logs = tree / ".window-logs"
        logs.mkdir()
        runs: list[SimulationRun] = []
        for mode in modes if window.simulated else []:  # the patched code is not in the simulation: nothing to run
            runs.append(run_simulation(tree, mode, seed, logs, timeout_s))
            print(f"  window {window.number} {mode}: {summary(runs[-1])}", file=sys.stderr, flush=True)
        if escalate:
            for mode in ("targeted", "deep"):
                if not window.simulated or any(r.found for r in runs) or mode in modes:
                    continue
                runs.append(run_simulation(tree, mode, seed, logs, timeout_s))
                print(f"  window {window.number} {mode}: {summary(runs[-1])}", file=sys.stderr, flush=True)
        regressions = [run_regression(tree, test, logs) for test in window.regression_tests]
        for r in regressions:
            outcome = "fails" if r.failed else "PASSES" if r.ran else "DID NOT RUN"
            print(
                f"  window {window.number} regression {r.test.split('::')[-1]}: {outcome}",
                file=sys.stderr,
                flush=True,
            )
        if keep_logs is not None:
            shutil.copytree(logs, keep_logs / f"window{window.number}", dirs_exist_ok=True)
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    title = window.title + "".join(f" (with patch {other.number} too)" for other in also)
    return WindowReport(
        window.number,
        title,
        window.patch,
        window.simulated,
        window.note,
        runs,
        regressions,
        round(time.monotonic() - started, 1),
    )


def summary(run: SimulationRun) -> str:
    if run.error:
        return f"did not run: {run.error}"
    if not run.found:
        return f"not found ({run.passing_before} examples passed, {run.seconds} s)"
    return (
        f"found after {run.passing_before} passing examples, {run.seconds_to_failure} s to it ({run.seconds} s with shrinking); "
        f"{run.schedule_steps} steps; {run.failed_check}"
    )


def markdown(reports: list[dict]) -> str:
    """The README table, from reports (as --json prints them)."""
    lines = [
        "| window | mode | found | examples passed before it | s to it / s in all | failed check | shrunk steps"
        " | regression tests (must fail) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for report in reports:
        regressions = "<br>".join(
            f"{'fails' if r['failed'] else '**passes**' if r.get('ran', True) else '**did not run**'}: `{r['test'].split('::')[-1]}`"
            for r in report["regressions"]
        )
        runs = report["runs"] or [None]
        for i, run in enumerate(runs):
            head = f"{report['number']}. {report['title']}" if i == 0 else ""
            tail = regressions if i == 0 else ""
            if run is None:
                lines.append(f"| {head} | (not simulated) | – | – | – | – | – | {tail} |")
                continue
            if run["error"]:
                lines.append(f"| {head} | {run['mode']} | did not run | – | – | {run['error']} | – | {tail} |")
                continue
            found = "**yes**" if run["found"] else "no"
            timing = f"{run['seconds_to_failure']} / {run['seconds']}" if run["found"] else f"– / {run['seconds']}"
            check = (run["failed_check"] or "–").replace("|", "\\|")[:160]
            lines.append(
                f"| {head} | {run['mode']} | {found} | {run['passing_before']} | {timing} | {check}"
                f" | {run['schedule_steps'] or '–'} | {tail} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.window_demos", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help="window numbers, comma-separated (default: all)")
    parser.add_argument(
        "--modes", default="ci,random", help=f"comma-separated, of {', '.join(MODES)} (default: ci,random)"
    )
    parser.add_argument(
        "--escalate", action="store_true", help="for a window the modes did not find: targeted, then deep"
    )
    parser.add_argument("--with", dest="also", help="window numbers whose patches are applied too, comma-separated")
    parser.add_argument("--seed", type=int, default=0, help="--hypothesis-seed of the seeded modes (default 0)")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds one simulation run may take (default 1800)"
    )
    parser.add_argument("--keep-logs", type=Path, help="copy each run's pytest output here")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    parser.add_argument("--markdown", action="store_true", help="print the table of README.md")
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.error(f"unknown mode(s): {unknown}")
    only = {int(n) for n in args.only.split(",")} if args.only else None
    reports = []
    for window in WINDOWS:
        if only is not None and window.number not in only:
            continue
        print(f"window {window.number}: {window.title} ({window.patch})", file=sys.stderr, flush=True)
        also = tuple(
            w for w in WINDOWS if args.also and w.number in {int(n) for n in args.also.split(",")} and w is not window
        )
        reports.append(demonstrate(window, modes, args.escalate, args.seed, args.timeout, args.keep_logs, also))
    if args.json:
        print(json.dumps([asdict(r) for r in reports], indent=2))
    elif args.markdown:
        print(markdown([asdict(r) for r in reports]))
    else:
        for report in reports:
            print(f"\nwindow {report.number}: {report.title}")
            if not report.simulated:
                print(f"  not in the simulation: {report.note}")
            for run in report.runs:
                print(f"  {run.mode:9} {summary(run)}")
            for r in report.regressions:
                print(
                    f"  regression {'fails (as it must)' if r.failed else 'PASSES (it must fail)' if r.ran else 'DID NOT RUN'}: {r.test}"
                    + (f"\n    {r.first_error}" if r.first_error else "")
                )
    return 0 if all(r.failed for report in reports for r in report.regressions) else 1


if __name__ == "__main__":
    sys.exit(main())
