"""`python -m tests.support.js_stack_runner CMD...`: start the local stack (chalice local API + worker loop + Anvil + moto +
pinning service), run CMD with DMTP_API_URL, DMTP_RPC_URL, DMTP_CHAIN_ID, DMTP_REGISTRY and DMTP_PYTHON (this
Python, for the test helpers CMD runs on the same stage) in its environment, stop
the stack, exit with CMD's status. A process of its own, so the stack's environment never leaks into pytest's."""

from __future__ import annotations

import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    os.environ["SOURCE_REQUESTS_PER_MINUTE"] = "1000000"  # one test source makes every request
    os.environ["NETWORK_REQUESTS_PER_MINUTE"] = "1000000"
    os.environ["SOURCE_READS_PER_MINUTE"] = "1000000"
    os.environ["NETWORK_READS_PER_MINUTE"] = "1000000"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # the worker's EMF metrics would print on stdout
    from devstack.stack import LocalStack, stage_environment

    with LocalStack(with_api=True, with_worker=True) as stack:
        env = {
            **os.environ,
            "DMTP_API_URL": stack.api_url,
            "DMTP_RPC_URL": stack.anvil.url,
            "DMTP_CHAIN_ID": stage_environment(stack.stage)["CHAIN_ID"],
            "DMTP_REGISTRY": stack.registry_address,
            "DMTP_PYTHON": sys.executable,  # for helpers the tests run on the stack (tests/support/behind_the_back.py)
        }
        return subprocess.run(argv, env=env, timeout=300).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
