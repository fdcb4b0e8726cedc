"""`make mutation`: mutation testing of the pure modules (the chain side's decisions, the protocol) with the unit tier
alone, and their score per module.

    python -m tests.mutation            a fresh run, then the table; exit 1 if a module scores under 90%
    python -m tests.mutation --json     the same figures as JSON on stdout (mutmut's progress goes to stderr)
    python -m tests.mutation --diffs    also each survivor's diff
    python -m tests.mutation --again [MODULE ...]
                                        keep mutants/ and test only the last run's survivors again, of the modules
                                        named (while writing tests; the score of record is a fresh run)

mutmut 3 (its settings: [tool.mutmut] in pyproject.toml) copies the sources into mutants/, rewrites every function
there into a trampoline over its mutants, and runs the tests from mutants/ against them: tests/unit without
test_simulation.py (a randomised run of ~30 s, for every mutant of the decisions it reaches). It names a mutated module
after its path from the repository root, so for the run `src` is a link to packages/dmtp-protocol/src: the protocol's
modules are then `dmtp_protocol.*`, as the tests import them, and mutmut puts mutants/src first on sys.path and takes
the installed packages/dmtp-protocol/src off it. The tests run from their copies in mutants/tests and find the
repository's other files (docs, infra, the clients, node_modules, ...) beside them through links this module makes in
mutants/.

Score of a module = killed / (mutants - equivalent). Killed counts a timeout or a crash as a kill (the tests did not
pass). A survivor is any mutant not killed, "no tests" included. Equivalent mutants (no test can kill them: the
mutation cannot change behaviour) are listed in tests/README.md, "## Mutation testing", one table row each:

    | Module | Line | Mutant | Mutation | Why it is equivalent |

`Mutant` is mutmut's name of it; `Line` (in the source file) and `Mutation` must still be what that mutant is, as
this module prints them for every survivor, or the row is stale (the function changed and mutmut renumbered its
mutants): a stale row excludes nothing and fails the run, as does a row whose mutant was killed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
SRC_LINK = ROOT / "src"
SRC_TARGET = Path("packages") / "dmtp-protocol" / "src"
README = ROOT / "tests" / "README.md"
SECTION = "## Mutation testing"
THRESHOLD = 90.0
# What mutmut itself puts into mutants/ (sources, tests, settings): everything else the tests may read is linked.
MUTMUT_WRITES = {"chalicelib", "src", "tests", "pyproject.toml", "pytest.ini", "mutants"}
# mutmut's exit codes of a mutant's test run (mutmut.stats.status_by_exit_code): the tests failed, were killed for
# running too long (SIGXCPU), or crashed.
KILLED_CODES = {1, 3, 36, -24, 24, 152, 255, -11, -9}


@dataclass
class Survivor:
    mutant: str  # mutmut's name: module.x_function__mutmut_N
    line: int  # the mutated line in the source file (0: not found)
    mutation: str  # `old` → `new`, the part of the line that changed
    status: str  # "survived", "no tests", ...
    diff: str = ""


@dataclass
class ModuleScore:
    module: str
    path: str  # the source file, from the root
    mutmut_path: str  # the same as mutmut names it (src/... for the protocol)
    total: int
    killed: int
    equivalent: int
    survivors: list[Survivor] = field(default_factory=list)

    @property
    def survived(self) -> int:
        return len(self.survivors)

    @property
    def score(self) -> float:
        scored = self.total - self.equivalent
        return 100.0 * self.killed / scored if scored else 100.0


@dataclass(frozen=True)
class Equivalent:
    module: str
    line: int
    mutant: str
    mutation: str
    reason: str


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.add_argument("--diffs", action="store_true", help="print each survivor's diff")
    parser.add_argument(
        "--again",
        nargs="*",
        metavar="MODULE",
        help="retest only the last run's survivors (of the modules whose names contain one of these words)",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="mutants tested at once")
    args = parser.parse_args(argv)
    os.chdir(ROOT)  # mutmut reads pyproject.toml and writes mutants/ in the working directory

    started = time.monotonic()
    made_link = link_protocol_sources()
    try:
        names: list[str] = []
        again = args.again is not None
        if again and not mutated_files():
            print("no results of an earlier run in mutants/: run without --again first", file=sys.stderr)
            return 2
        if again:
            wanted = args.again or [""]
            names = [s.mutant for m in scores(set()) if any(w in m.module for w in wanted) for s in m.survivors]
            if not names:
                print("no survivors to test again", file=sys.stderr)
        else:
            shutil.rmtree(MUTANTS, ignore_errors=True)
        if names or not again:
            link_repository_into_mutants()
            command = [mutmut_command(), "run", "--max-children", str(args.jobs), *names]
            env = {k: v for k, v in os.environ.items() if k != "MUTANT_UNDER_TEST"}
            run = subprocess.run(command, cwd=ROOT, stdout=sys.stderr, env=env, check=False)
            if run.returncode != 0:
                print(f"mutmut run exited {run.returncode}", file=sys.stderr)
                return run.returncode
        equivalents = read_equivalents(README.read_text() if README.exists() else "")
        stale = stale_equivalents(equivalents)
        results = scores({e.mutant for e in equivalents} - stale.keys())
    finally:
        if made_link:
            SRC_LINK.unlink()
    seconds = time.monotonic() - started

    failing = [m.module for m in results if m.score < THRESHOLD]
    if args.json:
        print(json.dumps(as_json(results, stale, failing, seconds), indent=2))
    else:
        print_report(results, stale, seconds, args.diffs)
    return 1 if failing or stale else 0


def link_protocol_sources() -> bool:
    """`src` -> packages/dmtp-protocol/src for the run; True when this call made it (and so removes it after)."""
    if SRC_LINK.is_symlink() and Path(os.readlink(SRC_LINK)) == SRC_TARGET:
        return False
    if SRC_LINK.exists() or SRC_LINK.is_symlink():
        raise SystemExit(f"{SRC_LINK} exists and is not the link to {SRC_TARGET} this run needs")
    SRC_LINK.symlink_to(SRC_TARGET, target_is_directory=True)
    return True


def link_repository_into_mutants() -> None:
    """The tests run from mutants/tests and read files beside them (docs/, infra/, clients/, node_modules, ...):
    every top-level entry of the repository that mutmut does not copy is linked into mutants/."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    entries = {name.split("/", 1)[0] for name in listed.decode().split("\0") if name} | {"node_modules"}
    MUTANTS.mkdir(exist_ok=True)
    for name in sorted(entries - MUTMUT_WRITES):
        link = MUTANTS / name
        if (ROOT / name).exists() and not (link.exists() or link.is_symlink()):
            link.symlink_to(Path("..") / name)


