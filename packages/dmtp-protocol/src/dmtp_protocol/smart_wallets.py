"""What checking a smart-contract wallet's signature sends and expects: ERC-1271 `isValidSignature` calldata,
ERC-6492 wrapping of a wallet not deployed yet and the deployless validator's call (docs/PROTOCOL.md section 5).

Pure encoding only: the server (chalicelib/api/signatures.py) and the clients make the calls themselves.
"""

from functools import lru_cache

from dmtp_protocol import contracts
from dmtp_protocol.ethsig import to_checksum_address

ERC1271_MAGIC = bytes.fromhex("1626ba7e")  # isValidSignature(bytes32,bytes)


ERC6492_SUFFIX = bytes.fromhex("6492" * 16)


# ERC-6492 validation runs a factory the signer chose: bound what it may cost. The reference clients' limit, 3M gas,
# covers a smart wallet's deployment (~0.3M) and a P-256 check without RIP-7212 (~0.4M) many times over; the
# registry's tighter limits (1M here, 500k for ERC-1271) are chalicelib/api/signatures.py's: it accepts less.
ERC6492_GAS_LIMIT = 3_000_000


def erc1271_calldata(digest: bytes, signature: bytes) -> bytes:
    """abi.encodeWithSelector(isValidSignature.selector, digest, signature)."""
    padded = signature + b"\0" * (-len(signature) % 32)
    return ERC1271_MAGIC + digest + (64).to_bytes(32, "big") + len(signature).to_bytes(32, "big") + padded


def _abi_bytes(data: bytes) -> bytes:
    return len(data).to_bytes(32, "big") + data + b"\0" * (-len(data) % 32)


def _address_word(address: str) -> bytes:
    return bytes.fromhex(address[2:]).rjust(32, b"\0")


def is_erc6492(signature: bytes) -> bool:
    """Whether a signature is ERC-6492-wrapped: it ends with the 32-byte magic suffix."""
    return len(signature) >= 32 and signature[-32:] == ERC6492_SUFFIX


def wrap_erc6492(factory: str, factory_calldata: bytes, signature: bytes) -> bytes:
    """abi.encode(address factory, bytes factoryCalldata, bytes signature) ++ magic suffix (ERC-6492)."""
    head = (
        _address_word(factory) + (96).to_bytes(32, "big") + (96 + len(_abi_bytes(factory_calldata))).to_bytes(32, "big")
    )
    return head + _abi_bytes(factory_calldata) + _abi_bytes(signature) + ERC6492_SUFFIX


def erc6492_factory(signature: bytes) -> str | None:
    """The factory a wrapped signature names (EIP-55), or None when the wrapping is not even that well formed."""
    if not is_erc6492(signature) or len(signature) < 64 or any(signature[:12]):
        return None
    return to_checksum_address("0x" + signature[12:32].hex())


def erc6492_inner_signature(signature: bytes) -> bytes | None:
    """The signature a wrapped one carries for the wallet's own ERC-1271 (the third member of abi.decode(address,
    bytes, bytes) of what precedes the suffix), or None when the wrapping does not decode: both `bytes` members must
    lie inside the wrapping (an offset word, then a length word, then that many bytes). A wallet that already has code
    is asked with this signature alone, and its factory call is never made (docs/PROTOCOL.md section 5)."""
    if erc6492_factory(signature) is None:
        return None
    body = signature[:-32]
    members = []
    for head in (32, 64):
        if len(body) < head + 32:
            return None
        offset = int.from_bytes(body[head : head + 32], "big")
        if offset + 32 > len(body):
            return None
        length = int.from_bytes(body[offset : offset + 32], "big")
        if offset + 32 + length > len(body):
            return None
        members.append(body[offset + 32 : offset + 32 + length])
    return members[1]


@lru_cache(maxsize=1)
def validator_bytecode() -> bytes:
    """The creation code of infra/contracts/ValidateSigOffchain.sol (compiled artifact, checked by a test)."""
    return bytes.fromhex(contracts.artifact(contracts.VALIDATE_SIG_OFFCHAIN)["bytecode"].removeprefix("0x"))


def erc6492_calldata(signer: str, digest: bytes, signature: bytes) -> bytes:
    """The deployless call: creation code ++ abi.encode(address signer, bytes32 hash, bytes signature)."""
    return validator_bytecode() + _address_word(signer) + digest + (96).to_bytes(32, "big") + _abi_bytes(signature)


def erc6492_answer_is_yes(answer: bytes) -> bool:
    """The validator returns exactly one byte, 0x01 for a valid signature."""
    return answer == b"\x01"
