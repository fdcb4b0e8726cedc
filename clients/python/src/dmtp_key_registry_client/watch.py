"""`watch_keys(wallets, rpc_url, ...)`: an iterator over changes of other wallets' keys, each verified before it is
yielded (what a dapp backend that encrypts to those wallets needs: "Alice's key changed; here it is, checked").

Where changes are seen, as the caller pins (`source`):

* `"events"` (the default): the registry contract's `KeyUpdated`/`KeyRevoked` events for the wallets, read through the
  caller's own RPC with eth_getLogs, from the block cursor `from_block` (default: the next block), `confirmations`
  blocks behind the head. The chain says what changed: the registry can neither hide nor invent a change.
* `"log"`: the registry's transparency-log leaves (GET /log/leaves) for the wallets, from the leaf cursor `from_leaf`
  (default: the current anchored size), up to the size the contract's `logHead()` anchors (read through the RPC). The
  leaves only say where to look: a registry could delay or leave out a leaf (the auditor and `monitor` detect that),
  but no change it serves passes unverified.

Each change is then checked the one way a key is ever trusted here: the wallet's current lookup answer is verified
with `verify_answer` (the contract through the caller's RPC, its events from `deploy_block`, the log proofs against
the on-chain root). A change whose verification says the chain and the registry have not caught up yet
(`TRANSIENT_REASONS`: a fresh key not anchored in the log yet, the registry's answer not the chain's yet, the RPC or
the log unreachable) is retried on later polls for up to `settle_s` seconds, then yielded with what verification says.
Changes of one wallet seen before its verification settles collapse into the latest one.

Cursors: a change carries `block` (events) or `leaf_index` (log); resuming with `from_block=change.block` (or
`from_leaf=change.leaf_index`) may repeat changes of that block or leaf, never skips one. The iterator runs until
`stop` is set or `timeout_s` passes (then it ends), or the RPC serves another chain (WatchUnavailable
`chain-mismatch`), or `retries` polls in a row could not read the chain or the log (WatchUnavailable with the last
reason).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from dmtp_key_registry_client import translog
from dmtp_key_registry_client.verify import (
    CHECKS,
    KEY_REVOKED,
    KEY_UPDATED,
    TOPIC_OF,
    LogHead,
    VerificationFailed,
    VerifyResult,
    _Contract,
    _events,
    _pins,
    _rpc,
    _topic,
    verify_answer,
)

SOURCES = ("events", "log")
# What a verification may say while the chain, the registry and its log catch up with a change just seen.
TRANSIENT_REASONS = frozenset(
    {"log-not-anchored-yet", "not-onchain", "not-current", "rpc-unavailable", "rpc-error", "log-unavailable"}
)
LEAVES_PAGE = 1000
_KIND_OF_LEAF = {translog.KIND_KEY: KEY_UPDATED, translog.KIND_REVOCATION: KEY_REVOKED}


class WatchUnavailable(Exception):
    """The watch cannot go on: `code` is `chain-mismatch`, `rpc-unavailable`, `rpc-error` or `log-unavailable`."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class KeyRegistryApi(Protocol):
    """What watch_keys asks the registry (RegistryClient implements it): lookups, and the log's leaves and proofs."""

    def lookup(self, address: str, as_of: int | str | None = None) -> Mapping[str, Any] | None: ...

    def log_leaves(self, start: int, end: int) -> Mapping[str, Any]: ...

    def log_inclusion(self, wallet: str, version: int, tree_size: int | None = None) -> Mapping[str, Any]: ...

    def log_consistency(self, old_size: int, new_size: int) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class KeyChange:
    """A change of a watched wallet's key, and the verification of its key after it.

    `kind`: KeyUpdated (a new key) or KeyRevoked; `version`: the version the event or leaf carries. Events give
    `block`, `log_index` and `tx_hash`; leaves give `leaf_index`. `result` is verify_answer's result for the wallet's
    lookup answer once the change was seen: encrypt to `result.key` only when `result.usable`."""

    wallet: str
    kind: str
    version: int
    result: VerifyResult
    block: int | None = None
    log_index: int | None = None
    tx_hash: str | None = None
    leaf_index: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "wallet": self.wallet,
            "kind": self.kind,
            "version": self.version,
            "blockNumber": self.block,
            "logIndex": self.log_index,
            "txHash": self.tx_hash,
            "leafIndex": self.leaf_index,
            "result": self.result.to_json(),
        }


@dataclass
class _Seen:
    """A change seen, waiting for its verification to settle."""

    change: KeyChange
    first_seen: float


