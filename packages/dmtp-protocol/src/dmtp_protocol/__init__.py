"""The DMTP Key Registry protocol (docs/PROTOCOL.md), as pure functions over bytes and JSON: no I/O.

canonical JSON (canonical), the signed messages and the pinned document (messages, eip712, ethsig), the private-key
envelopes' shapes (envelopes), CIDs (cid), the transparency log's leaves and RFC 9162 Merkle proofs (leaves,
merkle), smart-wallet signature checks' encodings (smart_wallets), the problem+json errors (errors) and the
contracts' ABIs (contracts). Imports no boto3, web3 or chalice: the server, the clients and the tools share it.
"""

__version__ = "2.0.0"
