"""The Python client's verification rules (dmtp_key_registry_client/verify.py: the events rule and the anchor rule of
docs/PROTOCOL.md section 11) give exactly the reason codes of the `verificationRules` vectors in
docs/protocol-vectors.json (docs/make_rule_vectors.py). clients/js/test/vectors.test.js runs the JavaScript client's
rules on the same cases, so the two clients name every failure alike; the auditor uses the same first_rollback."""

import json
from pathlib import Path
from typing import Any

import pytest

from dmtp_key_registry_client.verify import (
    ChainEvent,
    LogHead,
    VerificationFailed,
    check_key_history,
    covering_anchor,
    first_rollback,
)

RULES = json.loads((Path(__file__).resolve().parents[2] / "docs" / "protocol-vectors.json").read_text())[
    "verificationRules"
]


def digest(label: str) -> bytes:
    return bytes.fromhex(RULES["documents"][label][2:])


def history(case: dict[str, Any]) -> list[ChainEvent]:
    return [
        ChainEvent(event["kind"], case["firstBlock"] + i, 2, digest=digest(event["document"]), version=event["version"])
        for i, event in enumerate(case["events"])
    ]


def reason_of(rule: Any) -> str | None:
    try:
        rule()
    except VerificationFailed as failure:
        return failure.code
    return None


@pytest.mark.parametrize("case", RULES["history"], ids=[case["case"] for case in RULES["history"]])
def test_the_events_rule_gives_the_vectors_reason(case: dict[str, Any]) -> None:
    document = case["document"]
    events = history(case)

    reason = reason_of(lambda: check_key_history(events, digest(document["document"]), document["version"]))

    assert reason == case["reason"]
    assert (first_rollback(events) is not None) == (case["reason"] == "version-rollback")  # what the auditor reads


@pytest.mark.parametrize("case", RULES["anchors"], ids=[case["case"] for case in RULES["anchors"]])
def test_the_anchor_rule_gives_the_vectors_reason(case: dict[str, Any]) -> None:
    key = ChainEvent("KeyUpdated", case["keyEvent"]["block"], case["keyEvent"]["logIndex"])
    anchors = [ChainEvent("LogAnchored", a["block"], a["logIndex"], size=a["size"]) for a in case["anchors"]]

    head = LogHead(case["logHead"]["size"], b"\0" * 32)

    assert reason_of(lambda: covering_anchor(key, anchors, case["leafIndex"], head)) == case["reason"]


def test_a_rollback_names_both_versions_and_where_each_event_is() -> None:
    versions = ((1, "A"), (2, "B"), (1, "A"))  # v1, v2, then v1 set again
    events = [
        ChainEvent("KeyUpdated", 10 + i, 2, f"0x{i}", digest(label), version)
        for i, (version, label) in enumerate(versions)
    ]

    with pytest.raises(VerificationFailed) as refused:
        check_key_history(events, digest("A"), 1)

    assert refused.value.code == "version-rollback"
    assert refused.value.reason == (
        "KeyUpdated of version 1 at block 12 (tx 0x2) comes after KeyUpdated of version 2 at block 11 (tx 0x1): "
        "the wallet's key history goes back from version 2 to 1"
    )
