"""A pytest plugin (`-p tests.window_demos.profiles`): the simulation's budgets, each stopping at the first failing
example (report_multiple_bugs=False), so that Hypothesis' statistics count the examples tried before it.

- window-ci: the ci profile of tests/unit/test_simulation.py exactly (derandomized: the schedules `make test` runs);
- window-random: the same budget (2,000 examples of 25 steps), random from --hypothesis-seed;
- window-deep: the deep profile's budget (WINDOW_DEMO_DEEP_EXAMPLES, default 20,000, of 40 steps), from the seed.
Stopping at the first failure changes nothing before it: the same examples run in the same order.
"""

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, suppress_health_check=list(HealthCheck), report_multiple_bugs=False, database=None)
settings.register_profile("window-ci", max_examples=2000, stateful_step_count=25, derandomize=True, **_COMMON)
settings.register_profile("window-random", max_examples=2000, stateful_step_count=25, **_COMMON)
settings.register_profile(
    "window-deep",
    max_examples=int(os.environ.get("WINDOW_DEMO_DEEP_EXAMPLES", "20000")),
    stateful_step_count=40,
    **_COMMON,
)
