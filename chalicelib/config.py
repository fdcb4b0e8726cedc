"""Every setting, read from the environment (set per stage in .chalice/config.json)."""
import os
from dataclasses import dataclass
from typing import Mapping, Optional

from .secrets import secret_setting

DEFAULT_JOBS_QUEUE_NAME = "dmtp-registry-local-jobs"
# Browsers on this origin may read the API's answers; `*` is safe because the API uses no cookies or credentials.
DEFAULT_CORS_ALLOW_ORIGIN = "*"


@dataclass(frozen=True)
class Settings:
    records_table: str
    jobs_queue_name: str
    kms_key_id: str
    chain_id: int
    registry_address: str
    rpc_url: str
    pinning_api_url: str
    pinning_jwt: str
    max_body_bytes: int
    aws_endpoint_url: Optional[str]
    quotas_table: str = "dmtp-registry-local-quotas"
    wallet_writes_per_day: int = 20
    source_requests_per_minute: int = 300
    signature_max_age_s: int = 900
    clock_skew_s: int = 120
    # The chain worker and its monitor (issue 4).
    transactions_table: str = "dmtp-registry-local-transactions"
    job_batch_size: int = 100  # SQS messages per worker invocation
    job_batch_window_s: int = 5  # how long Lambda's poller gathers a batch
    confirmations: int = 3  # blocks on top of a tx's block before it counts as final
    gas_cap_per_tx: int = 3_000_000  # a batch larger than this is split into several transactions
    max_fee_cap_wei: int = 100 * 10**9  # never offer more than this per gas, however stuck a tx is
    bump_after_s: float = 90.0  # a pending tx this old is replaced with 10%+ higher fees
    owner_min_balance_wei: int = 5 * 10**16  # below this the owner balance is logged as an alarm
    max_receive_count: int = 5  # must equal the template's MaxReceiveCount: the last delivery before the DLQ
    nonce_lease_s: float = 180.0  # a reserved nonce unsigned for this long is filled with a no-op
    monitor_run_s: float = 50.0  # how long one scheduled monitor invocation keeps watching
    monitor_interval_s: float = 5.0  # pause between monitor passes within one invocation
    # Bounds on what strangers can make the owner spend (issue 11; README "What a stranger can make the owner spend").
    writes_per_day: int = 2000  # new on-chain writes (registrations + revocations) per UTC day, all sources; 0: none
    source_writes_per_day: int = 20  # new on-chain writes per source IP per UTC day; 0: no limit
    l1_fee_oracle: str = "none"  # "op-stack": count the L1 data fee (GasPriceOracle predeploy) in every cost check
    max_tx_cost_wei: int = 5 * 10**16  # gas * maxFeePerGas + L1 data fee of one transaction, at most

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        return cls(
            records_table=env.get("RECORDS_TABLE", "dmtp-registry-local-records"),
            jobs_queue_name=env.get("JOBS_QUEUE_NAME", DEFAULT_JOBS_QUEUE_NAME),
            kms_key_id=env.get("KMS_KEY_ID", "alias/dmtp-registry-local-owner-blue"),
            chain_id=int(env.get("CHAIN_ID", "0")),
            registry_address=env.get("REGISTRY_ADDRESS", ""),
            rpc_url=secret_setting("RPC_URL", env),
            pinning_api_url=env.get("PINNING_API_URL", "https://api.pinata.cloud"),
            pinning_jwt=secret_setting("PINNING_JWT", env),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", "16384")),
            aws_endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            quotas_table=env.get("QUOTAS_TABLE", "dmtp-registry-local-quotas"),
            wallet_writes_per_day=int(env.get("WALLET_WRITES_PER_DAY", "20")),
            source_requests_per_minute=int(env.get("SOURCE_REQUESTS_PER_MINUTE", "300")),
            signature_max_age_s=int(env.get("SIGNATURE_MAX_AGE_S", "900")),
            clock_skew_s=int(env.get("CLOCK_SKEW_S", "120")),
            transactions_table=env.get("TRANSACTIONS_TABLE", "dmtp-registry-local-transactions"),
            job_batch_size=int(env.get("JOB_BATCH_SIZE", "100")),
            job_batch_window_s=int(env.get("JOB_BATCH_WINDOW_S", "5")),
            confirmations=int(env.get("CONFIRMATIONS", "3")),
            gas_cap_per_tx=int(env.get("GAS_CAP_PER_TX", "3000000")),
            max_fee_cap_wei=_gwei_to_wei(env.get("MAX_FEE_CAP_GWEI", "100")),
            bump_after_s=float(env.get("BUMP_AFTER_S", "90")),
            owner_min_balance_wei=_eth_to_wei(env.get("OWNER_MIN_BALANCE_ETH", "0.05")),
            max_receive_count=int(env.get("MAX_RECEIVE_COUNT", "5")),
            nonce_lease_s=float(env.get("NONCE_LEASE_S", "180")),
            monitor_run_s=float(env.get("MONITOR_RUN_S", "50")),
            monitor_interval_s=float(env.get("MONITOR_INTERVAL_S", "5")),
            writes_per_day=int(env.get("WRITES_PER_DAY", "2000")),
            source_writes_per_day=int(env.get("SOURCE_WRITES_PER_DAY", "20")),
            l1_fee_oracle=env.get("L1_FEE_ORACLE", "none"),
            max_tx_cost_wei=_eth_to_wei(env.get("MAX_TX_COST_ETH", "0.05")),
        )


def _gwei_to_wei(value: str) -> int:
    from decimal import Decimal

    return int(Decimal(value) * 10**9)


def _eth_to_wei(value: str) -> int:
    from decimal import Decimal

    return int(Decimal(value) * 10**18)
