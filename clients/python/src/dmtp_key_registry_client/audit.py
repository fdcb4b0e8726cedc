"""`python -m dmtp_key_registry_client audit`: check the registry's transparency log against the chain, trusting neither blindly.

1. Replays every `LogAnchored(size, root)` event of the DMTPKeys contract (eth_getLogs in block chunks), in chain
   order: sizes must strictly increase, and the last one must be what `logHead()` holds.
2. Fetches every leaf the registry serves (`GET /log/leaves`, pages of up to 1,000), checks each is well formed and
   at its index, rebuilds the RFC 9162 root at every anchored size and compares it with the anchored root (a
   mismatch is narrowed to the first leaf whose inclusion proof fails against the on-chain root). Each consecutive
   pair of anchored heads must also be proven consistent by the registry (`GET /log/consistency`).
3. Every `KeyUpdated(user, digest, version)` must have its key leaf (user, version, digest), every
   `KeyRevoked(user, digest, version)` its revocation leaf (user, version). A wallet's events never go back in
   version (verify.first_rollback: the owner key setting an older key again is `version-rollback`, naming the
   wallet and both versions).
4. A leaf below the last anchored size with no event, whose wallet has no later on-chain version either, was
   accepted but never reached the chain. For a key, a WARNING (a visibly failed write). For a revocation of a key that
   did reach the chain (and is still its current one), a WARNING while it may still be on its way, and a failure,
   `revocation-not-on-chain`, once `revocation_window_s` (default REVOCATION_WINDOW_S, 15 minutes: fifteen of the
   monitor's one-minute passes) has passed since the block of the first anchor covering its leaf, by chain time
   (the latest block's timestamp): the registry accepted it by then, and is hiding it from the chain.

Exit status 0 when nothing is wrong, 1 with the first discrepancy (naming wallet, version and leaf index where
there is one); progress goes to stderr. `--json` prints the whole result as one JSON object on stdout.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeGuard

from dmtp_key_registry_client import abi, translog
from dmtp_key_registry_client.registry_client import RegistryClient, RegistryClientError
from dmtp_key_registry_client.verify import first_rollback
from dmtp_protocol.ethsig import keccak256
from dmtp_protocol.messages import parse_address

LOG_ANCHORED = "0x" + keccak256(b"LogAnchored(uint64,bytes32)").hex()
KEY_UPDATED = "0x" + keccak256(b"KeyUpdated(address,bytes32,uint64)").hex()
KEY_REVOKED = "0x" + keccak256(b"KeyRevoked(address,bytes32,uint64)").hex()
LEAVES_PAGE = 1000
BLOCK_CHUNK = 5000
MAX_PROBES = 2000  # inclusion proofs asked to narrow a root mismatch to one leaf
MAX_DISCREPANCIES = 100
REVOCATION_WINDOW_S = 900.0  # seconds an accepted revocation may take to reach the chain (from its covering anchor)


@dataclass(frozen=True)
class Anchor:
    size: int
    root: bytes
    block: int
    tx_hash: str
    log_index: int = 0  # the event's position in its block


@dataclass(frozen=True)
class KeyEvent:
    kind: str  # "KeyUpdated" or "KeyRevoked"
    wallet: str  # EIP-55
    digest: bytes
    version: int
    block: int
    tx_hash: str
    log_index: int = 0  # the event's position in its block


@dataclass
class Discrepancy:
    code: str
    detail: str
    wallet: str | None = None
    version: int | None = None
    leaf_index: int | None = None
    earlier_version: int | None = None  # version-rollback: the higher version the wallet's history went back from


@dataclass
class AuditResult:
    ok: bool = True
    chain_id: int | None = None
    latest_block: int | None = None
    anchors: int = 0
    anchored_size: int = 0
    leaves: int = 0
    key_updated: int = 0
    key_revoked: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _Stop(Exception):
    """Too many discrepancies to go on usefully."""


class Auditor:
    def __init__(
        self,
        rpc_url: str,
        registry: str,
        api: RegistryClient,
        *,
        from_block: int = 0,
        progress: Callable[[str], None] | None = None,
        timeout: float = 30,
        revocation_window_s: float = REVOCATION_WINDOW_S,
    ) -> None:
        from dmtp_key_registry_client.rpc import JsonRpc

        self.rpc = JsonRpc(rpc_url, timeout_s=timeout)
        self.registry = parse_address(registry)
        self.api = api
        self.from_block = from_block
        self.revocation_window_s = revocation_window_s
        self.progress = progress or (lambda message: None)
        self.result = AuditResult()

    # ------------------------------------------------------------ reporting

    def _fail(
        self,
        code: str,
        detail: str,
        wallet: str | None = None,
        version: int | None = None,
        leaf_index: int | None = None,
        earlier_version: int | None = None,
    ) -> None:
        self.result.ok = False
        self.result.discrepancies.append(Discrepancy(code, detail, wallet, version, leaf_index, earlier_version))
        if len(self.result.discrepancies) >= MAX_DISCREPANCIES:
            raise _Stop()

    def _warn(self, text: str) -> None:
        self.result.warnings.append(text)

    # ------------------------------------------------------------ the run

    def run(self) -> AuditResult:
        from dmtp_key_registry_client.rpc import RpcError

        try:
            self._run()
        except _Stop:
            pass
        except RpcError as exc:  # nothing checked is nothing proven
            self._fail("rpc-unavailable", f"the chain could not be read: {exc}")
        return self.result

    def _run(self) -> None:
        self.result.chain_id = self.rpc.chain_id()
        latest = self.rpc.block_number()
        self.result.latest_block = latest
        anchors, key_events = self._events(latest)
        self.result.anchors = len(anchors)
        self.result.key_updated = sum(1 for e in key_events if e.kind == "KeyUpdated")
        self.result.key_revoked = len(key_events) - self.result.key_updated
        anchors = self._check_anchor_order(anchors)
        self._check_head_storage(anchors)
        anchored = anchors[-1].size if anchors else 0
        self.result.anchored_size = anchored

        try:
            head = self.api.log_head()
            served_size = int(head["size"])
        except (RegistryClientError, OSError, KeyError, TypeError, ValueError) as exc:
            self._fail("log-unavailable", f"GET /log/head failed: {exc}")
            return
        leaves = self._leaves(served_size)  # a log shorter than the anchored head is reported below
        self.result.leaves = sum(1 for leaf in leaves if leaf is not None)
        # Events first: a leaf that disagrees with the chain is named exactly; a root mismatch only narrows.
        self._check_events(key_events, leaves, anchored, anchors)
        if served_size < anchored:
            self._fail(
                "log-shrunk",
                f"the registry's log has {served_size} leaves, but the chain anchored a head of {anchored}",
                leaf_index=served_size,
            )
        self._check_roots(anchors, leaves)
        self._check_consistency(anchors)

    # ------------------------------------------------------------ chain

    def _events(self, latest: int) -> tuple[list[Anchor], list[KeyEvent]]:
        anchors: list[Anchor] = []
        key_events: list[KeyEvent] = []
        start = self.from_block
        chunk = BLOCK_CHUNK
        raw: list[dict[str, Any]] = []
        while start <= latest:
            end = min(latest, start + chunk - 1)
            try:
                found = self.rpc.call(
                    "eth_getLogs",
                    [
                        {
                            "address": self.registry,
                            "fromBlock": hex(start),
                            "toBlock": hex(end),
                            "topics": [[LOG_ANCHORED, KEY_UPDATED, KEY_REVOKED]],
                        }
                    ],
                )
            except Exception:  # a provider's result limit: smaller chunks
                if chunk == 1:
                    raise
                chunk = max(1, chunk // 4)
                continue
            raw.extend(entry for entry in found if not entry.get("removed"))
            self.progress(f"audit: blocks {start}..{end} of {latest}: {len(raw)} events")
            start = end + 1
        raw.sort(key=lambda entry: (int(entry["blockNumber"], 16), int(entry["logIndex"], 16)))
        for entry in raw:
            topic = entry["topics"][0].lower()
            data = bytes.fromhex(entry["data"][2:])
            block = int(entry["blockNumber"], 16)
            position = int(entry["logIndex"], 16)
            if topic == LOG_ANCHORED:
                anchors.append(
                    Anchor(int.from_bytes(data[:32], "big"), data[32:64], block, entry["transactionHash"], position)
                )
            else:
                wallet = parse_address("0x" + entry["topics"][1][-40:])
                kind = "KeyUpdated" if topic == KEY_UPDATED else "KeyRevoked"
                key_events.append(
                    KeyEvent(
                        kind,
                        wallet,
                        data[:32],
                        int.from_bytes(data[32:64], "big"),
                        block,
                        entry["transactionHash"],
                        position,
                    )
                )
        return anchors, key_events

    def _check_anchor_order(self, anchors: list[Anchor]) -> list[Anchor]:
        """Anchors in chain order with strictly increasing sizes (any other is reported and left out)."""
        kept: list[Anchor] = []
        for anchor in anchors:
            if kept and anchor.size <= kept[-1].size:
                self._fail(
                    "anchor-order",
                    f"LogAnchored of size {anchor.size} at block {anchor.block} (tx {anchor.tx_hash}) "
                    f"does not grow the log past the anchored size {kept[-1].size}",
                    leaf_index=anchor.size,
                )
                continue
            kept.append(anchor)
        return kept

    def _check_head_storage(self, anchors: list[Anchor]) -> None:
        raw = self.rpc.eth_call(self.registry, abi.encode_call("logHead", [], []))
        try:
            size, root = abi.decode(["uint64", "bytes32"], raw)
        except abi.AbiDecodeError:
            self._fail(
                "contract-unreadable", f"logHead() on {self.registry} did not answer as DMTPKeys ({len(raw)} bytes)"
            )
            return
        expected = (anchors[-1].size, anchors[-1].root) if anchors else (0, b"\0" * 32)
        if (size, bytes(root)) != expected:
            self._fail(
                "head-mismatch",
                f"logHead() holds size {size} root 0x{bytes(root).hex()}, but the last LogAnchored "
                f"event says size {expected[0]} root 0x{expected[1].hex()}",
            )

    # ------------------------------------------------------------ leaves and roots

    def _leaves(self, total: int) -> list[translog.Leaf | None]:
        leaves: list[translog.Leaf | None] = [None] * total
        start = 0
        while start < total:
            end = min(total, start + LEAVES_PAGE)
            try:
                page = self.api.log_leaves(start, end)
                entries = page.get("leaves")
                if not isinstance(entries, list) or not entries:
                    raise ValueError("no leaves in the answer")
            except (RegistryClientError, OSError, ValueError) as exc:
                if end - start > 1:
                    self.progress(f"audit: leaves {start}..{end} failed ({exc}); one by one")
                    for index in range(start, end):
                        self._one_leaf(index, leaves)
                    start = end
                    continue
                self._fail("leaf-missing", f"the registry does not serve leaf {start}: {exc}", leaf_index=start)
                start = end
                continue
            expected = start
            for entry in entries:
                served = entry.get("index") if isinstance(entry, dict) else None
                if served != expected:
                    self._fail(
                        "leaf-missing",
                        f"/log/leaves from {start} served index {served} where index {expected} belongs: "
                        f"leaf {expected} is missing or out of place",
                        leaf_index=expected,
                    )
                    if not isinstance(served, int) or not expected <= served < total:
                        break
                    expected = served
                leaves[expected] = self._parse_leaf(entry, expected)
                expected += 1
            start = max(expected, start + 1)
            self.progress(f"audit: leaves {min(start, total)} of {total}")
        return leaves

    def _one_leaf(self, index: int, leaves: list[translog.Leaf | None]) -> None:
        try:
            entries = self.api.log_leaves(index, index + 1).get("leaves") or []
        except (RegistryClientError, OSError, ValueError) as exc:
            self._fail("leaf-missing", f"the registry does not serve leaf {index}: {exc}", leaf_index=index)
            return
        if len(entries) != 1 or not isinstance(entries[0], dict) or entries[0].get("index") != index:
            self._fail("leaf-missing", f"the registry does not serve leaf {index}", leaf_index=index)
            return
        leaves[index] = self._parse_leaf(entries[0], index)

    def _parse_leaf(self, entry: dict[str, Any], index: int) -> translog.Leaf | None:
        try:
            raw = bytes.fromhex(str(entry["leaf"])[2:])
            leaf = translog.parse_leaf(raw)
            declared = translog.Leaf(
                translog.KINDS_BY_NAME[entry["kind"]],
                str(entry["wallet"]).lower(),
                int(entry["version"]),
                translog.hex32(entry["documentHash"]) or b"",
            )
        except (KeyError, TypeError, ValueError) as exc:
            self._fail("leaf-malformed", f"leaf {index} is malformed: {exc}", leaf_index=index)
            return None
        if declared != leaf:
            self._fail(
                "leaf-malformed",
                f"leaf {index}'s fields ({entry.get('kind')} {entry.get('wallet')} v{entry.get('version')}) "
                "are not its leaf bytes",
                wallet=_eip55(leaf.wallet),
                version=leaf.version,
                leaf_index=index,
            )
        return leaf

    def _check_roots(self, anchors: list[Anchor], leaves: list[translog.Leaf | None]) -> None:
        builder = translog.TreeBuilder()
        previous_good = 0
        pending = list(anchors)
        for index, leaf in enumerate(leaves):
            if not pending:
                break
            if leaf is None:  # already reported; no root at or after it can be rebuilt
                for anchor in pending:
                    self._fail(
                        "root-mismatch",
                        f"the anchored root of size {anchor.size} (block {anchor.block}) cannot be "
                        f"rebuilt: leaf {index} is missing",
                        leaf_index=index,
                    )
                return
            builder.append(translog.leaf_hash(leaf.to_bytes()))
            while pending and pending[0].size == builder.size:
                anchor = pending.pop(0)
                if builder.root() != anchor.root:
                    self._root_mismatch(anchor, previous_good, leaves)
                    return  # every later root is built on the bad leaf too
                previous_good = anchor.size
                self.progress(f"audit: anchored root of size {anchor.size} (block {anchor.block}) rebuilt")
        for anchor in pending:
            self._fail(
                "root-mismatch",
                f"the chain anchored size {anchor.size} at block {anchor.block}, but the registry "
                f"serves only {len(leaves)} leaves",
                leaf_index=len(leaves),
            )

    def _root_mismatch(self, anchor: Anchor, good: int, leaves: list[translog.Leaf | None]) -> None:
        """Leaves [good, anchor.size) hold the change. Narrowed to the first leaf whose inclusion proof, as the
        registry gives it, does not hold at its index against the on-chain root; a leaf the registry itself proves
        at another index (moved) is named first, since its neighbours' proofs fail through it."""
        proofs: dict[int, Any] = {}
        for index in range(good, min(anchor.size, good + MAX_PROBES)):
            leaf = leaves[index]
            assert leaf is not None
            try:
                proofs[index] = self.api.log_inclusion(_eip55(leaf.wallet), leaf.version, anchor.size)
            except (RegistryClientError, OSError, ValueError) as exc:
                proofs[index] = exc
                continue
            if proofs[index].get("leafIndex") != index:
                self._fail(
                    "root-mismatch",
                    f"the anchored root of size {anchor.size} (block {anchor.block}) is not the root of "
                    f"the leaves served; leaf {index} ({leaf.kind_name} {_eip55(leaf.wallet)} v{leaf.version}) is proven at "
                    f"index {proofs[index].get('leafIndex')} instead",
                    _eip55(leaf.wallet),
                    leaf.version,
                    index,
                )
                return
        for index in range(good, min(anchor.size, good + MAX_PROBES)):
            leaf = leaves[index]
            assert leaf is not None
            wallet = _eip55(leaf.wallet)
            where = f"leaf {index} ({leaf.kind_name} {wallet} v{leaf.version})"
            proof = proofs[index]
            if isinstance(proof, Exception):
                self._fail(
                    "root-mismatch",
                    f"the anchored root of size {anchor.size} (block {anchor.block}) is not the root of "
                    f"the leaves served; {where} has no inclusion proof: {proof}",
                    wallet,
                    leaf.version,
                    index,
                )
                return
            path = [translog.hex32(h) for h in proof.get("auditPath") or []]
            if proof.get("leafIndex") != index:
                self._fail(
                    "root-mismatch",
                    f"the anchored root of size {anchor.size} (block {anchor.block}) is not the root of "
                    f"the leaves served; {where} is proven at index {proof.get('leafIndex')} instead",
                    wallet,
                    leaf.version,
                    index,
                )
                return
            if not _every_hash(path) or not translog.verify_inclusion(
                translog.leaf_hash(leaf.to_bytes()), index, anchor.size, path, anchor.root
            ):
                self._fail(
                    "root-mismatch",
                    f"the anchored root of size {anchor.size} (block {anchor.block}) is not the root of "
                    f"the leaves served; {where} is not under the on-chain root",
                    wallet,
                    leaf.version,
                    index,
                )
                return
        self._fail(
            "root-mismatch",
            f"the anchored root of size {anchor.size} (block {anchor.block}) is not the root of the "
            f"leaves served from index {good} on",
            leaf_index=good,
        )

    def _check_consistency(self, anchors: list[Anchor]) -> None:
        for older, newer in itertools.pairwise(anchors):
            try:
                answer = self.api.log_consistency(older.size, newer.size)
                proof = [translog.hex32(h) for h in answer.get("proof") or []]
            except (RegistryClientError, OSError, ValueError, AttributeError) as exc:
                self._fail(
                    "log-inconsistent",
                    f"no consistency proof from anchored size {older.size} to {newer.size}: {exc}",
                    leaf_index=older.size,
                )
                continue
            if not _every_hash(proof) or not translog.verify_consistency(
                older.size, newer.size, older.root, newer.root, proof
            ):
                self._fail(
                    "log-inconsistent",
                    f"the anchored head of size {newer.size} (block {newer.block}) is not proven to "
                    f"extend the one of size {older.size} (block {older.block})",
                    leaf_index=older.size,
                )
        if len(anchors) > 1:
            self.progress(f"audit: {len(anchors) - 1} consecutive anchored heads proven consistent")

    # ------------------------------------------------------------ events against leaves

    def _check_events(
        self, events: list[KeyEvent], leaves: list[translog.Leaf | None], anchored: int, anchors: list[Anchor]
    ) -> None:
        by_key: dict[tuple[int, str, int], int] = {}
        for index, leaf in enumerate(leaves):
            if leaf is None:
                continue
            key = (leaf.kind, leaf.wallet, leaf.version)
            if key in by_key:
                self._fail(
                    "leaf-duplicate",
                    f"{leaf.kind_name} {_eip55(leaf.wallet)} v{leaf.version} is at leaves {by_key[key]} and {index}",
                    _eip55(leaf.wallet),
                    leaf.version,
                    index,
                )
            by_key.setdefault(key, index)
        gaps = [index for index, leaf in enumerate(leaves) if leaf is None]
        gap_note = f" (the log is missing index {gaps[0]})" if gaps else ""
        self._check_histories(events, by_key)
        newest_onchain: dict[str, int] = {}
        seen: set[tuple[int, str, int]] = set()
        for event in events:
            wallet = event.wallet.lower()
            newest_onchain[wallet] = max(newest_onchain.get(wallet, -1), event.version)
            kind = translog.KIND_KEY if event.kind == "KeyUpdated" else translog.KIND_REVOCATION
            key = (kind, wallet, event.version)
            seen.add(key)
            leaf_index = by_key.get(key)
            where = f"{event.kind}({event.wallet}, version {event.version}) at block {event.block} (tx {event.tx_hash})"
            first_after = next((a for a in anchors if (a.block, a.log_index) >= (event.block, event.log_index)), None)
            covering = first_after.size if first_after is not None else None
            if leaf_index is None:
                what = "key" if kind == translog.KIND_KEY else "revocation"
                hidden = "; the registry hides a revocation" if kind == translog.KIND_REVOCATION else ""
                bound = (
                    f" (its leaf belongs below index {covering}, the first head anchored after it)" if covering else ""
                )
                self._fail(
                    f"{what}-leaf-missing",
                    f"{where} has no {what} leaf in the log{gap_note}{bound}{hidden}",
                    event.wallet,
                    event.version,
                    gaps[0] if gaps else None,
                )
                continue
            # The anchor rule (PROTOCOL.md §11 rule 7): the first anchor at or after the event must cover its leaf.
            # With none after it, the head anchored before it covers the leaf (the log showed it first: its root
            # is rebuilt above like every anchored one) or no anchor reaches it yet: neither is a discrepancy.
            if first_after is not None and leaf_index >= first_after.size:
                self._fail(
                    "log-index-beyond-anchor",
                    f"{where} has its leaf at index {leaf_index}, at or beyond the size {first_after.size} of the "
                    f"first head anchored after it (block {first_after.block}, tx {first_after.tx_hash}): the leaf "
                    "was added to the log after that anchor, so the anchor does not cover it",
                    event.wallet,
                    event.version,
                    leaf_index,
                )
            leaf = leaves[leaf_index]
            assert leaf is not None
            if kind == translog.KIND_KEY and leaf.document_hash != event.digest:
                self._fail(
                    "leaf-mismatch",
                    f"leaf {leaf_index} gives {event.wallet} v{event.version} the document hash "
                    f"0x{leaf.document_hash.hex()}; {where} says 0x{event.digest.hex()}",
                    event.wallet,
                    event.version,
                    leaf_index,
                )
            if kind == translog.KIND_REVOCATION:
                revoked = [
                    i
                    for (k, w, v), i in by_key.items()
                    if k == translog.KIND_KEY
                    and w == wallet
                    and v < event.version
                    and (key_leaf := leaves[i]) is not None
                    and key_leaf.document_hash == event.digest
                ]
                if not revoked:
                    self._fail(
                        "leaf-mismatch",
                        f"{where} revokes 0x{event.digest.hex()}, which no earlier key leaf of the wallet "
                        f"holds (revocation leaf {leaf_index})",
                        event.wallet,
                        event.version,
                        leaf_index,
                    )
        for index, leaf in enumerate(leaves[:anchored]):
            if leaf is None or (leaf.kind, leaf.wallet, leaf.version) in seen:
                continue
            if newest_onchain.get(leaf.wallet, -1) > leaf.version:
                continue  # superseded or failed, followed by a later on-chain version: fine
            if leaf.kind == translog.KIND_REVOCATION and (translog.KIND_KEY, leaf.wallet, leaf.version - 1) in seen:
                self._unsent_revocation(index, leaf, anchors)
                continue
            self._warn(
                f"leaf {index}: {leaf.kind_name} {_eip55(leaf.wallet)} v{leaf.version} was accepted but has no "
                f"{'KeyUpdated' if leaf.kind == translog.KIND_KEY else 'KeyRevoked'} event (not on chain, or not yet)"
            )

    def _check_histories(self, events: list[KeyEvent], by_key: dict[tuple[int, str, int], int]) -> None:
        """Each wallet's KeyUpdated/KeyRevoked events, in chain order, never go back in version (verify.first_rollback,
        the rule `verify` applies too): an older key set again by the owner key is `version-rollback`."""
        by_wallet: dict[str, list[KeyEvent]] = {}
        for event in events:
            by_wallet.setdefault(event.wallet, []).append(event)
        for wallet, history in by_wallet.items():
            rollback = first_rollback(history)
            if rollback is None:
                continue
            higher, lower = rollback
            kind = translog.KIND_KEY if lower.kind == "KeyUpdated" else translog.KIND_REVOCATION
            self._fail(
                "version-rollback",
                f"{lower.kind}({wallet}, version {lower.version}) at block {lower.block} (tx {lower.tx_hash}) comes "
                f"after {higher.kind}({wallet}, version {higher.version}) at block {higher.block} "
                f"(tx {higher.tx_hash}): the wallet's key history goes back from version {higher.version} to "
                f"{lower.version}",
                wallet,
                lower.version,
                by_key.get((kind, wallet.lower(), lower.version)),
                earlier_version=higher.version,
            )

    def _unsent_revocation(self, index: int, leaf: translog.Leaf, anchors: list[Anchor]) -> None:
        """A revocation leaf with no KeyRevoked event, whose revoked key is on chain and still the wallet's newest
        there: on its way while the revocation window runs from the first anchor covering the leaf, hidden after."""
        wallet = _eip55(leaf.wallet)
        what = f"leaf {index}: revocation {wallet} v{leaf.version} (of key v{leaf.version - 1}, which is on chain)"
        covering = next((anchor for anchor in anchors if anchor.size > index), None)
        if covering is None:  # below the anchored size, so some anchor covers it; kept for the type checker
            return
        age = self._block_time(self.result.latest_block or covering.block) - self._block_time(covering.block)
        if age < self.revocation_window_s:
            self._warn(
                f"{what} has no KeyRevoked event yet, {age:.0f} s after the anchor covering it (block "
                f"{covering.block}); it fails the audit after {self.revocation_window_s:.0f} s"
            )
            return
        self._fail(
            "revocation-not-on-chain",
            f"{what} was accepted by block {covering.block} (the first anchor covering it, size {covering.size}, tx "
            f"{covering.tx_hash}), {age:.0f} s ago by chain time, and has no KeyRevoked event: the revocation window "
            f"is {self.revocation_window_s:.0f} s; the registry hides a revocation from the chain",
            wallet,
            leaf.version,
            index,
        )

    def _block_time(self, block: int) -> int:
        found = self.rpc.call("eth_getBlockByNumber", [hex(block), False])
        return int(found["timestamp"], 16)


