"""Every setting: its environment variable, its one default, and how it is checked.

This module is the single place a setting's default lives. .chalice/config.json sets a stage's values (the
variables below), WorkerPolicy and MonitorPolicy take theirs from Settings, and app.py's queue trigger reads
Settings too. `Settings.from_env` checks every value at start: a bad one raises ConfigError naming the
variable, which fails the function's start (app.py checks at import in Lambda) and is logged, never answered
to a client as a 4xx.

To add a setting, add one field with `setting(...)` below and, if a stage needs another value, the variable
to that stage in .chalice/config.json (tests/unit/test_config.py checks every variable there is one of these).
"""

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.adapters.secrets import secret_setting

Parse = Callable[[str], Any]
Check = Callable[[Any], str | None]  # None when the value is fine, else what is wrong with it

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_RESOURCE_NAME = re.compile(r"^[A-Za-z0-9._/:-]{1,256}$")


class ConfigError(RuntimeError):
    """A setting's value is unusable; the message names its environment variable."""


def _gwei(text: str) -> int:
    return int(Decimal(text) * 10**9)


def _eth(text: str) -> int:
    return int(Decimal(text) * 10**18)


def _optional(text: str) -> str | None:
    return text or None


def _positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _not_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _address_or_empty(value: str) -> str | None:
    return (
        None
        if value == "" or _ADDRESS.match(value)
        else "must be a 0x-prefixed 20-byte hex address (or empty before the contract is deployed)"
    )


def _resource_name(value: str) -> str | None:
    return None if _RESOURCE_NAME.match(value) else "must be a resource name (letters, digits, . _ / : -)"


def _url(value: str) -> str | None:
    return None if value.startswith(("http://", "https://")) else "must be an http(s) URL"


def _batch_size(value: int) -> str | None:
    return None if 1 <= value <= 10_000 else "must be 1..10000 (Lambda's SQS batch size)"


def _batch_window(value: int) -> str | None:
    return None if 0 <= value <= 300 else "must be 0..300 seconds (Lambda's batching window)"


def _concurrency(value: int) -> str | None:
    return None if 2 <= value <= 1000 else "must be 2..1000 (Lambda's SQS maximum concurrency)"


def _share(value: float) -> str | None:
    return None if 0 <= value < 1 else "must be from 0 to less than 1"


MAX_BATCH_READS = 100  # api/registry.py MAX_BATCH_LOOKUP: one full batch must fit in a minute's reads


def _read_limit(value: int) -> str | None:
    return None if value == 0 or value >= MAX_BATCH_READS else f"must be 0 (no limit) or at least {MAX_BATCH_READS}"


def _l1_fee_oracle(value: str) -> str | None:
    return None if value in ("none", "op-stack") else "must be none or op-stack"


def setting(env: str, default: str, parse: Parse = str, check: Check | None = None, secret: bool = False) -> Any:
    """A Settings field read from `env`; `default` is the text used when the variable is unset or empty."""
    value: Any = "" if secret else parse(default)
    return field(
        default=value, metadata={"env": env, "default": default, "parse": parse, "check": check, "secret": secret}
    )


DEFAULT_JOBS_QUEUE_NAME = "dmtp-registry-local-jobs"
# Browsers on this origin may read the API's answers; `*` is safe because the API uses no cookies or credentials.
DEFAULT_CORS_ALLOW_ORIGIN = "*"


