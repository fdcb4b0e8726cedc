"""Where the operator tools (deploy_contract, rotate_owner, ops) find the chain's JSON-RPC URL: a file
(`--rpc-url-file FILE`) or the environment (`RPC_URL`), never the command line. The URL carries the provider's
API key, and a command line is visible to every user of the machine (`ps`, /proc/<pid>/cmdline) and kept in shell
history; `--rpc-url URL` is refused with a message saying what to use instead. No message here or in the tools
names the URL beyond its scheme, host and port (chalicelib/observability/redaction.py)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_NAME = "RPC_URL"
REFUSED_FLAG = (
    "--rpc-url is not accepted: the URL carries the provider's key and every user of this machine can read a "
    "command line (ps). Put the URL in a file (--rpc-url-file FILE) or in the RPC_URL environment variable"
)


class _RefuseOnCommandLine(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, *_: Any, **__: Any) -> None:
        parser.error(REFUSED_FLAG)


def add_rpc_url_arguments(parser: argparse.ArgumentParser, default_text: str = "$RPC_URL") -> None:
    parser.add_argument(
        "--rpc-url-file",
        type=Path,
        metavar="FILE",
        help=f"file holding the JSON-RPC endpoint URL (default: {default_text})",
    )
    parser.add_argument("--rpc-url", action=_RefuseOnCommandLine, help=argparse.SUPPRESS)


def rpc_url_from(
    parser: argparse.ArgumentParser, args: argparse.Namespace, env: Mapping[str, str] = os.environ
) -> str | None:
    """The URL from --rpc-url-file, else RPC_URL, else None. An unreadable or empty file is the parser's error
    (naming the file, never its content)."""
    path: Path | None = args.rpc_url_file
    if path is None:
        return env.get(ENV_NAME) or None
    try:
        url = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        parser.error(f"cannot read --rpc-url-file {path}: {exc.strerror}")
    if not url:
        parser.error(f"--rpc-url-file {path} is empty")
    return url


def required_rpc_url(
    parser: argparse.ArgumentParser, args: argparse.Namespace, env: Mapping[str, str] = os.environ
) -> str:
    url = rpc_url_from(parser, args, env)
    if url is None:
        parser.error("name the chain's JSON-RPC endpoint: --rpc-url-file FILE, or RPC_URL in the environment")
    return url
