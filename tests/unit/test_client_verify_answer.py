"""verify_answer: the Python client's verify with the JS client's result shape (`usable`, `reason`, `detail`,
`checks`, `key`, `log`), which never raises for a bad answer. Here, what it decides without a chain (the documented
protocol vectors of docs/protocol-vectors.json, and answers broken in each way); tests/integration/
test_client_verify.py runs it on the local stack (usable, revoked, not-onchain, not-current)."""

from __future__ import annotations

import copy
import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from dmtp_key_registry_client import REASONS, VerifiedKey, VerifyResult, verify_answer
from dmtp_key_registry_client.verify import CHECKS

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "docs" / "protocol-vectors.json").read_text())
INPUTS = VECTORS["inputs"]
PINS = {"wallet": INPUTS["wallet"], "chain_id": INPUTS["chainId"], "registry": INPUTS["registry"]}
OTHER_REGISTRY = "0x" + "11" * 20


def answer(signature_type: str = "eip712") -> dict[str, Any]:
    """A lookup answer for the vectors' registration (no proof: like a batch entry, it is rebuilt from the document)."""
    vector = VECTORS["registrations"][signature_type]
    return {
        "wallet": INPUTS["wallet"],
        "bundle": json.loads(vector["document"]),
        "cid": vector["cid"],
        "revoked": False,
    }


