"""`watch_keys(wallets, rpc_url, ...)`: an iterator over changes of other wallets' keys, each yielded only once
verification accepts it (what a dapp backend that encrypts to those wallets needs: "Alice's key changed; here it is,
checked"). The JS client's `watchKeys(wallets, onChange, options)` (clients/js/src/watch-keys.js), as an iterator:
the same sources, the same rule for when a change is delivered, the same change kinds and retried reasons.

Where changes are seen, as the caller pins (`source`):

* `"chain"` (the default): the registry contract's `KeyUpdated`/`KeyRevoked` events for the wallets, read through the
  caller's own RPC with eth_getLogs, from the block cursor `from_block` (default: the next block), `confirmations`
  blocks behind the head. The chain says what changed: the registry can neither hide nor invent a change.
* `"log"`: the registry's transparency-log leaves for the wallets (GET /log/head, GET /log/leaves), from the leaf
  cursor `from_leaf` (default: the current size). A leaf names a write the registry accepted, often before it is on
  chain; the registry could delay or leave out a leaf (the auditor and `monitor` detect that), but nothing it serves is
  delivered unverified.

A change (the wallet's newest event or leaf not yet delivered) is delivered when `verify_answer`, reading the contract
through the caller's RPC, says the same thing: a new key (`kind="key"`) when the registry's record of that version
verifies usable and is that version and digest; a revocation (`kind="revocation"`) when the contract says the key is
revoked (the registry's own word on revocation, which may be ahead of the chain, is left out). Until then the change
waits and is tried again at every poll (its reason is one of RETRIED_REASONS); a newer change of the same wallet
replaces it. A change that fails a check no later poll can pass (a bad signature, a document that is not the one on
chain, a rollback) is never yielded: `on_problem` gets it, once.

Cursors: `change.block` (chain) or `change.leaf_index` (log); resuming with `from_block=change.block` (or
`from_leaf=change.leaf_index`) may repeat changes of that block or leaf, never skips one. The iterator runs until
`stop` is set or `timeout_s` passes (then it ends), the RPC serves another chain (WatchUnavailable `chain-mismatch`),
or `retries` polls in a row could not read the chain or the log (WatchUnavailable with the last reason).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from dmtp_key_registry_client import translog
from dmtp_key_registry_client.verify import (
    KEY_REVOKED,
    KEY_UPDATED,
    TOPIC_OF,
    VerificationFailed,
    VerifyResult,
    _events,
    _pins,
    _rpc,
    _topic,
    verify_answer,
)
from dmtp_protocol.cid import digest_from_cid

SOURCES = ("chain", "log")
KIND_KEY = "key"
KIND_REVOCATION = "revocation"
# The reasons (verify_answer's, and the watcher's own `registry-behind`) a later poll may clear: the write is not on
# chain, current, anchored or served yet, or a read failed. Any other reason is final for that change. As the JS
# client's RETRIED_REASONS.
RETRIED_REASONS = frozenset(
    {
        "not-found",
        "registry-behind",
        "revoked",  # a new key revoked since: its revocation (the newer change) replaces it
        "not-onchain",
        "not-current",
        "no-event",
        "version-mismatch",
        "log-not-anchored-yet",
        "log-missing",
        "log-index-beyond-anchor",
        "log-unavailable",
        "log-inclusion-failed",
        "rpc-unavailable",
        "rpc-error",
        "verification-error",
    }
)
LEAVES_PAGE = 1000
_KIND_OF_EVENT = {KEY_UPDATED: KIND_KEY, KEY_REVOKED: KIND_REVOCATION}
_KIND_OF_LEAF = {translog.KIND_KEY: KIND_KEY, translog.KIND_REVOCATION: KIND_REVOCATION}


class WatchUnavailable(Exception):
    """The watch cannot go on: `code` is `chain-mismatch`, `rpc-unavailable`, `rpc-error` or `log-unavailable`."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class KeyRegistryApi(Protocol):
    """What watch_keys asks the registry (RegistryClient implements it): lookups, history, the log and its proofs."""

    def lookup(self, address: str, as_of: int | str | None = None) -> Mapping[str, Any] | None: ...

    def history(self, address: str, limit: int | None = None, cursor: str | None = None) -> Mapping[str, Any]: ...

    def log_head(self) -> Mapping[str, Any]: ...

    def log_leaves(self, start: int, end: int) -> Mapping[str, Any]: ...

    def log_inclusion(self, wallet: str, version: int, tree_size: int | None = None) -> Mapping[str, Any]: ...

    def log_consistency(self, old_size: int, new_size: int) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class KeyChange:
    """A change of a watched wallet's key, verified (or, given to `on_problem`, refused).

    `kind`: `key` (a new key) or `revocation`; `version`: the version the event or leaf carries; `digest`: 0x hex of the
    event's digest (KeyRevoked: the revoked key's) or the leaf's documentHash. Events give `block`, `log_index` and
    `tx_hash`; leaves give `leaf_index`. `result`: verify_answer's result for the registry's record of the change (a
    key: `result.usable`, `result.key`; a revocation: `reason="revoked"`, the contract's word); `answer`: that record."""

    wallet: str
    kind: str
    version: int
    digest: str
    source: str
    result: VerifyResult | None = None
    answer: Mapping[str, Any] | None = None
    block: int | None = None
    log_index: int | None = None
    tx_hash: str | None = None
    leaf_index: int | None = None

    @property
    def usable(self) -> bool:
        return self.result is not None and self.result.usable

    def to_json(self) -> dict[str, Any]:
        """As the JS client's change: `{wallet, kind, version, source, event, leafIndex, key, usable, verification}`."""
        event = (
            None
            if self.block is None
            else {"txHash": self.tx_hash, "blockNumber": self.block, "logIndex": self.log_index}
        )
        verification = None if self.result is None else self.result.to_json()
        return {
            "wallet": self.wallet,
            "kind": self.kind,
            "version": self.version,
            "digest": self.digest,
            "source": self.source,
            "event": event,
            "leafIndex": self.leaf_index,
            "key": None if verification is None else verification["key"],
            "usable": self.usable,
            "verification": verification,
        }


