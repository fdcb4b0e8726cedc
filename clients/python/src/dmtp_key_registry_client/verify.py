"""Checking a lookup answer without trusting the API:
`verify_answer(answer, rpc_url, wallet=, chain_id=, registry=, log=)` -> VerifyResult (usable, reason, detail, checks,
key, log: the JS client's verify result, with its reasons; never raising for a bad answer), and the older
`verify(answer, rpc_url, wallet=, chain_id=, registry=, log=)` -> VerifiedKey, or VerificationFailed with a reason.
The steps below are verify's; verify_answer runs the same checks in the JS client's order (its docstring says where
it differs).

Fail-closed: anything not proven is a failure, and what the caller trusts is the caller's. The wallet, the chain id
and the registry contract are named by the caller (or come from the client's own configuration, client/pins.py);
nothing is taken from the server's answer. `VerifiedKey.usable()` is true only when the contract, read through the
caller's own RPC, holds this CID for the wallet, unrevoked, and the key has not expired: without an RPC, or for a
record not on chain yet, an answer may verify as authentic (signed by the wallet) but is never usable.

What is checked, in order:

1. the CID: sha2-256 of canonical_json(answer["bundle"]) is answer["cid"], and the bundle is exactly the canonical
   `dmtp-key-bundle/2` document of the registration it describes (no extra, missing or unnormalised fields);
2. the document is the pinned wallet's, signed for the pinned chain id and registry; the answer's own fields
   (wallet, version, key type, public key) and its `proof` are the ones rebuilt from the document;
3. with an RPC: the chain it serves is the pinned chain id; every later read is made at one block, the latest then;
4. the signature: ecrecover to the wallet (EOA), else ERC-1271 `isValidSignature(digest, signature)` answering
   0x1626ba7e through eth_call (needs the RPC); an ERC-6492-wrapped signature (a smart wallet that was not deployed
   when it signed): ERC-1271 with the inner signature when the wallet has code (its factory call is never made on
   code), else the deployless validator, ValidateSigOffchain, by eth_call (needs the RPC);
5. with an RPC: the pinned DMTPKeys contract holds this CID for the wallet (`getKey`), and says revoked exactly when
   the answer does (`isRevoked`). A record that is not `confirmed` fails here unless `require_onchain=False`: then
   it is reported with `onchain=False`, and is not usable;
6. with an RPC, for a key the contract holds: the wallet's `KeyUpdated`/`KeyRevoked` events, searched from
   `from_block` (the caller's: the registry's deployment block or earlier, the client configuration's
   `deployBlock`; never a block the answer names), never go back in version (`version-rollback`, naming both
   versions), and the last `KeyUpdated` carries this document's digest and version (`version-mismatch`; none at
   all: `no-event`). check_key_history is the rule;
7. with an RPC: the transparency log (docs/PROTOCOL.md, the log). For a key the contract holds, a `LogAnchored`
   event at or after its `KeyUpdated` must exist (`log-not-anchored-yet`: retry after the registry's
   LOG_ANCHOR_SINGLE_AFTER_S) and cover the answer's `log.leafIndex` (`log-index-beyond-anchor`), unless there is
   none and the contract's `logHead()` (anchored before the key) already covers it: covering_anchor is the rule.
   Then `log` (the registry API, e.g. a RegistryClient) is asked for the inclusion proof at the size of the
   contract's `logHead()`; its leaf must be the one built here from the document (kind, wallet, version, SHA-256 of
   the document bytes) and its audit path must lead to the ON-CHAIN root. With `previous_head` (an on-chain head the
   caller saw before), the registry must also prove the new head extends it (consistency).

A revoked or expired key still verifies (the answer is authentic); `VerifiedKey.usable()` says whether to encrypt
to it. ERC-1271 is asked at the latest block ("does the wallet accept this signature now"), not at the block in the
answer's `signerCheck`, so a pruned node suffices.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol, TypeVar

from dmtp_key_registry_client import abi, translog
from dmtp_protocol import contracts
from dmtp_protocol.canonical import canonical_json
from dmtp_protocol.cid import cid_for_bytes, digest_from_cid
from dmtp_protocol.errors import RegistryError
from dmtp_protocol.ethsig import BadSignature, keccak256, recover_address
from dmtp_protocol.messages import (
    REGISTRATION_TYPE,
    SIGNATURE_EIP191,
    parse_address,
    pinned_document,
    registration_from_document,
    registration_message,
    signed_text,
    signing_digest,
    typed_data,
)

ERC1271_MAGIC = bytes.fromhex("1626ba7e")
STATUS_CONFIRMED = "confirmed"
KEY_UPDATED = "KeyUpdated"
KEY_REVOKED = "KeyRevoked"
LOG_ANCHORED = "LogAnchored"
TOPICS = {
    "0x" + keccak256(b"KeyUpdated(address,bytes32,uint64)").hex(): KEY_UPDATED,
    "0x" + keccak256(b"KeyRevoked(address,bytes32,uint64)").hex(): KEY_REVOKED,
    "0x" + keccak256(b"LogAnchored(uint64,bytes32)").hex(): LOG_ANCHORED,
}
TOPIC_OF = {name: topic for topic, name in TOPICS.items()}
LOGS_CHUNK = 100_000  # blocks per eth_getLogs when a node refuses the whole range at once (it shrinks further)


class VerificationFailed(Exception):
    """`code` is a stable machine-readable reason; `reason` (the message) says what did not hold."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class LogHead:
    """A transparency-log head as the contract's `logHead()` holds it (size 0: nothing anchored yet)."""

    size: int
    root: bytes

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "root": "0x" + self.root.hex()}


@dataclass(frozen=True)
class ChainEvent:
    """A DMTPKeys event as eth_getLogs gives it: `kind` KeyUpdated or KeyRevoked (`digest`, `version`) or LogAnchored
    (`size`, `root`), at its chain position (`block`, `log_index`), in transaction `tx_hash`."""

    kind: str
    block: int
    log_index: int
    tx_hash: str = ""
    digest: bytes = b""
    version: int = 0
    size: int = 0
    root: bytes = b""
    wallet: str = ""  # KeyUpdated/KeyRevoked: the wallet (0x + 40 lowercase hex, the indexed topic)

    @property
    def position(self) -> tuple[int, int]:
        return (self.block, self.log_index)

    def where(self) -> str:
        return f"block {self.block}" + (f" (tx {self.tx_hash})" if self.tx_hash else "")


class VersionedEvent(Protocol):
    """What the events rule reads of a KeyUpdated or KeyRevoked event (ChainEvent here, the auditor's KeyEvent)."""

    @property
    def kind(self) -> str: ...

    @property
    def digest(self) -> bytes: ...

    @property
    def version(self) -> int: ...


