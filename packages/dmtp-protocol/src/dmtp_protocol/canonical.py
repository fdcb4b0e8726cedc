"""Canonical JSON: sorted keys, no insignificant whitespace, UTF-8. The bytes every hash, CID and signature of
the protocol is computed over (docs/PROTOCOL.md section 7).
"""

import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant whitespace, UTF-8: the same bytes for the same document, every time."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
