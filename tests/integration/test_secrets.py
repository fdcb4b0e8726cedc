"""Credentials in settings: the plain variable locally, the stage's Secrets Manager secret in AWS."""

from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest

from chalicelib.adapters import secrets as secrets_module
from chalicelib.adapters.secrets import UNSET, SecretNotSet, secret_setting, secret_source
from chalicelib.settings import Settings
from devstack.stack import LocalStack


@pytest.fixture()
def secrets(stack: LocalStack) -> Any:
    """The stage's secrets as infra/template.yaml created them in moto; reset to the placeholder afterwards."""
    client = boto3.client("secretsmanager", endpoint_url=stack.aws_endpoint)
    secrets_module._providers.clear()  # each test starts with no cached read
    yield client
    secrets_module._providers.clear()
    for name in ("pinning-jwt", "rpc-url", "api-rpc-url"):
        client.put_secret_value(SecretId=f"dmtp-registry/{stack.stage}/{name}", SecretString=UNSET)


def cloud_like_env(stack: LocalStack) -> dict[str, str]:
    """The stage's environment as in AWS: secret ids instead of the plain values the local stack sets."""
    env = {key: value for key, value in stack.env.items() if key not in ("PINNING_JWT", "RPC_URL", "API_RPC_URL")}
    return {
        **env,
        "PINNING_JWT_SECRET_ID": f"dmtp-registry/{stack.stage}/pinning-jwt",
        "RPC_URL_SECRET_ID": f"dmtp-registry/{stack.stage}/rpc-url",
        "API_RPC_URL_SECRET_ID": f"dmtp-registry/{stack.stage}/api-rpc-url",
    }


def test_settings_read_the_stage_secret_when_the_plain_variable_is_absent(stack, secrets):
    secrets.put_secret_value(
        SecretId=f"dmtp-registry/{stack.stage}/pinning-jwt", SecretString="jwt-from-secrets-manager"
    )
    secrets.put_secret_value(SecretId=f"dmtp-registry/{stack.stage}/rpc-url", SecretString="https://rpc.example/v1/key")
    secrets.put_secret_value(
        SecretId=f"dmtp-registry/{stack.stage}/api-rpc-url", SecretString="https://rpc.example/v1/api-key"
    )

    settings = Settings.from_env(cloud_like_env(stack))

    assert settings.pinning_jwt == "jwt-from-secrets-manager"
    assert settings.rpc_url == "https://rpc.example/v1/key"
    assert settings.api_rpc_url == "https://rpc.example/v1/api-key"


def test_a_secret_still_holding_the_placeholder_is_refused_with_the_command_that_sets_it(stack, secrets):
    with pytest.raises(SecretNotSet, match=f"put-secret-value --secret-id dmtp-registry/{stack.stage}/rpc-url"):
        Settings.from_env(cloud_like_env(stack))


def test_the_plain_variable_wins_without_reading_the_secret():
    def fetch(secret_id: str, endpoint_url: str | None) -> str:
        raise AssertionError("read a secret although the variable is set")

    assert secret_setting("PINNING_JWT", {"PINNING_JWT": "local", "PINNING_JWT_SECRET_ID": "x"}, fetch) == "local"


def test_a_setting_with_neither_variable_nor_secret_is_empty():
    assert secret_setting("RPC_URL", {}) == ""


def test_a_rotated_secret_is_read_again_once_the_cached_value_is_max_age_old(stack, secrets):
    """Given SECRET_MAX_AGE_S=1, a new secret value is used once the cached read is over a second old, with no
    redeploy (and not before: within the age the cached value serves, one Secrets Manager read per container per
    age). The cache's clock is the test's: it moves only when the test moves it."""
    clock = [datetime(2030, 1, 1, 12, 0, 0)]
    secret_id = f"dmtp-registry/{stack.stage}/pinning-jwt"
    secrets.put_secret_value(SecretId=secret_id, SecretString="jwt-before-rotation")
    jwt = secret_source("PINNING_JWT", cloud_like_env(stack), max_age_s=1, now=lambda: clock[0])
    assert jwt() == "jwt-before-rotation"

    secrets.put_secret_value(SecretId=secret_id, SecretString="jwt-after-rotation")
    read = []
    for seconds_later in (0, 0.5, 1.0, 1.001):
        clock[0] = datetime(2030, 1, 1, 12, 0, 0) + timedelta(seconds=seconds_later)
        read.append(jwt())

    assert read == ["jwt-before-rotation", "jwt-before-rotation", "jwt-before-rotation", "jwt-after-rotation"]