def watch_keys(
    wallets: Iterable[str],
    rpc_url: str,
    *,
    chain_id: int,
    registry: str,
    api: KeyRegistryApi,
    source: Literal["events", "log"] = "events",
    from_block: int | None = None,
    from_leaf: int | None = None,
    deploy_block: int = 0,
    confirmations: int = 0,
    poll_interval_s: float = 2.0,
    settle_s: float = 600.0,
    retries: int = 3,
    stop: threading.Event | None = None,
    timeout_s: float | None = None,
    rpc_timeout_s: float = 10.0,
    clock: Any = time.monotonic,
) -> Iterator[KeyChange]:
    """Yield every change of the keys of `wallets`, verified (the module's docstring says how). `chain_id`,
    `registry` and `deploy_block` are the caller's pins, as for `verify_answer`; `api` is the registry (a
    RegistryClient): lookups to verify, log proofs, and with `source="log"` the leaves."""
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
    ends_at = None if timeout_s is None else clock() + timeout_s
    waiting: dict[str, _Seen] = {}
    cursor = _start(rpc, pinned_registry, source, from_block, from_leaf, confirmations)
    failures = 0

    def verified(change: KeyChange) -> KeyChange:
        try:
            answer = api.lookup(change.wallet)
        except Exception as exc:  # the registry unreachable or erring: not verified yet (transient)
            return replace(change, result=_registry_failed(exc))
        result = verify_answer(
            answer,
            rpc_url,
            wallet=change.wallet,
            chain_id=chain_id,
            registry=pinned_registry,
            log=api,
            from_block=deploy_block,
            rpc_timeout_s=rpc_timeout_s,
        )
        return replace(change, result=result)

    while True:
        try:
            if source == "events":
                seen, cursor = _new_events(rpc, pinned_registry, watched, cursor, confirmations)
            else:
                seen, cursor = _new_leaves(rpc, pinned_registry, api, watched, cursor)
            failures = 0
        except WatchUnavailable:
            failures += 1
            if failures > retries:
                raise
            seen = []
        now = clock()
        for change in seen:  # a later change of a wallet replaces one still settling
            waiting[change.wallet] = _Seen(
                change, waiting[change.wallet].first_seen if change.wallet in waiting else now
            )
        ready: list[KeyChange] = []
        for wallet, item in list(waiting.items()):
            change = verified(item.change)
            if change.result.reason in TRANSIENT_REASONS and now - item.first_seen < settle_s:
                continue
            del waiting[wallet]
            ready.append(change)
        yield from sorted(ready, key=_position)
        if (stop is not None and stop.is_set()) or (ends_at is not None and clock() >= ends_at):
            return
        if stop is not None:
            stop.wait(poll_interval_s)
        else:
            time.sleep(poll_interval_s)


def _position(change: KeyChange) -> tuple[int, int]:
    if change.leaf_index is not None:
        return (change.leaf_index, 0)
    return (change.block or 0, change.log_index or 0)


def _read(call: Any) -> Any:
    """A chain read, its VerificationFailed (rpc-unavailable, rpc-error, contract-unreadable) as WatchUnavailable."""
    try:
        return call()
    except VerificationFailed as exc:
        code = exc.code if exc.code in ("rpc-unavailable", "rpc-error") else "rpc-error"
        raise WatchUnavailable(code, exc.reason) from exc


def _start(
    rpc: Any, registry: str, source: str, from_block: int | None, from_leaf: int | None, confirmations: int
) -> int:
    """The first block (events) or leaf (log) to read: the caller's cursor, else what comes after the present."""
    if source == "events":
        if from_block is not None:
            return _non_negative(from_block, "from_block")
        return max(0, _block_number(rpc) - confirmations) + 1
    if from_leaf is not None:
        return _non_negative(from_leaf, "from_leaf")
    return _anchored(rpc, registry).size


def _block_number(rpc: Any) -> int:
    number: int = _read(lambda: _rpc(lambda: rpc.block_number(), "eth_blockNumber"))
    return number


def _non_negative(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a block or leaf number, not {value!r}")
    return value


def _anchored(rpc: Any, registry: str) -> LogHead:
    return _read(lambda: _Contract(rpc, registry).log_head())  # type: ignore[no-any-return]


def _new_events(
    rpc: Any, registry: str, watched: Mapping[str, str], start: int, confirmations: int
) -> tuple[list[KeyChange], int]:
    """The watched wallets' KeyUpdated/KeyRevoked events from block `start` to the head less `confirmations`, and the
    next block to read."""
    head = _block_number(rpc) - confirmations
    if head < start:
        return [], start
    topics = [[TOPIC_OF[KEY_UPDATED], TOPIC_OF[KEY_REVOKED]], [_topic(wallet) for wallet in watched.values()]]
    events = _read(lambda: _events(rpc, registry, topics, start, head))
    changes = [
        KeyChange(
            wallet=watched[event.wallet],
            kind=event.kind,
            version=event.version,
            result=_UNCHECKED,
            block=event.block,
            log_index=event.log_index,
            tx_hash=event.tx_hash or None,
        )
        for event in events
        if event.wallet in watched
    ]
    return changes, head + 1


def _new_leaves(
    rpc: Any, registry: str, api: KeyRegistryApi, watched: Mapping[str, str], start: int
) -> tuple[list[KeyChange], int]:
    """The watched wallets' leaves from `start` up to the size the contract anchors, and the next leaf to read."""
    anchored = _anchored(rpc, registry).size
    changes: list[KeyChange] = []
    index = start
    while index < anchored:
        end = min(anchored, index + LEAVES_PAGE)
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
                raise WatchUnavailable("log-unavailable", f"the registry serves no well-formed leaf {index}")
            if leaf.wallet in watched:
                changes.append(
                    KeyChange(
                        wallet=watched[leaf.wallet],
                        kind=_KIND_OF_LEAF[leaf.kind],
                        version=leaf.version,
                        result=_UNCHECKED,
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


# A change seen, before its verification: never yielded as it is.
_UNCHECKED = VerifyResult(False, "verification-error", "not verified yet", {})


def _registry_failed(exc: Exception) -> VerifyResult:
    """The result for a change whose lookup failed: not usable, `log-unavailable` (the registry), retried."""
    return VerifyResult(
        False, "log-unavailable", f"the registry's lookup failed: {type(exc).__name__}: {exc}", dict.fromkeys(CHECKS)
    )
