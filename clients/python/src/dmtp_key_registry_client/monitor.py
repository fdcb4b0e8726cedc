"""`python -m dmtp_key_registry_client monitor WALLET --state FILE`: a wallet watches its own key (docs/PROTOCOL.md §16).

Each run reads, through the owner's own RPC, the wallet's `KeyUpdated`/`KeyRevoked` events since the last block read,
and from the registry the transparency log's leaves since the last leaf checked, and compares them with her own record
of the writes she made from this device: `register`/`revoke` add to it when given the same state file (`OwnWrites`).
Anything of her wallet she did not make is a change, reported with its transaction and leaf index; so is a version
that is not above the wallet's previous one (a rollback). The leaves count only as far as they hash, with the frontier
kept in the cursor, to the root the contract anchors (`logHead()`): a registry that showed her a log without a leaf the
chain anchors, or fewer leaves than it anchors, is a problem, reported too.

The state file is JSON: `{"format": "dmtp-monitor-state/1", "watches": {<key>: <watch>}}`, one watch per (chain id,
registry, wallet) under the key the JS client uses in localStorage (`dmtp.watch.<chainId>.<registry>.<wallet>`,
lowercase), each the object the JS client keeps there (ownwrites.js): `own` (her writes), `cursor` (`block`: the last
block read; `leaf`: the leaves below it hash to an anchored root; `peaks`: their frontier), `foreign` and `reported`
(what was found that she did not make, and what was already reported: each finding is reported once).

Exit status: 0 nothing she did not make, 1 a change or a problem (printed as JSON on stdout), 2 the check could not
run (the RPC or the registry unreachable, the RPC on another chain); nothing is saved then.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from dmtp_key_registry_client import abi, translog
from dmtp_key_registry_client.rpc import JsonRpc, RpcError, RpcUnavailable
from dmtp_protocol.canonical import canonical_json
from dmtp_protocol.cid import digest_from_cid
from dmtp_protocol.ethsig import keccak256
from dmtp_protocol.messages import (
    Domain,
    parse_address,
    parse_registration,
    parse_revocation,
    pinned_document,
    revocation_message,
)

STATE_FORMAT = "dmtp-monitor-state/1"
WATCH_FORMAT = "dmtp-watch/1"
KEY_UPDATED = "0x" + keccak256(b"KeyUpdated(address,bytes32,uint64)").hex()
KEY_REVOKED = "0x" + keccak256(b"KeyRevoked(address,bytes32,uint64)").hex()
LEAVES_PAGE = 1000
BLOCK_CHUNK = 10000


class MonitorUnavailable(Exception):
    """The check could not run: `chain-mismatch`, `rpc-unavailable`, `rpc-error` or `log-unavailable`."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class LeafSource(Protocol):
    """The registry's log API the monitor reads (RegistryClient has it)."""

    def log_head(self) -> dict[str, Any]: ...

    def log_leaves(self, start: int, end: int) -> dict[str, Any]: ...


# ---------------------------------------------------------------- the owner's record, in the state file


def watch_key(chain_id: int, registry: str, wallet: str) -> str:
    return f"dmtp.watch.{int(chain_id)}.{parse_address(registry).lower()}.{parse_address(wallet).lower()}"


def _empty_watch(domain: Domain, wallet: str) -> dict[str, Any]:
    return {
        "format": WATCH_FORMAT,
        "wallet": wallet,
        "chainId": domain.chain_id,
        "registry": domain.registry,
        "own": [],
        "cursor": {"block": None, "leaf": 0, "peaks": []},
        "foreign": {"events": [], "leaves": []},
        "reported": [],
    }


