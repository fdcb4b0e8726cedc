"""The window demonstrations of issue 10 (`python -m tests.window_demos`) stay runnable: each window's patch still
reverts its fix in the current code, and the regression tests it names exist. (Running the demonstrations
themselves takes minutes per window; their results are in tests/window_demos/README.md.)"""

import subprocess

import pytest

from devstack.stack import REPO_ROOT
from tests.window_demos import WINDOWS


@pytest.mark.parametrize("window", WINDOWS, ids=lambda window: f"window-{window.number}")
def test_the_windows_patch_applies_to_the_current_code(window) -> None:
    check = subprocess.run(
        ["git", "apply", "--check", str(window.patch_path)], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("window", WINDOWS, ids=lambda window: f"window-{window.number}")
def test_the_regression_tests_a_window_names_exist(window) -> None:
    for node in window.regression_tests:
        path, _, name = node.partition("::")
        assert f"def {name.split('[')[0]}(" in (REPO_ROOT / path).read_text(), node
