"""In-memory fakes of the API's ports (chalicelib/api/ports.py), for the use cases' unit tests
(tests/unit/test_registry_use_cases.py, tests/unit/test_log_queries.py).

Each fake keeps what the real adapter keeps and the port's docstring states, and refuses what the real one refuses:

- FakeRecords (adapters/records.py, RecordStore): `create` stores version n only while the wallet's head says n - 1
  (a revocation also only while the head's key is version n - 1 and not yet revoked), else model.VersionTaken and
  nothing is written; it marks version n - 1 with `next_version`, keeps the head (keyed by lowercase wallet) and,
  with a log, appends the record's leaf in the same step (the record carries its `log_index`). `set_status` moves
  a record only while its status is one of `only_from`. `heads` takes at most 100 wallets.
- FakeLog (adapters/translog.py, TransparencyLog): an append-only list of 61-byte leaves; roots and proofs are
  dmtp_protocol.merkle's (RFC 9162), computed from the leaves; anchors are the heads the chain confirmed.
- FakeJobQueue (adapters/jobs.py over SQS): keeps each job as the worker would read it back (Job.from_body of its
  body, which refuses an unknown kind); `down` makes it raise as an unreachable queue does.
- FakeSignatureChecker (api/signatures.py, SignatureVerifier, EOA path): says yes only when ecrecover of the digest
  is the wallet itself (InvalidSignature otherwise); `unavailable` stands for a chain node that cannot be reached.
- FakeEthRpc (adapters/rpc.py, JsonRpc), for the real SignatureVerifier: deployed ERC-1271 wallets whose
  `isValidSignature` says yes only to their owner EOA's signature; no code anywhere else.
- FakeWriteBudgets (adapters/quotas.py, Quotas.within_budget, check_room, charge_chain_check): the wallet's, the
  source's, its network's and everyone's daily counters (everyone's in two pools: the reserve for wallets that
  already have a key, and the open rest); all counted or none, QuotaExceeded (the wallet's budget named first) once
  one is spent; check_room tells the same without counting.
- FakeReadCounts (adapters/quotas.py, Quotas.add_reads): the shared per-minute counts of reads; `down` makes it
  raise as an unreachable table does.

Wallet is not a port: it is the client side, an EOA that signs request bodies like eth_account does, on coincurve
(eth_account takes 1-2 s to import; tests/unit/test_protocol_vectors.py ties signing_digest to eth_account).

Every fake records the calls it received (`calls`), so a test can say what a use case did and did not do.
"""

import base64
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from chalicelib.api.sources import source_of
from chalicelib.model import (
    BUDGET_GLOBAL,
    BUDGET_NETWORK,
    BUDGET_SOURCE,
    BUDGET_WALLET,
    KIND_KEY,
    KIND_REVOCATION,
    Anchor,
    BudgetSpent,
    Charge,
    CounterAdd,
    Head,
    Job,
    LogHead,
    Record,
    RpcError,
    RpcTimeout,
    RpcUnavailable,
    SignerCheck,
    Source,
    VersionTaken,
)
from dmtp_protocol import merkle
from dmtp_protocol.cid import digest_from_cid
from dmtp_protocol.envelopes import CIPHERTEXT_BYTES, X25519_XSALSA20_POLY1305
from dmtp_protocol.errors import DependencyUnavailable, InvalidSignature, QuotaExceeded
from dmtp_protocol.ethsig import BadSignature, address_from_public_key, recover_address
from dmtp_protocol.leaves import LEAF_KIND_KEY, LEAF_KIND_REVOCATION, LEAF_LENGTH, document_hash, leaf_bytes
from dmtp_protocol.messages import (
    REGISTRATION_TYPE,
    REVOCATION_TYPE,
    Domain,
    parse_registration,
    parse_revocation,
    registration_message,
    revocation_message,
    signing_digest,
)
from dmtp_protocol.smart_wallets import ERC1271_MAGIC
from tests.support.fakes import Clock

T = TypeVar("T")

