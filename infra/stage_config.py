"""What .chalice/config.json says about a stage: the single place a deployed registry's address is recorded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CHALICE_CONFIG_PATH = Path(__file__).resolve().parent.parent / ".chalice" / "config.json"


@dataclass(frozen=True)
class StageConfig:
    stage: str
    chain_id: int
    registry_address: str  # "" until the contract is deployed and its address written here
    kms_key_id: str
    transactions_table: str

    @classmethod
    def load(cls, stage: str, path: Path = CHALICE_CONFIG_PATH) -> StageConfig:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
        if stage not in config.get("stages", {}):
            raise KeyError(f"{path} has no stage {stage!r}")
        env = {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}
        return cls(
            stage=stage,
            chain_id=int(env.get("CHAIN_ID", "0")),
            registry_address=env.get("REGISTRY_ADDRESS", ""),
            kms_key_id=env.get("KMS_KEY_ID", ""),
            transactions_table=env.get(
                "TRANSACTIONS_TABLE", f"dmtp-registry-{stage}-transactions"
            ),  # the template's name
        )
