"""The chain: the DMTPKeys contract, and building, signing and sending its transactions.

web3 costs ~1 s to import, so it loads only when the worker first needs it, never on the API path.
"""
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Optional

from .cid import digest_from_cid
from .ethsig import keccak256
from .kms_signer import KmsSigner


class WriteRefused(Exception):
    """The contract refuses this write (it reverts when simulated); retrying cannot help."""


def load_artifact() -> dict[str, Any]:
    return json.loads(resources.files("chalicelib.contracts").joinpath("DMTPKeys.json").read_text())


@dataclass(frozen=True)
class Receipt:
    status: int
    block_number: int
    gas_used: int


@dataclass(frozen=True)
class SignedTx:
    raw: str  # 0x hex
    tx_hash: str
    nonce: int


class RegistryChain:
    def __init__(self, rpc_url: str, registry_address: str, chain_id: int, rpc_timeout_s: float = 10.0) -> None:
        from web3 import Web3

        self.w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": rpc_timeout_s}))
        self.chain_id = chain_id
        self.contract = self.w3.eth.contract(address=Web3.to_checksum_address(registry_address), abi=load_artifact()["abi"])

    def check_chain_id(self) -> None:
        actual = self.w3.eth.chain_id
        if actual != self.chain_id:
            raise RuntimeError(f"RPC serves chain {actual}, configuration says {self.chain_id}")

    def get_key(self, wallet: str) -> str:
        return self.contract.functions.getKey(wallet).call()

    def pending_nonce(self, address: str) -> int:
        return self.w3.eth.get_transaction_count(address, "pending")

    def mined_nonce(self, address: str) -> int:
        return self.w3.eth.get_transaction_count(address, "latest")

    def build_set_key(self, sender: str, wallet: str, cid: str, version: int, nonce: int) -> dict[str, Any]:
        """setKey(wallet, digest, version): the compact write (one storage slot; the view rebuilds the CID)."""
        from web3.exceptions import ContractLogicError

        tx: dict[str, Any] = {"from": sender, "nonce": nonce, "chainId": self.chain_id, **self._fees()}
        try:
            tx = self.contract.functions.setKey(wallet, digest_from_cid(cid), version).build_transaction(tx)
        except ContractLogicError as exc:
            raise WriteRefused(self.explain_revert(exc.data)) from exc
        tx.pop("from", None)
        return tx

    def explain_revert(self, data: Any) -> str:
        """A custom error's name and arguments, decoded with the contract ABI; the raw data otherwise."""
        from eth_abi import decode

        raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else bytes(data or b"")
        for item in self.contract.abi:
            if item.get("type") != "error":
                continue
            types = [argument["type"] for argument in item["inputs"]]
            if keccak256(f"{item['name']}({','.join(types)})".encode())[:4] == raw[:4]:
                values = decode(types, raw[4:]) if types else ()
                return f"{item['name']}({', '.join(str(value) for value in values)})"
        return f"reverted with data 0x{raw.hex()}" if raw else "reverted without data"

    def _fees(self) -> dict[str, int]:
        base_fee = self.w3.eth.get_block("latest").get("baseFeePerGas")
        if base_fee is None:
            return {"gasPrice": self.w3.eth.gas_price}
        tip = self.w3.eth.max_priority_fee
        return {"maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * base_fee + tip}

    def sign(self, tx: dict[str, Any], signer: KmsSigner) -> SignedTx:
        from eth_account._utils.legacy_transactions import encode_transaction, serializable_unsigned_transaction_from_dict
        from eth_account.typed_transactions import TypedTransaction
        from web3 import Web3

        unsigned = serializable_unsigned_transaction_from_dict(tx)
        r, s, recovery_id = signer.sign_digest(bytes(unsigned.hash()))
        v = recovery_id if isinstance(unsigned, TypedTransaction) else recovery_id + 35 + 2 * self.chain_id
        raw = encode_transaction(unsigned, vrs=(v, r, s))
        return SignedTx(raw="0x" + raw.hex(), tx_hash="0x" + Web3.keccak(raw).hex().removeprefix("0x"), nonce=tx["nonce"])

    def broadcast(self, raw_tx: str) -> None:
        """Send a signed tx; a node that already has it (or has mined it) is not an error here."""
        from web3.exceptions import Web3RPCError

        try:
            self.w3.eth.send_raw_transaction(raw_tx)
        except Web3RPCError as exc:
            text = str(exc).lower()
            if "already known" in text or "nonce too low" in text or "already imported" in text:
                return
            raise

    def receipt(self, tx_hash: str) -> Optional[Receipt]:
        from web3.exceptions import TransactionNotFound

        try:
            found = self.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None
        return Receipt(status=found["status"], block_number=found["blockNumber"], gas_used=found["gasUsed"])

    def wait_for_receipt(self, tx_hash: str, timeout_s: float) -> Optional[Receipt]:
        from web3.exceptions import TimeExhausted

        try:
            found = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout_s, poll_latency=0.1)
        except TimeExhausted:
            return None
        return Receipt(status=found["status"], block_number=found["blockNumber"], gas_used=found["gasUsed"])

    def revert_reason(self, tx_hash: str, block_number: int) -> str:
        """Replays a reverted tx with eth_call at its block to read the revert data."""
        tx = self.w3.eth.get_transaction(tx_hash)
        call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "value": tx["value"]}
        from web3.exceptions import ContractLogicError

        try:
            self.w3.eth.call(call, block_number - 1)
        except ContractLogicError as exc:
            return self.explain_revert(exc.data)
        return "reverted, but replaying it does not (state changed in its block)"
