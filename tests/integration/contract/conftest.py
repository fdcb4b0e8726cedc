"""A fresh Anvil per test module, and a freshly deployed DMTPKeys per test, owned by OWNER."""

import pytest
from web3 import Web3

from devstack.anvil import Anvil
from infra.deploy_contract import deploy, load_artifact
from tests.support.contract import OWNER_KEY


@pytest.fixture(scope="module")
def anvil():
    with Anvil() as node:
        yield node


@pytest.fixture(scope="module")
def w3(anvil):
    return Web3(Web3.HTTPProvider(anvil.url))


@pytest.fixture
def registry(anvil, w3):
    """A freshly deployed DMTPKeys owned by OWNER."""
    address = deploy(anvil.url, OWNER_KEY)
    return w3.eth.contract(address=address, abi=load_artifact()["abi"])
