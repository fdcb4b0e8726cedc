"""The server's ERC-6492 path (chalicelib/api/signatures.py) on a fake node (tests/support/api_fakes.FakeEthRpc, which
models ERC-1271 wallets and refuses to run the deployless validator): a wrapped signature for a wallet that has code
is answered by the wallet's own ERC-1271 with the inner signature, and the factory call it names is never made, not
even after a no (ERC-6492's "prepare" step). tests/integration/test_erc6492.py runs the validator on Anvil.

And every contract call is bounded (issue 24): a gas limit, a timeout that is the wallet's 401 when the node itself
answers, a 503 when the node does not, and no contract signature checked on an RPC serving another chain."""

import os

import pytest

from chalicelib.api.signatures import ERC1271_GAS_LIMIT, SignatureVerifier
from dmtp_protocol.errors import DependencyUnavailable, InvalidSignature, SignatureCheckTimeout
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


# ---------------------------------------------------------------- bounded contract calls (issue 24)


def test_an_erc1271_check_runs_with_the_stated_gas_limit():
    owner, digest = Wallet(), os.urandom(32)
    rpc = FakeEthRpc(contract_wallets={SMART: owner.address})

    SignatureVerifier(rpc, CHAIN_ID).verify(SMART, digest, owner.sign_digest(digest))

    assert rpc.gas_limits == [ERC1271_GAS_LIMIT] == [500_000]


def test_a_wallet_whose_erc1271_call_outlasts_the_timeout_is_401_signature_check_timeout():
    # Given a node that answers eth_chainId, eth_blockNumber and eth_getCode, and holds the wallet's own eth_call
    owner, digest = Wallet(), os.urandom(32)
    rpc = FakeEthRpc(contract_wallets={SMART: owner.address}, slow_wallet_calls=True)

    with pytest.raises(SignatureCheckTimeout) as refused:
        SignatureVerifier(rpc, CHAIN_ID, call_timeout_s=0.5).verify(SMART, digest, owner.sign_digest(digest))

    problem = refused.value.to_problem()
    assert (problem["status"], problem["code"]) == (401, "signature-check-timeout")
    assert "within 0.5 s" in problem["detail"]


def test_an_unreachable_node_is_503_not_a_timeout_of_the_wallet():
    owner, digest = Wallet(), os.urandom(32)
    rpc = FakeEthRpc(contract_wallets={SMART: owner.address}, unreachable=True)

    with pytest.raises(DependencyUnavailable):
        SignatureVerifier(rpc, CHAIN_ID).verify(SMART, digest, owner.sign_digest(digest))


@pytest.mark.parametrize("kind", ["erc1271", "erc6492"])
def test_an_rpc_serving_another_chain_is_503_naming_the_misconfiguration_and_no_wallet_is_asked(kind):
    owner, digest = Wallet(), os.urandom(32)
    rpc = FakeEthRpc(contract_wallets={SMART: owner.address}, chain=8453)
    signature = owner.sign_digest(digest) if kind == "erc1271" else wrapped(owner, digest)

    with pytest.raises(DependencyUnavailable) as refused:
        SignatureVerifier(rpc, CHAIN_ID).verify(SMART, digest, signature)

    assert "misconfigured" in refused.value.detail and "API_RPC_URL" in refused.value.detail
    assert "serves chain 8453, not this registry's chain 31337" in refused.value.detail
    assert [call[0] for call in rpc.calls] == ["eth_chainId"]


def test_the_chain_id_is_asked_once_for_many_checks():
    owner = Wallet()
    rpc = FakeEthRpc(contract_wallets={SMART: owner.address})
    verifier = SignatureVerifier(rpc, CHAIN_ID)

    for _ in range(3):
        digest = os.urandom(32)
        verifier.verify(SMART, digest, owner.sign_digest(digest))

    assert [call[0] for call in rpc.calls].count("eth_chainId") == 1


def test_an_eoa_signature_asks_the_node_nothing_not_even_its_chain_id():
    owner, digest = Wallet(), os.urandom(32)
    rpc = FakeEthRpc(chain=1)

    assert SignatureVerifier(rpc, CHAIN_ID).verify(owner.address, digest, owner.sign_digest(digest)).method == "ecdsa"
    assert rpc.calls == []