def _every_hash(hashes: list[bytes | None]) -> TypeGuard[list[bytes]]:
    """Whether every hash of a proof parsed (translog.hex32 gives None for one that does not)."""
    return None not in hashes


def _eip55(wallet: str) -> str:
    try:
        return parse_address(wallet)
    except Exception:
        return wallet


def run_audit(
    rpc_url: str,
    registry: str,
    api_url: str,
    *,
    from_block: int = 0,
    as_json: bool = False,
    timeout: float = 30,
    stdout: Any = None,
    stderr: Any = None,
    revocation_window_s: float = REVOCATION_WINDOW_S,
) -> int:
    """The CLI: prints the outcome, returns the exit status (0 clean, 1 a discrepancy)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    started = time.monotonic()
    last = [0.0]

    def progress(message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5 or "rebuilt" not in message:
            print(message, file=err, flush=True)
            last[0] = now

    auditor = Auditor(
        rpc_url,
        registry,
        RegistryClient(api_url, timeout=timeout),
        from_block=from_block,
        progress=progress,
        timeout=timeout,
        revocation_window_s=revocation_window_s,
    )
    result = auditor.run()
    for warning in result.warnings:
        print(f"WARNING: {warning}", file=err)
    if as_json:
        print(json.dumps(result.to_json(), indent=2), file=out)
    elif result.ok:
        print(
            f"OK: {result.anchors} anchored heads (last size {result.anchored_size}), {result.leaves} leaves, "
            f"{result.key_updated} KeyUpdated and {result.key_revoked} KeyRevoked events agree; "
            f"{len(result.warnings)} warnings ({time.monotonic() - started:.1f}s)",
            file=out,
        )
    else:
        first = result.discrepancies[0]
        print(f"FAIL {first.code}: {first.detail}", file=out)
        for other in result.discrepancies[1:]:
            print(f"  also {other.code}: {other.detail}", file=out)
    return 0 if result.ok else 1
