"""Without the `[sign]` extra (PyNaCl absent), the Python client still looks up and verifies, and what needs the extra
raises SignExtraMissing naming it. PyNaCl's absence is simulated here (sys.modules entries of None make its import
fail as a missing module does); tests/e2e/test_client_package.py installs the package without the extra for real."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from dmtp_key_registry_client import DmtpKeyPair, SignExtraMissing, build_registration, verify_answer

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "docs" / "protocol-vectors.json").read_text())
INPUTS = VECTORS["inputs"]
EXTRA = "pip install 'dmtp-key-registry-client[sign]'"


@pytest.fixture()
def without_pynacl(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in sys.modules if name == "nacl" or name.startswith("nacl.")]:
        monkeypatch.delitem(sys.modules, name)
    for name in ("nacl", "nacl.public", "nacl.exceptions", "nacl.utils"):
        monkeypatch.setitem(sys.modules, name, None)  # type: ignore[arg-type]
    monkeypatch.delitem(sys.modules, "dmtp_key_registry_client.envelope", raising=False)


def test_registering_without_the_extra_raises_an_error_naming_it(without_pynacl):
    with pytest.raises(SignExtraMissing) as refused:
        build_registration("0x" + "11" * 32, INPUTS["chainId"], INPUTS["registry"])

    assert EXTRA in str(refused.value) and refused.value.name == "nacl"
    assert isinstance(refused.value, ModuleNotFoundError)  # what an `except ImportError` already catches


def test_making_an_x25519_key_without_the_extra_raises_an_error_naming_it(without_pynacl):
    with pytest.raises(SignExtraMissing, match=r"\[sign\]"):
        DmtpKeyPair.generate()


def test_verifying_without_the_extra_works(without_pynacl):
    vector = VECTORS["registrations"]["eip712"]
    answer = {"bundle": json.loads(vector["document"]), "cid": vector["cid"], "revoked": False}

    result = verify_answer(
        answer, None, wallet=INPUTS["wallet"], chain_id=INPUTS["chainId"], registry=INPUTS["registry"]
    )

    assert (result.reason, result.checks["signature"], result.checks["answer"]) == ("no-rpc", None, True)
    assert result.key is not None and result.key.public_key == INPUTS["dmtpPublicKey"]
