"""Builds the use cases from Settings, once per process, with each outside system behind its own module.

The use cases' modules are imported when first built, not when app.py imports this module: a Lambda container
imports app.py once before it answers anything, so what is left out there shortens every cold start (bench/api.py).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import boto3

from chalicelib.adapters.secrets import secret_source
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalicelib.adapters.anchor_cache import CachedAnchors
    from chalicelib.adapters.quotas import Quotas
    from chalicelib.adapters.records import RecordStore
    from chalicelib.adapters.translog import TransparencyLog
    from chalicelib.api.logqueries import LogQueries
    from chalicelib.api.read_limits import ReadLimiter
    from chalicelib.api.registry import Registry


def _aws_client(service: Literal["sqs", "kms"], settings: Settings) -> Any:
    return boto3.client(service, endpoint_url=settings.aws_endpoint_url)


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Checked (config.ConfigError names a bad variable); lru_cache keeps no failure, so it is raised again.

    The credentials are left out (rpc_url and pinning_jwt empty): each use reads them through secret_source,
    so a GET, which needs neither, never waits for Secrets Manager, and a rotated secret applies."""
    return Settings.from_env(read_secrets=False)


class _BuiltOnFirstUse:
    """Stands for what `build` returns, building it on the first attribute read: a cold GET never pays for the
    SQS client or the quotas table it does not use."""

    def __init__(self, build: Any) -> None:
        self._build = build
        self._built: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._built is None:
            self._built = self._build()
        return getattr(self._built, name)


def _api_rpc_configured() -> bool:
    """Whether the API has a chain RPC of its own (API_RPC_URL, or its secret). Never the worker's RPC_URL: the
    API's checks run on strangers' requests, and must not spend the worker's provider quota (issue 24)."""
    return bool(os.environ.get("API_RPC_URL") or os.environ.get("API_RPC_URL_SECRET_ID"))


def record_store(config: Settings) -> RecordStore:
    from chalicelib.adapters.dynamo import dynamodb_table
    from chalicelib.adapters.records import RecordStore

    return RecordStore(dynamodb_table(config.records_table, config.aws_endpoint_url), transparency_log(config))


def transparency_log(config: Settings) -> TransparencyLog:
    from chalicelib.adapters.dynamo import dynamodb_table
    from chalicelib.adapters.translog import TransparencyLog

    return TransparencyLog(
        dynamodb_table(config.log_table, config.aws_endpoint_url),
        anchor_single_after_s=config.log_anchor_single_after_s,
    )


def _cached_anchors(log: TransparencyLog, config: Settings) -> CachedAnchors:
    """The log's latest anchor, read at most once per ANCHOR_CACHE_S in this process (its staleness:
    adapters/anchor_cache.py): every read route shares the log table's one anchor partition."""
    from chalicelib.adapters.anchor_cache import CachedAnchors

    return CachedAnchors(log, config.anchor_cache_s)


@lru_cache(maxsize=1)
def log_queries() -> LogQueries:
    """The transparency log's read use cases (GET /log/...)."""
    from chalicelib.api.logqueries import LogQueries

    config = settings()
    records = record_store(config)
    assert records.log is not None
    return LogQueries(records.log, records, anchors=_cached_anchors(records.log, config))


@lru_cache(maxsize=1)
def quotas() -> Quotas:
    from chalicelib.adapters.dynamo import dynamodb_table
    from chalicelib.adapters.quotas import Quotas
    from chalicelib.observability.emf import write_budget_exhausted

    config = settings()
    table = dynamodb_table(config.quotas_table, config.aws_endpoint_url)
    return Quotas(
        table,
        config.wallet_writes_per_day,
        config.source_requests_per_minute,
        writes_per_day=config.writes_per_day,
        source_writes_per_day=config.source_writes_per_day,
        on_budget_exhausted=write_budget_exhausted,
        pinning_requests_per_minute=config.pinning_requests_per_minute,
        network_writes_per_day=config.network_writes_per_day,
        network_requests_per_minute=config.network_requests_per_minute,
        reserved_writes_share=config.reserved_writes_share,
    )


@lru_cache(maxsize=1)
def read_limits() -> ReadLimiter:
    """The per-source limits of reads: this process's token buckets (kept while the process lives: lru_cache) and
    the shared counts in the quotas table, built only once a limit needs reporting."""
    from chalicelib.api.read_limits import ReadLimiter

    config = settings()
    return ReadLimiter(
        _BuiltOnFirstUse(quotas),
        config.source_reads_per_minute,
        config.network_reads_per_minute,
    )


