"""Schemathesis hooks for bench/fuzz.py (loaded through SCHEMATHESIS_HOOKS).

The document's Address schema carries `format: ethereum-address`: EIP-55's keccak-256 checksum of mixed-case
addresses is a rule no pattern can state. A client generates such addresses as a wallet does: all lowercase, all
uppercase, or checksummed; this strategy does the same, so "valid" data really is valid.
"""

import schemathesis
from hypothesis import strategies as st

from dmtp_protocol.ethsig import to_checksum_address


def _spelled(raw: bytes, spelling: str) -> str:
    lower = "0x" + raw.hex()
    if spelling == "lower":
        return lower
    if spelling == "upper":
        return "0x" + raw.hex().upper()
    return to_checksum_address(lower)


schemathesis.openapi.format(
    "ethereum-address",
    st.builds(_spelled, st.binary(min_size=20, max_size=20), st.sampled_from(["lower", "upper", "checksum"])),
)
