"""The windows of issue 10, each reopened by one small patch, and what finds it then (`python -m tests.window_demos`).

Each window's patch reverts just that window's fix in the current code. The demonstration copies the tree to a
temporary directory, applies the patch there and runs
- the random simulation (tests/unit/test_simulation.py::TestRegistrySimulation, the Hypothesis state machine) under
  the profiles listed in MODES, each stopping at its first failing example, and
- the window's fixed-schedule regression tests (and, where the window has one, its decision or real-part test),
  each of which must fail with the patch applied.

Nothing here is collected by pytest: no file is named test_*.py.
"""

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIM = "tests/unit/test_simulation.py"
DECISIONS = "tests/unit/test_decisions.py"


@dataclass(frozen=True)
class Window:
    number: int
    title: str
    patch: str  # file name in this directory
    regression_tests: tuple[str, ...]  # pytest node ids that must fail with the patch applied
    simulated: bool = True  # whether the simulation exercises the code the patch changes at all
    note: str = ""

    @property
    def patch_path(self) -> Path:
        return HERE / self.patch


WINDOWS: tuple[Window, ...] = (
    Window(
        1,
        "monitor._settle marks a transaction final before it updates its records",
        "1-settle-marks-final-before-records.patch",
        (f"{SIM}::test_window_1_the_monitor_dies_right_after_marking_a_transaction_final",),
        note="test_window_1_the_monitor_dies_right_after_updating_the_records is the other side of the fix (a crash after "
        "the records, before the item is final): it passes with the old order too, so it is not listed.",
    ),
    Window(
        2,
        "_maybe_lost marks a transaction lost before it re-queues its jobs",
        "2-lost-marked-before-requeue.patch",
        (
            f"{SIM}::test_window_2_the_monitor_dies_right_after_marking_a_transaction_lost",
            f"{SIM}::test_window_2_the_monitor_dies_while_re_queuing_a_lost_transactions_job",
        ),
        note="test_window_2_the_monitor_dies_while_re_queuing_a_lost_transactions_job passes with this patch alone: the "
        "sweeper re-queues the stranded record in the quiet phase. With the sweeper off too (patch 7) it fails.",
    ),
    Window(
        3,
        "a revocation is superseded by a newer key that is not confirmed",
        "3-revocation-superseded-by-unconfirmed-key.patch",
        (
            f"{SIM}::test_window_3_a_revocation_waits_for_a_newer_key_in_flight_instead_of_being_superseded_by_it",
            f"{DECISIONS}::test_a_revocation_waits_for_a_newer_key_in_the_same_batch_instead_of_being_superseded",
        ),
    ),
    Window(
        4,
        "a NotOwner revert fails every job of the batch for good",
        "4-not-owner-fails-the-batch.patch",
        (
            f"{SIM}::test_window_4_a_not_owner_refusal_pauses_instead_of_failing_the_batch",
            f"{DECISIONS}::test_a_not_owner_revert_requeues_the_jobs_and_pauses_instead_of_failing_them",
        ),
    ),
    Window(
        5,
        "the last-delivery write of failed has no condition on nonce or CID",
        "5-last-delivery-fail-unconditional.patch",
        (
            f"{DECISIONS}::test_a_failing_job_on_its_last_delivery_fails_only_while_unclaimed_and_still_its_own_record",
            "tests/integration/test_worker.py::test_the_last_delivery_fails_only_the_jobs_own_record_never_one_a_live_transaction_carries",
        ),
    ),
    Window(
        6,
        "check_clock runs before the resubmission check (the API path)",
        "6-clock-rule-before-resubmission.patch",
        (
            "tests/integration/test_registry.py::test_a_record_left_pinned_is_queued_by_resubmitting_it_long_after_the_clock_window_closed",
        ),
        simulated=False,
        note="The simulation accepts registrations without the API (Registry._accept stores, enqueues and "
        "marks queued itself): chalicelib/api/registry.py is not in it, so no schedule can reach this window. The real-part "
        "test on moto catches it.",
    ),
    Window(
        7,
        "no sweeper",
        "7-no-sweeper.patch",
        (f"{SIM}::test_window_7_a_record_left_without_its_message_by_a_queue_outage_is_swept_on",),
    ),
    Window(
        8,
        "a revocation goes out after its key's bare claim at a nonce that is only reserved (aea7b9c)",
        "8-revocation-after-a-bare-claim.patch",
        (
            f"{SIM}::test_found_by_the_simulation_a_revocation_waits_while_its_key_is_claimed_at_a_nonce_that_never_carries_it",
            f"{DECISIONS}::test_a_revocation_claimed_after_a_nonce_that_only_reserves_its_key_releases_its_claim",
        ),
        note="With this patch alone the fixed schedule passes: the revocation still goes out too early and reverts "
        "NotCurrentKey, but window 9's fix (3c01d59) queues it again, so nothing is lost. With patch 9 too it fails "
        "(python -m tests.window_demos --only 8 --with 9).",
    ),
    Window(
        9,
        "a revocation reverted NotCurrentKey while its key's transaction reverted NotOwner fails (3c01d59)",
        "9-revocation-not-current-key-fails.patch",
        (
            f"{SIM}::test_found_by_the_simulation_a_key_sent_while_ownership_moves_away_is_not_overtaken_by_its_revocation",
            f"{DECISIONS}::test_a_revocation_reverted_not_current_key_while_its_key_is_still_on_its_way_is_queued_again_not_failed",
        ),
    ),
)