@dataclass(frozen=True)
class KeyProblem:
    """A change that can never verify (its reason is not one of RETRIED_REASONS): given to `on_problem`, once."""

    change: KeyChange
    reason: str
    detail: str | None


@dataclass(frozen=True)
class _Checked:
    verified: bool
    reason: str | None
    detail: str | None
    result: VerifyResult | None = None
    answer: Mapping[str, Any] | None = None


def watch_keys(
    wallets: Iterable[str],
    rpc_url: str,
    *,
    chain_id: int,
    registry: str,
    api: KeyRegistryApi,
    source: Literal["chain", "log"] = "chain",
    from_block: int | None = None,
    from_leaf: int | None = None,
    deploy_block: int = 0,
    confirmations: int = 0,
    poll_interval_s: float = 4.0,
    on_problem: Callable[[KeyProblem], None] | None = None,
    retries: int = 3,
    stop: threading.Event | None = None,
    timeout_s: float | None = None,
    rpc_timeout_s: float = 10.0,
) -> Iterator[KeyChange]:
    """Yield every verified change of the keys of `wallets` (the module's docstring says which and when).
    `chain_id`, `registry` and `deploy_block` are the caller's pins, as for `verify_answer`; `rpc_url` is the
    caller's own node (both sources verify through it); `api` is the registry (a RegistryClient)."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    watched: dict[str, str] = {}
    for wallet in wallets:
        try:
            checksummed, _, pinned_registry = _pins(wallet, chain_id, registry)
        except VerificationFailed as exc:
            raise ValueError(exc.reason) from exc
        watched[checksummed.lower()] = checksummed
    if not watched:
        raise ValueError("name at least one wallet to watch")
    from dmtp_key_registry_client.rpc import JsonRpc

    rpc = JsonRpc(rpc_url, timeout_s=rpc_timeout_s)
    served = _read(lambda: _rpc(lambda: rpc.chain_id(), "eth_chainId"))
    if served != chain_id:
        raise WatchUnavailable("chain-mismatch", f"the RPC serves chain {served}, not the pinned chain {chain_id}")
    ends_at = None if timeout_s is None else time.monotonic() + timeout_s
    pending: dict[str, KeyChange] = {}  # wallet (lowercase) -> its newest change not delivered yet
    reported: set[tuple[str, str, int, str]] = set()
    cursor = _start(rpc, api, source, from_block, from_leaf, confirmations)
    failures = 0

    def check(change: KeyChange) -> _Checked:
        return _check(change, api, rpc_url, chain_id, pinned_registry, deploy_block, rpc_timeout_s)

    while True:
        try:
            if source == "chain":
                seen, cursor = _new_events(rpc, pinned_registry, watched, cursor, confirmations)
            else:
                seen, cursor = _new_leaves(api, watched, cursor)
            failures = 0
        except WatchUnavailable:
            failures += 1
            if failures > retries:
                raise
            seen = []
        for change in seen:
            pending[change.wallet.lower()] = change
        for key, change in list(pending.items()):
            checked = check(change)
            if checked.verified:
                del pending[key]
                yield replace(change, result=checked.result, answer=checked.answer)
            elif checked.reason not in RETRIED_REASONS:
                del pending[key]
                seen_before = (key, change.kind, change.version, str(checked.reason))
                if on_problem is not None and seen_before not in reported:
                    reported.add(seen_before)
                    refused = replace(change, result=checked.result, answer=checked.answer)
                    on_problem(KeyProblem(refused, str(checked.reason), checked.detail))
        if (stop is not None and stop.is_set()) or (ends_at is not None and time.monotonic() >= ends_at):
            return
        if stop is not None:
            stop.wait(poll_interval_s)
        else:
            time.sleep(poll_interval_s)


def _check(
    change: KeyChange,
    api: KeyRegistryApi,
    rpc_url: str,
    chain_id: int,
    registry: str,
    deploy_block: int,
    rpc_timeout_s: float,
) -> _Checked:
    """Whether the registry's record of `change` and the chain, read through verify_answer, say what it says."""
    try:
        current = api.lookup(change.wallet)
    except Exception as exc:  # the registry unreachable or erring: tried again later
        return _Checked(False, "log-unavailable", f"GET /keys/{change.wallet}: {exc}")
    if current is None:
        return _Checked(False, "not-found", f"the registry has no key for {change.wallet}")
    answer: Mapping[str, Any] | None
    if change.kind == KIND_KEY:
        try:
            answer = _key_answer(api, change.wallet, change.version, current)
        except Exception as exc:
            return _Checked(False, "log-unavailable", f"GET /keys/{change.wallet}/history: {exc}")
    elif change.block is not None:  # KeyRevoked names the revoked key's digest
        answer = current if _cid_digest(current.get("cid")) == change.digest else None
    else:  # the revocation's own leaf
        revocation = current.get("revocation")
        answer = current if isinstance(revocation, Mapping) and revocation.get("version") == change.version else None
    if answer is None:
        detail = f"the registry serves no record of {change.wallet}'s {change.kind} version {change.version} yet"
        return _Checked(False, "registry-behind", detail)
    # The registry's word on revocation (which may be ahead of the chain) is left out: only the contract's counts here.
    result = verify_answer(
        {**answer, "revoked": False, "revocation": None},
        rpc_url,
        wallet=change.wallet,
        chain_id=chain_id,
        registry=registry,
        log=api,
        from_block=deploy_block,
        rpc_timeout_s=rpc_timeout_s,
    )
    if change.kind == KIND_KEY:
        if not result.usable or result.key is None:
            return _Checked(False, result.reason, result.detail, result, answer)
        if result.key.version != change.version or _cid_digest(result.key.cid) != change.digest:
            detail = f"the verified key is version {result.key.version}, not the change's {change.version}"
            return _Checked(False, "version-mismatch", detail, result, answer)
        return _Checked(True, None, None, result, answer)
    if result.reason == "revoked" and result.checks.get("onchain") is True:
        return _Checked(True, None, None, result, answer)
    if result.usable:
        detail = f"the contract does not say {change.wallet}'s key version {answer.get('version')} is revoked yet"
        return _Checked(False, "not-onchain", detail, result, answer)
    return _Checked(False, result.reason, result.detail, result, answer)


