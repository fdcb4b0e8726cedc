"""Settings: one default each (chalicelib/settings.py), every value checked at start, a bad one named and never
answered to a client as a 4xx."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from chalicelib.settings import ConfigError, Settings, variables
from tests.support.cfn import CLOUD_STAGES, REPO_ROOT, stage_env

NOT_SETTINGS = {
    "STAGE",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
}  # read by Powertools/metrics, not Settings


def test_unset_variables_give_the_defaults_declared_once():
    assert Settings.from_env({}, read_secrets=False) == Settings()


def test_the_worker_and_monitor_policies_take_their_defaults_from_settings():
    from chalicelib.chain.monitor import MonitorPolicy
    from chalicelib.chain.worker import WorkerPolicy

    assert WorkerPolicy() == WorkerPolicy.from_settings(Settings())
    assert MonitorPolicy() == MonitorPolicy.from_settings(Settings())


@pytest.mark.parametrize(
    "variable, value",
    [
        ("CHAIN_ID", "base"),
        ("REGISTRY_ADDRESS", "0x1234"),
        ("JOB_BATCH_SIZE", "0"),
        ("MAX_FEE_CAP_GWEI", "lots"),
        ("PINNING_API_URL", "api.pinata.cloud"),
        ("SOURCE_READS_PER_MINUTE", "50"),  # a whole batch (100 reads) must fit in a minute
        ("NETWORK_READS_PER_MINUTE", "99"),
        ("RESERVED_WRITES_SHARE", "1"),  # new wallets would get nothing
        ("RESERVED_WRITES_SHARE", "-0.1"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(variable, value):
    with pytest.raises(ConfigError, match=f"{variable}='{value}'"):
        Settings.from_env({variable: value}, read_secrets=False)


def test_every_variable_a_stage_sets_is_a_setting_and_every_stage_value_is_valid():
    known = set(variables()) | NOT_SETTINGS
    for stage in ("local", *CLOUD_STAGES):
        env = stage_env(stage)
        assert set(env) - known == set(), stage
        Settings.from_env(env, read_secrets=False)


def _import_app(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("REGISTRY_ADDRESS", "CHAIN_ID")}
    return subprocess.run(
        [sys.executable, "-c", "import app"],
        cwd=REPO_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_in_lambda_a_bad_setting_stops_the_function_at_start_naming_it():
    bad = _import_app(
        AWS_LAMBDA_FUNCTION_NAME="dmtp-key-registry-dev-api_handler",
        CHAIN_ID="84532",
        REGISTRY_ADDRESS="0xnot-an-address",
    )
    unset = _import_app(AWS_LAMBDA_FUNCTION_NAME="dmtp-key-registry-dev-api_handler", CHAIN_ID="84532")

    assert bad.returncode != 0 and "ConfigError" in bad.stderr and "REGISTRY_ADDRESS='0xnot-an-address'" in bad.stderr
    assert unset.returncode != 0 and "REGISTRY_ADDRESS not set" in unset.stderr
