"""python -m tests.window_demos.coverage [--examples N]: how often the simulation's steps meet a transaction.

Runs the state machine (tests/unit/test_simulation.py) and its targeted variant
(tests/unit/test_simulation_profiles.py) on the code as it is, N examples of 25 steps each (random seed:
Hypothesis' default), and counts the examples in which a transaction landed on chain before the quiet phase, and
the nonce items marked final (by state) during the steps and in the
quiet phase (where no crash is injected). A window that needs a crash around settling a transaction can only be
found in the steps.
"""

import argparse
import collections
import json

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

import tests.support.fakes as fakes
from tests.unit.test_simulation import Registry
from tests.unit.test_simulation_profiles import TargetedRegistry


def count(machine: type, examples: int) -> dict[str, int]:
    stats: collections.Counter[str] = collections.Counter()
    phase = {"quiet": False}
    original = fakes.FakeTxStore.mark_final

    def mark_final(self, item, state, *args, **kwargs):  # type: ignore[no-untyped-def]
        stats[f"marked {state} ({'quiet phase' if phase['quiet'] else 'steps'})"] += 1
        return original(self, item, state, *args, **kwargs)

    class Probe(machine):  # type: ignore[misc,valid-type]
        def teardown(self) -> None:
            if not hasattr(self, "table"):
                return
            stats["examples"] += 1
            stats["examples with a registration"] += bool(self.records.items)
            stats["examples with a transaction landed before the quiet phase"] += any(
                block.txs for block in self.chain.blocks[1:]
            )
            phase["quiet"] = True
            try:
                super().teardown()
            finally:
                phase["quiet"] = False

    fakes.FakeTxStore.mark_final = mark_final
    try:
        run_state_machine_as_test(
            Probe,
            settings=settings(
                max_examples=examples,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            ),
        )
    finally:
        fakes.FakeTxStore.mark_final = original
    return dict(sorted(stats.items()))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.window_demos.coverage", description=__doc__)
    parser.add_argument("--examples", type=int, default=300)
    args = parser.parse_args()
    print(
        json.dumps(
            {"simulation": count(Registry, args.examples), "targeted": count(TargetedRegistry, args.examples)}, indent=2
        )
    )


if __name__ == "__main__":
    main()
