"""Settings that are credentials (the pinning JWT, the RPC URL with its API key).

The plain environment variable wins when it is set (the local stack, the tests). Otherwise `<NAME>_SECRET_ID`
names a Secrets Manager secret (infra/template.yaml creates one per stage; .chalice/config.json names it) and
its value is read through Powertools' parameters utility, which keeps it for SECRET_MAX_AGE_S and then reads
it again: a rotated RPC key or pinning token reaches running containers within that time, with no redeploy.
The API's pinner and RPC client ask `secret_source(...)` for the value on each use (a cached read).

The cache tells the age of a read by `now` (datetime.now, as Powertools' own cache does: its two clock reads are
routed through `now` and nothing else changes); a test gives a clock of its own instead of waiting.
"""

import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

# What infra/template.yaml puts in a secret until the operator stores the real value.
UNSET = "UNSET"

Fetch = Callable[[str, str | None], str]
Clock = Callable[[], datetime]  # the time the cache compares a read's age with


class SecretNotSet(RuntimeError):
    """The secret still holds the placeholder the stack created it with."""


_providers: dict[tuple[str | None, Clock], Any] = {}  # one Powertools provider (and cache) per endpoint and clock


def _clocked_provider(endpoint_url: str | None, now: Clock) -> Any:
    """Powertools' SecretsProvider whose cache reads the time from `now` instead of calling datetime.now itself
    (its has_not_expired_in_cache and add_to_cache, as Powertools 3 writes them, with that one change)."""
    import boto3
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from aws_lambda_powertools.utilities.parameters.base import ExpirableValue

    class ClockedSecretsProvider(SecretsProvider):
        def has_not_expired_in_cache(self, key: tuple[Any, ...]) -> bool:
            return key in self.store and self.store[key].ttl >= now()

        def add_to_cache(self, key: tuple[Any, ...], value: Any, max_age: int) -> None:
            if max_age <= 0:
                return
            self.store[key] = ExpirableValue(value, now() + timedelta(seconds=max_age))

    return ClockedSecretsProvider(boto3_client=boto3.client("secretsmanager", endpoint_url=endpoint_url))


def _from_secrets_manager(secret_id: str, endpoint_url: str | None, max_age_s: int, now: Clock) -> str:
    provider = _providers.get((endpoint_url, now))
    if provider is None:
        provider = _providers[(endpoint_url, now)] = _clocked_provider(endpoint_url, now)
    return str(provider.get(secret_id, max_age=max_age_s))


def secret_setting(
    name: str,
    env: Mapping[str, str] = os.environ,
    fetch: Fetch | None = None,
    max_age_s: int = 0,
    now: Clock = datetime.now,
) -> str:
    """`env[name]` if set, else the value of the secret `env[name + "_SECRET_ID"]` (a read at most `max_age_s`
    old by `now`: Settings.secret_max_age_s), else ""."""
    value = env.get(name)
    if value:
        return value
    secret_id = env.get(f"{name}_SECRET_ID")
    if not secret_id:
        return ""
    if fetch is None:
        value = _from_secrets_manager(secret_id, env.get("AWS_ENDPOINT_URL") or None, max_age_s, now)
    else:
        value = fetch(secret_id, env.get("AWS_ENDPOINT_URL") or None)
    if value == UNSET:
        raise SecretNotSet(
            f"secret {secret_id} ({name}) still holds the placeholder: "
            f"aws secretsmanager put-secret-value --secret-id {secret_id} --secret-string ..."
        )
    return value


def secret_source(name: str, env: Mapping[str, str], max_age_s: int, now: Clock = datetime.now) -> Callable[[], str]:
    """The setting's current value on each call: a constant for a plain variable, else the secret's cached read
    (read again once it is `max_age_s` old by `now`)."""
    if env.get(name) or not env.get(f"{name}_SECRET_ID"):
        value = env.get(name) or ""
        return lambda: value
    frozen = dict(env)
    return lambda: secret_setting(name, frozen, max_age_s=max_age_s, now=now)
