"""The simulation's other profiles, as ordinary tests (issue 22, item 7): the targeted variants the window
demonstrations use (tests/window_demos) run in `make test`, so that a schedule the ci profile happens to miss
cannot hide again (the NotCurrentKey revocation found by the targeted profile failed on main every time, and the
ci profile passed).

- after-writes: every crash right after the actor's k-th write (k in 0..5), whichever write that is: a window of
  issue 10 is a crash between two writes;
- targeted: as after-writes, and every example starts with a key accepted for each wallet and sent (a transaction
  in flight), so the random steps meet a transaction in flight;
- deep steps: the ci profile's rules with 40 steps an example instead of 25.

Each runs derandomized with a budget that keeps the unit tier under a minute (SUITE_EXAMPLES); the window
demonstrations run the same classes with the full budgets, from a seed (`python -m tests.window_demos`).
Measured on the unchanged code before this became a test: half the random examples accept no registration at
all, and in 4 of 316 did any transaction land before the final quiet phase; these narrowings reach the crash
points around settling a mined transaction.
"""

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

import tests.unit.test_simulation as simulation
from tests.unit.test_simulation import WALLETS, WRITES, Crash, CrashAt, Faults, Registry

# The demonstrations' switch (python -m tests.window_demos --modes after-writes sets 0): the crash points narrowed,
# nothing else. The suite runs both variants as classes of their own, below.
BUSY_START = os.environ.get("WINDOW_DEMO_BUSY_START", "1") == "1"
SUITE_EXAMPLES = int(os.environ.get("SIMULATION_PROFILE_EXAMPLES", "400"))
_SUITE = dict(
    stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)


class WriteFaults(Faults):
    """Faults that also understand ("write", k): crash right after the k-th write of the run, whatever it is."""

    def arm(self, crash_at: CrashAt) -> None:
        super().arm(crash_at)
        self.writes = 0

    def _after_a_write(self) -> bool:
        return isinstance(self.at, tuple) and self.at[0] == "write"

    def before(self, what: str) -> None:
        if self._after_a_write():
            self.calls += 1
            return
        super().before(what)

    def after(self, what: str) -> None:
        if not self._after_a_write():
            return super().after(what)
        if what in WRITES:
            if self.writes == self.at[1]:
                self.at = None
                raise Crash(f"crashed right after {what} (write {self.writes} of the run)")
            self.writes += 1


def after_a_write() -> Any:
    return st.none() | st.tuples(st.just("write"), st.integers(0, 5))


class TargetedRegistry(Registry):
    busy_start = BUSY_START

    @initialize()
    def start(self) -> None:
        super().start()
        self.faults = WriteFaults()
        if self.busy_start:
            for wallet in WALLETS:  # a busy world: a key for each wallet accepted and sent
                self.register_key(wallet, False)
            self.run_worker(0, None, 10)

    @rule(which=st.integers(0, 1), crash_at=after_a_write(), size=st.integers(1, 10))
    def run_worker(self, which: int, crash_at: CrashAt, size: int) -> None:
        super().run_worker(which, crash_at, size)

    @rule(crash_at=after_a_write())
    def run_monitor(self, crash_at: CrashAt) -> None:
        super().run_monitor(crash_at)

    @precondition(lambda self: simulation.SWEEPER_ON)
    @rule(crash_at=after_a_write())
    def run_sweeper(self, crash_at: CrashAt) -> None:
        super().run_sweeper(crash_at)


class AfterWritesRegistry(TargetedRegistry):
    busy_start = False


class DeepStepsRegistry(Registry):
    """The ci profile's rules and crash points, 40 steps an example (the deep profile's length)."""


# python -m tests.window_demos runs TestTargetedRegistry under its own profiles (HYPOTHESIS_PROFILE); the suite,
# under none, runs each class with its share of the unit tier's minute.
if "HYPOTHESIS_PROFILE" in os.environ:
    TargetedRegistry.TestCase.settings = settings.get_profile(os.environ["HYPOTHESIS_PROFILE"])
else:
    TargetedRegistry.TestCase.settings = settings(max_examples=SUITE_EXAMPLES, **_SUITE)
AfterWritesRegistry.TestCase.settings = settings(max_examples=SUITE_EXAMPLES, **_SUITE)
DeepStepsRegistry.TestCase.settings = settings(
    max_examples=SUITE_EXAMPLES // 4, **{**_SUITE, "stateful_step_count": 40}
)


class TestTargetedRegistry(TargetedRegistry.TestCase):  # type: ignore[name-defined,misc]
    pytestmark = pytest.mark.timeout(1800)


class TestAfterWritesRegistry(AfterWritesRegistry.TestCase):  # type: ignore[name-defined,misc]
    pytestmark = pytest.mark.timeout(900)


class TestDeepStepsRegistry(DeepStepsRegistry.TestCase):  # type: ignore[name-defined,misc]
    pytestmark = pytest.mark.timeout(900)
