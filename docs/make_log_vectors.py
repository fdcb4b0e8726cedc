"""The transparency log's test vectors (docs/PROTOCOL.md §15), computed with the registry's code: a log of 7 leaves,
its root at every size, one inclusion and one consistency proof. docs/make_protocol_vectors.py stores them under
"transparencyLog" in docs/protocol-vectors.json; tests/unit/test_log_vectors.py recomputes them independently.

Run alone (`python -m docs.make_log_vectors`) to print them.
"""

import hashlib
import json
from typing import Any

from dmtp_protocol import merkle
from dmtp_protocol.ethsig import to_checksum_address
from dmtp_protocol.leaves import LEAF_KIND_KEY, LEAF_KIND_REVOCATION, leaf_bytes

SIZE = 7
INCLUSION = (2, 7)  # leaf index, tree size
CONSISTENCY = (3, 7)  # from, to


def _sha256(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def _leaf_inputs(index: int) -> tuple[int, str, int, bytes]:
    """Three wallets taking turns; leaf 4 is wallet 1's revocation of its version 1."""
    wallet = "0x" + _sha256(f"dmtp log vector wallet {index % 3}").hex()[:40]
    kind = LEAF_KIND_REVOCATION if index == 4 else LEAF_KIND_KEY
    return kind, wallet, index // 3 + 1, _sha256(f"dmtp log vector document {index}")


def build() -> dict[str, Any]:
    leaves = [leaf_bytes(*_leaf_inputs(i)) for i in range(SIZE)]
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    index, size = INCLUSION
    old, new = CONSISTENCY

    def hexed(value):
        return "0x" + value.hex()

    return {
        "leaves": [
            {
                "index": i,
                "kind": "revocation" if leaf[0] == LEAF_KIND_REVOCATION else "key",
                "wallet": to_checksum_address("0x" + leaf[1:21].hex()),
                "version": int.from_bytes(leaf[21:29], "big"),
                "documentHash": hexed(leaf[29:]),
                "leaf": hexed(leaf),
                "leafHash": hexed(hashes[i]),
            }
            for i, leaf in enumerate(leaves)
        ],
        "roots": {str(n): hexed(merkle.root(hashes[:n])) for n in range(SIZE + 1)},
        "inclusion": {
            "leafIndex": index,
            "treeSize": size,
            "root": hexed(merkle.root(hashes[:size])),
            "auditPath": [hexed(h) for h in merkle.inclusion_proof(index, hashes[:size])],
        },
        "consistency": {
            "from": old,
            "to": new,
            "fromRoot": hexed(merkle.root(hashes[:old])),
            "toRoot": hexed(merkle.root(hashes[:new])),
            "proof": [hexed(h) for h in merkle.consistency_proof(old, hashes[:new])],
        },
    }


if __name__ == "__main__":
    print(json.dumps(build(), indent=2))
