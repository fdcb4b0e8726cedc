"""The chain: the DMTPKeys contract, and building, signing and sending its transactions.

web3 costs ~1 s to import, so it loads only when the worker first needs it, never on the API path.

Nothing here decides anything from a node's error text (providers word errors differently and change the
wording; a relayer that matched on it once retried itself into a storm). `send` reports whether the node took
the transaction and passes the text on for the logs; the worker and monitor decide from chain state: receipts,
nonces, and whether the node knows a hash.
"""

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, cast

from chalicelib.model import JOB_REVOKE_KEY, Job, Market, Receipt, RpcUnavailable, SendResult, SignedTx, WriteRefused
from chalicelib.observability.redaction import redact_urls
from dmtp_protocol import contracts
from dmtp_protocol.cid import digest_from_cid
from dmtp_protocol.ethsig import keccak256

if TYPE_CHECKING:  # types only: web3 and its companions load on first use (see above)
    from eth_rlp import HashableRLP
    from eth_typing import ABIElement, ABIError, ChecksumAddress
    from web3.types import RPCEndpoint, TxParams

# OP-stack chains (Base, Optimism) charge every transaction an L1 data fee on top of gas * gas price; the
# GasPriceOracle predeploy computes it from the unsigned RLP-encoded transaction.
GAS_PRICE_ORACLE = "0x420000000000000000000000000000000000000F"


GET_L1_FEE = "getL1Fee(bytes)"


L1_FEE_ORACLE_NONE = "none"


L1_FEE_ORACLE_OP_STACK = "op-stack"


L1_FEE_ORACLES = (L1_FEE_ORACLE_NONE, L1_FEE_ORACLE_OP_STACK)


# The nonce is not known when the fee is estimated (before reserving); 4 non-zero bytes cover any nonce we reach.
ESTIMATE_NONCE = 0xFFFFFFFF


def load_artifact() -> dict[str, Any]:
    return contracts.artifact(contracts.DMTP_KEYS)


class DigestSigner(Protocol):
    """What `sign` needs of the owner key: chain/ports.py's Signer (KmsSigner in AWS KMS) is one."""

    def sign_digest(self, digest: bytes) -> tuple[int, int, int]: ...


def _address(address: str) -> "ChecksumAddress":
    """`address` as web3's address type. A cast, not a conversion: ChecksumAddress is a NewType of str, and web3
    checks the value it is given itself, as it did before the annotation."""
    return cast("ChecksumAddress", address)


def _is_error(item: "ABIElement") -> "TypeGuard[ABIError]":
    return item.get("type") == "error"


def redacting_http_provider(rpc_url: str, timeout_s: float) -> Any:
    """web3's HTTPProvider for `rpc_url`, except that nothing it raises or logs names the URL's path, query or
    userinfo, where RPC providers keep the API key (observability/redaction.py): a failed request (requests'
    ConnectionError, Timeout, HTTPError, whose texts carry the URL) becomes model.RpcUnavailable with the redacted
    text and no chained cause, and its debug lines (which print the URL) are never emitted."""
    import logging

    import requests
    from web3 import HTTPProvider

    class RedactingHTTPProvider(HTTPProvider):
        logger = logging.getLogger("dmtp.web3.provider")  # HTTPProvider's debug lines name endpoint_uri

        def __str__(self) -> str:
            return f"RPC connection {redact_urls(str(self.endpoint_uri))}"

        def make_request(self, method: Any, params: Any) -> Any:
            try:
                return super().make_request(method, params)
            except requests.RequestException as exc:
                failure = RpcUnavailable(f"{method}: {type(exc).__name__}: {redact_urls(str(exc))}")
            raise failure  # outside the except block: no "During handling..." context naming the URL

    RedactingHTTPProvider.logger.setLevel(logging.INFO)
    return RedactingHTTPProvider(rpc_url, request_kwargs={"timeout": timeout_s})


