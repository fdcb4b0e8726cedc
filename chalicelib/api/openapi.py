"""The OpenAPI 3.1 description of the API, served at /openapi.json (kept in openapi.json beside this file)."""

import json
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def load_openapi() -> dict[str, Any]:
    description: dict[str, Any] = json.loads(resources.files("chalicelib.api").joinpath("openapi.json").read_text())
    return description
