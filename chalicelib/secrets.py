"""Settings that are credentials (the pinning JWT, the RPC URL with its API key).

The plain environment variable wins when it is set (the local stack, the tests). Otherwise `<NAME>_SECRET_ID`
names a Secrets Manager secret (infra/template.yaml creates one per stage; .chalice/config.json names it) and
its value is read. services.settings() builds Settings once per process, so each secret is read once per
Lambda container (and again only if that failed).
"""
import os
from typing import Any, Callable, Mapping, Optional

# What infra/template.yaml puts in a secret until the operator stores the real value.
UNSET = "UNSET"

Fetch = Callable[[str, Optional[str]], str]


class SecretNotSet(RuntimeError):
    """The secret still holds the placeholder the stack created it with."""


def _from_secrets_manager(secret_id: str, endpoint_url: Optional[str]) -> str:
    import boto3

    client: Any = boto3.client("secretsmanager", endpoint_url=endpoint_url)
    return str(client.get_secret_value(SecretId=secret_id)["SecretString"])


def secret_setting(name: str, env: Mapping[str, str] = os.environ, fetch: Fetch = _from_secrets_manager) -> str:
    """`env[name]` if set, else the value of the secret `env[name + "_SECRET_ID"]`, else ""."""
    value = env.get(name)
    if value:
        return value
    secret_id = env.get(f"{name}_SECRET_ID")
    if not secret_id:
        return ""
    value = fetch(secret_id, env.get("AWS_ENDPOINT_URL") or None)
    if value == UNSET:
        raise SecretNotSet(
            f"secret {secret_id} ({name}) still holds the placeholder: "
            f"aws secretsmanager put-secret-value --secret-id {secret_id} --secret-string ..."
        )
    return value