@dataclass(frozen=True)
class Settings:
    records_table: str = setting("RECORDS_TABLE", "dmtp-registry-local-records", check=_resource_name)
    # The transparency log (issue 13): its table, and how old the last anchor must be before a lone key's
    # transaction anchors the log head too (an anchor costs ~12k gas alone, ~100 gas per key at 100 keys).
    log_table: str = setting("LOG_TABLE", "dmtp-registry-local-log", check=_resource_name)
    log_anchor_single_after_s: float = setting("LOG_ANCHOR_SINGLE_AFTER_S", "300", float, _not_negative)
    jobs_queue_name: str = setting("JOBS_QUEUE_NAME", DEFAULT_JOBS_QUEUE_NAME, check=_resource_name)
    kms_key_id: str = setting("KMS_KEY_ID", "alias/dmtp-registry-local-owner-blue", check=_resource_name)
    chain_id: int = setting("CHAIN_ID", "0", int, _not_negative)  # 0: not configured (the API refuses to start)
    registry_address: str = setting("REGISTRY_ADDRESS", "", check=_address_or_empty)  # "": not deployed yet
    # The chain RPC endpoints, each with its own provider key and quota (issue 24): RPC_URL is the worker's and
    # monitor's (they send transactions), API_RPC_URL the API's (signature checks of contract wallets, on strangers'
    # requests): a stranger can spend the API's quota, never the worker's. In the cloud stages both are secrets
    # (RPC_URL_SECRET_ID, API_RPC_URL_SECRET_ID) and each role may read only its own.
    rpc_url: str = setting("RPC_URL", "", secret=True)
    api_rpc_url: str = setting("API_RPC_URL", "", secret=True)
    pinning_api_url: str = setting("PINNING_API_URL", "https://api.pinata.cloud", check=_url)
    pinning_jwt: str = setting("PINNING_JWT", "", secret=True)
    # Requests a minute the pinning plan allows (Pinata: Free 60, Picnic 250, Fiesta 500; Enterprise 6,000): the
    # worker pins a whole batch in one request and waits (jobs stay queued) when this stage's count is reached.
    pinning_requests_per_minute: int = setting("PINNING_REQUESTS_PER_MINUTE", "60", int, _not_negative)
    max_body_bytes: int = setting("MAX_BODY_BYTES", "16384", int, _positive)
    aws_endpoint_url: str | None = setting("AWS_ENDPOINT_URL", "", _optional)
    quotas_table: str = setting("QUOTAS_TABLE", "dmtp-registry-local-quotas", check=_resource_name)
    wallet_writes_per_day: int = setting("WALLET_WRITES_PER_DAY", "20", int, _not_negative)  # 0: no quota
    source_requests_per_minute: int = setting(
        "SOURCE_REQUESTS_PER_MINUTE", "300", int, _not_negative
    )  # write requests whose signature is checked on chain (contract wallets, forgeries); 0: no limit
    signature_max_age_s: int = setting("SIGNATURE_MAX_AGE_S", "900", int, _positive)
    clock_skew_s: int = setting("CLOCK_SKEW_S", "120", int, _not_negative)
    # The chain worker and its monitor (issue 4).
    transactions_table: str = setting("TRANSACTIONS_TABLE", "dmtp-registry-local-transactions", check=_resource_name)
    job_batch_size: int = setting("JOB_BATCH_SIZE", "100", int, _batch_size)  # SQS messages per worker invocation
    job_batch_window_s: int = setting(
        "JOB_BATCH_WINDOW_S", "5", int, _batch_window
    )  # how long Lambda's poller gathers a batch
    # Lambda's SQS poller invokes the worker at most this many times at once (on_sqs_message maximum_concurrency);
    # equal to the worker's reserved_concurrency in .chalice/config.json, so no invocation is ever throttled.
    worker_max_concurrency: int = setting("WORKER_MAX_CONCURRENCY", "2", int, _concurrency)
    confirmations: int = setting(
        "CONFIRMATIONS", "3", int, _positive
    )  # blocks on top of a tx's block before it counts as final
    gas_cap_per_tx: int = setting(
        "GAS_CAP_PER_TX", "3000000", int, _positive
    )  # a larger batch is split into several transactions
    max_fee_cap_wei: int = setting(
        "MAX_FEE_CAP_GWEI", "100", _gwei, _positive
    )  # never offer more per gas, however stuck a tx is
    bump_after_s: float = setting(
        "BUMP_AFTER_S", "90", float, _positive
    )  # a pending tx this old is replaced with 10%+ higher fees
    owner_min_balance_wei: int = setting(
        "OWNER_MIN_BALANCE_ETH", "0.05", _eth, _not_negative
    )  # below this the balance is logged as an alarm
    max_receive_count: int = setting(
        "MAX_RECEIVE_COUNT", "5", int, _positive
    )  # the template's MaxReceiveCount: the last delivery before the DLQ
    nonce_lease_s: float = setting(
        "NONCE_LEASE_S", "180", float, _positive
    )  # a reserved nonce unsigned for this long is filled with a no-op
    monitor_run_s: float = setting(
        "MONITOR_RUN_S", "50", float, _not_negative
    )  # how long one scheduled monitor invocation keeps watching
    monitor_interval_s: float = setting(
        "MONITOR_INTERVAL_S", "5", float, _not_negative
    )  # pause between monitor passes within one invocation
    # Bounds on what strangers can make the owner spend (issue 11; README "What a stranger can make the owner spend").
    writes_per_day: int = setting(
        "WRITES_PER_DAY", "2000", int, _not_negative
    )  # new on-chain writes per UTC day, all sources; 0: none
    source_writes_per_day: int = setting(
        "SOURCE_WRITES_PER_DAY", "20", int, _not_negative
    )  # per source IP per UTC day; 0: no limit
    l1_fee_oracle: str = setting(
        "L1_FEE_ORACLE", "none", check=_l1_fee_oracle
    )  # "op-stack": count the L1 data fee (GasPriceOracle predeploy)
    max_tx_cost_wei: int = setting(
        "MAX_TX_COST_ETH", "0.05", _eth, _positive
    )  # gas * maxFeePerGas + L1 data fee of one transaction, at most
    # Issue 24: sources grouped by network (chalicelib/api/sources.py: a source is an IPv4 address or an IPv6 /64;
    # its network the IPv4 /24 or IPv6 /48 around it), each per-source limit with a network aggregate above it.
    network_writes_per_day: int = setting(
        "NETWORK_WRITES_PER_DAY", "100", int, _not_negative
    )  # new on-chain writes per IPv4 /24 or IPv6 /48 per UTC day; 0: no limit
    network_requests_per_minute: int = setting(
        "NETWORK_REQUESTS_PER_MINUTE", "1500", int, _not_negative
    )  # write requests checked on chain, per /24 or /48 per minute; 0: no limit
    # The share of WRITES_PER_DAY kept for wallets that already have a key (rotations, revocations): a new wallet's
    # first registration may use at most (1 - share) of the day's budget, a wallet's later writes all of it.
    reserved_writes_share: float = setting("RESERVED_WRITES_SHARE", "0.2", float, _share)
    # Reads per source per minute: every GET costs 1, POST /batch-lookup 1 per address asked for (chalicelib/api/
    # read_limits.py: a token bucket in each API process plus a coarse shared counter in the quotas table). At
    # least one whole batch (100), or 0: no limit.
    source_reads_per_minute: int = setting("SOURCE_READS_PER_MINUTE", "600", int, _read_limit)
    network_reads_per_minute: int = setting(
        "NETWORK_READS_PER_MINUTE", "3000", int, _read_limit
    )  # the same per IPv4 /24 or IPv6 /48
    # Browsers on this origin may read the API's answers (CORS); `*` is safe: the API uses no cookies or credentials.
    cors_allow_origin: str = setting("CORS_ALLOW_ORIGIN", DEFAULT_CORS_ALLOW_ORIGIN)
    # Secrets (RPC_URL_SECRET_ID, API_RPC_URL_SECRET_ID, PINNING_JWT_SECRET_ID) are read again once a cached value is this old, so a
    # rotated RPC key or pinning token takes effect without a redeploy.
    secret_max_age_s: int = setting("SECRET_MAX_AGE_S", "300", int, _positive)
    # Reads at launch scale (issue 22). The latest log anchor is read at most once per ANCHOR_CACHE_S per API
    # process (adapters/anchor_cache.py): a record view's anchoredHead, /log/head's anchored and the default
    # inclusion proof may lag the chain's newest anchor by up to that long. 0: read on every request.
    anchor_cache_s: float = setting("ANCHOR_CACHE_S", "5", float, _not_negative)
    # Cache-Control of the GET answers that change (lookups, as-of, history, /log/head, config): shared caches
    # (CloudFront, infra/chalice-merge.yaml) and browsers may reuse one for READ_MAX_AGE_S, and then serve it stale
    # for up to READ_STALE_WHILE_REVALIDATE_S more while they fetch a fresh one (docs/PROTOCOL.md section 10).
    read_max_age_s: int = setting("READ_MAX_AGE_S", "5", int, _not_negative)
    read_stale_while_revalidate_s: int = setting("READ_STALE_WHILE_REVALIDATE_S", "10", int, _not_negative)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, read_secrets: bool = True) -> "Settings":
        """Every setting from `env` (unset or empty: its default), checked. Raises ConfigError naming every bad one.

        read_secrets=False leaves the credentials empty (`chalice package` and the import-time check read no
        secret)."""
        values: dict[str, Any] = {}
        problems: list[str] = []
        for spec in fields(cls):
            meta = spec.metadata
            if meta["secret"]:
                continue  # read below, once secret_max_age_s is known
            text = env.get(meta["env"]) or meta["default"]
            try:
                value = meta["parse"](text)
            except (ValueError, InvalidOperation):
                problems.append(f"{meta['env']}={text!r} is not a valid {_kind(meta['parse'])}")
                continue
            wrong = meta["check"](value) if meta["check"] and value is not None else None
            if wrong:
                problems.append(f"{meta['env']}={text!r} {wrong}")
            values[spec.name] = value
        if problems:
            raise ConfigError("bad setting: " + "; ".join(problems))
        for spec in fields(cls):
            if spec.metadata["secret"]:
                name = spec.metadata["env"]
                values[spec.name] = (
                    secret_setting(name, env, max_age_s=values["secret_max_age_s"]) if read_secrets else ""
                )
        return cls(**values)

    def require_deployment(self) -> "Settings":
        """The settings without which no request can be checked: the chain and the contract (EIP-712 domain)."""
        missing = [
            name
            for name, unset in (("CHAIN_ID", self.chain_id == 0), ("REGISTRY_ADDRESS", self.registry_address == ""))
            if unset
        ]
        if missing:
            raise ConfigError(
                f"{' and '.join(missing)} not set: deploy the contract (python -m infra.deploy_contract) and set "
                f"{', '.join(missing)} for the stage in .chalice/config.json"
            )
        return self


def variables() -> dict[str, str]:
    """Environment variable -> its default text, for every setting (secrets too, with their *_SECRET_ID)."""
    names: dict[str, str] = {}
    for spec in fields(Settings):
        names[spec.metadata["env"]] = spec.metadata["default"]
        if spec.metadata["secret"]:
            names[spec.metadata["env"] + "_SECRET_ID"] = ""
    return names


def _kind(parse: Parse) -> str:
    return {int: "integer", float: "number", _gwei: "number of gwei", _eth: "number of ETH"}.get(parse, "value")
