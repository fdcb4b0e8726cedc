"""Who signed: an EOA by ecrecover, a deployed smart-contract wallet by ERC-1271 `isValidSignature` via eth_call,
or a smart wallet that is not deployed yet by ERC-6492 (its signature names the factory call that deploys it)."""
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Optional

from .errors import DependencyUnavailable, InvalidSignature
from .ethsig import BadSignature, recover_address, to_checksum_address
from .rpc import JsonRpc, RpcError, RpcTimeout, RpcUnavailable

ERC1271_MAGIC = bytes.fromhex("1626ba7e")  # isValidSignature(bytes32,bytes)
ERC6492_SUFFIX = bytes.fromhex("6492" * 16)
# ERC-6492 validation runs a factory the signer chose: bound what it may cost us. 3M gas covers deploying a smart
# wallet (an ERC-1967 proxy, ~0.3M) and a WebAuthn P-256 check without the RIP-7212 precompile (~0.4M) many times
# over; the timeout bounds the node's wall-clock time for it.
ERC6492_GAS_LIMIT = 3_000_000
ERC6492_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class SignerCheck:
    method: str  # "ecdsa", "erc1271" or "erc6492"
    chain_id: Optional[int] = None  # for erc1271/erc6492: where and when the check said yes
    block_number: Optional[int] = None
    factory: Optional[str] = None  # for erc6492: the factory the wrapped signature names (EIP-55)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"method": self.method, "chainId": self.chain_id, "blockNumber": self.block_number}
        if self.method == "erc6492":
            out["factory"] = self.factory
        return out


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


# ---------------------------------------------------------------- ERC-6492


def _abi_bytes(data: bytes) -> bytes:
    return len(data).to_bytes(32, "big") + data + b"\0" * (-len(data) % 32)


def _address_word(address: str) -> bytes:
    return bytes.fromhex(address[2:]).rjust(32, b"\0")


def is_erc6492(signature: bytes) -> bool:
    """Whether a signature is ERC-6492-wrapped: it ends with the 32-byte magic suffix."""
    return len(signature) >= 32 and signature[-32:] == ERC6492_SUFFIX


def wrap_erc6492(factory: str, factory_calldata: bytes, signature: bytes) -> bytes:
    """abi.encode(address factory, bytes factoryCalldata, bytes signature) ++ magic suffix (ERC-6492)."""
    head = _address_word(factory) + (96).to_bytes(32, "big") + (96 + len(_abi_bytes(factory_calldata))).to_bytes(32, "big")
    return head + _abi_bytes(factory_calldata) + _abi_bytes(signature) + ERC6492_SUFFIX


def erc6492_factory(signature: bytes) -> Optional[str]:
    """The factory a wrapped signature names (EIP-55), or None when the wrapping is not even that well formed."""
    if not is_erc6492(signature) or len(signature) < 64 or any(signature[:12]):
        return None
    return to_checksum_address("0x" + signature[12:32].hex())


@lru_cache(maxsize=1)
def validator_bytecode() -> bytes:
    """The creation code of infra/contracts/ValidateSigOffchain.sol (compiled artifact, checked by a test)."""
    artifact = json.loads(resources.files("chalicelib.contracts").joinpath("ValidateSigOffchain.json").read_text())
    return bytes.fromhex(artifact["bytecode"].removeprefix("0x"))


def erc6492_calldata(signer: str, digest: bytes, signature: bytes) -> bytes:
    """The deployless call: creation code ++ abi.encode(address signer, bytes32 hash, bytes signature)."""
    return validator_bytecode() + _address_word(signer) + digest + (96).to_bytes(32, "big") + _abi_bytes(signature)


def erc6492_answer_is_yes(answer: bytes) -> bool:
    """The validator returns exactly one byte, 0x01 for a valid signature."""
    return answer == b"\x01"


# ---------------------------------------------------------------- the verifier


class SignatureVerifier:
    def __init__(
        self,
        rpc: Optional[JsonRpc],
        chain_id: int,
        erc6492_gas_limit: int = ERC6492_GAS_LIMIT,
        erc6492_timeout_s: float = ERC6492_TIMEOUT_S,
    ) -> None:
        self._rpc = rpc
        self._chain_id = chain_id
        self._erc6492_gas_limit = erc6492_gas_limit
        self._erc6492_timeout_s = erc6492_timeout_s

    def verify(self, wallet: str, digest: bytes, signature: str) -> SignerCheck:
        ecdsa_error = "signature was not made by this wallet over this message"
        raw = bytes.fromhex(signature[2:])
        if is_erc6492(raw):
            return self._erc6492(wallet, digest, raw)
        if len(raw) == 65:
            try:
                if recover_address(digest, signature) == wallet:
                    return SignerCheck("ecdsa")
            except BadSignature as exc:
                ecdsa_error = str(exc)
        contract_check = self._erc1271(wallet, digest, raw)
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

    def _erc6492(self, wallet: str, digest: bytes, signature: bytes) -> SignerCheck:
        """ERC-6492 as the standard prescribes off chain (and viem's verifyHash does): the deployless universal
        validator through eth_call at a pinned block. It deploys the wallet inside the call if it has no code yet,
        then asks ERC-1271; nothing is written on chain. The signer picks the factory, so the call has a gas limit
        and a timeout: a factory that loops or reverts costs us at most those, and is a 401."""
        factory = erc6492_factory(signature)
        if factory is None:
            raise InvalidSignature("the ERC-6492 wrapper is malformed (abi.encode(address, bytes, bytes) ++ magic)")
        if self._rpc is None:
            raise InvalidSignature("this deployment has no chain RPC: ERC-6492 signatures cannot be checked")
        try:
            block = self._rpc.block_number()
        except RpcError as exc:
            raise DependencyUnavailable(f"could not read the chain to check the signature: {exc}") from exc
        try:
            answer = self._rpc.eth_call_code(
                erc6492_calldata(wallet, digest, signature), hex(block), self._erc6492_gas_limit, self._erc6492_timeout_s
            )
        except RpcTimeout as exc:  # the node answered eth_blockNumber just now: this call itself is too expensive
            raise InvalidSignature(f"ERC-6492 validation did not finish within {self._erc6492_timeout_s:g} s") from exc
        except RpcUnavailable as exc:
            raise DependencyUnavailable(f"could not check the signature on chain: {exc}") from exc
        except RpcError:  # reverted or ran out of gas: no
            answer = b""
        if not erc6492_answer_is_yes(answer):
            raise InvalidSignature("the counterfactual smart wallet does not accept this signature (ERC-6492)")
        return SignerCheck("erc6492", self._chain_id, block, factory)
