"""A registry whose owner key the test holds: a DMTPKeys contract on Anvil owned by one of Anvil's unlocked dev
accounts, a transparency log kept in memory (docs/PROTOCOL.md section 15), and the answers the registry's API would
give, built from both. What the registry's operator, or whoever took its owner key, can make the chain and the API
say: a key set back to an older version, a leaf claimed where no anchor reaches, a key no anchor covers yet.

It serves what `verify` (its LogSource) and the auditor (RegistryClient's read calls) ask the API for: log_head,
log_leaves, log_inclusion, log_consistency, lookup. Nothing here is trusted by the clients: they check it against the
contract, through their own RPC."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from web3 import Web3

from devstack.anvil import DEV_ACCOUNTS, Anvil
from dmtp_key_registry_client.registry_client import build_registration, wallet_address
from dmtp_protocol import merkle
from dmtp_protocol.cid import cid_for_bytes, digest_from_cid
from dmtp_protocol.ethsig import keccak256, to_checksum_address
from dmtp_protocol.leaves import LEAF_KIND_KEY, leaf_bytes
from dmtp_protocol.messages import (
    REGISTRATION_TYPE,
    Domain,
    parse_registration,
    pinned_document,
    registration_from_document,
    registration_message,
    signing_digest,
    typed_data,
)
from infra.deploy_contract import deploy, load_artifact
from tests.support.contract import transact

OWNER, OWNER_KEY = DEV_ACCOUNTS[0]  # the test's own owner key: Anvil's first dev account
OWNERSHIP_TRANSFERRED = "0x" + keccak256(b"OwnershipTransferred(address,address)").hex()


@dataclass(frozen=True)
class Key:
    """A registration the registry accepted: the wallet's signed document, its CID and its log leaf."""

    wallet: str
    version: int
    document: dict[str, Any]
    cid: str
    leaf_index: int

    @property
    def digest(self) -> bytes:
        return digest_from_cid(self.cid)


