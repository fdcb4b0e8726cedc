"""The verification rules' test vectors (docs/PROTOCOL.md section 11): the events rule (a wallet's KeyUpdated and
KeyRevoked events never go back in version, and the last KeyUpdated is the answer's document) and the anchor rule
(the first LogAnchored event at or after the key's KeyUpdated covers its leaf; with none after it, the contract's
logHead(), the last anchor, may already cover it), each case with the reason code a client must
give (null: the rule holds). docs/make_protocol_vectors.py stores them under "verificationRules" in
docs/protocol-vectors.json and shows them in PROTOCOL.md; tests/unit/test_rule_vectors.py runs the Python client's
rules on them, clients/js/test/vectors.test.js the JavaScript client's, so both give the same codes.

The cases are data, written out here, not computed by the clients: a client that disagrees is wrong.
"""

import hashlib
from typing import Any

KEY_BLOCK, KEY_LOG_INDEX = 10, 2  # where the anchor cases' KeyUpdated event is
FIRST_EVENT_BLOCK = 10  # the events of a history case are at blocks 10, 11, ... (log index 2), in chain order


def _digest(label: str) -> str:
    return "0x" + hashlib.sha256(f"dmtp rule vector document {label}".encode()).hexdigest()


def _event(kind: str, version: int, document: str) -> dict[str, Any]:
    return {"kind": kind, "version": version, "document": document}


def _updated(version: int, document: str) -> dict[str, Any]:
    return _event("KeyUpdated", version, document)


def _revoked(version: int, document: str) -> dict[str, Any]:
    return _event("KeyRevoked", version, document)


HISTORY = [
    ("one key", [_updated(1, "A")], (1, "A"), None),
    ("a key, its revocation, a new key", [_updated(1, "A"), _revoked(2, "A"), _updated(3, "B")], (3, "B"), None),
    ("a revoked key (keyOf says revoked; the history is sound)", [_updated(1, "A"), _revoked(2, "A")], (1, "A"), None),
    ("the same write seen twice", [_updated(1, "A"), _updated(1, "A")], (1, "A"), None),
    (
        "v1, v2, then v1 set again by the owner key",
        [_updated(1, "A"), _updated(2, "B"), _updated(1, "A")],
        (1, "A"),
        "version-rollback",
    ),
    ("a revoked key set again", [_updated(1, "A"), _revoked(2, "A"), _updated(1, "A")], (1, "A"), "version-rollback"),
    ("two keys of one version", [_updated(1, "A"), _updated(2, "B"), _updated(2, "C")], (2, "C"), "version-rollback"),
    (
        "a rollback later followed by a new key",
        [_updated(1, "A"), _updated(2, "B"), _updated(1, "A"), _updated(3, "C")],
        (3, "C"),
        "version-rollback",
    ),
    (
        "an older document set under a new version",
        [_updated(1, "A"), _updated(2, "B"), _updated(3, "A")],
        (1, "A"),
        "version-mismatch",
    ),
    ("the answer is not the latest key", [_updated(1, "A"), _updated(2, "B")], (1, "A"), "version-mismatch"),
    ("no KeyUpdated from the start block", [], (1, "A"), "no-event"),
]

ANCHORS = [
    ("anchored in the key's own transaction", [(KEY_BLOCK, 3, 5)], 4, None),
    ("anchored by a later transaction (the next batch, or an anchor-only one)", [(12, 0, 6)], 5, None),
    ("only anchors before the KeyUpdated, none covering the leaf", [(8, 1, 4)], 4, "log-not-anchored-yet"),
    ("an anchor earlier in the same block is not after it", [(KEY_BLOCK, 1, 6)], 6, "log-not-anchored-yet"),
    ("an anchor before the KeyUpdated already covers the leaf, none after", [(8, 1, 6)], 5, None),
    ("an anchor earlier in the same block already covers the leaf, none after", [(KEY_BLOCK, 1, 6)], 5, None),
    ("the leaf at the anchor's size", [(KEY_BLOCK, 3, 5)], 5, "log-index-beyond-anchor"),
    (
        "a leaf past the first anchor after the KeyUpdated",
        [(KEY_BLOCK, 3, 5), (12, 0, 9)],
        7,
        "log-index-beyond-anchor",
    ),
    ("no leaf index", [(KEY_BLOCK, 3, 5)], None, "log-missing"),
]


