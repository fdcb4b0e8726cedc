"""`keygen` names the raw DMTP private key for what it is: `dmtpPrivateKeyHex`, never `DMTPpriKey` (in a registration
that name is the sealed envelope, which must never be confused with the raw key)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dmtp_key_registry_client import DmtpKeyPair
from dmtp_key_registry_client import __main__ as cli


@pytest.mark.parametrize("key_type", ["x25519", "secp256k1"])
def test_keygen_prints_the_raw_private_key_as_dmtp_private_key_hex(key_type: str, capsys: Any):
    assert cli.main(["keygen", "--key-type", key_type]) == 0

    printed = json.loads(capsys.readouterr().out)

    assert set(printed) == {"keyType", "DMTPpubKey", "dmtpPrivateKeyHex"}
    pair = DmtpKeyPair.from_private_key_hex(printed["dmtpPrivateKeyHex"], key_type)
    assert (printed["keyType"], pair.public_key_hex) == (key_type, printed["DMTPpubKey"])
