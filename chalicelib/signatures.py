"""Who signed: an EOA by ecrecover, or a smart-contract wallet by ERC-1271 `isValidSignature` via eth_call."""
from dataclasses import dataclass
from typing import Optional

from .errors import DependencyUnavailable, InvalidSignature
from .ethsig import BadSignature, recover_address
from .rpc import JsonRpc, RpcError, RpcUnavailable

ERC1271_MAGIC = bytes.fromhex("1626ba7e")  # isValidSignature(bytes32,bytes)


@dataclass(frozen=True)
class SignerCheck:
    method: str  # "ecdsa" or "erc1271"
    chain_id: Optional[int] = None  # for erc1271: where and when the contract said yes
    block_number: Optional[int] = None

    def as_dict(self) -> dict[str, object]:
        return {"method": self.method, "chainId": self.chain_id, "blockNumber": self.block_number}


def erc1271_calldata(digest: bytes, signature: bytes) -> bytes:
    """abi.encodeWithSelector(isValidSignature.selector, digest, signature)."""
    padded = signature + b"\0" * (-len(signature) % 32)
    return (
        ERC1271_MAGIC
        + digest
        + (64).to_bytes(32, "big")
        + len(signature).to_bytes(32, "big")
        + padded
    )


class SignatureVerifier:
    def __init__(self, rpc: Optional[JsonRpc], chain_id: int) -> None:
        self._rpc = rpc
        self._chain_id = chain_id

    def verify(self, wallet: str, digest: bytes, signature: str) -> SignerCheck:
        ecdsa_error = "signature was not made by this wallet over this message"
        if len(signature) == 132:
            try:
                if recover_address(digest, signature) == wallet:
                    return SignerCheck("ecdsa")
            except BadSignature as exc:
                ecdsa_error = str(exc)
        contract_check = self._erc1271(wallet, digest, bytes.fromhex(signature[2:]))
        if contract_check is None:
            raise InvalidSignature(ecdsa_error)
        return contract_check

    def _erc1271(self, wallet: str, digest: bytes, signature: bytes) -> Optional[SignerCheck]:
        if self._rpc is None:
            return None
        try:
            block = self._rpc.block_number()
            tag = hex(block)
            if not self._rpc.code(wallet, tag):
                return None
            try:
                answer = self._rpc.eth_call(wallet, erc1271_calldata(digest, signature), tag)
            except RpcUnavailable:
                raise
            except RpcError:  # the wallet reverted: it does not accept the signature
                answer = b""
        except RpcError as exc:
            raise DependencyUnavailable(f"could not check the wallet's code on chain: {exc}") from exc
        # The ABI-encoded bytes4: the magic value then 28 zero bytes (OpenZeppelin SignatureChecker's test). Checking
        # only 4 bytes would accept any contract whose fallback echoes its calldata, which starts with the selector.
        if answer[:32] != ERC1271_MAGIC.ljust(32, b"\0"):
            raise InvalidSignature("the smart-contract wallet does not accept this signature (ERC-1271)")
        return SignerCheck("erc1271", self._chain_id, block)
