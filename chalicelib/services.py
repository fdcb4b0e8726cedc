"""Builds the use cases from Settings, once per process, with each outside system behind its own module."""
from functools import lru_cache
from typing import Any

import boto3

from .config import Settings
from .jobs import JobQueue
from .pinning import PinataPinner
from .records import RecordStore
from .protocol import ClockRules, Domain, parse_address
from .quotas import Quotas
from .registry import Registry
from .rpc import JsonRpc
from .signatures import SignatureVerifier


def _aws_client(service: str, settings: Settings) -> Any:
    return boto3.client(service, endpoint_url=settings.aws_endpoint_url)


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()


def record_store(config: Settings) -> RecordStore:
    table = boto3.resource("dynamodb", endpoint_url=config.aws_endpoint_url).Table(config.records_table)
    return RecordStore(table)


@lru_cache(maxsize=1)
def quotas() -> Quotas:
    config = settings()
    table = boto3.resource("dynamodb", endpoint_url=config.aws_endpoint_url).Table(config.quotas_table)
    return Quotas(table, config.wallet_writes_per_day, config.source_requests_per_minute)


@lru_cache(maxsize=1)
def registry() -> Registry:
    config = settings()
    return Registry(
        records=record_store(config),
        queue=JobQueue(_aws_client("sqs", config), config.jobs_queue_name),
        pinner=PinataPinner(config.pinning_api_url, config.pinning_jwt),
        domain=Domain(config.chain_id, parse_address(config.registry_address)),
        verifier=SignatureVerifier(JsonRpc(config.rpc_url) if config.rpc_url else None, config.chain_id),
        quotas=quotas(),
        clock=ClockRules(config.signature_max_age_s, config.clock_skew_s),
    )


@lru_cache(maxsize=1)
def chain_worker() -> Any:
    """The SQS worker (worker.py); web3 and eth_account load here, never on the API path."""
    from .worker import ChainWorker, WorkerPolicy

    config = settings()
    parts = _chain_parts()
    return ChainWorker(
        records=parts["records"], nonces=parts["nonces"], txs=parts["txs"],
        chain=parts["chain"], signer=parts["signer"], queue=parts["queue"], policy=WorkerPolicy.from_settings(config),
    )


@lru_cache(maxsize=1)
def tx_monitor() -> Any:
    """The scheduled transaction monitor (monitor.py)."""
    from .monitor import MonitorPolicy, TxMonitor
    from .observability import Telemetry
    from .sweeper import Sweeper

    config = settings()
    parts = _chain_parts()
    telemetry = Telemetry()  # the sweeper's metrics go out with the monitor's
    return TxMonitor(
        records=parts["records"], nonces=parts["nonces"], txs=parts["txs"], chain=parts["chain"],
        signer=parts["signer"], queue=parts["queue"], policy=MonitorPolicy.from_settings(config), telemetry=telemetry,
        sweeper=Sweeper(parts["records"], parts["txs"], parts["queue"], telemetry=telemetry),
    )


@lru_cache(maxsize=1)
def _chain_parts() -> dict[str, Any]:
    from .chain import RegistryChain
    from .kms_signer import KmsSigner
    from .nonces import NonceManager
    from .transactions import TxStore

    config = settings()
    dynamodb = boto3.resource("dynamodb", endpoint_url=config.aws_endpoint_url)
    signer = KmsSigner(_aws_client("kms", config), config.kms_key_id)
    transactions = dynamodb.Table(config.transactions_table)
    return {
        "records": record_store(config),
        "nonces": NonceManager(transactions, signer.address),
        "txs": TxStore(transactions, signer.address),
        "chain": RegistryChain(config.rpc_url, config.registry_address, config.chain_id),
        "signer": signer,
        "queue": JobQueue(_aws_client("sqs", config), config.jobs_queue_name),
    }


def reset() -> None:
    """Forget built services, so the next call reads the environment again (tests, local stack)."""
    for cached in (settings, quotas, registry, chain_worker, tx_monitor, _chain_parts):
        cached.cache_clear()