def _key_answer(api: KeyRegistryApi, wallet: str, version: int, current: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The registry's record of key `version` of `wallet` as a lookup-like answer (from its history when it is not
    the current one)."""
    if current.get("version") == version:
        return current
    page = api.history(wallet, limit=1, cursor=str(version + 1))
    items = page.get("items") if isinstance(page, Mapping) else None
    item = items[0] if isinstance(items, list) and items else None
    if not isinstance(item, Mapping) or item.get("version") != version or item.get("kind") != KIND_KEY:
        return None
    return {
        "wallet": wallet,
        "version": version,
        "cid": item.get("cid"),
        "status": item.get("status"),
        "txHash": item.get("txHash"),
        "bundle": item.get("document"),
        "log": item.get("log"),
    }


def _cid_digest(cid: Any) -> str | None:
    try:
        return "0x" + digest_from_cid(cid).hex()
    except Exception:  # not a CID
        return None


def _read(call: Any) -> Any:
    """A chain read, its VerificationFailed (rpc-unavailable, rpc-error, contract-unreadable) as WatchUnavailable."""
    try:
        return call()
    except VerificationFailed as exc:
        code = exc.code if exc.code in ("rpc-unavailable", "rpc-error") else "rpc-error"
        raise WatchUnavailable(code, exc.reason) from exc


def _block_number(rpc: Any) -> int:
    number: int = _read(lambda: _rpc(lambda: rpc.block_number(), "eth_blockNumber"))
    return number


def _log_size(api: KeyRegistryApi) -> int:
    try:
        size = api.log_head().get("size")
    except Exception as exc:  # an HTTP error, a connection refused
        raise WatchUnavailable("log-unavailable", f"GET /log/head: {exc}") from exc
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise WatchUnavailable("log-unavailable", "GET /log/head answered no size")
    return size


def _start(
    rpc: Any, api: KeyRegistryApi, source: str, from_block: int | None, from_leaf: int | None, confirmations: int
) -> int:
    """The first block (chain) or leaf (log) to read: the caller's cursor, else what comes after the present."""
    if source == "chain":
        if from_block is not None:
            return _non_negative(from_block, "from_block")
        return max(0, _block_number(rpc) - confirmations) + 1
    if from_leaf is not None:
        return _non_negative(from_leaf, "from_leaf")
    return _log_size(api)


