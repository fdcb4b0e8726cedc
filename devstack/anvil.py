"""Launch a real Anvil node (from the pinned npm package) for the local stack and tests.

Usage::

    with Anvil() as node:
        print(node.url)          # http://127.0.0.1:<free port>

Independent of chalicelib: stdlib + requests only.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
ANVIL_BIN = REPO_ROOT / "node_modules" / ".bin" / "anvil"

#: First three of Anvil's default dev accounts, derived from the well-known
#: mnemonic "test test test test test test test test test test test junk"
#: (m/44'/60'/0'/0/i). Checked against `anvil` 1.7.1 output. Test-only keys:
#: never use them anywhere real.
DEV_ACCOUNTS: tuple[tuple[str, str], ...] = (
    (
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    ),
    (
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    ),
    (
        "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
        "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    ),
)

START_TIMEOUT = 20.0
STOP_GRACE = 5.0


def anvil_binary() -> Path:
    """Path of the pinned anvil binary; RuntimeError if `npm ci` has not been run."""
    if not ANVIL_BIN.exists():
        raise RuntimeError(
            f"Anvil binary not found at {ANVIL_BIN}. Run `npm ci` in {REPO_ROOT} "
            "to install the pinned @foundry-rs/anvil-linux-amd64 package."
        )
    return ANVIL_BIN


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Anvil:
    """A local Anvil node bound to 127.0.0.1; use as a context manager."""

    def __init__(
        self,
        port: int | None = None,
        chain_id: int = 31337,
        block_time: float | None = None,
        extra_args: Sequence[str] = (),
        log_path: Path | None = None,
        state_path: Path | None = None,
    ) -> None:
        self.port = port
        self.chain_id = chain_id
        self.block_time = block_time
        self.extra_args = list(extra_args)
        #: With a state file, the node dumps its chain there when it stops and loads it when it starts, so
        #: `restart()` brings the same chain back (as a node restarted from its database does).
        self.state_path = state_path
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self.log_path = log_path  # the node's output; a temporary file when None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("Anvil has not been started")
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            str(anvil_binary()),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
        ]
        if self.block_time is not None:
            # anvil accepts fractional seconds here (e.g. 0.5)
            cmd += ["--block-time", f"{self.block_time:g}"]
        if self.state_path is not None:
            cmd += ["--state", str(self.state_path)]
        cmd += ["--quiet", *self.extra_args]
        return cmd

    def start(self) -> Anvil:
        if self.process is not None:
            raise RuntimeError("Anvil already started")
        if self.port is None:
            self.port = free_port()
        cmd = self.command()
        # Output goes to a file (never a pipe) so a chatty node can never block.
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            # The node writes here for as long as it runs; stop() closes it, so no `with` block fits.
            self._stderr = open(self.log_path, "w+b")  # noqa: SIM115
        else:
            self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (the same: closed by stop())
        self.process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._stderr,
            stderr=self._stderr,
            cwd=REPO_ROOT,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _read_stderr(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace").strip()

    def _wait_ready(self) -> None:
        process = self.process
        assert process is not None  # start() started it
        deadline = time.monotonic() + START_TIMEOUT
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"anvil exited with code {process.returncode} during startup "
                    f"({' '.join(self.command())}):\n{self._read_stderr()}"
                )
            try:
                chain_id = self.rpc("eth_chainId", timeout=1.0)
                if int(chain_id, 16) != self.chain_id:
                    raise RuntimeError(
                        f"node on port {self.port} reports chain id {int(chain_id, 16)}, "
                        f"expected {self.chain_id} (port taken by another node?)"
                    )
                return
            except (requests.RequestException, ValueError) as exc:
                last_error = exc
                time.sleep(0.05)
        raise RuntimeError(
            f"anvil did not answer eth_chainId on {self.url} within {START_TIMEOUT:g}s "
            f"(last error: {last_error}); stderr:\n{self._read_stderr()}"
        )

    def rpc(self, method: str, params: list[Any] | None = None, timeout: float = 10.0) -> Any:
        """Minimal JSON-RPC call; returns `result` or raises RuntimeError on an RPC error."""
        resp = requests.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []},
            timeout=timeout,
        )
        resp.raise_for_status()
        body = resp.json()
        if "error" in body:
            raise RuntimeError(f"{method} failed: {body['error']}")
        return body["result"]

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        elif proc is not None:
            proc.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def restart(self) -> Anvil:
        """Stop (SIGTERM: the node writes its state file) and start again on the same port from that state.
        Without a state file the chain starts over from genesis."""
        self.stop()
        return self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __del__(self) -> None:  # last-resort cleanup; stop() is the real API
        with contextlib.suppress(Exception):
            self.stop()


if __name__ == "__main__":  # `python -m devstack.anvil [port]`: run a node in the foreground
    import sys

    node = Anvil(port=int(sys.argv[1]) if len(sys.argv) > 1 else 8545)
    with node:
        print(f"anvil listening on {node.url} (chain id {node.chain_id}); Ctrl-C to stop", flush=True)
        for addr, _key in DEV_ACCOUNTS:
            print(f"  dev account {addr}", flush=True)
        try:
            while node.running:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