_E = TypeVar("_E", bound=VersionedEvent)


def first_rollback(events: Sequence[_E]) -> tuple[_E, _E] | None:
    """Where one wallet's KeyUpdated and KeyRevoked events, in chain order, first go back in version: (the earlier
    event of the highest version so far, the later event that is not above it), or None. Each event must be higher
    than every earlier one, or repeat the highest one exactly (same kind, digest and version: the same write seen
    twice, harmless). The registry never emits anything else: it accepts version n + 1 only after n, and its worker
    lands a wallet's writes in version order (docs/PROTOCOL.md sections 6 and 11)."""
    highest: _E | None = None
    for event in events:
        if highest is None or event.version > highest.version:
            highest = event
        elif (event.kind, event.version, event.digest) != (highest.kind, highest.version, highest.digest):
            return highest, event
    return None


def check_key_history(events: Sequence[ChainEvent], digest: bytes, version: int) -> ChainEvent:
    """The events rule (docs/PROTOCOL.md section 11): `events` are one wallet's KeyUpdated and KeyRevoked events in
    chain order, from a start block at or before the registry's deployment. Their versions never go back
    (first_rollback), else `version-rollback`, naming both versions. The last KeyUpdated is the current key: it must
    carry `digest` and `version` (the document's), else `version-mismatch`; `no-event` when there is none. Returns it."""
    rollback = first_rollback(events)
    if rollback is not None:
        higher, lower = rollback
        raise VerificationFailed(
            "version-rollback",
            f"{lower.kind} of version {lower.version} at {lower.where()} comes after {higher.kind} of version "
            f"{higher.version} at {higher.where()}: the wallet's key history goes back from version "
            f"{higher.version} to {lower.version}",
        )
    current = next((event for event in reversed(events) if event.kind == KEY_UPDATED), None)
    if current is None:
        raise VerificationFailed("no-event", "no KeyUpdated event for the wallet from the start block")
    if current.digest != digest or current.version != version:
        raise VerificationFailed(
            "version-mismatch",
            f"the wallet's last KeyUpdated event (version {current.version} at {current.where()}) is not this "
            f"document's digest and version {version}",
        )
    return current


def covering_anchor(
    key_event: ChainEvent, anchors: Sequence[ChainEvent], leaf_index: int | None, head: LogHead | None = None
) -> ChainEvent | None:
    """The anchor rule (docs/PROTOCOL.md sections 11 and 15): the first LogAnchored event at or after the current key's
    KeyUpdated event (in the same transaction or a later one) must exist, else `log-not-anchored-yet` (a normal state
    for a few minutes: the registry anchors a lone key's leaf within LOG_ANCHOR_SINGLE_AFTER_S; retry then), and must
    cover the record's leaf (`leaf_index` below its size), else `log-index-beyond-anchor`: the registry sequences a key
    into its log before the key's transaction, so a leaf claimed at or past that anchor's size was skipped. No leaf
    index at all is `log-missing`. Returns that anchor. When there is none but `head` (the contract's `logHead()`,
    read at the block the anchors were searched to, so anchored before the KeyUpdated) already covers the leaf, the
    rule holds (the log showed the leaf first; its inclusion under that head is still checked): returns None."""
    anchor = next((a for a in anchors if a.position >= key_event.position), None)
    if anchor is None and head is not None and leaf_index is not None and leaf_index < head.size:
        return None
    if anchor is None:
        raise VerificationFailed(
            "log-not-anchored-yet",
            f"no LogAnchored event at or after the key's KeyUpdated at {key_event.where()}: its log leaf is not "
            "anchored yet (retry after the registry's LOG_ANCHOR_SINGLE_AFTER_S)",
        )
    if leaf_index is None:
        raise VerificationFailed(
            "log-missing",
            f"the head of size {anchor.size} anchored at {anchor.where()} covers the key, but the answer names no "
            "leaf index",
        )
    if leaf_index >= anchor.size:
        raise VerificationFailed(
            "log-index-beyond-anchor",
            f"the answer puts the key at leaf {leaf_index}, at or beyond the size {anchor.size} of the head anchored "
            f"at {anchor.where()}, the first after its KeyUpdated at {key_event.where()}",
        )
    return anchor


class LogSource(Protocol):
    """Where proofs come from (the registry API; RegistryClient implements it). Nothing it says is trusted: every
    answer is checked against heads read from the chain."""

    def log_inclusion(self, wallet: str, version: int, tree_size: int | None = None) -> Mapping[str, Any]: ...

    def log_consistency(self, old_size: int, new_size: int) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class VerifiedKey:
    wallet: str
    key_type: str
    public_key: str
    version: int
    cid: str
    chain_id: int
    registry: str
    signature_type: str
    signer_method: str  # "ecdsa", "erc1271" or "erc6492"
    issued_at: int
    expires_at: int  # 0: never
    revoked: bool
    onchain: bool | None  # None: not checked (no RPC); False: the record is not on chain yet
    status: str | None  # the API's status (None for batch entries)
    signer_block: int | None = None  # ERC-1271/ERC-6492: the block the check answered at
    log_index: int | None = None  # the record's leaf index, as the answer says
    log_head: LogHead | None = None  # the on-chain head read (remember it: pass it as previous_head next time)
    log_included: bool | None = None  # True: proven under log_head; False: not under it yet; None: not checked
    document: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def expired(self, now: float | None = None) -> bool:
        """Whether the registration's `expiresAt` has passed (0: it never expires). Not a verification failure:
        the answer is authentic, but a sender should not encrypt to an expired key."""
        import time

        return bool(self.expires_at) and self.expires_at <= (time.time() if now is None else now)

    def usable(self, now: float | None = None) -> bool:
        """Whether to encrypt to this key: the contract, read through the caller's RPC, holds it (`onchain` is True,
        never None or False), and it is neither revoked nor expired (docs/PROTOCOL.md §11)."""
        return self.unusable_reason(now) is None

    def unusable_reason(self, now: float | None = None) -> str | None:
        """Why not to encrypt to this authentic key, in verify_answer's (and the JS client's) reason codes: `no-rpc`
        (not checked against the chain), `not-onchain` (the contract does not hold it yet), `revoked`, `expired`;
        None when it is usable."""
        if self.onchain is None:
            return "no-rpc"
        if self.onchain is False:
            return "not-onchain"
        if self.revoked:
            return "revoked"
        if self.expired(now):
            return "expired"
        return None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("document")
        out["log_head"] = None if self.log_head is None else self.log_head.to_json()
        out["usable"] = self.usable()
        out["reason"] = self.unusable_reason()
        return out


