"""Checking a lookup answer without trusting the API: `verify(answer, rpc_url)` -> VerifiedKey, or
VerificationFailed with a reason. Fail-closed: anything not proven is a failure.

What is checked, in order:

1. the CID: sha2-256 of canonical_json(answer["bundle"]) is answer["cid"], and the bundle is exactly the canonical
   `dmtp-key-bundle/2` document of the registration it describes (no extra, missing or unnormalised fields);
2. the answer's own fields (wallet, version, key type, public key) and its `proof` (chainId, registry,
   signatureType, signature, typedData, digest, personalSignText) are the ones rebuilt from the document;
3. with an RPC: the chain it serves is the document's chainId;
4. the signature: ecrecover to the wallet (EOA), else ERC-1271 `isValidSignature(digest, signature)` answering
   0x1626ba7e through eth_call (needs the RPC); an ERC-6492-wrapped signature (a smart wallet that was not deployed
   when it signed) through the deployless validator, ValidateSigOffchain, by eth_call (needs the RPC);
5. with an RPC: the DMTPKeys contract named in the document holds this CID for the wallet (`getKey`), and says
   revoked exactly when the answer does (`isRevoked`). A record that is not `confirmed` fails here unless
   `require_onchain=False` (then the contract may still hold the previous key; `onchain` says which).

Without an RPC only 1, 2 and 4 (EOA signatures) run, and `onchain` is None.

A revoked or expired key still verifies (the answer is authentic); `VerifiedKey.usable()` says whether to encrypt
to it. ERC-1271 is asked at the latest block ("does the wallet accept this signature now"), not at the block in the
answer's `signerCheck`, so a pruned node suffices.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any, Mapping, Optional

from chalicelib.cid import cid_for_bytes
from chalicelib.errors import RegistryError
from chalicelib.ethsig import BadSignature, keccak256, recover_address
from chalicelib.protocol import (
    REGISTRATION_TYPE,
    SIGNATURE_EIP191,
    canonical_json,
    parse_address,
    pinned_document,
    registration_from_document,
    registration_message,
    signed_text,
    signing_digest,
    typed_data,
)

ERC1271_MAGIC = bytes.fromhex("1626ba7e")
STATUS_CONFIRMED = "confirmed"


class VerificationFailed(Exception):
    """`code` is a stable machine-readable reason; `reason` (the message) says what did not hold."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class VerifiedKey:
    wallet: str
    key_type: str
    public_key: str
    version: int
    cid: str
    chain_id: int
    registry: str
    signature_type: str
    signer_method: str  # "ecdsa", "erc1271" or "erc6492"
    issued_at: int
    expires_at: int  # 0: never
    revoked: bool
    onchain: Optional[bool]  # None: not checked (no RPC); False: the record is not on chain yet
    status: Optional[str]  # the API's status (None for batch entries)
    signer_block: Optional[int] = None  # ERC-1271/ERC-6492: the block the check answered at
    document: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def expired(self, now: Optional[float] = None) -> bool:
        """Whether the registration's `expiresAt` has passed (0: it never expires). Not a verification failure:
        the answer is authentic, but a sender should not encrypt to an expired key."""
        import time

        return bool(self.expires_at) and self.expires_at <= (time.time() if now is None else now)

    def usable(self, now: Optional[float] = None) -> bool:
        """Authentic is not enough to encrypt to: the key must also be neither revoked nor expired
        (docs/PROTOCOL.md §11, step 5)."""
        return not self.revoked and not self.expired(now)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("document")
        out["usable"] = self.usable()
        return out


def verify(
    answer: Mapping[str, Any],
    rpc_url: Optional[str],
    *,
    wallet: Optional[str] = None,
    registry: Optional[str] = None,
    require_onchain: bool = True,
    rpc_timeout_s: float = 10.0,
) -> VerifiedKey:
    """Verify a GET /keys/{address} answer. `wallet`/`registry`: what the caller asked about and trusts; when
    given, the document must name them (otherwise a valid bundle of another wallet or registry would pass)."""
    if not isinstance(answer, Mapping):
        raise VerificationFailed("malformed-answer", "the answer is not a JSON object")
    proof = answer.get("proof")
    if not isinstance(proof, Mapping):
        raise VerificationFailed("missing-proof", "the answer has no proof object")
    return _verify(answer, proof, rpc_url, wallet, registry, require_onchain, rpc_timeout_s, answer.get("status"))


