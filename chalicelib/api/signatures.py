"""Who signed: an EOA by ecrecover, a deployed smart-contract wallet by ERC-1271 `isValidSignature` via eth_call,
or a smart wallet that is not deployed yet by ERC-6492 (its signature names the factory call that deploys it).

Invariant: the factory call a wrapped signature names runs (inside the deployless validator's eth_call) only for a
wallet with no code at the block checked. A wallet with code, a deployed account or an EOA delegated by EIP-7702, is
asked ERC-1271 with the inner signature alone: the signer chooses that call, and on code it could be an unprotected
initializer that installs the signer's own key (docs/PROTOCOL.md section 5).

Invariant: whoever signs, the chain is asked nothing before `before_chain()` (the per-source rate of checks on
chain), and a contract's code runs only in an eth_call with a gas limit and a timeout (below). The node's fault
and the wallet's are told apart: a node that cannot be reached, or answers eth_chainId, eth_blockNumber or
eth_getCode slowly or not at all, is 503 dependency-unavailable; a node that answered those just now and then
holds the wallet's own eth_call past the timeout is the wallet's code being slow: 401 signature-check-timeout.
An RPC serving another chain than CHAIN_ID is the operator's error: 503, and no contract signature is checked."""

from collections.abc import Callable

from chalicelib.api.ports import EthRpc
from chalicelib.model import RpcError, RpcTimeout, RpcUnavailable, SignerCheck
from dmtp_protocol.errors import DependencyUnavailable, InvalidSignature, SignatureCheckTimeout
from dmtp_protocol.ethsig import BadSignature, recover_address
from dmtp_protocol.smart_wallets import (
    ERC1271_MAGIC,
    erc1271_calldata,
    erc6492_answer_is_yes,
    erc6492_calldata,
    erc6492_factory,
    erc6492_inner_signature,
    is_erc6492,
)

# What one contract wallet's signature check may cost the registry, stated here only (docs/PROTOCOL.md section 5).
# ERC-1271: isValidSignature of a deployed wallet. An ECDSA owner check costs ~5-30k gas; a WebAuthn/P-256 check
# without the RIP-7212 precompile (~0.3-0.4M on chains that lack it) is the most a real wallet needs.
ERC1271_GAS_LIMIT = 500_000
# ERC-6492: the deployless validator deploys the wallet inside the call, then asks its ERC-1271: its own creation
# (~85k), the wallet's deployment (the repo's OwnedAccountFactory ~0.2M; Safe, Kernel or Coinbase Smart Wallet
# proxies with their setup ~0.3-0.4M) and ERC1271_GAS_LIMIT. The repo's test account needs 288k in all
# (tests/integration/test_erc6492.py measures it).
ERC6492_GAS_LIMIT = 1_000_000
# Seconds the node may take over one such eth_call before the check is a 401 signature-check-timeout.
CONTRACT_CALL_TIMEOUT_S = 5.0
API_RPC_SETTING = "API_RPC_URL"  # settings.py: the API's own RPC endpoint (a secret in the cloud stages)