def verify(
    answer: Mapping[str, Any],
    rpc_url: str | None,
    *,
    wallet: str,
    chain_id: int,
    registry: str,
    log: LogSource | None = None,
    previous_head: LogHead | None = None,
    require_onchain: bool = True,
    rpc_timeout_s: float = 10.0,
    from_block: int = 0,
) -> VerifiedKey:
    """Verify a GET /keys/{address} answer about `wallet`, for the DMTPKeys contract `registry` on `chain_id`:
    the caller's own pins (the document must name them; otherwise a valid bundle of another wallet, chain or
    registry would pass). `log`: the registry API, asked for log proofs once the record is under the on-chain head
    (needed then: without it the check fails closed). `from_block`: where the wallet's events are searched from,
    pinned like the registry (the block the registry was deployed in, or any earlier one; 0 by default): a later
    start could leave out the history a rollback is seen in. Never a block the answer names."""
    if not isinstance(answer, Mapping):
        raise VerificationFailed("malformed-answer", "the answer is not a JSON object")
    proof = answer.get("proof")
    if not isinstance(proof, Mapping):
        raise VerificationFailed("missing-proof", "the answer has no proof object")
    pins = _pins(wallet, chain_id, registry)
    with _naming(pins[0], answer):
        return _verify(
            answer,
            proof,
            rpc_url,
            pins,
            log,
            previous_head,
            require_onchain,
            rpc_timeout_s,
            answer.get("status"),
            _start_block(from_block),
        )


def verify_batch_entry(
    entry: Mapping[str, Any],
    rpc_url: str | None,
    *,
    wallet: str,
    chain_id: int,
    registry: str,
    log: LogSource | None = None,
    previous_head: LogHead | None = None,
    require_onchain: bool = True,
    rpc_timeout_s: float = 10.0,
    from_block: int = 0,
) -> VerifiedKey:
    """Verify one POST /batch-lookup result (`bundle` + `cid`, no proof: everything is rebuilt from the
    document) for the wallet the CALLER asked about (the entry's own `address` must agree, but never decides).
    Entries carry no status: with an RPC the contract must hold the CID unless `require_onchain=False`."""
    if not isinstance(entry, Mapping):
        raise VerificationFailed("malformed-answer", "the entry is not a JSON object")
    pins = _pins(wallet, chain_id, registry)
    if entry.get("found") is not True:
        raise VerificationFailed("not-found", f"the registry has no key for {pins[0]}")
    with _naming(pins[0], entry):
        return _verify(
            entry,
            None,
            rpc_url,
            pins,
            log,
            previous_head,
            require_onchain,
            rpc_timeout_s,
            None,
            _start_block(from_block),
        )


# ---------------------------------------------------------------- one result shape, as the JS client's verify

# The reason codes verify_answer gives, exactly the JS client's (clients/js/src/verify.js; tests/unit/
# test_client_reason_codes.py compares the two sets): `reason` of a VerifyResult is one of these, or None when usable.
REASONS = frozenset(
    {
        "missing-pin",
        "malformed-answer",
        "malformed-request",
        "not-found",
        "malformed-document",
        "cid-mismatch",
        "wallet-mismatch",
        "domain-mismatch",
        "answer-mismatch",
        "proof-mismatch",
        "no-rpc",
        "chain-mismatch",
        "rpc-unavailable",
        "rpc-error",
        "bad-signature",
        "contract-unreadable",
        "not-onchain",
        "not-current",
        "revoked",
        "expired",
        "version-rollback",
        "no-event",
        "version-mismatch",
        "log-not-anchored-yet",
        "log-missing",
        "log-index-beyond-anchor",
        "log-unavailable",
        "log-inclusion-failed",
        "log-leaf-mismatch",
        "log-inconsistent",
        "verification-error",
    }
)
# The raising verify's own names for what verify_answer names as the JS client does.
_AS_REASON = {
    "registry-mismatch": "domain-mismatch",
    "non-canonical-document": "malformed-document",
    "contract-mismatch": "not-current",
    "revocation-mismatch": "revoked",
    "abi-mismatch": "verification-error",
}
# The checks, in the order they run; each True (passed), False (failed) or None (not reached): the JS client's names.
CHECKS = (
    "pinned",  # the caller named a wallet, chain id and registry
    "document",  # the bundle is a canonical, valid dmtp-key-bundle/2 document
    "cid",  # the answer's cid (when given) is the CID of the document's bytes
    "wallet",  # the document is the caller's wallet's
    "domain",  # the document is signed for the caller's chain id and registry
    "answer",  # the answer's own fields and proof say what the document says
    "rpc",  # an RPC was given and serves the caller's chain
    "signature",  # the wallet signed it (ecdsa, ERC-1271 or ERC-6492 through the RPC)
    "onchain",  # the contract holds this document's CID for the wallet
    "notRevoked",  # neither the contract nor the answer says revoked
    "notExpired",  # expiresAt is 0 or in the future
    "history",  # the wallet's KeyUpdated/KeyRevoked events, from the start block, never go back in version
    "latestVersion",  # the wallet's latest KeyUpdated event carries this digest and version
    "anchored",  # a LogAnchored event at or after that KeyUpdated covers the record's leaf index
    "log",  # the record's leaf is proven under the contract's log head, against the on-chain root
)


@dataclass(frozen=True)
class AnswerKey:
    """The key an answer's document describes (parsed, not yet trusted: VerifyResult.usable says whether to use it)."""

    wallet: str
    key_type: str
    public_key: str
    version: int
    issued_at: int
    expires_at: int  # 0: never
    signature_type: str
    cid: str
    chain_id: int
    registry: str
    signer_method: str | None = None  # "ecdsa", "erc1271" or "erc6492", once the signature was checked

    def to_json(self) -> dict[str, Any]:
        """The JS client's `result.key`."""
        return {
            "wallet": self.wallet,
            "keyType": self.key_type,
            "publicKey": self.public_key,
            "version": self.version,
            "issuedAt": self.issued_at,
            "expiresAt": self.expires_at,
            "signatureType": self.signature_type,
            "signerMethod": self.signer_method,
            "cid": self.cid,
            "chainId": self.chain_id,
            "registry": self.registry,
        }


@dataclass(frozen=True)
class LogPosition:
    """Where the record is in the transparency log: the answer's leaf index, the contract's head read, and whether
    the leaf was proven under it (None: not reached)."""

    leaf_index: int | None
    head: LogHead
    included: bool | None

    def to_json(self) -> dict[str, Any]:
        return {"leafIndex": self.leaf_index, "head": self.head.to_json(), "included": self.included}


