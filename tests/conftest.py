"""Shared fixtures: one local stack of real parts (moto server with our KMS correction, the CloudFormation
template deployed into it, Anvil with the contract, the local pinning service) for the whole session."""

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from devstack.stack import LocalStack

CHAIN_ID = 31337


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    saved = dict(os.environ)
    # Every test request comes from the test client's one source IP: lift the per-source limit for the
    # suite (tests/integration/test_registry.py checks the limit with a source of its own).
    os.environ["SOURCE_REQUESTS_PER_MINUTE"] = "1000000"
    os.environ["NETWORK_REQUESTS_PER_MINUTE"] = "1000000"
    # ...and the read limits (tests/integration/test_read_limits.py checks them with sources of their own).
    os.environ["SOURCE_READS_PER_MINUTE"] = "1000000"
    os.environ["NETWORK_READS_PER_MINUTE"] = "1000000"
    # The same for the daily budgets of new writes (tests/integration/test_budgets.py checks them with tables of their own).
    os.environ["SOURCE_WRITES_PER_DAY"] = "0"
    os.environ["WRITES_PER_DAY"] = "0"
    os.environ["NETWORK_WRITES_PER_DAY"] = "0"
    local = LocalStack(with_api=False, with_worker=False).start()
    try:
        yield local
    finally:
        local.stop()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture()
def api(stack: LocalStack) -> Iterator[Client]:
    import app
    from chalicelib import bootstrap

    bootstrap.reset()
    with Client(app.app, stage_name=stack.stage) as client:
        yield client
    bootstrap.reset()


@pytest.fixture()
def pinning(stack: LocalStack) -> Iterator[Any]:
    """The local pinning service, with any injected fault cleared afterwards."""
    yield stack.pinning
    stack.pinning.fault.status = None
    stack.pinning.fault.wrong_cid = False


@pytest.fixture(scope="session")
def domain(stack: LocalStack) -> Any:
    from dmtp_protocol.messages import Domain

    return Domain(CHAIN_ID, stack.registry_address)


@pytest.fixture()
def wallet() -> Any:
    from eth_account import Account

    return Account.from_key("0x" + secrets.token_hex(32))