def verify_batch_entry(
    entry: Mapping[str, Any],
    rpc_url: Optional[str],
    *,
    wallet: Optional[str] = None,
    registry: Optional[str] = None,
    require_onchain: bool = True,
    rpc_timeout_s: float = 10.0,
) -> VerifiedKey:
    """Verify one POST /batch-lookup result (`bundle` + `cid`, no proof: everything is rebuilt from the
    document). Entries carry no status: with an RPC the contract must hold the CID unless `require_onchain=False`."""
    if not isinstance(entry, Mapping):
        raise VerificationFailed("malformed-answer", "the entry is not a JSON object")
    if entry.get("found") is not True:
        raise VerificationFailed("not-found", f"the registry has no key for {entry.get('address')}")
    if wallet is None and "address" in entry:
        wallet = entry["address"]  # the entry must be about the address it is listed under
    return _verify(entry, None, rpc_url, wallet, registry, require_onchain, rpc_timeout_s, None)


# ---------------------------------------------------------------- the steps


def _verify(
    answer: Mapping[str, Any],
    proof: Optional[Mapping[str, Any]],
    rpc_url: Optional[str],
    wallet: Optional[str],
    registry: Optional[str],
    require_onchain: bool,
    rpc_timeout_s: float,
    status: Optional[str],
) -> VerifiedKey:
    document = answer.get("bundle")
    cid = answer.get("cid")
    if not isinstance(document, dict) or not isinstance(cid, str):
        raise VerificationFailed("malformed-answer", "the answer needs a bundle object and a cid string")

    # 1. content address, and the document is the canonical one
    if cid_for_bytes(canonical_json(document)) != cid:
        raise VerificationFailed("cid-mismatch", f"the bundle's canonical bytes do not hash to {cid}")
    try:
        registration, domain = registration_from_document(document)
    except (RegistryError, KeyError, TypeError, ValueError) as exc:
        raise VerificationFailed("malformed-document", f"the bundle is not a valid key document: {_detail(exc)}") from exc
    if pinned_document(registration, domain) != canonical_json(document):
        raise VerificationFailed("non-canonical-document", "the bundle has fields beyond, or in another form than, the protocol's")

    # 2. the answer says what the document says, and is about what the caller asked
    if wallet is not None and _address(wallet, "wallet") != registration.wallet:
        raise VerificationFailed("wallet-mismatch", f"the document is for {registration.wallet}, not {wallet}")
    if registry is not None and _address(registry, "registry") != domain.registry:
        raise VerificationFailed("registry-mismatch", f"the document is signed for registry {domain.registry}, not {registry}")
    _check_answer_fields(answer, registration)
    message = registration_message(registration)
    digest = signing_digest(REGISTRATION_TYPE, message, domain, registration.signature_type)
    if proof is not None:
        _check_proof(proof, registration, domain, message, digest)

    rpc = None
    if rpc_url:
        from chalicelib.rpc import JsonRpc

        rpc = JsonRpc(rpc_url, timeout_s=rpc_timeout_s)
        # 3. the RPC serves the chain the wallet signed for
        served = _rpc(lambda: rpc.chain_id(), "eth_chainId")
        if served != domain.chain_id:
            raise VerificationFailed("chain-mismatch", f"the RPC serves chain {served}; the document is for chain {domain.chain_id}")

    # 4. the wallet signed it
    signer_method, signer_block = _check_signature(rpc, registration.wallet, digest, registration.signature)

    # 5. the contract agrees
    revoked = answer.get("revoked")
    if not isinstance(revoked, bool):
        raise VerificationFailed("malformed-answer", "the answer has no boolean 'revoked'")
    onchain: Optional[bool] = None
    if rpc is not None:
        onchain = _check_contract(rpc, answer, domain.registry, registration.wallet, cid, revoked, status, require_onchain)

    return VerifiedKey(
        wallet=registration.wallet,
        key_type=registration.key_type,
        public_key=registration.public_key,
        version=registration.version,
        cid=cid,
        chain_id=domain.chain_id,
        registry=domain.registry,
        signature_type=registration.signature_type,
        signer_method=signer_method,
        signer_block=signer_block,
        issued_at=registration.issued_at,
        expires_at=registration.expires_at,
        revoked=revoked,
        onchain=onchain,
        status=status,
        document=dict(document),
    )


