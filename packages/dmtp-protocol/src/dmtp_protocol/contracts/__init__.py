"""The registry's contracts as compiled by infra/compile_contract.js (solc-js): ABI and bytecode, checked by a test."""

import json
from functools import cache
from importlib import resources
from typing import Any

DMTP_KEYS = "DMTPKeys"
VALIDATE_SIG_OFFCHAIN = "ValidateSigOffchain"


@cache
def artifact(name: str) -> dict[str, Any]:
    """The compiled artifact {"abi", "bytecode", ...} of contract `name` (DMTP_KEYS, VALIDATE_SIG_OFFCHAIN)."""
    loaded: dict[str, Any] = json.loads(resources.files(__name__).joinpath(f"{name}.json").read_text())
    return loaded


def abi(name: str) -> list[dict[str, Any]]:
    """The contract's ABI (a list of JSON fragments), for web3, viem or ethers."""
    fragments: list[dict[str, Any]] = artifact(name)["abi"]
    return fragments