class SignatureVerifier:
    def __init__(
        self,
        rpc: EthRpc | None,
        chain_id: int,
        erc1271_gas_limit: int = ERC1271_GAS_LIMIT,
        erc6492_gas_limit: int = ERC6492_GAS_LIMIT,
        call_timeout_s: float = CONTRACT_CALL_TIMEOUT_S,
    ) -> None:
        self._rpc = rpc
        self._chain_id = chain_id
        self._erc1271_gas_limit = erc1271_gas_limit
        self._erc6492_gas_limit = erc6492_gas_limit
        self._call_timeout_s = call_timeout_s

    def verify(
        self, wallet: str, digest: bytes, signature: str, before_chain: Callable[[], None] | None = None
    ) -> SignerCheck:
        """Who signed: ecrecover first, the chain only when that does not name the wallet; `before_chain()` (the
        per-source rate of checks on chain) is called once before the first RPC call and may refuse it."""
        before = before_chain or _nothing
        ecdsa_error = "signature was not made by this wallet over this message"
        raw = bytes.fromhex(signature[2:])
        if is_erc6492(raw):
            return self._erc6492(wallet, digest, raw, before)
        if len(raw) == 65:
            try:
                if recover_address(digest, signature) == wallet:
                    return SignerCheck("ecdsa")
            except BadSignature as exc:
                ecdsa_error = str(exc)
        contract_check = self._erc1271(wallet, digest, raw, before)
        if contract_check is None:
            raise InvalidSignature(ecdsa_error)
        return contract_check

    def _erc1271(
        self, wallet: str, digest: bytes, signature: bytes, before_chain: Callable[[], None]
    ) -> SignerCheck | None:
        if self._rpc is None:
            return None
        before_chain()
        self._require_the_configured_chain()
        try:
            block = self._rpc.block_number()
            if not self._rpc.code(wallet, hex(block)):
                return None
        except RpcError as exc:
            raise DependencyUnavailable(f"could not check the wallet's code on chain: {exc}") from exc
        if not self._accepts(wallet, digest, signature, block):
            raise InvalidSignature("the smart-contract wallet does not accept this signature (ERC-1271)")
        return SignerCheck("erc1271", self._chain_id, block)

    def _require_the_configured_chain(self) -> None:
        """DependencyUnavailable unless the RPC serves CHAIN_ID (asked once per endpoint, then kept: JsonRpc.chain_id).
        A signature checked on another chain says nothing about this one, and the mistake is the operator's."""
        assert self._rpc is not None
        try:
            served = self._rpc.chain_id()
        except RpcError as exc:
            raise DependencyUnavailable(f"could not ask the chain RPC which chain it serves: {exc}") from exc
        if served != self._chain_id:
            raise DependencyUnavailable(
                f"the registry is misconfigured: its chain RPC ({API_RPC_SETTING}) serves chain {served}, not this "
                f"registry's chain {self._chain_id}; contract wallets' signatures cannot be checked until it is fixed"
            )

    def _accepts(self, wallet: str, digest: bytes, signature: bytes, block: int) -> bool:
        """ERC-1271 `isValidSignature(digest, signature)` of `wallet` at `block`, with at most ERC1271_GAS_LIMIT gas:
        the ABI-encoded bytes4, the magic value then 28 zero bytes (OpenZeppelin SignatureChecker's test). Checking
        only 4 bytes would accept any contract whose fallback echoes its calldata, which starts with the selector. A
        revert or running out of gas is a no; no answer within the timeout is SignatureCheckTimeout (the node
        answered eth_blockNumber and eth_getCode just before: this wallet's code is what is slow)."""
        assert self._rpc is not None
        try:
            answer = self._rpc.eth_call(
                wallet,
                erc1271_calldata(digest, signature),
                hex(block),
                gas=self._erc1271_gas_limit,
                timeout_s=self._call_timeout_s,
            )
        except RpcTimeout as exc:
            raise SignatureCheckTimeout(
                f"the smart-contract wallet's ERC-1271 check did not finish within {self._call_timeout_s:g} s"
            ) from exc
        except RpcUnavailable as exc:
            raise DependencyUnavailable(f"could not check the signature on chain: {exc}") from exc
        except RpcError:  # the wallet reverted or ran out of gas: it does not accept the signature
            answer = b""
        return answer[:32] == ERC1271_MAGIC.ljust(32, b"\0")

    def _erc6492(self, wallet: str, digest: bytes, signature: bytes, before_chain: Callable[[], None]) -> SignerCheck:
        """ERC-6492 off chain, at a pinned block: a wallet with code is asked ERC-1271 with the inner signature, and
        nothing else (never the factory call, not even as ERC-6492's "prepare" step after a no); a wallet without code
        goes through the deployless universal validator (eth_call), which deploys it inside the call and then asks
        ERC-1271; nothing is written on chain. The signer picks the factory, so that call has a gas limit and a
        timeout: a factory that loops or reverts costs us at most those, and is a 401."""
        factory = erc6492_factory(signature)
        inner = erc6492_inner_signature(signature)
        if factory is None or inner is None:
            raise InvalidSignature("the ERC-6492 wrapper is malformed (abi.encode(address, bytes, bytes) ++ magic)")
        if self._rpc is None:
            raise InvalidSignature("this deployment has no chain RPC: ERC-6492 signatures cannot be checked")
        before_chain()
        self._require_the_configured_chain()
        try:
            block = self._rpc.block_number()
            deployed = bool(self._rpc.code(wallet, hex(block)))
        except RpcError as exc:
            raise DependencyUnavailable(f"could not read the chain to check the signature: {exc}") from exc
        if deployed:
            if not self._accepts(wallet, digest, inner, block):
                raise InvalidSignature(
                    "the smart wallet has code and does not accept the wrapped signature (ERC-1271; its factory call "
                    "is never made on a wallet with code)"
                )
            return SignerCheck("erc6492", self._chain_id, block, factory)
        try:
            answer = self._rpc.eth_call_code(
                erc6492_calldata(wallet, digest, signature),
                hex(block),
                self._erc6492_gas_limit,
                self._call_timeout_s,
            )
        except RpcTimeout as exc:  # the node answered eth_blockNumber just now: this call itself is too expensive
            raise SignatureCheckTimeout(
                f"ERC-6492 validation did not finish within {self._call_timeout_s:g} s"
            ) from exc
        except RpcUnavailable as exc:
            raise DependencyUnavailable(f"could not check the signature on chain: {exc}") from exc
        except RpcError:  # reverted or ran out of gas: no
            answer = b""
        if not erc6492_answer_is_yes(answer):
            raise InvalidSignature("the counterfactual smart wallet does not accept this signature (ERC-6492)")
        return SignerCheck("erc6492", self._chain_id, block, factory)


def _nothing() -> None:
    pass
