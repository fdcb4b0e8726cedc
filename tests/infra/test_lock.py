"""The hashed lock of what ships to Lambda: requirements.txt, compiled by pip-compile --generate-hashes from the
top-level pins in requirements.in. Chalice's `package`/`deploy` run `pip download -r requirements.txt` (pip's
hash-checking mode once a file carries hashes), and `make setup` installs it with --require-hashes.

These are file comparisons, no resolver and no network: the lock must name every top-level pin at its version,
pin and hash every package, and hold nothing that no longer comes from requirements.in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata

from tests.support.cfn import REPO_ROOT

LOCK = REPO_ROOT / "requirements.txt"
TOP_LEVEL = REPO_ROOT / "requirements.in"
INPUT_NAME = "-r requirements.in"  # how pip-compile's "# via" names a top-level pin


@dataclass(frozen=True)
class Locked:
    version: str
    hashes: tuple[str, ...]
    via: tuple[str, ...]  # what pulled it in: other locked packages, or INPUT_NAME


def normalise(name: str) -> str:
    """PEP 503 names: pip-compile writes them lowercase with dashes, requirements.in may not."""
    return re.sub(r"[-_.]+", "-", name).lower()


def top_level_pins(text: str) -> dict[str, str]:
    """`name==version` lines (extras dropped), comments and blank lines ignored; anything else is not a pin."""
    pins = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)", line)
        assert match, f"requirements.in: not an exact pin: {raw!r}"
        pins[normalise(match[1])] = match[3]
    return pins


def parse_lock(text: str) -> dict[str, Locked]:
    """pip-compile's output: `name==version \\`, its `--hash=sha256:...` lines, then `# via` (one name on the same
    line, or one per following `#   name` line)."""
    entries: dict[str, Locked] = {}
    name = version = None
    hashes: list[str] = []
    via: list[str] = []

    def close() -> None:
        if name is not None:
            entries[name] = Locked(version or "", tuple(hashes), tuple(via))

    for raw in text.splitlines():
        line = raw.strip()
        pin = re.fullmatch(r"([a-z0-9][a-z0-9._-]*)==(\S+?)\s*\\?", line)
        if pin and not raw.startswith(" "):
            close()
            name, version, hashes, via = normalise(pin[1]), pin[2], [], []
        elif line.startswith("--hash="):
            hashes.append(line.removeprefix("--hash=").rstrip(" \\"))
        elif line.startswith("# via") and name is not None:
            via += [part for part in [line.removeprefix("# via").strip()] if part]
        elif line.startswith("#   ") and name is not None:
            via.append(line.removeprefix("#").strip())
        elif line and not line.startswith("#"):
            raise AssertionError(f"requirements.txt: unexpected line {raw!r}")
    close()
    return entries


def lock() -> dict[str, Locked]:
    return parse_lock(LOCK.read_text())


def test_every_top_level_pin_is_locked_at_its_version():
    locked = lock()
    for name, version in top_level_pins(TOP_LEVEL.read_text()).items():
        assert name in locked, f"{name} is in requirements.in but not in the lock: compile it again"
        assert locked[name].version == version, (
            f"{name}: requirements.in pins {version}, the lock {locked[name].version}: compile it again"
        )


def test_the_lock_holds_no_top_level_package_that_requirements_in_dropped():
    pins = top_level_pins(TOP_LEVEL.read_text())
    for name, entry in lock().items():
        if INPUT_NAME in entry.via:
            assert name in pins, f"the lock says {name} comes from requirements.in, which no longer names it"


def test_every_locked_package_is_pinned_hashed_and_pulled_in_by_the_lock_itself():
    locked = lock()
    assert len(locked) > len(top_level_pins(TOP_LEVEL.read_text())), "the lock holds the transitive dependencies too"
    for name, entry in locked.items():
        assert re.fullmatch(r"\d[\w.+!-]*", entry.version), (name, entry.version)
        assert entry.hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in entry.hashes), name
        assert entry.via, f"{name}: no '# via' (not pip-compile's output?)"
        for parent in entry.via:
            assert parent == INPUT_NAME or normalise(parent) in locked, f"{name} via {parent}, which is not locked"


def test_drift_between_the_input_and_the_lock_is_caught():
    """The comparison itself: a pin moved in requirements.in, or a package added there, is reported."""
    pins = top_level_pins("boto3==1.0.0\nnew-package==2.0\n")
    locked = parse_lock("boto3==1.44.8 \\\n    --hash=sha256:" + "0" * 64 + "\n    # via -r requirements.in\n")

    assert pins["boto3"] != locked["boto3"].version
    assert "new-package" not in locked


def test_the_dev_requirements_take_the_top_level_pins_and_make_setup_installs_the_hashed_lock():
    dev = (REPO_ROOT / "requirements-dev.txt").read_text().splitlines()
    makefile = (REPO_ROOT / "Makefile").read_text()

    assert "-r requirements.in" in dev and "-r requirements.txt" not in dev
    assert "pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt" in makefile
    assert "$(PY) -m pip check" in makefile


def test_this_environment_runs_the_locked_versions():
    """The tests run what Lambda runs: every locked distribution is installed here at its locked version."""
    wrong = {}
    for name, entry in lock().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != entry.version:
            wrong[name] = (entry.version, installed)

    assert not wrong, f"locked version, installed version: {wrong} (make setup installs the lock)"