@dataclass(frozen=True)
class VerifyResult:
    """verify_answer's answer, the JS client's `{usable, reason, detail, checks, key, log}`. `usable` is True only when
    every check passed (then `reason` and `detail` are None); otherwise `reason` is one of REASONS and `detail` says
    what did not hold, naming the wallet, version and log leaf. `checks` maps each of CHECKS to True, False (the one
    that failed) or None (not reached). `key` is None until the document parsed; `log` until the head was read."""

    usable: bool
    reason: str | None
    detail: str | None
    checks: dict[str, bool | None]
    key: AnswerKey | None = None
    log: LogPosition | None = None

    def to_json(self) -> dict[str, Any]:
        """Exactly the JS client's result, as JSON."""
        return {
            "usable": self.usable,
            "reason": self.reason,
            "detail": self.detail,
            "checks": dict(self.checks),
            "key": None if self.key is None else self.key.to_json(),
            "log": None if self.log is None else self.log.to_json(),
        }


class _Run:
    """One verify_answer run: the checks so far, the step running, and what was learnt (key, log)."""

    def __init__(self) -> None:
        self.checks: dict[str, bool | None] = dict.fromkeys(CHECKS)
        self.step = CHECKS[0]
        self.key: AnswerKey | None = None
        self.log: LogPosition | None = None

    def at(self, step: str) -> None:
        """The steps before `step` passed; `step` runs now."""
        for name in CHECKS[: CHECKS.index(step)]:
            if self.checks[name] is None:
                self.checks[name] = True
        self.step = step

    def result(self, reason: str | None, detail: str | None) -> VerifyResult:
        if reason is None:
            self.at(CHECKS[-1])
            self.checks[CHECKS[-1]] = True
        else:
            self.checks[self.step] = False
        return VerifyResult(reason is None, reason, detail, dict(self.checks), self.key, self.log)


def verify_answer(
    answer: Mapping[str, Any] | None,
    rpc_url: str | None,
    *,
    wallet: str,
    chain_id: int,
    registry: str,
    log: LogSource | None = None,
    previous_head: LogHead | None = None,
    from_block: int = 0,
    now: float | None = None,
    rpc_timeout_s: float = 10.0,
) -> VerifyResult:
    """May the caller encrypt to the key in a registry answer (a GET /keys answer, a batch-lookup entry, or None: a
    lookup that found nothing)? The same checks, order, reasons and result as the JS client's `verify`, and like it
    this never raises for a bad answer: a VerifyResult with `usable=False` and a `reason` from REASONS.

    Fail-closed, with the caller's own pins (`wallet`, `chain_id`, `registry`, `from_block`: as for `verify`): usable
    only when every check holds, including the contract at `registry`, read through the caller's RPC, holding this
    document's CID for the wallet, unrevoked (`revoked` when the contract or the answer says so), unexpired
    (`expired`), and its events and log (§11 steps 6 to 8). Without an RPC: `no-rpc`. A record the contract does not
    hold yet: `not-onchain` (`not-current` when it holds another). The answer's `status` plays no part (only the
    contract decides); its `proof`, when there is one, must be the one rebuilt from the document."""
    run = _Run()
    try:
        _verify_answer(
            run, answer, rpc_url, wallet, chain_id, registry, log, previous_head, from_block, now, rpc_timeout_s
        )
    except VerificationFailed as failure:
        reason = _AS_REASON.get(failure.code, failure.code)
        if reason not in REASONS:
            reason = "verification-error"
        return run.result(reason, failure.reason + _where(run, answer))
    except Exception as exc:  # a bug here, never the answer's fault: still not usable, never raised
        return run.result("verification-error", f"unexpected: {type(exc).__name__}: {exc}" + _where(run, answer))
    return run.result(None, None)


def _where(run: _Run, answer: Any) -> str:
    """` [wallet W, version V, log leaf I]`, as the JS client ends a detail, once the document parsed."""
    if run.key is None:
        return ""
    entry = answer.get("log") if isinstance(answer, Mapping) else None
    index = entry.get("leafIndex") if isinstance(entry, Mapping) else None
    leaf = f", log leaf {index}" if isinstance(index, int) and not isinstance(index, bool) else ""
    return f" [wallet {run.key.wallet}, version {run.key.version}{leaf}]"


