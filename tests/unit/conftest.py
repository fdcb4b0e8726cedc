"""The unit tier starts no server of any kind: the session's local stack (tests/conftest.py) is refused here."""

import pytest


@pytest.fixture(scope="session")
def stack() -> None:
    pytest.fail("a unit test asked for the local stack: it belongs in tests/integration or tests/e2e")
