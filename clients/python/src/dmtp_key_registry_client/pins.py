"""What the user trusts, pinned on the user's side: the chain id, the DMTPKeys contract (registry) and the block it
was deployed in, the RPC to read it through, and the registry API's URL. From command-line flags, else from the
client's own configuration file, never from anything the registry answers.

The configuration file is JSON: `{"chainId": 8453, "registry": "0x…", "deployBlock": 12345678, "rpc": "https://…",
"api": "https://…"}` (every member optional). `deployBlock` (flag `--from-block`) is where `verify` and `audit`
start reading the contract's events: the registry's deployment block, or any earlier one (0 when not pinned).
It is read from `--config PATH`, else `$DMTP_CLIENT_CONFIG`, else
`$XDG_CONFIG_HOME/dmtp/client.json` (default `~/.config/dmtp/client.json`) when that file exists.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_ENV = "DMTP_CLIENT_CONFIG"
MEMBERS = {
    "chainId": "chain_id",
    "registry": "registry",
    "deployBlock": "deploy_block",
    "rpc": "rpc_url",
    "api": "api_url",
}


@dataclass(frozen=True)
class Pins:
    chain_id: int | None = None
    registry: str | None = None
    rpc_url: str | None = None
    api_url: str | None = None
    source: str = "flags"  # where the file part came from, for messages
    deploy_block: int | None = None  # the registry's deployment block: where its events are read from


def default_config_path() -> Path | None:
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    candidate = base / "dmtp" / "client.json"
    return candidate if candidate.is_file() else None


def load_pins(path: str | Path | None = None, **flags: Any) -> Pins:
    """Flags (chain_id, registry, deploy_block, rpc_url, api_url; None: not given) over the configuration file's members.
    ValueError when the file cannot be read or holds something else than the members above."""
    file_path = Path(path) if path else default_config_path()
    values: dict[str, Any] = {}
    source = "flags"
    if file_path is not None:
        try:
            loaded = json.loads(file_path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the client configuration {file_path}: {exc}") from exc
        if not isinstance(loaded, dict) or set(loaded) - set(MEMBERS):
            raise ValueError(f"{file_path} must be a JSON object with only {', '.join(MEMBERS)}")
        values = {MEMBERS[name]: value for name, value in loaded.items()}
        source = str(file_path)
    values.update({name: value for name, value in flags.items() if value is not None})
    chain_id = values.get("chain_id")
    if chain_id is not None and (isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0):
        raise ValueError(f"chainId must be a positive integer, not {chain_id!r}")
    deploy_block = values.get("deploy_block")
    if deploy_block is not None and (
        isinstance(deploy_block, bool) or not isinstance(deploy_block, int) or deploy_block < 0
    ):
        raise ValueError(f"deployBlock must be a block number, not {deploy_block!r}")
    return Pins(chain_id, values.get("registry"), values.get("rpc_url"), values.get("api_url"), source, deploy_block)