def _verify_answer(
    run: _Run,
    answer: Mapping[str, Any] | None,
    rpc_url: str | None,
    wallet: str,
    chain_id: int,
    registry: str,
    log: LogSource | None,
    previous_head: LogHead | None,
    from_block: int,
    now: float | None,
    rpc_timeout_s: float,
) -> None:
    import time

    # the caller's pins
    pins = _pins(wallet, chain_id, registry)
    start = _start_block(from_block)
    pinned_wallet = pins[0]

    # 1-3: the document, offline
    run.at("document")
    if answer is None or (isinstance(answer, Mapping) and answer.get("found") is False):
        raise VerificationFailed("not-found", f"the registry has no key for {pinned_wallet}")
    if not isinstance(answer, Mapping) or not isinstance(answer.get("bundle"), dict):
        raise VerificationFailed("malformed-answer", "the answer has no bundle object")
    document = answer["bundle"]
    try:
        registration, domain = registration_from_document(document)
    except (RegistryError, KeyError, TypeError, ValueError) as exc:
        raise VerificationFailed(
            "malformed-document", f"the bundle is not a valid key document: {_detail(exc)}"
        ) from exc
    document_bytes = canonical_json(document)
    if pinned_document(registration, domain) != document_bytes:
        raise VerificationFailed(
            "malformed-document", "the bundle has fields beyond, or in another form than, the protocol's"
        )
    cid = cid_for_bytes(document_bytes)
    run.key = AnswerKey(
        wallet=registration.wallet,
        key_type=registration.key_type,
        public_key=registration.public_key,
        version=registration.version,
        issued_at=registration.issued_at,
        expires_at=registration.expires_at,
        signature_type=registration.signature_type,
        cid=cid,
        chain_id=domain.chain_id,
        registry=domain.registry,
    )
    run.at("cid")
    if "cid" in answer and answer["cid"] != cid:
        raise VerificationFailed("cid-mismatch", f"the bundle's bytes hash to {cid}, not {answer['cid']}")
    run.at("wallet")
    if registration.wallet != pinned_wallet:
        raise VerificationFailed("wallet-mismatch", f"the document is for {registration.wallet}, not {pinned_wallet}")
    run.at("domain")
    if (domain.chain_id, domain.registry) != (pins[1], pins[2]):
        raise VerificationFailed(
            "domain-mismatch",
            f"the document is signed for chain {domain.chain_id} registry {domain.registry}, not {pins[1]} {pins[2]}",
        )
    run.at("answer")
    _check_answer_fields(answer, registration)
    message = registration_message(registration)
    digest = signing_digest(REGISTRATION_TYPE, message, domain, registration.signature_type)
    proof = answer.get("proof")
    if proof is not None:
        if not isinstance(proof, Mapping):
            raise VerificationFailed("proof-mismatch", "the answer's proof is not a JSON object")
        _check_proof(proof, registration, domain, message, digest)

    # without the caller's own RPC nothing proves the key is the wallet's current one: never usable
    run.at("rpc")
    if not rpc_url:
        raise VerificationFailed("no-rpc", "without an RPC URL the contract cannot be read: the answer is never usable")
    from dmtp_key_registry_client.rpc import JsonRpc

    rpc = JsonRpc(rpc_url, timeout_s=rpc_timeout_s)
    served = _rpc(lambda: rpc.chain_id(), "eth_chainId")
    if served != pins[1]:
        raise VerificationFailed("chain-mismatch", f"the RPC serves chain {served}, not {pins[1]}")
    block = _rpc(lambda: rpc.block_number(), "eth_blockNumber")  # every later read is made at this block

    # 4: the signature
    run.at("signature")
    signer_method, _ = _check_signature(rpc, registration.wallet, digest, registration.signature)
    run.key = replace(run.key, signer_method=signer_method)

    # 5: the contract holds it, unrevoked, unexpired
    run.at("onchain")
    contract = _Contract(rpc, pins[2], block)
    onchain_cid = contract.call("getKey", pinned_wallet)
    if onchain_cid == "":
        raise VerificationFailed(
            "not-onchain", f"the contract {pins[2]} holds no key for {pinned_wallet} (not confirmed yet?)"
        )
    if onchain_cid != cid:
        raise VerificationFailed("not-current", f"the contract holds {onchain_cid} for {pinned_wallet}, not {cid}")
    run.at("notRevoked")
    if contract.call("isRevoked", pinned_wallet):
        raise VerificationFailed("revoked", "the contract says this key is revoked")
    if answer.get("revoked") is True:
        raise VerificationFailed(
            "revoked", "the registry says this key is revoked (the revocation may not be on chain yet)"
        )
    run.at("notExpired")
    if registration.expires_at and registration.expires_at <= (time.time() if now is None else now):
        raise VerificationFailed("expired", f"the key expired at {registration.expires_at}")

    # 6: the wallet's events, from the caller's start block, never go back; the latest KeyUpdated is this key
    run.at("history")
    events = _events(
        rpc, pins[2], [[TOPIC_OF[KEY_UPDATED], TOPIC_OF[KEY_REVOKED]], _topic(pinned_wallet)], start, block
    )
    rollback = first_rollback(events)
    if rollback is not None:
        check_key_history(events, digest_from_cid(cid), registration.version)  # raises version-rollback
    run.at("latestVersion")
    key_event = check_key_history(events, digest_from_cid(cid), registration.version)

    # 7-8: the log head the contract holds; an anchor after the key covering its leaf; the leaf proven under the head
    run.at("anchored")
    run.step = "log"
    head = contract.log_head()
    leaf_index = _log_index(answer)
    run.log = LogPosition(leaf_index, head, None)
    if previous_head is not None:
        if log is None:
            raise VerificationFailed(
                "log-unavailable", "checking consistency with a previous head needs the registry API (log=)"
            )
        check_log_consistency(log, previous_head, head)
    run.step = "anchored"
    anchors = _events(rpc, pins[2], [TOPIC_OF[LOG_ANCHORED]], key_event.block, block)
    covering_anchor(key_event, anchors, leaf_index, head)
    run.at("log")
    leaf = translog.leaf_bytes(translog.KIND_KEY, pinned_wallet, registration.version, digest_from_cid(cid))
    included = _check_inclusion(log, head, answer, leaf_index, pinned_wallet, registration.version, leaf, True)
    run.log = LogPosition(leaf_index, head, included)
    if included is not True:  # covering_anchor held: the head covers the leaf, so this cannot be; fail closed
        raise VerificationFailed("log-inclusion-failed", f"leaf {leaf_index} is not under the on-chain log head")


def read_log_head(rpc_url: str, registry: str, chain_id: int, rpc_timeout_s: float = 10.0) -> LogHead:
    """The latest head anchored in the DMTPKeys contract `registry`, read through the caller's RPC (which must serve
    `chain_id`)."""
    from dmtp_key_registry_client.rpc import JsonRpc

    _, chain_id, registry = _pins("0x" + "00" * 20, chain_id, registry)
    rpc = JsonRpc(rpc_url, timeout_s=rpc_timeout_s)
    served = _rpc(lambda: rpc.chain_id(), "eth_chainId")
    if served != chain_id:
        raise VerificationFailed("chain-mismatch", f"the RPC serves chain {served}, not the pinned chain {chain_id}")
    return _Contract(rpc, registry).log_head()


def check_log_consistency(log: LogSource, previous: LogHead, current: LogHead) -> None:
    """Both heads read from the chain: the registry must prove `current` extends `previous` (RFC 9162 consistency),
    else VerificationFailed `log-inconsistent`. A head that shrank is inconsistent by itself."""
    if current.size < previous.size:
        raise VerificationFailed(
            "log-inconsistent", f"the on-chain log head went back from size {previous.size} to {current.size}"
        )
    if previous.size == 0 or previous.size == current.size:
        if previous.size == current.size and previous.root != current.root:
            raise VerificationFailed("log-inconsistent", f"two different on-chain roots for log size {current.size}")
        return
    try:
        answer = log.log_consistency(previous.size, current.size)
    except Exception as exc:  # the registry could not or would not prove it: fail closed
        raise VerificationFailed(
            "log-unavailable", f"no consistency proof from {previous.size} to {current.size}: {exc}"
        ) from exc
    proof = _hashes(answer.get("proof") if isinstance(answer, Mapping) else None)
    if proof is None or not translog.verify_consistency(
        previous.size, current.size, previous.root, current.root, proof
    ):
        raise VerificationFailed(
            "log-inconsistent",
            f"the registry cannot prove the on-chain log head of size {current.size} extends the one of size {previous.size}",
        )


# ---------------------------------------------------------------- the steps


@contextmanager
def _naming(wallet: str, answer: Mapping[str, Any]) -> Iterator[None]:
    """Every failure names the wallet asked about and, when the answer gives one, its log leaf index, so an operator
    can find the record (and its leaf) the reason is about."""
    try:
        yield
    except VerificationFailed as failure:
        entry = answer.get("log")
        index = entry.get("leafIndex") if isinstance(entry, Mapping) else None
        version = answer.get("version")
        parts = [f"wallet {wallet}"] + ([f"version {version}"] if isinstance(version, int) else [])
        parts += [f"log leaf {index}"] if isinstance(index, int) and not isinstance(index, bool) else []
        raise VerificationFailed(failure.code, f"{failure.reason} [{', '.join(parts)}]") from failure