def mutmut_command() -> str:
    found = shutil.which("mutmut", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit("mutmut is not installed in this environment (requirements-dev.txt)")
    return found


def mutated_files() -> list[Path]:
    """The mutated source files (paths from the root, as mutmut names them) that have at least one mutant."""
    files = []
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        if json.loads(meta.read_text())["exit_code_by_key"]:
            files.append(meta.relative_to(MUTANTS).with_suffix(""))
    return files


def module_name(path: Path) -> str:
    parts = list(path.with_suffix("").parts)
    if parts[0] == "src":
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def original_source(path: Path) -> Path:
    """The file a mutated path was copied from (the `src` link may be gone by now)."""
    parts = path.parts
    return ROOT / SRC_TARGET / Path(*parts[1:]) if parts[0] == "src" else ROOT / path


def scores(equivalent: set[str]) -> list[ModuleScore]:
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    results = []
    for path in mutated_files():
        meta = json.loads((MUTANTS / f"{path}.meta").read_text())
        codes: dict[str, int | None] = meta["exit_code_by_key"]
        source = original_source(path).read_text()
        score = ModuleScore(
            module_name(path), str(original_source(path).relative_to(ROOT)), str(path), len(codes), 0, 0
        )
        for mutant, code in sorted(codes.items(), key=lambda item: natural_key(item[0])):
            if code in KILLED_CODES:
                score.killed += 1
            elif mutant in equivalent:
                score.equivalent += 1
            else:
                diff = get_diff_for_mutant(mutant, path=path)
                line, mutation = locate(source, mutant, diff)
                score.survivors.append(Survivor(mutant, line, mutation, status_by_exit_code[code], diff))
        results.append(score)
    return results


def natural_key(mutant: str) -> tuple[str, int]:
    name, _, number = mutant.rpartition("__mutmut_")
    return name, int(number) if number.isdigit() else 0


def locate(source: str, mutant: str, diff: str) -> tuple[int, str]:
    """The source line a mutant changes and the change (`old` → `new`), from its diff against the function."""
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    mutation = compact(" ".join(s.strip() for s in removed), " ".join(s.strip() for s in added))
    offset = first_removed_line(diff)
    if offset is None:
        return 0, mutation
    first, last = function_lines(source, mutant)
    lines = source.splitlines()
    wanted = removed[0].strip()
    guess = first + offset - 1
    # the diff counts from the function's first line; the nearest line with that text (a comment above the
    # function would shift the count)
    matches = [n for n in range(first, last + 1) if lines[n - 1].strip() == wanted]
    return (min(matches, key=lambda n: abs(n - guess)) if matches else 0), mutation


def first_removed_line(diff: str) -> int | None:
    """The line (counted from 1 at the function's first line) of the first line a unified diff removes."""
    line = 0
    for text in diff.splitlines():
        hunk = re.match(r"@@ -(\d+)", text)
        if hunk:
            line = int(hunk.group(1))
        elif text.startswith(("---", "+++")):
            continue
        elif text.startswith("-"):
            return line
        elif not text.startswith("+"):
            line += 1
    return None


def function_lines(source: str, mutant: str) -> tuple[int, int]:
    """The lines of the function a mutant belongs to (x_name, or xǁClassǁname for a method; decorators included), the
    whole file if not found."""
    mangled = mutant.rpartition(".")[2].partition("__mutmut_")[0]
    if "ǁ" in mangled:
        _, class_name, name = mangled.split("ǁ", 2)
    else:
        class_name, name = "", mangled.removeprefix("x_")
    scope: list[ast.stmt] = ast.parse(source).body
    if class_name:
        classes = [node for node in scope if isinstance(node, ast.ClassDef) and node.name == class_name]
        scope = classes[0].body if classes else []
    for node in scope:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
            return first, node.end_lineno or node.lineno
    return 1, len(source.splitlines())


def compact(old: str, new: str) -> str:
    """The part of a line that a mutation changed, widened to whole words: `a != b` → `a == b` gives `!=` → `==`."""
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    while start > 0 and not old[start - 1].isspace():
        start -= 1
    while end > 0 and not old[len(old) - end].isspace():
        end -= 1
    return f"`{old[start : len(old) - end]}` → `{new[start : len(new) - end]}`"


def read_equivalents(readme: str) -> list[Equivalent]:
    """The table under "## Mutation testing" in tests/README.md: | Module | Line | Mutant | Mutation | Why |."""
    rows = []
    inside = False
    for line in readme.splitlines():
        if line.startswith("## "):
            inside = line.strip() == SECTION
            continue
        if not inside or not line.startswith("|"):
            continue
        cells = [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) != 5 or not cells[1].isdigit():
            continue  # the header and the separator row
        module, number, mutant, mutation, reason = cells
        rows.append(Equivalent(module, int(number), f"{module}.{mutant.strip('`')}", mutation, reason))
    return rows


def stale_equivalents(equivalents: list[Equivalent]) -> dict[str, str]:
    """The rows of the equivalent list that no longer name a surviving mutant with that line and mutation, each with
    what is wrong (mutant -> problem)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    paths = {module_name(path): path for path in mutated_files()}
    problems = {}
    for row in equivalents:
        path = paths.get(row.module)
        if path is None:
            problems[row.mutant] = f"no module {row.module} was mutated"
            continue
        codes = json.loads((MUTANTS / f"{path}.meta").read_text())["exit_code_by_key"]
        if row.mutant not in codes:
            problems[row.mutant] = "no such mutant (renumbered? its function changed)"
            continue
        if codes[row.mutant] in KILLED_CODES:
            problems[row.mutant] = "listed as equivalent, but a test kills it"
            continue
        diff = get_diff_for_mutant(row.mutant, path=path)
        line, mutation = locate(original_source(path).read_text(), row.mutant, diff)
        if (line, mutation) != (row.line, row.mutation):
            problems[row.mutant] = f"is now line {line} {mutation}, the list says line {row.line} {row.mutation}"
    return problems


def print_report(results: list[ModuleScore], stale: dict[str, str], seconds: float, diffs: bool) -> None:
    width = max(len(m.module) for m in results)
    print(f"{'module':<{width}}  {'mutants':>7}  {'killed':>6}  {'survived':>8}  {'equivalent':>10}  {'score':>6}")
    for m in results:
        flag = "" if m.score >= THRESHOLD else f"  < {THRESHOLD:.0f}%"
        print(
            f"{m.module:<{width}}  {m.total:>7}  {m.killed:>6}  {m.survived:>8}  {m.equivalent:>10}  {m.score:>5.1f}%{flag}"
        )
    total = sum(m.total for m in results)
    killed = sum(m.killed for m in results)
    equivalent = sum(m.equivalent for m in results)
    print(f"{'all':<{width}}  {total:>7}  {killed:>6}  {total - killed - equivalent:>8}  {equivalent:>10}", end="")
    print(f"  {100.0 * killed / max(1, total - equivalent):>5.1f}%")
    print(f"\n{seconds:.0f} s")
    survivors = [(m, s) for m in results for s in m.survivors]
    if survivors:
        print("\nsurvivors (| Module | Line | Mutant | Mutation |, as tests/README.md lists an equivalent one):")
        for m, s in survivors:
            mutation = s.mutation.replace("|", "\\|")
            status = "" if s.status == "survived" else f"  ({s.status})"
            print(f"| {m.module} | {s.line} | {s.mutant.rpartition('.')[2]} | {mutation} |{status}")
            if diffs:
                print("\n".join("    " + line for line in s.diff.splitlines()[2:]))
    for mutant, problem in stale.items():
        print(f"stale row in tests/README.md: {mutant}: {problem}")


def as_json(results: list[ModuleScore], stale: dict[str, str], failing: list[str], seconds: float) -> dict[str, Any]:
    return {
        "threshold": THRESHOLD,
        "seconds": round(seconds, 1),
        "passed": not failing and not stale,
        "failing": failing,
        "stale_equivalents": stale,
        "modules": [
            {
                "module": m.module,
                "path": m.path,
                "total": m.total,
                "killed": m.killed,
                "survived": m.survived,
                "equivalent": m.equivalent,
                "score": round(m.score, 1),
                "survivors": [{k: v for k, v in asdict(s).items() if k != "diff"} for s in m.survivors],
            }
            for m in results
        ],
    }


if __name__ == "__main__":
    sys.exit(main())