@lru_cache(maxsize=1)
def registry() -> Registry:
    from chalicelib.adapters.jobs import JobQueue
    from chalicelib.adapters.rpc import JsonRpc
    from chalicelib.api.registry import Registry
    from chalicelib.api.signatures import SignatureVerifier
    from chalicelib.settings import ConfigError
    from dmtp_protocol.errors import InvalidAddress
    from dmtp_protocol.messages import ClockRules, Domain, parse_address

    config = settings().require_deployment()
    try:  # the stage's address, not the client's: a bad one (an EIP-55 checksum config.py cannot check) is a 500
        registry_address = parse_address(config.registry_address)
    except InvalidAddress as exc:
        raise ConfigError(f"bad setting: REGISTRY_ADDRESS={config.registry_address!r}: {exc.detail}") from exc
    # The credentials are read on use, a cached read at most SECRET_MAX_AGE_S old (a rotated secret applies).
    rpc_url = secret_source("API_RPC_URL", os.environ, config.secret_max_age_s)
    records = record_store(config)
    return Registry(
        records=records,
        queue=JobQueue(_BuiltOnFirstUse(lambda: _aws_client("sqs", config)), config.jobs_queue_name),
        domain=Domain(config.chain_id, registry_address),
        verifier=SignatureVerifier(JsonRpc(rpc_url) if _api_rpc_configured() else None, config.chain_id),
        quotas=_BuiltOnFirstUse(quotas),
        clock=ClockRules(config.signature_max_age_s, config.clock_skew_s),
        log=_cached_anchors(records.log, config) if records.log is not None else None,
        reads=read_limits(),
    )


@lru_cache(maxsize=1)
def chain_worker() -> Any:
    """The SQS worker (worker.py); web3 and eth_account load here, never on the API path."""
    from chalicelib.adapters.pinning import PinataPinner
    from chalicelib.chain.worker import ChainWorker, WorkerPolicy

    config = settings()
    # The pinning token is read on use, a cached read at most SECRET_MAX_AGE_S old (a rotated secret applies).
    jwt = secret_source("PINNING_JWT", os.environ, config.secret_max_age_s)
    parts = _chain_parts()
    return ChainWorker(
        records=parts["records"],
        nonces=parts["nonces"],
        txs=parts["txs"],
        chain=parts["chain"],
        signer=parts["signer"],
        queue=parts["queue"],
        policy=WorkerPolicy.from_settings(config),
        control=parts["control"],
        pinner=PinataPinner(config.pinning_api_url, jwt),
        pin_budget=quotas(),
    )


@lru_cache(maxsize=1)
def tx_monitor() -> Any:
    """The scheduled transaction monitor (monitor.py)."""
    from chalicelib.chain.monitor import MonitorPolicy, TxMonitor
    from chalicelib.chain.sweeper import Sweeper
    from chalicelib.observability.telemetry import Telemetry

    config = settings()
    parts = _chain_parts()
    telemetry = Telemetry()  # the sweeper's metrics go out with the monitor's
    return TxMonitor(
        records=parts["records"],
        nonces=parts["nonces"],
        txs=parts["txs"],
        chain=parts["chain"],
        signer=parts["signer"],
        queue=parts["queue"],
        policy=MonitorPolicy.from_settings(config),
        telemetry=telemetry,
        control=parts["control"],
        log=parts["records"].log,
        sweeper=Sweeper(parts["records"], parts["txs"], parts["queue"], control=parts["control"], telemetry=telemetry),
    )


@lru_cache(maxsize=1)
def _chain_parts() -> dict[str, Any]:
    from chalicelib.adapters.control import WorkerControl
    from chalicelib.adapters.dynamo import dynamodb_table
    from chalicelib.adapters.ethereum import RegistryChain
    from chalicelib.adapters.jobs import JobQueue
    from chalicelib.adapters.kms_signer import KmsSigner
    from chalicelib.adapters.nonces import NonceManager
    from chalicelib.adapters.transactions import TxStore

    config = settings()
    signer = KmsSigner(_aws_client("kms", config), config.kms_key_id)
    transactions = dynamodb_table(config.transactions_table, config.aws_endpoint_url)
    records = record_store(config)
    return {
        "records": records,
        "nonces": NonceManager(transactions, signer.address),
        "txs": TxStore(transactions, signer.address),
        # Read once per container here: web3's provider keeps its URL (a rotated RPC secret reaches the worker
        # and monitor with their next cold start; the API reads it on use).
        "chain": RegistryChain(
            secret_source("RPC_URL", os.environ, config.secret_max_age_s)(),
            config.registry_address,
            config.chain_id,
            l1_fee_oracle=config.l1_fee_oracle,
            log_head=records.log.head_to_anchor if records.log else None,
        ),
        "signer": signer,
        "queue": JobQueue(_aws_client("sqs", config), config.jobs_queue_name),
        "control": WorkerControl(transactions),
    }


def reset() -> None:
    """Forget built services, so the next call reads the environment again (tests, local stack)."""
    for cached in (settings, quotas, read_limits, registry, log_queries, chain_worker, tx_monitor, _chain_parts):
        cached.cache_clear()