def _start_block(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise VerificationFailed("missing-pin", f"the start block must be a block number, not {value!r}")
    return value


def _pins(wallet: Any, chain_id: Any, registry: Any) -> tuple[str, int, str]:
    if wallet is None or chain_id is None or registry is None:
        raise VerificationFailed("missing-pin", "name the wallet, chain id and registry you trust (never the server's)")
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0:
        raise VerificationFailed("missing-pin", f"chain id must be a positive integer, not {chain_id!r}")
    return _address(wallet, "wallet"), chain_id, _address(registry, "registry")


def _verify(
    answer: Mapping[str, Any],
    proof: Mapping[str, Any] | None,
    rpc_url: str | None,
    pins: tuple[str, int, str],
    log: LogSource | None,
    previous_head: LogHead | None,
    require_onchain: bool,
    rpc_timeout_s: float,
    status: str | None,
    from_block: int,
) -> VerifiedKey:
    wallet, chain_id, registry = pins
    document = answer.get("bundle")
    cid = answer.get("cid")
    if not isinstance(document, dict) or not isinstance(cid, str):
        raise VerificationFailed("malformed-answer", "the answer needs a bundle object and a cid string")

    # 1. content address, and the document is the canonical one
    if cid_for_bytes(canonical_json(document)) != cid:
        raise VerificationFailed("cid-mismatch", f"the bundle's canonical bytes do not hash to {cid}")
    try:
        registration, domain = registration_from_document(document)
    except (RegistryError, KeyError, TypeError, ValueError) as exc:
        raise VerificationFailed(
            "malformed-document", f"the bundle is not a valid key document: {_detail(exc)}"
        ) from exc
    if pinned_document(registration, domain) != canonical_json(document):
        raise VerificationFailed(
            "non-canonical-document", "the bundle has fields beyond, or in another form than, the protocol's"
        )

    # 2. the document is about what the caller pinned, and the answer says what the document says
    if registration.wallet != wallet:
        raise VerificationFailed("wallet-mismatch", f"the document is for {registration.wallet}, not {wallet}")
    if domain.chain_id != chain_id:
        raise VerificationFailed(
            "chain-mismatch", f"the document is signed for chain {domain.chain_id}, not the pinned chain {chain_id}"
        )
    if domain.registry != registry:
        raise VerificationFailed(
            "registry-mismatch", f"the document is signed for registry {domain.registry}, not {registry}"
        )
    _check_answer_fields(answer, registration)
    message = registration_message(registration)
    digest = signing_digest(REGISTRATION_TYPE, message, domain, registration.signature_type)
    if proof is not None:
        _check_proof(proof, registration, domain, message, digest)

    rpc = None
    block = 0
    if rpc_url:
        from dmtp_key_registry_client.rpc import JsonRpc

        rpc = JsonRpc(rpc_url, timeout_s=rpc_timeout_s)
        # 3. the RPC serves the pinned chain; the contract and its events are read at one block
        served = _rpc(lambda: rpc.chain_id(), "eth_chainId")
        if served != chain_id:
            raise VerificationFailed("chain-mismatch", f"the RPC serves chain {served}; the pinned chain is {chain_id}")
        block = _rpc(lambda: rpc.block_number(), "eth_blockNumber")

    # 4. the wallet signed it
    signer_method, signer_block = _check_signature(rpc, registration.wallet, digest, registration.signature)

    # 5. the contract agrees
    revoked = answer.get("revoked")
    if not isinstance(revoked, bool):
        raise VerificationFailed("malformed-answer", "the answer has no boolean 'revoked'")
    onchain: bool | None = None
    log_index = _log_index(answer)
    log_head: LogHead | None = None
    log_included: bool | None = None
    if rpc is not None:
        contract = _Contract(rpc, registry, block)
        onchain = _check_contract(contract, answer, registry, wallet, cid, revoked, status, require_onchain)
        key_event = None
        if onchain:
            # 6. the wallet's events never go back, and the last KeyUpdated is this key
            events = _events(
                rpc, registry, [[TOPIC_OF[KEY_UPDATED], TOPIC_OF[KEY_REVOKED]], _topic(wallet)], from_block, block
            )
            key_event = check_key_history(events, digest_from_cid(cid), registration.version)
        # 7. the transparency log, against the head the contract holds
        log_head = contract.log_head()
        if previous_head is not None:
            if log is None:
                raise VerificationFailed(
                    "log-unavailable", "checking consistency with a previous head needs the registry API (log=)"
                )
            check_log_consistency(log, previous_head, log_head)
        if key_event is not None:  # on chain: an anchor after its KeyUpdated must cover its leaf
            anchors = _events(rpc, registry, [TOPIC_OF[LOG_ANCHORED]], key_event.block, block)
            covering_anchor(key_event, anchors, log_index, log_head)
        leaf = translog.leaf_bytes(translog.KIND_KEY, wallet, registration.version, digest_from_cid(cid))
        log_included = _check_inclusion(log, log_head, answer, log_index, wallet, registration.version, leaf, onchain)

    return VerifiedKey(
        wallet=registration.wallet,
        key_type=registration.key_type,
        public_key=registration.public_key,
        version=registration.version,
        cid=cid,
        chain_id=domain.chain_id,
        registry=domain.registry,
        signature_type=registration.signature_type,
        signer_method=signer_method,
        signer_block=signer_block,
        issued_at=registration.issued_at,
        expires_at=registration.expires_at,
        revoked=revoked,
        onchain=onchain,
        status=status,
        log_index=log_index,
        log_head=log_head,
        log_included=log_included,
        document=dict(document),
    )


def _log_index(answer: Mapping[str, Any]) -> int | None:
    entry = answer.get("log")
    if entry is None:
        return None
    index = entry.get("leafIndex") if isinstance(entry, Mapping) else None
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise VerificationFailed("malformed-answer", "the answer's log.leafIndex is not a leaf index")
    return index


def _check_inclusion(
    log: LogSource | None,
    head: LogHead,
    answer: Mapping[str, Any],
    index: int | None,
    wallet: str,
    version: int,
    leaf: bytes,
    onchain: bool,
) -> bool | None:
    """True when the record's leaf is proven under the on-chain head, False when it is not under it yet, None when
    the contract anchors nothing. A registry that anchors a log must say where every record on chain is in it; a
    record not on chain yet may have no leaf yet (the registry sequences it when it takes its job)."""
    if head.size == 0:
        return None
    if index is None and not onchain:
        return False
    if index is None:
        raise VerificationFailed(
            "log-missing",
            f"the contract anchors a log of {head.size} leaves, but the answer for {wallet} v{version} names no leaf index",
        )
    if index >= head.size:
        return False  # accepted after the latest anchored head: the next anchor will cover it
    where = f"{wallet} v{version} (leaf {index}, on-chain tree size {head.size})"
    if log is None:
        raise VerificationFailed(
            "log-unavailable", f"{where} is under the on-chain log head: checking it needs the registry API (log=)"
        )
    try:
        proof = log.log_inclusion(wallet, version, head.size)
    except Exception as exc:  # not found, refused, unreachable: not proven
        raise VerificationFailed("log-inclusion-failed", f"no inclusion proof for {where}: {exc}") from exc
    if not isinstance(proof, Mapping):
        raise VerificationFailed("log-inclusion-failed", f"the inclusion proof for {where} is not a JSON object")
    served_leaf = proof.get("leaf")
    if not isinstance(served_leaf, str) or served_leaf.lower() != "0x" + leaf.hex():
        raise VerificationFailed(
            "log-leaf-mismatch", f"the log's leaf for {where} is not the one built from the document"
        )
    path = _hashes(proof.get("auditPath"))
    if proof.get("leafIndex") != index or proof.get("treeSize") != head.size or path is None:
        raise VerificationFailed(
            "log-inclusion-failed", f"the inclusion proof for {where} is for another leaf index or tree size"
        )
    if not translog.verify_inclusion(translog.leaf_hash(leaf), index, head.size, path, head.root):
        raise VerificationFailed(
            "log-inclusion-failed", f"the audit path of {where} does not lead to the on-chain root 0x{head.root.hex()}"
        )
    return True


def _hashes(values: Any) -> list[bytes] | None:
    if not isinstance(values, list):
        return None
    out: list[bytes] = []
    for value in values:
        parsed = translog.hex32(value)
        if parsed is None:
            return None
        out.append(parsed)
    return out


def _check_answer_fields(answer: Mapping[str, Any], registration: Any) -> None:
    expected = {
        "wallet": registration.wallet,
        "address": registration.wallet,
        "version": registration.version,
        "keyType": registration.key_type,
        "DMTPpubKey": registration.public_key,
    }
    for name, value in expected.items():
        if name not in answer:
            continue
        given = answer[name]
        if name in ("wallet", "address") and isinstance(given, str):  # an address in any case, as the JS client
            given = given.lower()
            value = value.lower()
        if given != value:
            raise VerificationFailed(
                "answer-mismatch", f"the answer's {name} ({answer[name]!r}) is not the document's ({value!r})"
            )


def _check_proof(
    proof: Mapping[str, Any], registration: Any, domain: Any, message: dict[str, Any], digest: bytes
) -> None:
    expected: dict[str, Any] = {
        "chainId": domain.chain_id,
        "registry": domain.registry,
        "signatureType": registration.signature_type,
        "signature": registration.signature,
        "typedData": typed_data(REGISTRATION_TYPE, message, domain),
        "digest": "0x" + digest.hex(),
    }
    if registration.signature_type == SIGNATURE_EIP191:
        expected["personalSignText"] = signed_text(REGISTRATION_TYPE, message, domain)
    for name, value in expected.items():
        if name not in proof:
            raise VerificationFailed("proof-mismatch", f"the proof has no {name}")
        if json.dumps(proof[name], sort_keys=True) != json.dumps(value, sort_keys=True):
            raise VerificationFailed("proof-mismatch", f"the proof's {name} is not the one rebuilt from the document")


def _check_signature(rpc: Any, wallet: str, digest: bytes, signature: str) -> tuple[str, int | None]:
    from dmtp_protocol.smart_wallets import (
        ERC6492_GAS_LIMIT,
        erc6492_answer_is_yes,
        erc6492_calldata,
        erc6492_inner_signature,
        is_erc6492,
    )

    raw = bytes.fromhex(signature[2:])
    if is_erc6492(raw):
        if rpc is None:
            raise VerificationFailed(
                "bad-signature", "an ERC-6492 signature (a counterfactual smart wallet) needs an RPC to check"
            )
        inner = erc6492_inner_signature(raw)
        if inner is None:
            raise VerificationFailed("bad-signature", "the ERC-6492 wrapper is malformed")
        block = _rpc(lambda: rpc.block_number(), "eth_blockNumber")
        if _rpc(lambda: rpc.code(wallet, hex(block)), "eth_getCode"):
            # the wallet has code: ERC-1271 with the inner signature, never the factory call the signer chose
            if not _erc1271_accepts(rpc, wallet, digest, inner, block):
                raise VerificationFailed(
                    "bad-signature",
                    "the smart wallet has code and does not accept the wrapped signature (ERC-1271; the factory "
                    "call is never made on a wallet with code)",
                )
            return "erc6492", block
        from dmtp_key_registry_client.rpc import RpcError, RpcUnavailable

        try:
            answer = rpc.eth_call_code(
                erc6492_calldata(wallet, digest, raw), hex(block), ERC6492_GAS_LIMIT, rpc.timeout_s
            )
        except RpcUnavailable as exc:
            raise VerificationFailed("rpc-unavailable", f"ERC-6492 validation: {exc}") from exc
        except RpcError:  # reverted or out of gas: no
            answer = b""
        if not erc6492_answer_is_yes(answer):
            raise VerificationFailed("bad-signature", "the smart wallet does not accept the signature (ERC-6492)")
        return "erc6492", block
    ecdsa_problem = "the signature does not recover to the wallet"
    if len(signature) == 132:
        try:
            if recover_address(digest, signature) == wallet:
                return "ecdsa", None
        except BadSignature as exc:
            ecdsa_problem = f"the signature is not a valid EOA signature ({exc})"
    if rpc is None:
        raise VerificationFailed(
            "bad-signature", f"{ecdsa_problem}, and without an RPC an ERC-1271 smart-contract wallet cannot be asked"
        )
    block = _rpc(lambda: rpc.block_number(), "eth_blockNumber")
    code = _rpc(lambda: rpc.code(wallet, hex(block)), "eth_getCode")
    if not code:
        raise VerificationFailed("bad-signature", f"{ecdsa_problem}, and the wallet has no contract code for ERC-1271")
    if not _erc1271_accepts(rpc, wallet, digest, raw, block):
        raise VerificationFailed("bad-signature", "the smart-contract wallet does not accept the signature (ERC-1271)")
    return "erc1271", block


def _erc1271_accepts(rpc: Any, wallet: str, digest: bytes, signature: bytes, block: int) -> bool:
    """`isValidSignature(digest, signature)` of `wallet` at `block` answers the ABI-encoded magic value (a revert: no)."""
    from dmtp_key_registry_client.rpc import RpcError, RpcUnavailable
    from dmtp_protocol.smart_wallets import erc1271_calldata

    try:
        returned = rpc.eth_call(wallet, erc1271_calldata(digest, signature), hex(block))
    except RpcUnavailable as exc:
        raise VerificationFailed("rpc-unavailable", str(exc)) from exc
    except RpcError:  # the wallet reverted: a refusal
        returned = b""
    return bool(returned[:32] == ERC1271_MAGIC.ljust(32, b"\0"))


def _check_contract(
    contract: _Contract,
    answer: Mapping[str, Any],
    registry: str,
    wallet: str,
    cid: str,
    revoked: bool,
    status: str | None,
    require_onchain: bool,
) -> bool:
    if status is not None and status != STATUS_CONFIRMED and require_onchain:
        raise VerificationFailed(
            "not-confirmed", f"the record's status is {status!r}, not confirmed: the contract cannot vouch for it yet"
        )
    onchain_cid = contract.call("getKey", wallet)
    if onchain_cid != cid:
        if require_onchain or status == STATUS_CONFIRMED:
            if onchain_cid == "":
                raise VerificationFailed("not-onchain", f"the contract {registry} holds no key for {wallet}")
            raise VerificationFailed(
                "contract-mismatch", f"the contract holds {onchain_cid} for {wallet}, the API {cid}"
            )
        return False  # pending, and the caller accepts that
    onchain_revoked = contract.call("isRevoked", wallet)
    if onchain_revoked != revoked:
        if onchain_revoked:
            raise VerificationFailed(
                "revocation-mismatch", "the contract says this key is revoked; the API says it is not"
            )
        revocation = answer.get("revocation") or {}
        if revocation.get("status") == STATUS_CONFIRMED or require_onchain:
            raise VerificationFailed(
                "revocation-mismatch",
                f"the API says this key is revoked (revocation {revocation.get('status', 'with no status')}); the contract says it is not",
            )
    return True


class _Contract:
    """eth_call of DMTPKeys view functions, with the ABI the protocol package carries (dmtp_protocol.contracts),
    encoded and decoded by the client's strict ABI slice (dmtp_key_registry_client.abi)."""

    _abi: list[dict[str, Any]] | None = None

    def __init__(self, rpc: Any, address: str, block: int | None = None) -> None:
        self._rpc = rpc
        self._address = address
        self._block = "latest" if block is None else hex(block)
        if _Contract._abi is None:
            _Contract._abi = contracts.abi(contracts.DMTP_KEYS)

    def call(self, name: str, *args: Any) -> Any:
        entry = next((e for e in self._abi or [] if e.get("type") == "function" and e.get("name") == name), None)
        if entry is None:
            raise VerificationFailed("abi-mismatch", f"the DMTPKeys ABI has no function {name}")
        inputs = [i["type"] for i in entry["inputs"]]
        outputs = [o["type"] for o in entry["outputs"]]
        data = abi.encode_call(name, inputs, args)
        raw = _rpc(lambda: self._rpc.eth_call(self._address, data, self._block), f"{name} on {self._address}")
        try:
            values = abi.decode(outputs, raw)
        except abi.AbiDecodeError as exc:  # empty return data means no contract there
            raise VerificationFailed(
                "contract-unreadable", f"{name} on {self._address} did not answer as DMTPKeys ({len(raw)} bytes)"
            ) from exc
        return values[0] if len(values) == 1 else values

    def log_head(self) -> LogHead:
        """`logHead()`: (uint64 size, bytes32 root); a contract without it cannot vouch for a log: fail closed."""
        size, root = self.call("logHead")
        return LogHead(size, root)


def _topic(wallet: str) -> str:
    """An indexed address as an event topic."""
    return "0x" + "00" * 12 + wallet[2:].lower()


def _events(rpc: Any, registry: str, topics: list[Any], start: int, end: int) -> list[ChainEvent]:
    """The registry's events matching `topics` in blocks [start, end], in chain order (removed ones left out). The
    range is asked in one eth_getLogs; a node that refuses it (a result or range limit) is asked in chunks of at most
    LOGS_CHUNK blocks, shrinking to one block; an unreachable node, or one refusing a single block, fails closed."""
    from dmtp_key_registry_client.rpc import RpcError, RpcUnavailable

    found: list[dict[str, Any]] = []
    chunk = end - start + 1
    while start <= end:
        last = min(end, start + chunk - 1)
        try:
            part = rpc.call(
                "eth_getLogs", [{"address": registry, "fromBlock": hex(start), "toBlock": hex(last), "topics": topics}]
            )
        except RpcUnavailable as exc:
            raise VerificationFailed("rpc-unavailable", f"eth_getLogs: {exc}") from exc
        except RpcError as exc:
            if chunk == 1:
                raise VerificationFailed("rpc-error", f"eth_getLogs of block {start}: {exc}") from exc
            chunk = max(1, min(chunk // 4, LOGS_CHUNK))
            continue
        if not isinstance(part, list):
            raise VerificationFailed("rpc-error", "eth_getLogs did not answer a list")
        found.extend(part)
        start = last + 1
    return sorted((_event(entry) for entry in found if not entry.get("removed")), key=lambda e: e.position)


def _event(entry: Any) -> ChainEvent:
    try:
        kind = TOPICS[entry["topics"][0].lower()]
        data = bytes.fromhex(entry["data"][2:])
        position = (int(entry["blockNumber"], 16), int(entry["logIndex"], 16))
        tx_hash = str(entry.get("transactionHash") or "")
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise VerificationFailed(
            "rpc-error", f"eth_getLogs answered an entry that is not a DMTPKeys event: {exc}"
        ) from exc
    if len(data) != 64:
        raise VerificationFailed("rpc-error", f"a {kind} event carries {len(data)} bytes of data, not 64")
    number = int.from_bytes(data[32:], "big")
    if kind == LOG_ANCHORED:
        return ChainEvent(kind, *position, tx_hash, size=int.from_bytes(data[:32], "big"), root=data[32:])
    wallet = "0x" + str(entry["topics"][1])[-40:].lower() if len(entry["topics"]) > 1 else ""
    return ChainEvent(kind, *position, tx_hash, digest=data[:32], version=number, wallet=wallet)


def _rpc(call: Any, what: str) -> Any:
    from dmtp_key_registry_client.rpc import RpcError, RpcUnavailable

    try:
        return call()
    except RpcUnavailable as exc:
        raise VerificationFailed("rpc-unavailable", f"{what}: {exc}") from exc
    except RpcError as exc:
        raise VerificationFailed("rpc-error", f"{what}: {exc}") from exc


def _address(value: str, name: str) -> str:
    try:
        return parse_address(value)
    except RegistryError as exc:
        raise VerificationFailed("malformed-request", f"{name} is not an address: {exc.detail}") from exc


def _detail(exc: Exception) -> str:
    return exc.detail if isinstance(exc, RegistryError) else f"{type(exc).__name__}: {exc}"