class RegistryChain:
    def __init__(
        self,
        rpc_url: str,
        registry_address: str,
        chain_id: int,
        rpc_timeout_s: float = 10.0,
        l1_fee_oracle: str = L1_FEE_ORACLE_NONE,
        log_head: Callable[[int], tuple[int, bytes] | None] | None = None,
    ) -> None:
        """`log_head(keys)`, when given, returns the transparency log's (size, root) a transaction setting `keys` keys
        should anchor, or None (translog.TransparencyLog.head_to_anchor): setKeys calldata built then carries it
        (setKeysAnchored). It is read when the calldata is built, i.e. when the worker packs or re-signs."""
        from web3 import Web3

        self.log_head = log_head

        if l1_fee_oracle not in L1_FEE_ORACLES:
            raise ValueError(f"L1_FEE_ORACLE must be one of {', '.join(L1_FEE_ORACLES)}, not {l1_fee_oracle!r}")
        self.l1_fee_oracle = l1_fee_oracle

        self.w3 = Web3(redacting_http_provider(rpc_url, rpc_timeout_s))
        self.chain_id = chain_id
        self.address: str = Web3.to_checksum_address(registry_address)
        self.contract = self.w3.eth.contract(address=self.address, abi=load_artifact()["abi"])

    # ------------------------------------------------------------ reads

    def check_chain_id(self) -> None:
        actual = self.w3.eth.chain_id
        if actual != self.chain_id:
            raise RuntimeError(f"RPC serves chain {actual}, configuration says {self.chain_id}")

    def get_key(self, wallet: str) -> str:
        cid: str = self.contract.functions.getKey(wallet).call()
        return cid

    def owner(self) -> str:
        """The contract's owner: the only address whose writes it accepts."""
        owner: str = self.contract.functions.owner().call()
        return owner

    def key_of(self, wallet: str) -> tuple[bytes, bool]:
        digest, revoked = self.contract.functions.keyOf(wallet).call()
        return bytes(digest), bool(revoked)

    def head(self) -> int:
        return self.w3.eth.block_number

    def nonce(self, address: str, block: Any = "latest") -> int:
        return self.w3.eth.get_transaction_count(_address(address), block)

    def pending_nonce(self, address: str) -> int:
        return self.nonce(address, "pending")

    def mined_nonce(self, address: str) -> int:
        return self.nonce(address, "latest")

    def balance(self, address: str) -> int:
        return self.w3.eth.get_balance(_address(address))

    def market(self) -> Market:
        base_fee = self.w3.eth.get_block("latest").get("baseFeePerGas")
        if base_fee is None:
            raise RuntimeError("the chain has no base fee (pre-London); the worker sends EIP-1559 transactions only")
        return Market(base_fee=base_fee, tip=self.w3.eth.max_priority_fee)

    def l1_fee(self, unsigned_tx: bytes) -> int:
        """The L1 data fee (wei) the chain charges for a transaction whose unsigned encoding is `unsigned_tx`:
        GasPriceOracle.getL1Fee on OP-stack chains (valid from Bedrock to Isthmus), 0 on chains without one."""
        if self.l1_fee_oracle == L1_FEE_ORACLE_NONE:
            return 0
        from eth_abi import decode, encode

        call = "0x" + (_selector(GET_L1_FEE) + encode(["bytes"], [unsigned_tx])).hex()
        answer = self._raw("eth_call", [{"to": GAS_PRICE_ORACLE, "data": call}, "latest"])
        return int(decode(["uint256"], bytes.fromhex(answer.removeprefix("0x")))[0])

    def l1_fee_of(self, *, data: str, gas: int, max_fee: int, tip: int) -> int:
        """The L1 data fee of a transaction to the registry with this calldata, gas and fees (any nonce)."""
        if self.l1_fee_oracle == L1_FEE_ORACLE_NONE:
            return 0
        return self.l1_fee(
            self.unsigned(nonce=ESTIMATE_NONCE, to=self.address, data=data, gas=gas, max_fee=max_fee, tip=tip)
        )

    def unsigned(self, *, nonce: int, to: str, data: str, gas: int, max_fee: int, tip: int) -> bytes:
        """The EIP-1559 transaction's unsigned encoding: 0x02 || rlp([chainId, nonce, ..., accessList])."""
        import rlp
        from eth_account._utils.legacy_transactions import serializable_unsigned_transaction_from_dict
        from eth_account._utils.transaction_utils import transaction_rpc_to_rlp_structure
        from eth_account.typed_transactions.dynamic_fee_transaction import DynamicFeeTransaction
        from eth_account.typed_transactions.typed_transaction import TypedTransaction

        unsigned = serializable_unsigned_transaction_from_dict(self._tx_fields(nonce, to, data, gas, max_fee, tip))
        # Type 2 fields (_tx_fields) always make an EIP-1559 DynamicFeeTransaction.
        assert isinstance(unsigned, TypedTransaction) and isinstance(unsigned.transaction, DynamicFeeTransaction)
        typed = unsigned.transaction
        fields = transaction_rpc_to_rlp_structure(
            {k: v for k, v in typed.dictionary.items() if k not in ("v", "r", "s")}
        )
        serializer: type[HashableRLP] = type(typed)._unsigned_transaction_serializer
        encoded: bytes = rlp.encode(serializer.from_dict(fields))
        return bytes([typed.transaction_type]) + encoded  # what the signature's hash covers (see sign())

    def receipt(self, tx_hash: str) -> Receipt | None:
        # Raw JSON-RPC: web3's formatters checksum every address of every log (100 events per batch receipt).
        found = self._raw("eth_getTransactionReceipt", [tx_hash])
        if not found or found.get("blockNumber") is None:
            return None
        return Receipt(
            tx_hash=tx_hash,
            status=int(found["status"], 16),
            block_number=int(found["blockNumber"], 16),
            block_hash=found["blockHash"],
            gas_used=int(found["gasUsed"], 16),
            effective_gas_price=int(found.get("effectiveGasPrice") or "0x0", 16),
            log_anchor=self._log_anchor(found.get("logs") or []),
        )

    def _log_anchor(self, logs: list[dict[str, Any]]) -> tuple[int, bytes] | None:
        """(size, root) of the registry's LogAnchored event among a receipt's logs (at most one per transaction)."""
        topic = "0x" + keccak256(LOG_ANCHORED.encode()).hex()
        for entry in logs:
            if entry.get("address", "").lower() == self.address.lower() and (entry.get("topics") or [None])[0] == topic:
                data = bytes.fromhex(entry["data"].removeprefix("0x"))
                return int.from_bytes(data[:32], "big"), data[32:64]
        return None

    def anchored_log_head(self) -> tuple[int, bytes]:
        """The contract's logHead(): the latest anchored (size, root)."""
        size, root = self.contract.functions.logHead().call()
        return int(size), bytes(root)

    def _raw(self, method: str, params: list[Any]) -> Any:
        # A cast, not a conversion: RPCEndpoint is a NewType of str.
        answer = self.w3.provider.make_request(cast("RPCEndpoint", method), params)
        if "error" in answer:
            raise RuntimeError(f"{method}: {redact_urls(str(answer['error']))}")
        return answer.get("result")

    def known(self, tx_hash: str) -> bool:
        """Whether the node has this transaction, mined or in its pool."""
        return self._raw("eth_getTransactionByHash", [tx_hash]) is not None

    def block_hash(self, number: int) -> str | None:
        block = self._raw("eth_getBlockByNumber", [hex(number), False])
        return block["hash"] if block else None

    # ------------------------------------------------------------ writes

    def set_keys_data(self, jobs: list[Job], head: tuple[int, bytes] | None = None, anchor: bool = True) -> str:
        """Calldata writing every job's digest: setKey for one (cheaper alone), setKeys for several; with a log head
        (given, or read from `log_head`; never with anchor=False), setKeysAnchored, which also anchors that head
        (issue 13).

        Encoded with eth_abi directly: web3's encode_abi takes ~0.1 s for 100 keys.
        """
        from eth_abi import encode

        if not anchor:
            head = None
        elif head is None and self.log_head is not None:
            head = self.log_head(len(jobs))
        if head is not None and head[0] > 0:
            args = encode(
                ["address[]", "bytes32[]", "uint64[]", "uint64", "bytes32"],
                [
                    [j.wallet for j in jobs],
                    [digest_from_cid(j.cid) for j in jobs],
                    [j.version for j in jobs],
                    head[0],
                    head[1],
                ],
            )
            return "0x" + (_selector(SET_KEYS_ANCHORED) + args).hex()
        if len(jobs) == 1:
            job = jobs[0]
            args = encode(["address", "bytes32", "uint64"], [job.wallet, digest_from_cid(job.cid), job.version])
            return "0x" + (_selector(SET_KEY) + args).hex()
        args = encode(
            ["address[]", "bytes32[]", "uint64[]"],
            [[j.wallet for j in jobs], [digest_from_cid(j.cid) for j in jobs], [j.version for j in jobs]],
        )
        return "0x" + (_selector(SET_KEYS) + args).hex()

    def revoke_data(self, job: Job) -> str:
        from eth_abi import encode

        assert job.kind == JOB_REVOKE_KEY
        args = encode(["address", "bytes32", "uint64"], [job.wallet, digest_from_cid(job.cid), job.version])
        return "0x" + (_selector(REVOKE_KEY) + args).hex()

    def estimate(self, sender: str, data: str) -> int:
        """Gas the call needs now; WriteRefused (with the decoded error) when it reverts."""
        from web3.exceptions import ContractLogicError

        try:
            return self.w3.eth.estimate_gas(self._call_params(sender, data))
        except ContractLogicError as exc:
            raise WriteRefused(self.explain_revert(exc.data)) from exc

    def simulate(self, sender: str, data: str) -> None:
        from web3.exceptions import ContractLogicError

        try:
            self.w3.eth.call(self._call_params(sender, data))
        except ContractLogicError as exc:
            raise WriteRefused(self.explain_revert(exc.data)) from exc

    def _call_params(self, sender: str, data: str) -> "TxParams":
        from eth_typing import HexStr
        from web3.types import Wei

        return {"from": sender, "to": self.address, "data": HexStr(data), "value": Wei(0)}

    def explain_revert(self, data: Any) -> str:
        """A custom error's name and arguments, decoded with the contract ABI; the raw data otherwise."""
        from eth_abi import decode

        raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else bytes(data or b"")
        for item in self.contract.abi:
            if not _is_error(item):
                continue
            types = [argument["type"] for argument in item["inputs"]]
            if keccak256(f"{item['name']}({','.join(types)})".encode())[:4] == raw[:4]:
                values = decode(types, raw[4:]) if types else ()
                return f"{item['name']}({', '.join(_plain(value) for value in values)})"
        return f"reverted with data 0x{raw.hex()}" if raw else "reverted without data"

    def sign(
        self, signer: DigestSigner, *, nonce: int, to: str, data: str, gas: int, max_fee: int, tip: int
    ) -> SignedTx:
        """An EIP-1559 transaction, signed by the KMS key."""
        from eth_account._utils.legacy_transactions import (
            encode_transaction,
            serializable_unsigned_transaction_from_dict,
        )
        from web3 import Web3

        unsigned = serializable_unsigned_transaction_from_dict(self._tx_fields(nonce, to, data, gas, max_fee, tip))
        r, s, recovery_id = signer.sign_digest(bytes(unsigned.hash()))
        raw = encode_transaction(unsigned, vrs=(recovery_id, r, s))
        return SignedTx(raw="0x" + raw.hex(), tx_hash="0x" + Web3.keccak(raw).hex().removeprefix("0x"), nonce=nonce)

    def _tx_fields(self, nonce: int, to: str, data: str, gas: int, max_fee: int, tip: int) -> dict[str, Any]:
        from web3 import Web3

        return {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": nonce,
            "to": Web3.to_checksum_address(to),
            "value": 0,
            "data": data,
            "gas": gas,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": tip,
        }

    def send(self, raw_tx: str) -> SendResult:
        from eth_typing import HexStr
        from web3.exceptions import Web3RPCError

        try:
            self.w3.eth.send_raw_transaction(HexStr(raw_tx))
        except (Web3RPCError, ValueError) as exc:
            return SendResult(accepted=False, error=redact_urls(str(exc))[:300])
        return SendResult(accepted=True)

    def revert_reason(self, tx_hash: str, block_number: int) -> str:
        """Replays a reverted tx with eth_call on its parent block's state to read the revert data."""
        from eth_typing import HexStr
        from web3.exceptions import ContractLogicError

        tx = self.w3.eth.get_transaction(HexStr(tx_hash))
        call: TxParams = {
            "from": tx["from"],
            "to": tx["to"],
            "data": tx["input"],
            "value": tx["value"],
            "gas": tx["gas"],
        }
        try:
            self.w3.eth.call(call, block_number - 1)
        except ContractLogicError as exc:
            return self.explain_revert(exc.data)
        return "reverted, but replaying it does not (state changed earlier in its block)"

    def key_updated_events(
        self, from_block: int = 0, wallets: Iterable[str] | None = None
    ) -> list[tuple[str, bytes, int]]:
        """(wallet, digest, version) of every KeyUpdated event, oldest first (tests and the benchmark count them)."""
        logs = self.contract.events.KeyUpdated().get_logs(from_block=from_block)
        wanted = {w.lower() for w in wallets} if wallets is not None else None
        found = [(log["args"]["user"], bytes(log["args"]["digest"]), log["args"]["version"]) for log in logs]
        return [event for event in found if wanted is None or event[0].lower() in wanted]


SET_KEY = "setKey(address,bytes32,uint64)"


SET_KEYS = "setKeys(address[],bytes32[],uint64[])"


SET_KEYS_ANCHORED = "setKeysAnchored(address[],bytes32[],uint64[],uint64,bytes32)"


LOG_ANCHORED = "LogAnchored(uint64,bytes32)"


REVOKE_KEY = "revokeKey(address,bytes32,uint64)"


def _selector(signature: str) -> bytes:
    return keccak256(signature.encode())[:4]


def _plain(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    return str(value)