def _check_answer_fields(answer: Mapping[str, Any], registration: Any) -> None:
    expected = {
        "wallet": registration.wallet,
        "address": registration.wallet,
        "version": registration.version,
        "keyType": registration.key_type,
        "DMTPpubKey": registration.public_key,
    }
    for name, value in expected.items():
        if name in answer and answer[name] != value:
            raise VerificationFailed("answer-mismatch", f"the answer's {name} ({answer[name]!r}) is not the document's ({value!r})")


def _check_proof(proof: Mapping[str, Any], registration: Any, domain: Any, message: dict[str, Any], digest: bytes) -> None:
    expected: dict[str, Any] = {
        "chainId": domain.chain_id,
        "registry": domain.registry,
        "signatureType": registration.signature_type,
        "signature": registration.signature,
        "typedData": typed_data(REGISTRATION_TYPE, message, domain),
        "digest": "0x" + digest.hex(),
    }
    if registration.signature_type == SIGNATURE_EIP191:
        expected["personalSignText"] = signed_text(REGISTRATION_TYPE, message, domain)
    for name, value in expected.items():
        if name not in proof:
            raise VerificationFailed("proof-mismatch", f"the proof has no {name}")
        if json.dumps(proof[name], sort_keys=True) != json.dumps(value, sort_keys=True):
            raise VerificationFailed("proof-mismatch", f"the proof's {name} is not the one rebuilt from the document")


def _check_signature(rpc: Any, wallet: str, digest: bytes, signature: str) -> tuple[str, Optional[int]]:
    from chalicelib.signatures import ERC6492_GAS_LIMIT, erc6492_answer_is_yes, erc6492_calldata, is_erc6492

    raw = bytes.fromhex(signature[2:])
    if is_erc6492(raw):
        if rpc is None:
            raise VerificationFailed("bad-signature", "an ERC-6492 signature (a counterfactual smart wallet) needs an RPC to check")
        block = _rpc(lambda: rpc.block_number(), "eth_blockNumber")
        from chalicelib.rpc import RpcError, RpcUnavailable

        try:
            answer = rpc.eth_call_code(erc6492_calldata(wallet, digest, raw), hex(block), ERC6492_GAS_LIMIT, rpc.timeout_s)
        except RpcUnavailable as exc:
            raise VerificationFailed("rpc-unavailable", f"ERC-6492 validation: {exc}") from exc
        except RpcError:  # reverted or out of gas: no
            answer = b""
        if not erc6492_answer_is_yes(answer):
            raise VerificationFailed("bad-signature", "the smart wallet does not accept the signature (ERC-6492)")
        return "erc6492", block
    ecdsa_problem = "the signature does not recover to the wallet"
    if len(signature) == 132:
        try:
            if recover_address(digest, signature) == wallet:
                return "ecdsa", None
        except BadSignature as exc:
            ecdsa_problem = f"the signature is not a valid EOA signature ({exc})"
    if rpc is None:
        raise VerificationFailed(
            "bad-signature", f"{ecdsa_problem}, and without an RPC an ERC-1271 smart-contract wallet cannot be asked"
        )
    from chalicelib.rpc import RpcError, RpcUnavailable
    from chalicelib.signatures import erc1271_calldata

    block = _rpc(lambda: rpc.block_number(), "eth_blockNumber")
    code = _rpc(lambda: rpc.code(wallet, hex(block)), "eth_getCode")
    if not code:
        raise VerificationFailed("bad-signature", f"{ecdsa_problem}, and the wallet has no contract code for ERC-1271")
    try:
        returned = rpc.eth_call(wallet, erc1271_calldata(digest, bytes.fromhex(signature[2:])), hex(block))
    except RpcUnavailable as exc:
        raise VerificationFailed("rpc-unavailable", str(exc)) from exc
    except RpcError:  # the wallet reverted: a refusal
        returned = b""
    if returned[:32] != ERC1271_MAGIC.ljust(32, b"\0"):
        raise VerificationFailed("bad-signature", "the smart-contract wallet does not accept the signature (ERC-1271)")
    return "erc1271", block


