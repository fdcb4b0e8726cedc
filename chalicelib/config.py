"""Every setting, read from the environment (set per stage in .chalice/config.json)."""
import os
from dataclasses import dataclass
from typing import Mapping, Optional

DEFAULT_JOBS_QUEUE_NAME = "dmtp-registry-local-jobs"


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
    receipt_timeout_s: float
    aws_endpoint_url: Optional[str]
    quotas_table: str = "dmtp-registry-local-quotas"
    wallet_writes_per_day: int = 20
    source_requests_per_minute: int = 300
    signature_max_age_s: int = 900
    clock_skew_s: int = 120

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        return cls(
            records_table=env.get("RECORDS_TABLE", "dmtp-registry-local-records"),
            jobs_queue_name=env.get("JOBS_QUEUE_NAME", DEFAULT_JOBS_QUEUE_NAME),
            kms_key_id=env.get("KMS_KEY_ID", "alias/dmtp-registry-local-owner"),
            chain_id=int(env.get("CHAIN_ID", "0")),
            registry_address=env.get("REGISTRY_ADDRESS", ""),
            rpc_url=env.get("RPC_URL", ""),
            pinning_api_url=env.get("PINNING_API_URL", "https://api.pinata.cloud"),
            pinning_jwt=env.get("PINNING_JWT", ""),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", "16384")),
            receipt_timeout_s=float(env.get("RECEIPT_TIMEOUT_S", "30")),
            aws_endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            quotas_table=env.get("QUOTAS_TABLE", "dmtp-registry-local-quotas"),
            wallet_writes_per_day=int(env.get("WALLET_WRITES_PER_DAY", "20")),
            source_requests_per_minute=int(env.get("SOURCE_REQUESTS_PER_MINUTE", "300")),
            signature_max_age_s=int(env.get("SIGNATURE_MAX_AGE_S", "900")),
            clock_skew_s=int(env.get("CLOCK_SKEW_S", "120")),
        )
