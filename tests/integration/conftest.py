"""Fixtures of the integration tier (the session's local stack itself is in tests/conftest.py)."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.worlds import World, worlds_on


@pytest.fixture()
def worlds(stack: Any) -> Iterator[Callable[..., World]]:
    """make(**options) -> a new World on the session's stack; every world made is stopped after the test."""
    yield from worlds_on(stack)