def _check_contract(
    rpc: Any,
    answer: Mapping[str, Any],
    registry: str,
    wallet: str,
    cid: str,
    revoked: bool,
    status: Optional[str],
    require_onchain: bool,
) -> bool:
    contract = _Contract(rpc, registry)
    if status is not None and status != STATUS_CONFIRMED and require_onchain:
        raise VerificationFailed(
            "not-confirmed", f"the record's status is {status!r}, not confirmed: the contract cannot vouch for it yet"
        )
    onchain_cid = contract.call("getKey", wallet)
    if onchain_cid != cid:
        if require_onchain or status == STATUS_CONFIRMED:
            if onchain_cid == "":
                raise VerificationFailed("not-onchain", f"the contract {registry} holds no key for {wallet}")
            raise VerificationFailed("contract-mismatch", f"the contract holds {onchain_cid} for {wallet}, the API {cid}")
        return False  # pending, and the caller accepts that
    onchain_revoked = contract.call("isRevoked", wallet)
    if onchain_revoked != revoked:
        if onchain_revoked:
            raise VerificationFailed("revocation-mismatch", "the contract says this key is revoked; the API says it is not")
        revocation = answer.get("revocation") or {}
        if revocation.get("status") == STATUS_CONFIRMED or require_onchain:
            raise VerificationFailed(
                "revocation-mismatch",
                f"the API says this key is revoked (revocation {revocation.get('status', 'with no status')}); the contract says it is not",
            )
    return True


class _Contract:
    """eth_call of DMTPKeys view functions, with the ABI from chalicelib/contracts/DMTPKeys.json."""

    _abi: Optional[list[dict[str, Any]]] = None

    def __init__(self, rpc: Any, address: str) -> None:
        self._rpc = rpc
        self._address = address
        if _Contract._abi is None:
            artifact = resources.files("chalicelib.contracts").joinpath("DMTPKeys.json").read_text()
            _Contract._abi = json.loads(artifact)["abi"]

    def call(self, name: str, *args: Any) -> Any:
        from eth_abi import decode, encode

        entry = next((e for e in self._abi or [] if e.get("type") == "function" and e.get("name") == name), None)
        if entry is None:
            raise VerificationFailed("abi-mismatch", f"the DMTPKeys ABI has no function {name}")
        inputs = [i["type"] for i in entry["inputs"]]
        outputs = [o["type"] for o in entry["outputs"]]
        selector = keccak256(f"{name}({','.join(inputs)})".encode())[:4]
        data = selector + encode(inputs, list(args))
        raw = _rpc(lambda: self._rpc.eth_call(self._address, data), f"{name} on {self._address}")
        try:
            values = decode(outputs, raw)
        except Exception as exc:  # eth_abi raises several kinds; empty return data means no contract there
            raise VerificationFailed(
                "contract-unreadable", f"{name} on {self._address} did not answer as DMTPKeys ({len(raw)} bytes)"
            ) from exc
        return values[0] if len(values) == 1 else values


def _rpc(call: Any, what: str) -> Any:
    from chalicelib.rpc import RpcError, RpcUnavailable

    try:
        return call()
    except RpcUnavailable as exc:
        raise VerificationFailed("rpc-unavailable", f"{what}: {exc}") from exc
    except RpcError as exc:
        raise VerificationFailed("rpc-error", f"{what}: {exc}") from exc


def _address(value: str, name: str) -> str:
    try:
        return parse_address(value)
    except RegistryError as exc:
        raise VerificationFailed("malformed-request", f"{name} is not an address: {exc.detail}") from exc


def _detail(exc: Exception) -> str:
    return exc.detail if isinstance(exc, RegistryError) else f"{type(exc).__name__}: {exc}"
