"""The server's ERC-6492 path (chalicelib/api/signatures.py) on a fake node (tests/support/api_fakes.FakeEthRpc, which
models ERC-1271 wallets and refuses to run the deployless validator): a wrapped signature for a wallet that has code
is answered by the wallet's own ERC-1271 with the inner signature, and the factory call it names is never made, not
even after a no (ERC-6492's "prepare" step). tests/integration/test_erc6492.py runs the validator on Anvil."""

import os

import pytest

from chalicelib.api.signatures import SignatureVerifier
from dmtp_protocol.errors import InvalidSignature
from dmtp_protocol.ethsig import to_checksum_address
from dmtp_protocol.smart_wallets import wrap_erc6492
from tests.support.api_fakes import FakeEthRpc, Wallet

CHAIN_ID = 31337
SMART = to_checksum_address("0x" + "c0" * 20)
INITIALIZE = bytes.fromhex("c4d66de8") + bytes(12) + bytes.fromhex("ab" * 20)  # initialize(address): a "prepare" call


def wrapped(signer: Wallet, digest: bytes, factory: str = SMART, calldata: bytes = INITIALIZE) -> str:
    return "0x" + wrap_erc6492(factory, calldata, bytes.fromhex(signer.sign_digest(digest)[2:])).hex()


def test_a_wrapped_signature_of_a_wallet_with_code_is_checked_by_its_erc1271_without_the_factory_call():
    owner, digest = Wallet(), os.urandom(32)
    rpc = FakeEthRpc(block=77, contract_wallets={SMART: owner.address})

    check = SignatureVerifier(rpc, CHAIN_ID).verify(SMART, digest, wrapped(owner, digest))

    assert (check.method, check.chain_id, check.block_number, check.factory) == ("erc6492", CHAIN_ID, 77, SMART)
    assert ("eth_getCode", SMART, hex(77)) in rpc.calls and ("eth_call", SMART, hex(77)) in rpc.calls
    assert [call for call in rpc.calls if call[0] == "eth_call"] == [("eth_call", SMART, hex(77))]  # ERC-1271 only


def test_a_wrapped_signature_the_wallet_with_code_refuses_is_401_without_trying_the_factory_call():
    # FakeEthRpc.eth_call_code raises: were the deployless validator (and so the factory call) tried, this would not be 401
    stranger, digest = Wallet(), os.urandom(32)
    rpc = FakeEthRpc(contract_wallets={SMART: Wallet().address})

    with pytest.raises(InvalidSignature, match="factory call is never made on a wallet with code"):
        SignatureVerifier(rpc, CHAIN_ID).verify(SMART, digest, wrapped(stranger, digest))

    assert [call[0] for call in rpc.calls].count("eth_call") == 1


def test_a_wrapped_signature_whose_wrapping_does_not_decode_is_401_before_any_call():
    rpc = FakeEthRpc(contract_wallets={SMART: Wallet().address})
    signature = wrapped(Wallet(), os.urandom(32))
    broken = signature[:130] + "ff" + signature[132:]  # the inner signature's offset word: 2^248 and more

    with pytest.raises(InvalidSignature, match="malformed"):
        SignatureVerifier(rpc, CHAIN_ID).verify(SMART, os.urandom(32), broken)

    assert rpc.calls == []