def _non_negative(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a block or leaf number, not {value!r}")
    return value


def _new_events(
    rpc: Any, registry: str, watched: Mapping[str, str], start: int, confirmations: int
) -> tuple[list[KeyChange], int]:
    """The watched wallets' KeyUpdated/KeyRevoked events from block `start` to the head less `confirmations`, in
    chain order, and the next block to read."""
    head = _block_number(rpc) - confirmations
    if head < start:
        return [], start
    topics = [[TOPIC_OF[KEY_UPDATED], TOPIC_OF[KEY_REVOKED]], [_topic(wallet) for wallet in watched.values()]]
    events = _read(lambda: _events(rpc, registry, topics, start, head))
    changes = [
        KeyChange(
            wallet=watched[event.wallet],
            kind=_KIND_OF_EVENT[event.kind],
            version=event.version,
            digest="0x" + event.digest.hex(),
            source="chain",
            block=event.block,
            log_index=event.log_index,
            tx_hash=event.tx_hash or None,
        )
        for event in events
        if event.wallet in watched
    ]
    return changes, head + 1


def _new_leaves(api: KeyRegistryApi, watched: Mapping[str, str], start: int) -> tuple[list[KeyChange], int]:
    """The watched wallets' leaves from `start` up to the log's size, in log order, and the next leaf to read."""
    size = _log_size(api)
    changes: list[KeyChange] = []
    index = start
    while index < size:
        end = min(size, index + LEAVES_PAGE)
        try:
            page = api.log_leaves(index, end)
        except Exception as exc:  # an HTTP error, a connection refused
            raise WatchUnavailable("log-unavailable", f"GET /log/leaves?start={index}&end={end}: {exc}") from exc
        entries = page.get("leaves") if isinstance(page, Mapping) else None
        if not isinstance(entries, list) or not entries:
            raise WatchUnavailable("log-unavailable", f"GET /log/leaves?start={index}&end={end} served no leaves")
        for entry in entries:
            leaf = _leaf(entry, index)
            if leaf is None:
                raise WatchUnavailable("log-unavailable", f"the registry serves no leaf {index} in its place")
            if leaf.wallet in watched:
                changes.append(
                    KeyChange(
                        wallet=watched[leaf.wallet],
                        kind=_KIND_OF_LEAF[leaf.kind],
                        version=leaf.version,
                        digest="0x" + leaf.document_hash.hex(),
                        source="log",
                        leaf_index=index,
                    )
                )
            index += 1
            if index >= end:
                break
    return changes, max(index, start)


def _leaf(entry: Any, index: int) -> translog.Leaf | None:
    if not isinstance(entry, Mapping) or entry.get("index") != index or not isinstance(entry.get("leaf"), str):
        return None
    try:
        return translog.parse_leaf(bytes.fromhex(entry["leaf"].removeprefix("0x")))
    except ValueError:
        return None