class StateFile:
    """One JSON file holding the owner's records and the monitor's cursors for any number of wallets. Each save
    replaces the file atomically (a new file renamed over it): a crash never leaves half a file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"format": STATE_FORMAT, "watches": {}}
        if (
            not isinstance(data, dict)
            or data.get("format") != STATE_FORMAT
            or not isinstance(data.get("watches"), dict)
        ):
            raise ValueError(f"{self.path} is not a {STATE_FORMAT} file")
        return data

    def load_watch(self, domain: Domain, wallet: str) -> dict[str, Any]:
        address = parse_address(wallet)
        saved = self._read()["watches"].get(watch_key(domain.chain_id, domain.registry, address))
        return {**_empty_watch(domain, address), **(saved or {})}

    def save_watch(self, watch: Mapping[str, Any]) -> None:
        data = self._read()
        data["watches"][watch_key(watch["chainId"], watch["registry"], watch["wallet"])] = dict(watch)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=self.path.name, dir=self.path.parent)
        try:
            with os.fdopen(handle, "w") as out:
                json.dump(data, out, indent=1, sort_keys=True)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def registration_document_hash(domain: Domain, body: Mapping[str, Any]) -> str:
    """SHA-256 (0x hex) of the document the registry pins for a POST /keys body: the digest `KeyUpdated` emits."""
    return "0x" + hashlib.sha256(pinned_document(parse_registration(dict(body)), domain)).hexdigest()


def revocation_document_hash(domain: Domain, body: Mapping[str, Any], revoked_public_key: str) -> str:
    """SHA-256 (0x hex) of a revocation's document (docs/PROTOCOL.md §9): its leaf's documentHash."""
    revocation = parse_revocation(dict(body))
    document = {
        "kind": "revocation",
        **revocation_message(revocation, revoked_public_key.lower()),
        "signatureType": revocation.signature_type,
        "Signature": revocation.signature,
        "chainId": domain.chain_id,
        "registry": domain.registry,
    }
    return "0x" + hashlib.sha256(canonical_json(document)).hexdigest()


class OwnWrites:
    """The owner's record of the writes she makes from this device, in the state file, for the chain id and registry
    she pinned. `RegistryClient.register`/`revoke` (and the CLI's `--state`) record each signed body here before
    sending it: a body the registry holds is hers whether or not its answer reached her."""

    def __init__(self, path: str | Path, chain_id: int, registry: str) -> None:
        self.state = StateFile(path)
        self.domain = Domain(int(chain_id), parse_address(registry))

    def _record(self, wallet: str, entry: dict[str, Any]) -> dict[str, Any]:
        watch = self.state.load_watch(self.domain, wallet)
        same = [
            o
            for o in watch["own"]
            if (o["kind"], o["version"], o.get("documentHash"))
            == (entry["kind"], entry["version"], entry["documentHash"])
        ]
        if not same:
            watch["own"].append(entry)
            self.state.save_watch(watch)
        return entry

    def record_registration(self, body: Mapping[str, Any]) -> dict[str, Any]:
        registration = parse_registration(dict(body))
        entry = {
            "kind": "key",
            "version": registration.version,
            "documentHash": registration_document_hash(self.domain, body),
            "recordedAt": int(time.time()),
        }
        return self._record(registration.wallet, entry)

    def record_revocation(
        self, body: Mapping[str, Any], revoked_public_key: str | None = None, revoked_cid: str | None = None
    ) -> dict[str, Any]:
        """`revoked_public_key`: the revoked key's DMTPpubKey (what she signed); `revoked_cid`: its CID, the digest
        `KeyRevoked` emits. Either unknown (None) matches any of that version."""
        revocation = parse_revocation(dict(body))
        entry = {
            "kind": "revocation",
            "version": revocation.version,
            "documentHash": None
            if revoked_public_key is None
            else revocation_document_hash(self.domain, body, revoked_public_key),
            "revokedDigest": None if revoked_cid is None else "0x" + digest_from_cid(revoked_cid).hex(),
            "recordedAt": int(time.time()),
        }
        return self._record(revocation.wallet, entry)


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class Change:
    """A write of her wallet she did not make (`not-recorded`), or a version not above the wallet's previous one
    (`version-regression`), with where it was seen: the event's transaction, the log's leaf, or both."""

    kind: str  # "key" or "revocation"
    version: int
    reason: str
    digest: str | None  # the event's digest (a revocation's: the revoked key's)
    document_hash: str | None  # the leaf's documentHash
    tx_hash: str | None
    block_number: int | None
    leaf_index: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "version": self.version,
            "reason": self.reason,
            "digest": self.digest,
            "documentHash": self.document_hash,
            "txHash": self.tx_hash,
            "blockNumber": self.block_number,
            "leafIndex": self.leaf_index,
            "onChain": self.tx_hash is not None,
            "inLog": self.leaf_index is not None,
        }


@dataclass(frozen=True)
class Problem:
    """The log the registry serves does not match the chain: `log-root-mismatch`, `log-behind-anchor`,
    `leaf-malformed`."""

    code: str
    detail: str
    leaf_index: int | None = None


@dataclass
class MonitorReport:
    wallet: str
    chain_id: int
    registry: str
    changes: list[Change] = field(default_factory=list)  # found by this run: each change is reported once
    problems: list[Problem] = field(default_factory=list)
    from_block: int = 0
    to_block: int = 0
    from_leaf: int = 0
    to_leaf: int = 0
    anchored_size: int = 0
    cursor_block: int | None = None
    cursor_leaf: int = 0
    all_changes: list[Change] = field(default_factory=list)  # every change found for the wallet so far

    @property
    def clean(self) -> bool:
        return not self.changes and not self.problems

    def to_json(self) -> dict[str, Any]:
        """The same shape as the JS client's report (watch.js)."""
        return {
            "wallet": self.wallet,
            "chainId": self.chain_id,
            "registry": self.registry,
            "clean": self.clean,
            "changes": [change.to_json() for change in self.changes],
            "allChanges": [change.to_json() for change in self.all_changes],
            "problems": [
                {"code": p.code, "detail": p.detail, **({} if p.leaf_index is None else {"leafIndex": p.leaf_index})}
                for p in self.problems
            ],
            "checked": {
                "fromBlock": self.from_block,
                "toBlock": self.to_block,
                "fromLeaf": self.from_leaf,
                "toLeaf": self.to_leaf,
                "anchoredSize": self.anchored_size,
            },
            "cursor": {"block": self.cursor_block, "leaf": self.cursor_leaf},
        }


# ---------------------------------------------------------------- one run


@dataclass(frozen=True)
class _Half:
    """One sighting of a write: an event (id event:<tx>:<logIndex>) or a leaf (id leaf:<index>)."""

    id: str
    kind: str
    version: int
    digest: str  # the event's digest, or the leaf's documentHash
    reason: str = "not-recorded"
    tx_hash: str | None = None
    block_number: int | None = None
    log_index: int | None = None
    leaf_index: int | None = None

    def to_state(self) -> dict[str, Any]:
        saved = {"id": self.id, "kind": self.kind, "version": self.version, "reason": self.reason}
        if self.leaf_index is None:
            saved.update(
                digest=self.digest, txHash=self.tx_hash, blockNumber=self.block_number, logIndex=self.log_index
            )
        else:
            saved.update(documentHash=self.digest, index=self.leaf_index)
        return saved

    @classmethod
    def from_state(cls, saved: Mapping[str, Any]) -> _Half:
        if "index" in saved:
            reason = saved.get("reason", "not-recorded")
            return cls(
                saved["id"], saved["kind"], saved["version"], saved["documentHash"], reason, leaf_index=saved["index"]
            )
        return cls(
            saved["id"],
            saved["kind"],
            saved["version"],
            saved["digest"],
            saved.get("reason", "not-recorded"),
            saved["txHash"],
            saved["blockNumber"],
            saved["logIndex"],
        )


class _Run:
    def __init__(
        self,
        rpc: JsonRpc,
        domain: Domain,
        wallet: str,
        log: LeafSource,
        block_chunk: int,
    ) -> None:
        self.rpc = rpc
        self.domain = domain
        self.wallet = wallet
        self.log = log
        self.block_chunk = block_chunk
        self.problems: list[Problem] = []

    def rpc_call(self, method: str, params: list[Any]) -> Any:
        try:
            return self.rpc.call(method, params)
        except RpcUnavailable as exc:
            raise MonitorUnavailable("rpc-unavailable", str(exc)) from exc
        except RpcError as exc:
            raise MonitorUnavailable("rpc-error", str(exc)) from exc

    def events(self, from_block: int, to_block: int) -> list[_Half]:
        topic = "0x" + "00" * 12 + self.wallet[2:].lower()
        found: list[_Half] = []
        start, size = from_block, self.block_chunk
        while start <= to_block:
            end = min(to_block, start + size - 1)
            try:
                logs = self.rpc.call(
                    "eth_getLogs",
                    [
                        {
                            "address": self.domain.registry,
                            "fromBlock": hex(start),
                            "toBlock": hex(end),
                            "topics": [[KEY_UPDATED, KEY_REVOKED], topic],
                        }
                    ],
                )
            except RpcUnavailable as exc:
                raise MonitorUnavailable("rpc-unavailable", str(exc)) from exc
            except RpcError as exc:  # a provider's range or result limit: smaller ranges
                if size == 1:
                    raise MonitorUnavailable("rpc-error", str(exc)) from exc
                size = max(1, size // 4)
                continue
            for entry in logs or []:
                data = bytes.fromhex(str(entry.get("data", "0x"))[2:])
                if entry.get("removed") or len(data) != 64 or len(entry.get("topics") or []) < 2:
                    continue
                log_index = int(entry["logIndex"], 16)
                tx_hash = str(entry["transactionHash"])
                found.append(
                    _Half(
                        f"event:{tx_hash.lower()}:{log_index}",
                        "key" if entry["topics"][0].lower() == KEY_UPDATED else "revocation",
                        int.from_bytes(data[32:], "big"),
                        "0x" + data[:32].hex(),
                        tx_hash=tx_hash,
                        block_number=int(entry["blockNumber"], 16),
                        log_index=log_index,
                    )
                )
            start = end + 1
        return sorted(found, key=lambda half: (half.block_number or 0, half.log_index or 0))

    def anchored_head(self) -> tuple[int, bytes]:
        call = {"to": self.domain.registry, "data": "0x" + abi.encode_call("logHead", [], []).hex()}
        raw = bytes.fromhex(str(self.rpc_call("eth_call", [call, "latest"]))[2:])
        try:
            size, root = abi.decode(["uint64", "bytes32"], raw)
        except abi.AbiDecodeError as exc:
            raise MonitorUnavailable(
                "rpc-error", f"logHead on {self.domain.registry} did not answer as DMTPKeys"
            ) from exc
        return int(size), bytes(root)

    def served_size(self) -> int:
        try:
            return int(self.log.log_head()["size"])
        except Exception as exc:  # an HTTP error, a connection refused, an answer without a size
            raise MonitorUnavailable("log-unavailable", f"GET /log/head: {exc}") from exc

    def leaves(self, start: int, end: int, served: int, anchored: int) -> list[tuple[int, bytes]]:
        """Leaves [start, end) as (index, bytes), stopping at the first the registry does not serve in place."""
        from dmtp_key_registry_client.registry_client import RegistryClientError

        found: list[tuple[int, bytes]] = []
        index = start
        while index < end:
            stop = min(end, index + LEAVES_PAGE)
            try:
                page = self.log.log_leaves(index, stop)
            except RegistryClientError as exc:
                if exc.status == 400 and served < anchored and index < anchored:
                    self.problems.append(
                        Problem(
                            "log-behind-anchor",
                            f"the registry serves {served} leaves, but the contract anchors a log of {anchored}",
                            served,
                        )
                    )
                    return found
                raise MonitorUnavailable("log-unavailable", f"GET /log/leaves?start={index}&end={stop}: {exc}") from exc
            except Exception as exc:
                raise MonitorUnavailable("log-unavailable", f"GET /log/leaves?start={index}&end={stop}: {exc}") from exc
            entries = page.get("leaves") if isinstance(page, dict) else None
            if not isinstance(entries, list) or not entries:
                raise MonitorUnavailable(
                    "log-unavailable", f"GET /log/leaves?start={index}&end={stop} served no leaves"
                )
            for entry in entries:
                raw = _leaf_bytes(entry, index)
                if raw is None:
                    self.problems.append(
                        Problem(
                            "leaf-malformed", f"the registry serves no well-formed leaf {index} in its place", index
                        )
                    )
                    return found
                found.append((index, raw))
                index += 1
                if index >= end:
                    break
        return found


def _leaf_bytes(entry: Any, index: int) -> bytes | None:
    if not isinstance(entry, dict) or entry.get("index") != index or not isinstance(entry.get("leaf"), str):
        return None
    try:
        raw = bytes.fromhex(entry["leaf"].removeprefix("0x"))
        translog.parse_leaf(raw)
    except ValueError:
        return None
    return raw


def _is_own(own: Sequence[Mapping[str, Any]], half: _Half, side: str) -> bool:
    for write in own:
        if write.get("kind") != half.kind or write.get("version") != half.version:
            continue
        if half.kind == "key":
            if str(write.get("documentHash")).lower() == half.digest:
                return True
            continue
        expected = write.get("revokedDigest") if side == "event" else write.get("documentHash")
        if expected is None or str(expected).lower() == half.digest:
            return True
    return False


def _changes(
    foreign_events: list[_Half], foreign_leaves: list[_Half], fresh: set[str], reported: set[str]
) -> list[Change]:
    groups: dict[str, tuple[list[_Half], list[_Half]]] = {}
    for side, halves in (("event", foreign_events), ("leaf", foreign_leaves)):
        for half in halves:
            if half.reason == "version-regression":
                key = half.id
            elif half.kind == "key":
                key = f"key:{half.version}:{half.digest}"
            else:
                key = f"revocation:{half.version}"
            events, leaves = groups.setdefault(key, ([], []))
            (events if side == "event" else leaves).append(half)
    changes: list[Change] = []
    for events, leaves in groups.values():
        halves = events + leaves
        if not any(half.id in fresh and half.id not in reported for half in halves):
            continue
        event = events[-1] if events else None
        leaf = leaves[-1] if leaves else None
        first = event or leaf
        assert first is not None
        changes.append(
            Change(
                first.kind,
                first.version,
                "version-regression" if any(h.reason == "version-regression" for h in halves) else "not-recorded",
                event.digest if event else None,
                leaf.digest if leaf else None,
                event.tx_hash if event else None,
                event.block_number if event else None,
                leaf.leaf_index if leaf else None,
            )
        )
    return sorted(changes, key=lambda change: change.version)


def monitor_wallet(
    wallet: str,
    *,
    rpc_url: str,
    chain_id: int,
    registry: str,
    log: LeafSource,
    state: str | Path,
    from_block: int = 0,
    confirmations: int = 0,
    timeout: float = 30,
    block_chunk: int = BLOCK_CHUNK,
    rpc_session: Any = None,
) -> MonitorReport:
    """One run of the monitor for `wallet` (its pins are the caller's: chain id, registry, RPC; `log` is the registry's
    log API, e.g. a RegistryClient), saving its cursor and findings in `state`. `from_block`: where the first run
    starts reading events (the registry's deployment block); later runs go on from the cursor. Raises
    MonitorUnavailable when the check could not run; nothing is saved then. `rpc_session`: what the RPC requests go
    through (a requests.Session, by default a new one)."""
    domain = Domain(int(chain_id), parse_address(registry))
    address = parse_address(wallet)
    rpc = JsonRpc(rpc_url, timeout_s=timeout, session=rpc_session)
    run = _Run(rpc, domain, address, log, block_chunk)
    served_chain = int(run.rpc_call("eth_chainId", []), 16)
    if served_chain != domain.chain_id:
        raise MonitorUnavailable("chain-mismatch", f"the RPC serves chain {served_chain}, not {domain.chain_id}")
    store = StateFile(state)
    watch = store.load_watch(domain, address)
    cursor = watch["cursor"]

    # The chain: the wallet's events since the last block read.
    latest = int(run.rpc_call("eth_blockNumber", []), 16)
    to_block = latest - confirmations
    first_block = from_block if cursor["block"] is None else int(cursor["block"]) + 1
    events = run.events(first_block, to_block) if first_block <= to_block else []

    # The log: every leaf since the cursor, checked against the root the contract anchors.
    anchored_size, anchored_root = run.anchored_head()
    from_leaf = int(cursor["leaf"])
    served = run.served_size()
    end = max(served, anchored_size)
    leaves = run.leaves(from_leaf, end, served, anchored_size) if from_leaf < end else []
    new_cursor = {
        "block": to_block if first_block <= to_block else cursor["block"],
        "leaf": from_leaf,
        "peaks": cursor["peaks"],
    }
    if anchored_size > from_leaf and len(leaves) >= anchored_size - from_leaf:
        builder = translog.TreeBuilder.resume(from_leaf, [bytes.fromhex(p[2:]) for p in cursor["peaks"]])
        for _, raw in leaves[: anchored_size - from_leaf]:
            builder.append(translog.leaf_hash(raw))
        if builder.root() == anchored_root:
            new_cursor.update(leaf=anchored_size, peaks=["0x" + peak.hex() for peak in builder.peaks])
        else:
            run.problems.append(
                Problem(
                    "log-root-mismatch",
                    f"the leaves the registry serves from {from_leaf} to {anchored_size} do not hash to the root the "
                    f"contract anchors (0x{anchored_root.hex()})",
                    from_leaf,
                )
            )

    # Compare with her record: what of her wallet did she not make, and does every version move forward?
    foreign_events = [_Half.from_state(saved) for saved in watch["foreign"]["events"]]
    foreign_leaves = [_Half.from_state(saved) for saved in watch["foreign"]["leaves"]]
    known = {half.id for half in foreign_events + foreign_leaves}
    fresh: set[str] = set()
    last_event_version = int(watch.get("lastEventVersion") or 0)
    for event in events:
        regression = event.version <= last_event_version
        last_event_version = max(last_event_version, event.version)
        if not regression and _is_own(watch["own"], event, "event"):
            continue
        fresh.add(event.id)
        if event.id not in known:
            foreign_events.append(_with_reason(event, regression))
    last_leaf_version = int(watch.get("lastLeafVersion") or 0)
    for index, raw in leaves:
        parsed = translog.parse_leaf(raw)
        if parsed.wallet != address.lower():
            continue
        leaf = _Half(
            f"leaf:{index}", parsed.kind_name, parsed.version, "0x" + parsed.document_hash.hex(), leaf_index=index
        )
        regression = leaf.version <= last_leaf_version
        if index < new_cursor["leaf"]:  # anchored and checked; above the cursor it is read again next time
            last_leaf_version = max(last_leaf_version, leaf.version)
        if not regression and _is_own(watch["own"], leaf, "leaf"):
            continue
        fresh.add(leaf.id)
        if leaf.id not in known:
            foreign_leaves.append(_with_reason(leaf, regression))

    reported = set(watch["reported"])
    changes = _changes(foreign_events, foreign_leaves, fresh, reported)
    everything = {half.id for half in foreign_events + foreign_leaves}
    all_changes = _changes(foreign_events, foreign_leaves, everything, set())
    watch.update(
        cursor=new_cursor,
        foreign={"events": [h.to_state() for h in foreign_events], "leaves": [h.to_state() for h in foreign_leaves]},
        reported=sorted(reported | fresh),
        lastEventVersion=last_event_version,
        lastLeafVersion=last_leaf_version,
    )
    store.save_watch(watch)
    return MonitorReport(
        address,
        domain.chain_id,
        domain.registry,
        changes,
        run.problems,
        first_block,
        to_block,
        from_leaf,
        from_leaf + len(leaves),
        anchored_size,
        new_cursor["block"],
        new_cursor["leaf"],
        all_changes,
    )


def _with_reason(half: _Half, regression: bool) -> _Half:
    return replace(half, reason="version-regression") if regression else half


def run_monitor(
    wallet: str,
    *,
    rpc_url: str,
    chain_id: int,
    registry: str,
    api_url: str,
    state: str | Path,
    from_block: int = 0,
    confirmations: int = 0,
    timeout: float = 30,
    stdout: Any = None,
    stderr: Any = None,
) -> int:
    """The CLI: prints the report as JSON, returns the exit status (0 clean, 1 a change or a problem, 2 not checked)."""
    from dmtp_key_registry_client.registry_client import RegistryClient

    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        report = monitor_wallet(
            wallet,
            rpc_url=rpc_url,
            chain_id=chain_id,
            registry=registry,
            log=RegistryClient(api_url, timeout=timeout),
            state=state,
            from_block=from_block,
            confirmations=confirmations,
            timeout=timeout,
        )
    except MonitorUnavailable as exc:
        print(f"error: not checked: {exc}", file=err)
        return 2
    print(json.dumps(report.to_json(), indent=2, sort_keys=True), file=out)
    for change in report.changes:
        where = ", ".join(
            part
            for part in (
                f"transaction {change.tx_hash} (block {change.block_number})" if change.tx_hash else "",
                f"log leaf {change.leaf_index}" if change.leaf_index is not None else "",
            )
            if part
        )
        print(f"CHANGE {change.reason}: {change.kind} version {change.version} of {report.wallet}: {where}", file=err)
    for problem in report.problems:
        print(f"PROBLEM {problem.code}: {problem.detail}", file=err)
    return 0 if report.clean else 1


__all__ = [
    "Change",
    "LeafSource",
    "MonitorReport",
    "MonitorUnavailable",
    "OwnWrites",
    "Problem",
    "StateFile",
    "monitor_wallet",
    "registration_document_hash",
    "revocation_document_hash",
    "run_monitor",
    "watch_key",
]
