"""A targeted variant of the simulation: a busy world from the first step, and every crash right after a write.

Measured on the unchanged code (300 examples of the ci profile's 25 steps): half the examples accept no
registration at all, and in only 4 of 316 did any transaction land before the final quiet phase, so the crash
points around settling a mined transaction are hardly ever met. Two narrowings, nothing else changed (same world,
same rules, same invariants, same quiet-phase checks):
- every example starts with a key accepted for each wallet and one worker run that sends them (one transaction in
  the mempool), so the random steps meet a transaction in flight;
- the simulation crashes an actor before any of its outside calls or right before or after one named write; most
  of those points are reads or writes that open nothing. A window of issue 10 is a crash between two writes, so
  here each actor run crashes nowhere or right after its k-th write (k in 0..5), whichever write that is.

Run by `python -m tests.window_demos` as `pytest tests/window_demos/targeted.py` (not collected otherwise: the
file is not named test_*.py).
"""

import os
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

import tests.unit.test_simulation as simulation
from tests.unit.test_simulation import WALLETS, WRITES, Crash, CrashAt, Faults, Registry

BUSY_START = os.environ.get("WINDOW_DEMO_BUSY_START", "1") == "1"  # 0: the crash points narrowed, nothing else


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
    @initialize()
    def start(self) -> None:
        super().start()
        self.faults = WriteFaults()
        if BUSY_START:
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


TargetedRegistry.TestCase.settings = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", simulation.PROFILE))


class TestTargetedRegistry(TargetedRegistry.TestCase):  # type: ignore[name-defined,misc]
    pytestmark = pytest.mark.timeout(1800)