__all__ = [
    "Clock",
    "FakeEthRpc",
    "FakeJobQueue",
    "FakeLog",
    "FakeReadCounts",
    "FakeRecords",
    "FakeSignatureChecker",
    "FakeWriteBudgets",
    "Wallet",
]

MAX_HEADS = 100  # adapters/records.py MAX_BATCH_GET: one BatchGetItem


# ---------------------------------------------------------------------------------------------- transparency log


class FakeLog:
    """TransparencyLog in memory: leaves in order of acceptance, no gaps, never changed; anchors by size."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._leaves: list[bytes] = []
        self._anchors: dict[int, Anchor] = {}
        self.calls: list[str] = []

    def append(self, leaf: bytes) -> int:
        """Append one leaf; its index (records.py appends in the record's own transaction)."""
        if len(leaf) != LEAF_LENGTH:
            raise ValueError(f"a leaf is {LEAF_LENGTH} bytes")
        self._leaves.append(bytes(leaf))
        return len(self._leaves) - 1

    def record_anchor(self, size: int, root: bytes, tx_hash: str, block_number: int) -> None:
        """A head the chain confirmed (the monitor records it; the same size again overwrites with the same values)."""
        self._anchors[size] = Anchor(size, root, tx_hash, block_number, int(self._clock()))

    def latest_anchor(self) -> Anchor | None:
        self.calls.append("latest_anchor")
        return self._anchors[max(self._anchors)] if self._anchors else None

    def head(self) -> LogHead:
        self.calls.append("head")
        size = len(self._leaves)
        frontier, start = [], 0
        for bit in reversed(range(size.bit_length())):  # one perfect subtree per set bit of size, largest first
            if size >> bit & 1:
                frontier.append(self._root(start, start + (1 << bit)))
                start += 1 << bit
        return LogHead(size, tuple(frontier))

    def leaves(self, start: int, end: int) -> list[tuple[int, bytes]]:
        self.calls.append("leaves")
        return [(index, self._leaves[index]) for index in range(max(start, 0), min(end, len(self._leaves)))]

    def leaf(self, index: int) -> bytes | None:
        self.calls.append("leaf")
        return self._leaves[index] if 0 <= index < len(self._leaves) else None

    def inclusion(self, index: int, size: int) -> tuple[bytes, list[bytes]]:
        self.calls.append("inclusion")
        hashes = self._hashes(size)
        return merkle.root(hashes), merkle.inclusion_proof(index, hashes)

    def consistency(self, old_size: int, new_size: int) -> tuple[bytes, bytes, list[bytes]]:
        self.calls.append("consistency")
        hashes = self._hashes(new_size)
        return merkle.root(hashes[:old_size]), merkle.root(hashes), merkle.consistency_proof(old_size, hashes)

    def _hashes(self, size: int) -> list[bytes]:
        if size > len(self._leaves):  # what the real log says when a size's subtrees are not stored
            raise LookupError(f"the log has {len(self._leaves)} leaves, not {size}")
        return [merkle.leaf_hash(leaf) for leaf in self._leaves[:size]]

    def _root(self, start: int, end: int) -> bytes:
        return merkle.root([merkle.leaf_hash(leaf) for leaf in self._leaves[start:end]])


def leaf_of(record: Record) -> bytes:
    """The record's leaf, by the rule of adapters/records.py leaf_of (docs/PROTOCOL.md section 15): a key's
    documentHash is the digest in its CID, a revocation's the SHA-256 of its stored canonical JSON."""
    if record.kind == KIND_KEY:
        return leaf_bytes(LEAF_KIND_KEY, record.wallet, record.version, digest_from_cid(record.cid))
    return leaf_bytes(LEAF_KIND_REVOCATION, record.wallet, record.version, document_hash(record.document))


# ---------------------------------------------------------------------------------------------- records


class FakeRecords:
    """RecordStore in memory: one record per (lowercase wallet, version) and one head per lowercase wallet."""

    def __init__(self, clock: Clock, log: FakeLog | None = None) -> None:
        self._clock = clock
        self.log = log
        self._items: dict[tuple[str, int], Record] = {}
        self._heads: dict[str, Head] = {}
        self._before_next_create: Any = None
        self.counters: dict[str, int] = {}  # the budget counters (FakeWriteBudgets shares them)
        self.statuses: dict[tuple[str, int], list[str]] = {}  # every status each record has had, in order
        self.versions_read = 0  # versions an as-of read looked at (versions_at_or_before)
        self.calls: list[str] = []

    # ------------------------------------------------------------ reads

    def latest(self, wallet: str) -> Record | None:
        found = self.newest(wallet, 1)
        return found[0] if found else None

    def newest(self, wallet: str, count: int) -> list[Record]:
        self.calls.append("newest")
        return self._versions(wallet)[:count]

    def history(self, wallet: str, limit: int, before_version: int | None = None) -> list[Record]:
        self.calls.append("history")
        versions = self._versions(wallet)
        if before_version is not None:
            versions = [r for r in versions if r.version < before_version]
        return versions[:limit]

    def all_versions(self, wallet: str) -> list[Record]:
        self.calls.append("all_versions")
        return self._versions(wallet)

    def versions_at_or_before(self, wallet: str, moment: int) -> Iterator[Record]:
        """Newest first, lazily: `versions_read` counts every version looked at, so a test can tell how far down a
        caller read."""
        self.calls.append("versions_at_or_before")
        for record in self._versions(wallet):
            self.versions_read += 1
            if record.created_at <= moment:
                yield record

    def get(self, wallet: str, version: int) -> Record | None:
        self.calls.append("get")
        return self._items.get((wallet.lower(), version))

    def heads(self, wallets: list[str]) -> dict[str, Head]:
        self.calls.append("heads")
        if len(wallets) > MAX_HEADS:
            raise ValueError(f"at most {MAX_HEADS} wallets per batch")
        return {w.lower(): self._heads[w.lower()] for w in wallets if w.lower() in self._heads}

    def _versions(self, wallet: str) -> list[Record]:
        mine = [r for (w, _), r in self._items.items() if w == wallet.lower()]
        return sorted(mine, key=lambda r: -r.version)

    # ------------------------------------------------------------ writes

    def before_next_create(self, action: Any) -> None:
        """Run `action()` once, just before the next `create` checks its condition: a concurrent writer that gets
        to the wallet's head first (the race records.py's conditional transaction settles)."""
        self._before_next_create = action

    def create(self, record: Record, charge: Charge = Charge()) -> None:
        """RecordStore.create: the record and `charge`'s counters (kept in `self.counters`, shared with
        FakeWriteBudgets) in one step: VersionTaken first, then BudgetSpent, and nothing written in either case."""
        self.calls.append("create")
        action, self._before_next_create = self._before_next_create, None
        if action is not None:
            action()
        wallet = record.wallet.lower()
        previous = record.version - 1
        head = self._heads.get(wallet)
        # records.py: the head must not exist (version 1) or must say version - 1
        holds = head is None if previous == 0 else head is not None and head.latest_version == previous
        if record.kind == KIND_REVOCATION:
            holds = holds and head is not None and head.key_version == previous and head.revocation is None
        if not holds or (wallet, record.version) in self._items:
            raise VersionTaken(f"{record.wallet} version {record.version} is not the next version")
        spent = [c for c in charge.counters if self.counters.get(c.key, 0) >= c.limit]
        if spent:
            order = (BUDGET_WALLET, BUDGET_SOURCE, BUDGET_NETWORK, BUDGET_GLOBAL)
            raise BudgetSpent(min(spent, key=lambda c: order.index(c.budget)))
        for counter in charge.counters:
            self.counters[counter.key] = self.counters.get(counter.key, 0) + 1
        index = None  # the worker sequences the log (`sequence`), never the request path
        stored = replace(record, log_index=index)
        self._items[(wallet, record.version)] = stored
        self.statuses[(wallet, record.version)] = [record.status]
        if previous:
            self._items[(wallet, previous)] = replace(self._items[(wallet, previous)], next_version=record.version)
        if record.kind == KIND_KEY:
            self._heads[wallet] = Head(
                record.wallet, record.version, record.version, record.cid, record.document, None, index
            )
        else:
            assert head is not None
            self._heads[wallet] = replace(
                head, wallet=record.wallet, latest_version=record.version, revocation=record.document
            )

    def unsequenced(self) -> list[Record]:
        """Every record without a leaf yet (what the worker would sequence when it takes their jobs)."""
        return [record for record in self._items.values() if record.log_index is None]

    def sequence(self, records: list[Record]) -> list[Record]:
        """RecordStore.sequence (the worker's step): each record's leaf appended once, in the order given; a key's
        head names its leaf once that very version is the head's key."""
        done = []
        for record in records:
            key = (record.wallet.lower(), record.version)
            stored = self._items.get(key)
            if stored is None or stored.log_index is not None or self.log is None:
                continue
            stored = replace(stored, log_index=self.log.append(leaf_of(stored)))
            self._items[key] = stored
            head = self._heads.get(key[0])
            if stored.kind == KIND_KEY and head is not None and head.key_version == stored.version:
                self._heads[key[0]] = replace(head, key_log_index=stored.log_index)
            done.append(stored)
        return done

    def set_status(self, record: Record, status: str, only_from: tuple[str, ...] = (), **changes: Any) -> bool:
        self.calls.append("set_status")
        key = (record.wallet.lower(), record.version)
        current = self._items.get(key)
        if current is None or (only_from and current.status not in only_from):
            return False
        self._items[key] = replace(current, status=status, updated_at=int(self._clock()), **changes)
        self.statuses[key].append(status)
        return True

    # ------------------------------------------------------------ for tests

    def count(self) -> int:
        """How many records (of every wallet) are stored."""
        return len(self._items)

    def statuses_of(self, wallet: str, version: int) -> list[str]:
        """Every status the record has had, from the one it was created with."""
        return self.statuses.get((wallet.lower(), version), [])


# ---------------------------------------------------------------------------------------------- queue, pinning


class FakeJobQueue:
    """The SQS queue of on-chain jobs: `jobs` holds what the worker would receive, in order."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self.down = False
        self.calls: list[Job] = []

    def enqueue(self, job: Job) -> str:
        self.calls.append(job)
        if self.down:
            raise ConnectionError("Could not connect to the endpoint URL (SQS unreachable)")
        self.jobs.append(Job.from_body(job.to_body()))  # what the worker parses (MalformedJob for an unknown kind)
        return f"message-{len(self.jobs)}"


class FakeSignatureChecker:
    """Yes only for a 65-byte low-s signature that recovers to the wallet itself (an EOA), as SignatureVerifier
    without a chain RPC answers; InvalidSignature otherwise. `unavailable`: the chain node cannot be reached."""

    def __init__(self) -> None:
        self.unavailable = False
        self.calls: list[tuple[str, bytes]] = []

    def verify(
        self, wallet: str, digest: bytes, signature: str, before_chain: Callable[[], None] | None = None
    ) -> SignerCheck:
        self.calls.append((wallet, digest))
        if self.unavailable:
            if before_chain is not None:
                before_chain()
            raise DependencyUnavailable("could not check the wallet's code on chain: node unreachable")
        try:
            signer = recover_address(digest, signature)
        except BadSignature as exc:
            raise InvalidSignature(str(exc)) from exc
        if signer != wallet:
            raise InvalidSignature("signature was not made by this wallet over this message")
        return SignerCheck("ecdsa")


@dataclass
class FakeEthRpc:
    """The JSON-RPC node SignatureVerifier asks: `contract_wallets` maps a deployed smart wallet (EIP-55) to its
    owner EOA, and its ERC-1271 isValidSignature(hash, signature) returns the magic value only for a signature by
    that owner; every other address has no code. State does not change between blocks. It serves chain `chain`.
    `unreachable`: every call raises RpcUnavailable. `slow_wallet_calls`: every eth_call raises RpcTimeout (the node
    answers the cheap calls, a wallet's code is what stalls). `gas_limits` keeps each eth_call's gas limit."""

    block: int = 4242
    contract_wallets: dict[str, str] = field(default_factory=dict)
    unreachable: bool = False
    chain: int = 31337
    slow_wallet_calls: bool = False
    calls: list[tuple[str, ...]] = field(default_factory=list)
    gas_limits: list[int | None] = field(default_factory=list)
    chain_known: bool = False  # asked once with success, then kept (JsonRpc.chain_id)

    def chain_id(self) -> int:
        if not self.chain_known:
            self._call("eth_chainId")
            self.chain_known = True
        return self.chain

    def block_number(self) -> int:
        self._call("eth_blockNumber")
        return self.block

    def code(self, address: str, block: str = "latest") -> bytes:
        self._call("eth_getCode", address, block)
        return b"\x60\x80\x60\x40" if address in self.contract_wallets else b""

    def eth_call(
        self, to: str, data: bytes, block: str = "latest", gas: int | None = None, timeout_s: float | None = None
    ) -> bytes:
        self._call("eth_call", to, block)
        self.gas_limits.append(gas)
        if self.slow_wallet_calls:
            raise RpcTimeout("eth_call: no answer within the timeout (ReadTimeout)")
        owner = self.contract_wallets.get(to)
        if owner is None:
            return b""  # a call to an address without code succeeds with no data
        if data[:4] != ERC1271_MAGIC:
            raise RpcError("execution reverted")  # the wallet has no other function this fake knows
        digest, length = data[4:36], int.from_bytes(data[68:100], "big")
        signature = data[100 : 100 + length]
        try:
            valid = length == 65 and recover_address(digest, "0x" + signature.hex()) == owner
        except BadSignature:
            valid = False
        return (ERC1271_MAGIC if valid else b"\xff\xff\xff\xff").ljust(32, b"\0")

    def eth_call_code(self, data: bytes, block: str, gas: int, timeout_s: float) -> bytes:
        raise NotImplementedError(
            "the ERC-6492 deployless validator is not modelled here (tests/integration/test_erc6492.py runs it)"
        )

    def _call(self, method: str, *args: str) -> None:
        self.calls.append((method, *args))
        if self.unreachable:
            raise RpcUnavailable(f"{method}: connection refused")


# ---------------------------------------------------------------------------------------------- write budgets

DAY_S = 86400


class FakeWriteBudgets:
    """Quotas.within_budget, check_room and charge_chain_check in memory: fixed UTC-day windows, one counter per pool
    of the global budget (the real one shards each), one-minute windows of checks on chain per source and per
    network; a limit of 0 (or less) is no limit. The daily counters live in the record store's `counters` (one
    transaction there). Everyone's budget is two pools as in adapters/quotas.py: floor(limit x reserved_share) for
    wallets that already have a key (tried first by them), the rest for every write."""

    def __init__(
        self,
        wallet_per_day: int = 0,
        source_per_day: int = 0,
        global_per_day: int = 0,
        counters: dict[str, int] | None = None,
        chain_checks_per_minute: int = 0,
        network_per_day: int = 0,
        network_checks_per_minute: int = 0,
        reserved_share: float = 0.0,
    ) -> None:
        self.limits = {
            BUDGET_WALLET: wallet_per_day,
            BUDGET_SOURCE: source_per_day,
            BUDGET_NETWORK: network_per_day,
            BUDGET_GLOBAL: global_per_day,
        }
        reserved = int(global_per_day * reserved_share) if global_per_day > 0 else 0
        self.pools = {name: n for name, n in (("reserved", reserved), ("global", global_per_day - reserved)) if n > 0}
        self.counters = counters if counters is not None else {}
        self.calls: list[tuple[str, str, int]] = []
        self.room_checks: list[tuple[str, str, int]] = []
        self.chain_checks_per_minute = chain_checks_per_minute
        self.network_checks_per_minute = network_checks_per_minute
        self.chain_checks: Counter[tuple[str, int]] = Counter()  # (source or network key, minute start) -> checks

    def charge_chain_check(self, source: Source, now: int) -> None:
        self._check(source.own, self.chain_checks_per_minute, now, "signature checks on chain per source per minute")
        if source.network != source.own:
            self._check(
                source.network, self.network_checks_per_minute, now, "signature checks on chain per network per minute"
            )

    def _check(self, key: str, limit: int, now: int, what: str) -> None:
        window = (key, now - now % 60)
        if 0 < limit <= self.chain_checks[window]:
            retry_after = window[1] + 60 - now
            raise QuotaExceeded(f"limit of {limit} {what} reached; retry in {retry_after} s", retry_after, limit=limit)
        self.chain_checks[window] += 1

    def within_budget(
        self, wallet: str, source: Source, now: int, write: Callable[[Charge], T], existing_wallet: bool = False
    ) -> T:
        self.calls.append((wallet, source.own, now))
        window_start = now - now % DAY_S
        base = self._base(wallet, source, window_start)
        if not self.pools:
            try:
                return write(Charge(base))
            except BudgetSpent as spent:
                raise self._refused(spent.counter.budget, now) from spent
        for pool in self._pool_order(existing_wallet):
            counter = CounterAdd(
                "quotas", f"writes#{pool}#{window_start}", self.pools[pool], window_start + 2 * DAY_S, BUDGET_GLOBAL
            )
            try:
                return write(Charge((*base, counter)))
            except BudgetSpent as spent:
                if spent.counter.budget != BUDGET_GLOBAL:
                    raise self._refused(spent.counter.budget, now) from spent
        raise self._refused(BUDGET_GLOBAL, now)

    def check_room(self, wallet: str, source: Source, now: int, existing_wallet: bool = False) -> None:
        self.room_checks.append((wallet, source.own, now))
        window_start = now - now % DAY_S
        for counter in self._base(wallet, source, window_start):
            if self.counters.get(counter.key, 0) >= counter.limit:
                raise self._refused(counter.budget, now)
        if self.pools and not any(
            self.counters.get(f"writes#{pool}#{window_start}", 0) < self.pools[pool]
            for pool in self._pool_order(existing_wallet)
        ):
            raise self._refused(BUDGET_GLOBAL, now)

    def _pool_order(self, existing_wallet: bool) -> list[str]:
        return [pool for pool in (["reserved", "global"] if existing_wallet else ["global"]) if pool in self.pools]

    def _base(self, wallet: str, source: Source, window_start: int) -> tuple[CounterAdd, ...]:
        subjects = self._subjects(wallet, source, window_start)
        return tuple(
            CounterAdd("quotas", subject, self.limits[budget], window_start + 2 * DAY_S, budget)
            for budget, subject in subjects.items()
            if budget != BUDGET_GLOBAL and self.limits[budget] > 0
        )

    def _refused(self, budget: str, now: int) -> QuotaExceeded:
        retry_after = DAY_S - now % DAY_S
        return QuotaExceeded(
            f"limit of {self.limits[budget]} {budget} writes per day reached; retry in {retry_after} s",
            retry_after,
            limit=self.limits[budget],
            budget=budget,
        )

    def used(self, budget: str, who: str, now: int) -> int:
        """How much of `budget` (BUDGET_WALLET: `who` a wallet; BUDGET_SOURCE, BUDGET_NETWORK: a source address;
        BUDGET_GLOBAL: both pools, `who` ignored) is used in the day of `now`."""
        window_start = now - now % DAY_S
        if budget == BUDGET_GLOBAL:
            return sum(self.counters.get(f"writes#{pool}#{window_start}", 0) for pool in ("reserved", "global"))
        return self.counters.get(self._subjects(who, source_of(who), window_start)[budget], 0)

    @staticmethod
    def _subjects(wallet: str, source: Source, window_start: int) -> dict[str, str]:
        subjects = {
            BUDGET_WALLET: f"wallet#{wallet.lower()}#{window_start}",
            BUDGET_SOURCE: f"writes#source#{source.own}#{window_start}",
            BUDGET_GLOBAL: f"writes#global#{window_start}",
        }
        if source.network != source.own:
            subjects[BUDGET_NETWORK] = f"writes#network#{source.network}#{window_start}"
        return subjects


class FakeReadCounts:
    """Quotas.add_reads in memory: a count per (key, minute start); `calls` holds every report; `down`: raises as an
    unreachable table does."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, int]] = Counter()
        self.calls: list[tuple[str, int, int]] = []
        self.down = False

    def add_reads(self, key: str, window_start: int, units: int) -> int:
        self.calls.append((key, window_start, units))
        if self.down:
            raise ConnectionError("Could not connect to the endpoint URL (DynamoDB unreachable)")
        self.counts[(key, window_start)] += units
        return self.counts[(key, window_start)]


# ---------------------------------------------------------------------------------------------- the client side


def random_envelope() -> dict[str, str]:
    """An eth-sig-util envelope of the right shape (the server cannot open it, and must not need to)."""
    return {
        "version": X25519_XSALSA20_POLY1305,
        "nonce": base64.b64encode(os.urandom(24)).decode(),
        "ephemPublicKey": base64.b64encode(os.urandom(32)).decode(),
        "ciphertext": base64.b64encode(os.urandom(CIPHERTEXT_BYTES)).decode(),
    }


class Wallet:
    """An EOA: a secp256k1 key (coincurve) signing the protocol's digests as eth_signTypedData_v4 / personal_sign
    do (r || s || v with v 27 or 28, low s, RFC 6979), and building request bodies like tests/support/bundles.py."""

    def __init__(self, seed: str | None = None) -> None:
        from coincurve import PrivateKey

        secret = hashlib.sha256(seed.encode()).digest() if seed is not None else os.urandom(32)
        self._key = PrivateKey(secret)
        self.address = address_from_public_key(self._key.public_key.format(compressed=False))

    def sign_digest(self, digest: bytes) -> str:
        signature = self._key.sign_recoverable(digest, hasher=None)
        return "0x" + (signature[:64] + bytes([signature[64] + 27])).hex()

    def registration(
        self,
        domain: Domain,
        issued_at: int,
        version: int = 1,
        signature_type: str = "eip712",
        expires_at: int | None = None,
        public_key: str | None = None,
        address: str | None = None,
    ) -> dict[str, Any]:
        """A POST /keys body for `address` (default: this wallet's own; another one for a smart wallet it owns)."""
        body: dict[str, Any] = {
            "address": address or self.address,
            "keyType": "x25519",
            "DMTPpubKey": public_key or "0x" + os.urandom(32).hex(),
            "DMTPpriKey": random_envelope(),
            "version": version,
            "issuedAt": issued_at,
            "signatureType": signature_type,
            "Signature": "0x00",
        }
        if expires_at is not None:
            body["expiresAt"] = expires_at
        message = registration_message(parse_registration(body))
        body["Signature"] = self.sign_digest(signing_digest(REGISTRATION_TYPE, message, domain, signature_type))
        return body

    def revocation(
        self,
        domain: Domain,
        revoked_version: int,
        public_key: str,
        issued_at: int,
        signature_type: str = "eip712",
        address: str | None = None,
    ) -> dict[str, Any]:
        """A POST /keys/{address}/revocation body revoking key `revoked_version` whose DMTPpubKey is `public_key`."""
        body: dict[str, Any] = {
            "address": address or self.address,
            "revokedVersion": revoked_version,
            "version": revoked_version + 1,
            "issuedAt": issued_at,
            "signatureType": signature_type,
            "Signature": "0x00",
        }
        message = revocation_message(parse_revocation(body), public_key)
        body["Signature"] = self.sign_digest(signing_digest(REVOCATION_TYPE, message, domain, signature_type))
        return body