@dataclass
class OwnedRegistry:
    anvil: Anvil
    chain_id: int
    address: str = ""
    deploy_block: int = 0
    leaves: list[bytes] = field(default_factory=list)
    _index: dict[tuple[str, int], int] = field(default_factory=dict)

    @classmethod
    def deploy(cls, anvil: Anvil, chain_id: int) -> OwnedRegistry:
        """A fresh DMTPKeys owned by OWNER; `deploy_block` is the block it was deployed in (its constructor's event)."""
        registry = cls(anvil, chain_id, deploy(anvil.url, OWNER_KEY))
        created = anvil.rpc(
            "eth_getLogs",
            [{"address": registry.address, "fromBlock": "0x0", "toBlock": "latest", "topics": [OWNERSHIP_TRANSFERRED]}],
        )
        registry.deploy_block = int(created[0]["blockNumber"], 16)
        return registry

    @property
    def domain(self) -> Domain:
        return Domain(self.chain_id, self.address)

    @property
    def _contract(self) -> Any:
        w3 = Web3(Web3.HTTPProvider(self.anvil.url))
        return w3, w3.eth.contract(address=self.address, abi=load_artifact()["abi"])

    # ------------------------------------------------------------ what the registry accepts and writes

    def accept(self, wallet_key: str, version: int, *, sequenced: bool = True) -> Key:
        """The wallet signs `version` of a fresh key; the registry pins its document and appends its leaf (unless
        not `sequenced`: then its leaf index is -1 until `sequence`)."""
        body, _ = build_registration(wallet_key, self.chain_id, self.address, version=version)
        document = pinned_document(parse_registration(body), self.domain)
        key = Key(wallet_address(wallet_key), version, json.loads(document), cid_for_bytes(document), -1)
        return self.sequence(key) if sequenced else key

    def sequence(self, key: Key) -> Key:
        """Appends `key`'s leaf to the log; the key with its leaf index."""
        self._index[(key.wallet.lower(), key.version)] = len(self.leaves)
        self.leaves.append(leaf_bytes(LEAF_KIND_KEY, key.wallet, key.version, key.digest))
        return replace(key, leaf_index=len(self.leaves) - 1)

    def set_keys(self, keys: list[Key], *, anchor: bool = True, versions: list[int] | None = None) -> int:
        """The owner key writes `keys` (with `versions`, the keys' own by default): setKeysAnchored with the whole log's
        head when `anchor`, else setKeys. Returns the transaction's block."""
        w3, contract = self._contract
        users = [key.wallet for key in keys]
        digests = [key.digest for key in keys]
        numbers = versions or [key.version for key in keys]
        if anchor:
            call = contract.functions.setKeysAnchored(users, digests, numbers, len(self.leaves), self.root())
        else:
            call = contract.functions.setKeys(users, digests, numbers)
        return int(transact(w3, call, OWNER_KEY)["blockNumber"])

    def anchor(self) -> int:
        """An anchor-only transaction (setKeysAnchored of no keys), as the registry's monitor sends."""
        return self.set_keys([])

    def root(self, size: int | None = None) -> bytes:
        return merkle.root(
            [merkle.leaf_hash(leaf) for leaf in self.leaves[: len(self.leaves) if size is None else size]]
        )

    # ------------------------------------------------------------ what its API answers

    def answer(self, key: Key, leaf_index: int | None = None, block_hint: int | None = None) -> dict[str, Any]:
        """GET /keys/{wallet} for `key`, confirmed, claiming `leaf_index` (its own by default) and `block_hint` as
        its `blockNumber`."""
        registration, _ = registration_from_document(key.document)
        message = registration_message(registration)
        return {
            "wallet": key.wallet,
            "version": key.version,
            "keyType": registration.key_type,
            "DMTPpubKey": registration.public_key,
            "cid": key.cid,
            "bundle": key.document,
            "status": "confirmed",
            "revoked": False,
            "blockNumber": block_hint,
            "proof": {
                "chainId": self.chain_id,
                "registry": self.address,
                "signatureType": registration.signature_type,
                "signature": registration.signature,
                "typedData": typed_data(REGISTRATION_TYPE, message, self.domain),
                "digest": "0x"
                + signing_digest(REGISTRATION_TYPE, message, self.domain, registration.signature_type).hex(),
            },
            "log": {"leafIndex": key.leaf_index if leaf_index is None else leaf_index, "anchoredHead": None},
        }

    def log_head(self) -> dict[str, Any]:
        return {"size": len(self.leaves), "root": "0x" + self.root().hex(), "anchored": None}

    def log_leaves(self, start: int, end: int) -> dict[str, Any]:
        end = min(end, len(self.leaves))
        return {
            "start": start,
            "end": end,
            "leaves": [
                {
                    "index": i,
                    "kind": "key",
                    "wallet": to_checksum_address("0x" + leaf[1:21].hex()),
                    "version": int.from_bytes(leaf[21:29], "big"),
                    "documentHash": "0x" + leaf[29:].hex(),
                    "leaf": "0x" + leaf.hex(),
                }
                for i, leaf in enumerate(self.leaves[start:end], start)
            ],
        }

    def log_inclusion(self, wallet: str, version: int, tree_size: int | None = None) -> dict[str, Any]:
        index = self._index[(wallet.lower(), version)]
        size = len(self.leaves) if tree_size is None else tree_size
        hashes = [merkle.leaf_hash(leaf) for leaf in self.leaves[:size]]
        return {
            "leafIndex": index,
            "treeSize": size,
            "root": "0x" + merkle.root(hashes).hex(),
            "leaf": "0x" + self.leaves[index].hex(),
            "auditPath": ["0x" + h.hex() for h in merkle.inclusion_proof(index, hashes)],
        }

    def log_consistency(self, old_size: int, new_size: int) -> dict[str, Any]:
        hashes = [merkle.leaf_hash(leaf) for leaf in self.leaves[:new_size]]
        proof = merkle.consistency_proof(old_size, hashes)
        return {"from": old_size, "to": new_size, "proof": ["0x" + h.hex() for h in proof]}