# Every reason code verify() gives (docs/PROTOCOL.md section 11), in the order its checks run, with what it means. Both
# clients give exactly these (clients/js/test/vectors.test.js checks the JavaScript client's source and declarations).
REASONS = [
    ("missing-pin", "the caller did not name the wallet, chainId and registry it trusts (or a valid start block)"),
    ("not-found", "the registry has no key for the wallet (a lookup miss: {found: false})"),
    ("malformed-answer", "the answer is not a registry answer (no bundle object, or a bad log.leafIndex)"),
    ("malformed-document", "the bundle is not a valid, canonical key document"),
    ("cid-mismatch", "the bundle's bytes do not hash to the answer's cid"),
    ("wallet-mismatch", "the document is another wallet's"),
    ("domain-mismatch", "the document is signed for another chain or registry"),
    ("answer-mismatch", "the answer's own fields differ from the document's"),
    ("proof-mismatch", "the answer's proof differs from the one rebuilt from the document"),
    ("no-rpc", "no chain of the caller's own to read (client, provider or rpcUrl): never usable"),
    ("rpc-unavailable", "the caller's chain did not answer"),
    ("rpc-error", "the caller's chain answered an error, or something that is not a DMTPKeys event"),
    ("chain-mismatch", "the caller's chain is another chain than the pinned chainId"),
    ("bad-signature", "the wallet did not sign the document (ecdsa, ERC-1271 or ERC-6492)"),
    ("contract-unreadable", "the registry address does not answer as DMTPKeys"),
    ("not-onchain", "the contract holds no key for the wallet (not confirmed yet)"),
    ("not-current", "the contract holds another key for the wallet"),
    ("revoked", "the contract (or the registry) says the key is revoked"),
    ("expired", "the key's expiresAt has passed"),
    ("version-rollback", "the wallet's events go back in version"),
    ("no-event", "no KeyUpdated event for the wallet from the start block"),
    ("version-mismatch", "the wallet's last KeyUpdated event is not this document's digest and version"),
    ("log-not-anchored-yet", "no LogAnchored event at or after the key's KeyUpdated yet (retry)"),
    ("log-index-beyond-anchor", "the answer's leaf index is beyond the first anchor after the key"),
    ("log-missing", "an anchor covers the key but the answer names no leaf index"),
    ("log-unavailable", "the registry's log proofs were needed and not available"),
    ("log-leaf-mismatch", "the log's leaf is not the one built from the document"),
    ("log-inclusion-failed", "the inclusion proof does not lead to the on-chain log root"),
    ("log-inconsistent", "the on-chain log head does not extend the one seen before"),
    ("malformed-request", "the caller's previousHead is not {size, root}"),
    ("verification-error", "an unexpected error: verify fails closed"),
]


def build() -> dict[str, Any]:
    labels = sorted({event["document"] for _, events, _, _ in HISTORY for event in events} | {"A"})
    return {
        "reasons": [{"code": code, "meaning": meaning} for code, meaning in REASONS],
        "documents": {label: _digest(label) for label in labels},
        "history": [
            {
                "case": case,
                "events": events,
                "firstBlock": FIRST_EVENT_BLOCK,
                "document": {"version": version, "document": document},
                "reason": reason,
            }
            for case, events, (version, document), reason in HISTORY
        ],
        "anchors": [
            {
                "case": case,
                "keyEvent": {"block": KEY_BLOCK, "logIndex": KEY_LOG_INDEX},
                "anchors": [{"block": block, "logIndex": index, "size": size} for block, index, size in anchors],
                "logHead": {"size": anchors[-1][2] if anchors else 0},  # logHead(): the last anchor (larger only)
                "leafIndex": leaf_index,
                "reason": reason,
            }
            for case, anchors, leaf_index, reason in ANCHORS
        ],
    }


def markdown(rules: dict[str, Any]) -> str:
    """The vectors' subsection of PROTOCOL.md."""

    def history(events: list[dict[str, Any]]) -> str:
        return ", ".join(f"{e['kind']} v{e['version']} {e['document']}" for e in events) or "none"

    def anchors(found: list[dict[str, Any]]) -> str:
        return ", ".join(f"block {a['block']} #{a['logIndex']} size {a['size']}" for a in found)

    out = [
        "\n### Verification rules (§11)\n\n",
        "The reason codes of a result that is not usable, in the order the checks run:\n\n",
        "| reason | meaning |\n| --- | --- |\n",
        *(f"| `{r['code']}` | {r['meaning']} |\n" for r in rules["reasons"]),
        "\n",
        "Documents (their digests stand for the `digest` of the events): ",
        ", ".join(f"{label} `{digest}`" for label, digest in rules["documents"].items()),
        ".\n\nThe events rule: a wallet's events in chain order (the i-th at block "
        f"{FIRST_EVENT_BLOCK} + i), the answer's document, the reason code (none: the rule holds).\n\n",
        "| case | events | document | reason |\n| --- | --- | --- | --- |\n",
    ]
    for case in rules["history"]:
        document = f"v{case['document']['version']} {case['document']['document']}"
        reason = f"`{case['reason']}`" if case["reason"] else "none"
        out.append(f"| {case['case']} | {history(case['events'])} | {document} | {reason} |\n")
    out += [
        f"\nThe anchor rule: the key's KeyUpdated at block {KEY_BLOCK}, log index {KEY_LOG_INDEX}; the LogAnchored "
        "events (block, log index #, size; the last is the contract's `logHead()`); the answer's leaf index; the "
        "reason code.\n\n",
        "| case | anchors | leaf index | reason |\n| --- | --- | --- | --- |\n",
    ]
    for case in rules["anchors"]:
        leaf = "none" if case["leafIndex"] is None else str(case["leafIndex"])
        reason = f"`{case['reason']}`" if case["reason"] else "none"
        out.append(f"| {case['case']} | {anchors(case['anchors'])} | {leaf} | {reason} |\n")
    return "".join(out)


if __name__ == "__main__":
    import json

    print(json.dumps(build(), indent=2))