def closed_port_url() -> str:
    """An RPC URL nothing listens on (a port bound then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def checks_up_to(failed: str) -> dict[str, bool | None]:
    """Every check before `failed` True, `failed` False, the rest None (not reached)."""
    index = CHECKS.index(failed)
    return {name: True if i < index else False if i == index else None for i, name in enumerate(CHECKS)}


@pytest.mark.parametrize("signature_type", ["eip712", "eip191"])
def test_an_authentic_answer_without_an_rpc_is_never_usable_and_says_no_rpc(signature_type):
    result = verify_answer(answer(signature_type), None, **PINS)

    assert (result.usable, result.reason) == (False, "no-rpc")
    assert result.checks == checks_up_to("rpc")
    assert result.key is not None
    assert (result.key.public_key, result.key.signature_type, result.key.signer_method) == (
        INPUTS["dmtpPublicKey"],
        signature_type,
        None,
    )
    assert result.log is None


def test_a_lookup_that_found_nothing_is_not_found_as_a_value():
    for nothing in (None, {"address": INPUTS["wallet"], "found": False}):
        result = verify_answer(nothing, None, **PINS)
        assert (result.usable, result.reason, result.key) == (False, "not-found", None)
        assert result.checks == checks_up_to("document")


@pytest.mark.parametrize("bad", ["not an object", [], {"bundle": 3}, {"cid": "bafy"}, 7])
def test_a_malformed_answer_is_a_result_never_an_exception(bad):
    result = verify_answer(bad, None, **PINS)  # type: ignore[arg-type]

    assert (result.usable, result.reason) == (False, "malformed-answer")


def test_a_bundle_that_does_not_hash_to_the_answers_cid_is_cid_mismatch():
    tampered = answer()
    tampered["cid"] = answer("eip191")["cid"]

    result = verify_answer(tampered, None, **PINS)

    assert (result.reason, result.checks) == ("cid-mismatch", checks_up_to("cid"))


def test_a_document_with_a_field_changed_is_malformed_or_does_not_match_its_cid():
    changed = answer()
    changed["bundle"]["extra"] = 1
    assert verify_answer(changed, None, **PINS).reason == "malformed-document"
    resigned = answer()
    resigned["bundle"]["issuedAt"] += 1
    assert verify_answer(resigned, None, **PINS).reason == "cid-mismatch"


def test_a_document_for_another_registry_than_the_pinned_one_is_domain_mismatch():
    result = verify_answer(answer(), None, **{**PINS, "registry": OTHER_REGISTRY})

    assert (result.reason, result.checks["domain"]) == ("domain-mismatch", False)


def test_a_document_for_another_wallet_than_the_one_asked_about_is_wallet_mismatch():
    result = verify_answer(answer(), None, **{**PINS, "wallet": "0x" + "22" * 20})

    assert (result.reason, result.checks["wallet"]) == ("wallet-mismatch", False)


def test_a_caller_who_pins_nothing_gets_missing_pin():
    result = verify_answer(answer(), None, wallet=INPUTS["wallet"], chain_id=None, registry=INPUTS["registry"])  # type: ignore[arg-type]

    assert (result.reason, result.checks) == ("missing-pin", checks_up_to("pinned"))


def test_an_answer_whose_fields_say_another_key_than_its_document_is_answer_mismatch():
    lying = answer()
    lying["DMTPpubKey"] = "0x" + "33" * 32

    assert verify_answer(lying, None, **PINS).reason == "answer-mismatch"


def test_an_answer_with_a_proof_that_is_not_the_documents_is_proof_mismatch():
    lying = answer()
    lying["proof"] = {"chainId": INPUTS["chainId"]}

    assert verify_answer(lying, None, **PINS).reason == "proof-mismatch"


def test_an_unreachable_rpc_is_rpc_unavailable_with_the_rpc_check_failed():
    result = verify_answer(answer(), closed_port_url(), **PINS, rpc_timeout_s=2)

    assert (result.reason, result.checks) == ("rpc-unavailable", checks_up_to("rpc"))
    assert INPUTS["wallet"] in (result.detail or "")  # the detail names the wallet and version, as JS's does


def test_the_result_as_json_is_the_js_clients_shape():
    result = verify_answer(answer(), None, **PINS)

    out = result.to_json()

    assert list(out) == ["usable", "reason", "detail", "checks", "key", "log"]
    assert list(out["checks"]) == list(CHECKS)
    assert set(out["key"]) == {
        "wallet",
        "keyType",
        "publicKey",
        "version",
        "issuedAt",
        "expiresAt",
        "signatureType",
        "signerMethod",
        "cid",
        "chainId",
        "registry",
    }
    assert json.loads(json.dumps(out)) == out


def test_every_reason_a_result_can_carry_is_one_of_the_shared_reasons():
    broken = [None, "x", answer() | {"cid": "bafy"}, answer() | {"DMTPpubKey": "0x"}]
    reasons = {verify_answer(each, None, **PINS).reason for each in broken}  # type: ignore[arg-type]
    assert reasons <= REASONS and len(reasons) == 4


def test_a_bug_inside_a_check_is_verification_error_not_an_exception(monkeypatch):
    module = sys.modules["dmtp_key_registry_client.verify"]  # the package's `verify` attribute is the function

    def broken(*_: Any) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(module, "_check_answer_fields", broken)

    result: VerifyResult = verify_answer(copy.deepcopy(answer()), None, **PINS)

    assert (result.usable, result.reason, result.checks["answer"]) == (False, "verification-error", False)
    assert "boom" in (result.detail or "")


@pytest.mark.parametrize(
    ("onchain", "revoked", "expires_at", "reason"),
    [
        (None, False, 0, "no-rpc"),
        (False, False, 0, "not-onchain"),
        (True, True, 0, "revoked"),
        (True, False, 1, "expired"),
        (True, False, 0, None),
    ],
)
def test_the_raising_verifys_key_says_why_it_is_not_usable_in_the_same_reasons(onchain, revoked, expires_at, reason):
    key = VerifiedKey(
        wallet=INPUTS["wallet"],
        key_type="x25519",
        public_key=INPUTS["dmtpPublicKey"],
        version=1,
        cid="bafy",
        chain_id=INPUTS["chainId"],
        registry=INPUTS["registry"],
        signature_type="eip712",
        signer_method="ecdsa",
        issued_at=0,
        expires_at=expires_at,
        revoked=revoked,
        onchain=onchain,
        status="confirmed",
    )

    assert (key.unusable_reason(), key.usable(), key.to_json()["reason"]) == (reason, reason is None, reason)


def test_the_answers_wallet_in_another_letter_case_is_the_same_wallet_as_in_the_js_client():
    lowercase = answer() | {"wallet": INPUTS["wallet"].lower(), "address": INPUTS["wallet"].upper().replace("0X", "0x")}

    assert verify_answer(lowercase, None, **PINS).reason == "no-rpc"  # past the answer check
