"""ERC-6492: smart wallets that sign before they are deployed (Coinbase Smart Wallet with passkeys on Base does).

Real parts: the session's stack (API on moto, Anvil with DMTPKeys, the KMS-signed worker) and a smart-account
factory compiled here with solc-js (tests/support/contracts/SmartAccounts.sol: an ERC-4337-style account owned by an EOA,
deployed with CREATE2 by `createAccount(owner, salt)`). The registry checks a wrapped signature with the deployless
validator (infra/contracts/ValidateSigOffchain.sol) through eth_call at a pinned block.

The last tests take the other new wallet-facing forms through the same stack: the passphrase envelope (what such a
wallet seals its key in), the signature-derived envelope bound to its registration, and uncompressed secp256k1 keys.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode

from chalicelib.adapters.rpc import JsonRpc, RpcError
from chalicelib.api.signatures import ERC6492_GAS_LIMIT, SignatureVerifier
from devstack.anvil import DEV_ACCOUNTS
from dmtp_key_registry_client.registry_client import build_registration, wallet_address
from dmtp_key_registry_client.verify import VerificationFailed, read_log_head, verify
from dmtp_protocol.errors import InvalidSignature, SignatureCheckTimeout
from dmtp_protocol.ethsig import keccak256, to_checksum_address
from dmtp_protocol.messages import (
    REGISTRATION_TYPE,
    Domain,
    parse_registration,
    pinned_document,
    registration_message,
    signing_digest,
)
from dmtp_protocol.smart_wallets import ERC6492_SUFFIX, erc6492_factory, is_erc6492, wrap_erc6492
from tests.conftest import CHAIN_ID
from tests.integration.test_client_verify import ApiLog, drain_queue, refit

REPO_ROOT = Path(__file__).resolve().parents[2]
JSON = {"Content-Type": "application/json"}


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def compiled() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (REPO_ROOT / "node_modules" / "solc").is_dir():
        pytest.skip("needs node and `npm ci` (solc)")
    request = {
        "path": "tests/support/contracts/SmartAccounts.sol",
        "contracts": ["OwnedAccount", "OwnedAccountFactory", "GasBurnerFactory"],
    }
    done = subprocess.run(
        [node, "tests/support/js/compile_solidity.js"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def send(stack, to: str | None, data: bytes | str) -> dict[str, Any]:
    tx: dict[str, Any] = {"from": DEV_ACCOUNTS[2][0], "data": data if isinstance(data, str) else "0x" + data.hex()}
    if to is not None:
        tx["to"] = to
    tx_hash = stack.anvil.rpc("eth_sendTransaction", [tx])
    deadline = time.monotonic() + 15
    receipt = stack.anvil.rpc("eth_getTransactionReceipt", [tx_hash])
    while receipt is None and time.monotonic() < deadline:
        time.sleep(0.05)
        receipt = stack.anvil.rpc("eth_getTransactionReceipt", [tx_hash])
    assert receipt is not None and int(receipt["status"], 16) == 1
    return receipt


@pytest.fixture(scope="module")
def factory(stack, compiled) -> str:
    return to_checksum_address(send(stack, None, compiled["OwnedAccountFactory"]["bytecode"])["contractAddress"])


@pytest.fixture(scope="module")
def burner(stack, compiled) -> str:
    return to_checksum_address(send(stack, None, compiled["GasBurnerFactory"]["bytecode"])["contractAddress"])


def selector(signature: str) -> bytes:
    return keccak256(signature.encode())[:4]


def create_account_calldata(owner: str, salt: int) -> bytes:
    return selector("createAccount(address,uint256)") + encode(["address", "uint256"], [owner, salt])


def counterfactual_address(stack, factory: str, owner: str, salt: int) -> str:
    data = selector("getAddress(address,uint256)") + encode(["address", "uint256"], [owner, salt])
    answer = stack.anvil.rpc("eth_call", [{"to": factory, "data": "0x" + data.hex()}, "latest"])
    return to_checksum_address("0x" + answer[-40:])


def code_at(stack, address: str) -> str:
    return stack.anvil.rpc("eth_getCode", [address, "latest"])


def wrapped_registration(
    stack, signer_key: str, wallet: str, factory: str, calldata: bytes, **options: Any
) -> dict[str, Any]:
    """A registration for `wallet` signed by `signer_key` (its owner, or not), the signature ERC-6492-wrapped
    with the factory call that deploys the wallet: what Coinbase Smart Wallet returns before its deployment."""
    body, _ = build_registration(signer_key, CHAIN_ID, stack.registry_address, wallet=wallet, **options)
    body["Signature"] = "0x" + wrap_erc6492(factory, calldata, bytes.fromhex(body["Signature"][2:])).hex()
    return body


def post(api, body: Any):
    return api.http.post("/keys", headers=JSON, body=json.dumps(body))


# ---------------------------------------------------------------- the wrapping itself


def test_the_wrapping_is_abi_encode_of_factory_calldata_and_signature_then_the_magic_suffix():
    factory, calldata, inner = "0x" + "ab" * 20, secrets.token_bytes(67), secrets.token_bytes(65)
    wrapped = wrap_erc6492(factory, calldata, inner)
    assert wrapped == encode(["address", "bytes", "bytes"], [factory, calldata, inner]) + ERC6492_SUFFIX
    assert ERC6492_SUFFIX.hex() == "6492" * 16
    assert is_erc6492(wrapped) and not is_erc6492(inner)
    assert erc6492_factory(wrapped) == to_checksum_address(factory)


def test_the_committed_validator_artifact_matches_a_fresh_compile():
    node = shutil.which("node")
    if node is None or not (REPO_ROOT / "node_modules" / "solc").is_dir():
        pytest.skip("needs node and `npm ci` (solc)")
    fresh = subprocess.run(
        [node, "infra/compile_contract.js", "ValidateSigOffchain", "--stdout"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert fresh.returncode == 0, fresh.stderr
    committed = (
        REPO_ROOT / "packages" / "dmtp-protocol" / "src" / "dmtp_protocol" / "contracts" / "ValidateSigOffchain.json"
    ).read_text()
    assert json.loads(fresh.stdout) == json.loads(committed)
    source = (REPO_ROOT / "infra" / "contracts" / "ValidateSigOffchain.sol").read_bytes()
    assert json.loads(committed)["sourceSha256"] == hashlib.sha256(source).hexdigest()


# ---------------------------------------------------------------- registering through the API


def test_an_undeployed_smart_wallet_registers_and_after_deployment_registers_its_next_version(api, stack, factory):
    owner_key = "0x" + secrets.token_hex(32)
    owner, salt = wallet_address(owner_key), secrets.randbits(64)
    account = counterfactual_address(stack, factory, owner, salt)
    calldata = create_account_calldata(owner, salt)
    assert code_at(stack, account) == "0x"

    # Given a wallet that does not exist yet, when it registers with a wrapped signature, then it is accepted
    first = post(api, wrapped_registration(stack, owner_key, account, factory, calldata))
    assert first.status_code == 202, first.body
    check = json.loads(first.body)["signerCheck"]
    assert (check["method"], check["chainId"], check["factory"]) == ("erc6492", CHAIN_ID, factory)
    assert isinstance(check["blockNumber"], int)
    assert code_at(stack, account) == "0x"  # the check deployed it only inside eth_call

    drain_queue(stack)
    answer = json.loads(api.http.get(f"/keys/{account}").body)
    assert answer["status"] == "confirmed", answer
    key = verify(
        answer, stack.anvil.url, wallet=account, chain_id=CHAIN_ID, registry=stack.registry_address, log=ApiLog(api)
    )
    assert (key.signer_method, key.onchain) == ("erc6492", True)

    # When the wallet is then deployed, its next versions register: a plain ERC-1271 signature, and a still-wrapped one
    send(stack, factory, calldata)
    assert code_at(stack, account) != "0x"
    second, _ = build_registration(
        owner_key, CHAIN_ID, stack.registry_address, version=2, wallet=account, signature_type="eip191"
    )
    response = post(api, second)
    assert response.status_code == 202, response.body
    assert json.loads(response.body)["signerCheck"]["method"] == "erc1271"
    third = post(api, wrapped_registration(stack, owner_key, account, factory, calldata, version=3))
    assert third.status_code == 202, third.body
    assert json.loads(third.body)["signerCheck"]["method"] == "erc6492"
    # and the first registration, checked again now that the wallet exists, still verifies
    assert (
        verify(
            answer, stack.anvil.url, wallet=account, chain_id=CHAIN_ID, registry=stack.registry_address, log=ApiLog(api)
        ).signer_method
        == "erc6492"
    )


def test_a_wrapped_signature_by_a_key_that_does_not_own_the_account_is_refused(api, stack, factory):
    owner = wallet_address("0x" + secrets.token_hex(32))
    salt = secrets.randbits(64)
    account = counterfactual_address(stack, factory, owner, salt)

    body = wrapped_registration(
        stack, "0x" + secrets.token_hex(32), account, factory, create_account_calldata(owner, salt)
    )
    response = post(api, body)
    assert (response.status_code, json.loads(response.body)["code"]) == (401, "invalid-signature")


def test_a_factory_call_that_deploys_an_account_with_another_owner_is_refused(api, stack, factory):
    victim, salt = wallet_address("0x" + secrets.token_hex(32)), secrets.randbits(64)
    account = counterfactual_address(stack, factory, victim, salt)
    attacker_key = "0x" + secrets.token_hex(32)

    # the attacker's factory call deploys an account they own, elsewhere: the claimed wallet stays empty
    body = wrapped_registration(
        stack, attacker_key, account, factory, create_account_calldata(wallet_address(attacker_key), salt)
    )
    response = post(api, body)
    assert (response.status_code, json.loads(response.body)["code"]) == (401, "invalid-signature")
    assert "ERC-6492" in json.loads(response.body)["detail"]


def test_the_deployless_validation_of_the_repos_account_fits_the_gas_limit_three_times_over(stack, factory):
    """The figure chalicelib/api/signatures.py states: the least gas with which the validator says yes for a
    counterfactual OwnedAccount (its own creation, the factory's CREATE2 deployment, then ERC-1271) is ~288k; the
    1,000,000 limit leaves room for real wallets' deployments (~0.3-0.4M) and a 500,000 ERC-1271 check."""
    from dmtp_protocol.smart_wallets import erc6492_calldata

    owner_key = "0x" + secrets.token_hex(32)
    owner, salt = wallet_address(owner_key), secrets.randbits(64)
    account = counterfactual_address(stack, factory, owner, salt)
    body = wrapped_registration(stack, owner_key, account, factory, create_account_calldata(owner, salt))
    registration = parse_registration(body)
    digest = signing_digest(
        REGISTRATION_TYPE, registration_message(registration), Domain(CHAIN_ID, stack.registry_address), "eip712"
    )
    data = "0x" + erc6492_calldata(account, digest, bytes.fromhex(body["Signature"][2:])).hex()

    def says_yes(gas: int) -> bool:
        try:
            return bool(stack.anvil.rpc("eth_call", [{"data": data, "gas": hex(gas)}, "latest"]) == "0x01")
        except Exception:  # out of gas, as a JSON-RPC error
            return False

    assert says_yes(ERC6492_GAS_LIMIT)
    low, high = 21_000, ERC6492_GAS_LIMIT  # says_yes(low) is False, says_yes(high) True
    while high - low > 1_000:
        middle = (low + high) // 2
        low, high = (low, middle) if says_yes(middle) else (middle, high)

    assert 250_000 < high < 330_000, high
    assert 3 * high < ERC6492_GAS_LIMIT


def test_a_factory_that_burns_gas_is_stopped_by_the_gas_limit_and_refused(api, stack, burner):
    owner_key = "0x" + secrets.token_hex(32)
    wallet = wallet_address("0x" + secrets.token_hex(32))  # no code: the validator calls the factory
    calldata = create_account_calldata(wallet_address(owner_key), 1)

    body = wrapped_registration(stack, owner_key, wallet, burner, calldata)
    response = post(api, body)
    assert (response.status_code, json.loads(response.body)["code"]) == (401, "invalid-signature")

    # the factory loops until the gas runs out: only our gas limit stops it, and the validator then answers no
    from dmtp_protocol.smart_wallets import erc6492_calldata

    rpc = JsonRpc(stack.anvil.url)
    with pytest.raises(RpcError) as excinfo:
        rpc.call("eth_call", [{"to": burner, "data": "0x" + calldata.hex(), "gas": hex(ERC6492_GAS_LIMIT)}, "latest"])
    assert "oog" in str(excinfo.value).lower() or "out of gas" in str(excinfo.value).lower()  # e.g. ReentrancySentryOOG
    signature = bytes.fromhex(body["Signature"][2:])
    assert (
        rpc.eth_call_code(erc6492_calldata(wallet, secrets.token_bytes(32), signature), "latest", ERC6492_GAS_LIMIT, 10)
        == b"\x00"
    )


# ---------------------------------------------------------------- a wallet that has code: never the factory call


@pytest.fixture(scope="module")
def open_initializer(stack) -> dict[str, Any]:
    """tests/support/contracts/OpenInitializerAccount.sol compiled, and deployed once as an EIP-7702 delegate."""
    node = shutil.which("node")
    if node is None or not (REPO_ROOT / "node_modules" / "solc").is_dir():
        pytest.skip("needs node and `npm ci` (solc)")
    request = {"path": "tests/support/contracts/OpenInitializerAccount.sol", "contracts": ["OpenInitializerAccount"]}
    done = subprocess.run(
        [node, "tests/support/js/compile_solidity.js"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    bytecode = json.loads(done.stdout)["OpenInitializerAccount"]["bytecode"]
    return {"bytecode": bytecode, "delegate": to_checksum_address(send(stack, None, bytecode)["contractAddress"])}


def wallet_with_open_initializer(stack, open_initializer: dict[str, Any], kind: str) -> str:
    """A wallet that has code and no owner yet, whose `initialize(owner)` anyone may call first."""
    if kind == "eip7702-delegated-eoa":
        # an EOA delegated to the account code (what its EIP-7702 authorization installs: 0xef0100 || delegate);
        # its own storage is empty, so the delegate's owner slot is unset
        eoa = wallet_address("0x" + secrets.token_hex(32))
        assert stack.anvil.rpc("anvil_setCode", [eoa, "0xef0100" + open_initializer["delegate"][2:].lower()]) is None
        return eoa
    return to_checksum_address(send(stack, None, open_initializer["bytecode"])["contractAddress"])  # a proxy left open


def js_verify(request: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (REPO_ROOT / "clients" / "js" / "node_modules" / "@noble" / "curves").is_dir():
        pytest.skip("needs node and `npm ci --prefix clients/js`")
    done = subprocess.run(
        [node, "clients/js/test/interop-cli.js"],
        input=json.dumps({"op": "verify", **request}),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("kind", ["eip7702-delegated-eoa", "account-with-open-initializer"])
def test_a_wrapped_signature_whose_factory_call_would_take_over_a_wallet_with_code_is_refused(
    api, stack, open_initializer, kind
):
    # Given a wallet with code whose unprotected initializer would accept anyone's key
    victim = wallet_with_open_initializer(stack, open_initializer, kind)
    assert code_at(stack, victim) != "0x"
    # When an attacker registers a key for it, wrapping their own signature with a "factory call" that initializes
    # the wallet with their key (ERC-6492's prepare step would run it, then ask ERC-1271 again: yes, inside eth_call)
    attacker_key = "0x" + secrets.token_hex(32)
    take_over = selector("initialize(address)") + encode(["address"], [wallet_address(attacker_key)])
    body = wrapped_registration(stack, attacker_key, victim, victim, take_over)

    # Then the registry refuses it
    response = post(api, body)
    assert (response.status_code, json.loads(response.body).get("code")) == (401, "invalid-signature"), response.body
    # and so does the deployless validator itself (the server's path asks the wallet's ERC-1271 before it)
    from dmtp_protocol.smart_wallets import erc6492_calldata

    registration = parse_registration(body)
    digest = signing_digest(
        REGISTRATION_TYPE, registration_message(registration), Domain(CHAIN_ID, stack.registry_address), "eip712"
    )
    signature = bytes.fromhex(body["Signature"][2:])
    validator = JsonRpc(stack.anvil.url).eth_call_code(
        erc6492_calldata(victim, digest, signature), "latest", ERC6492_GAS_LIMIT, 10
    )
    assert validator == b"\x00"
    # and both clients, given the document as a registry that stored it would serve it
    document = json.loads(pinned_document(registration, Domain(CHAIN_ID, stack.registry_address)))
    served = refit({"bundle": document, "revoked": False, "status": "confirmed"})
    with pytest.raises(VerificationFailed) as refused:
        verify(served, stack.anvil.url, wallet=victim, chain_id=CHAIN_ID, registry=stack.registry_address)
    assert refused.value.code == "bad-signature", refused.value
    answer = js_verify(
        {
            "answer": served,
            "rpcUrl": stack.anvil.url,
            "wallet": victim,
            "chainId": CHAIN_ID,
            "registry": stack.registry_address,
        }
    )
    assert (answer["usable"], answer["reason"], answer["checks"]["signature"]) == (False, "bad-signature", False), (
        answer
    )
    assert code_at(stack, victim) != "0x"  # nothing was written: every check ran inside eth_call


def test_without_a_chain_rpc_a_wrapped_signature_is_refused_not_an_error():
    wrapped = wrap_erc6492("0x" + "11" * 20, b"\x01", secrets.token_bytes(65))
    with pytest.raises(InvalidSignature):
        SignatureVerifier(None, CHAIN_ID).verify("0x" + "22" * 20, secrets.token_bytes(32), "0x" + wrapped.hex())


# ---------------------------------------------------------------- a node that stalls: bounded time (a fake node)


class _StallingNode(BaseHTTPRequestHandler):
    """Answers eth_chainId (the test chain's), eth_blockNumber and eth_getCode (no code: the validator, not ERC-1271,
    is asked) at once and holds every eth_call for `stall_s`: a validation that takes too long."""

    stall_s = 1.5

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if request["method"] == "eth_call":
            time.sleep(self.stall_s)
        result = {"eth_getCode": "0x", "eth_chainId": hex(CHAIN_ID)}.get(request["method"], "0x10")
        body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting, as it should
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def stalling_node() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StallingNode)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_validation_that_outlasts_the_timeout_is_refused_as_a_signature_check_timeout(stalling_node):
    verifier = SignatureVerifier(JsonRpc(stalling_node), CHAIN_ID, call_timeout_s=0.2)
    wrapped = wrap_erc6492("0x" + "11" * 20, b"\x01", secrets.token_bytes(65))

    with pytest.raises(SignatureCheckTimeout, match=r"did not finish within 0\.2 s"):
        verifier.verify("0x" + "22" * 20, secrets.token_bytes(32), "0x" + wrapped.hex())


# ---------------------------------------------------------------- the wallets' keys, end to end on the stack


def confirmed_answer(api, stack, wallet: str) -> dict[str, Any]:
    drain_queue(stack)
    answer = json.loads(api.http.get(f"/keys/{wallet}").body)
    assert answer["status"] == "confirmed", answer
    return answer


def test_an_undeployed_smart_wallet_keeps_its_key_in_a_passphrase_envelope(api, stack, factory):
    from dmtp_key_registry_client.registry_client import open_private_key

    owner_key, passphrase = "0x" + secrets.token_hex(32), "passkeys cannot seal " + secrets.token_hex(4)
    owner, salt = wallet_address(owner_key), secrets.randbits(64)
    account = counterfactual_address(stack, factory, owner, salt)
    body = wrapped_registration(
        stack,
        owner_key,
        account,
        factory,
        create_account_calldata(owner, salt),
        envelope="dmtp-scrypt-aes256gcm-v1",
        passphrase=passphrase,
    )
    assert post(api, body).status_code == 202

    answer = confirmed_answer(api, stack, account)
    assert answer["bundle"]["DMTPpriKey"]["version"] == "dmtp-scrypt-aes256gcm-v1"
    assert open_private_key(answer, passphrase=passphrase) == open_private_key(body, passphrase=passphrase)
    with pytest.raises(ValueError, match="decryption failed"):
        open_private_key(answer, passphrase=passphrase + "x")


def test_the_signature_derived_envelope_opens_for_its_registration_and_not_with_a_signature_for_another_chain(
    api, stack
):
    from dmtp_key_registry_client import wallet_envelope
    from dmtp_key_registry_client.registry_client import open_private_key

    wallet_key = "0x" + secrets.token_hex(32)
    body, dmtp = build_registration(
        wallet_key, CHAIN_ID, stack.registry_address, envelope="dmtp-eip191-aes256gcm-hkdf-v1"
    )
    assert post(api, body).status_code == 202
    answer = confirmed_answer(api, stack, body["address"])
    envelope = answer["bundle"]["DMTPpriKey"]

    assert open_private_key(answer, wallet_key) == dmtp.private_key_hex  # chain id, registry, wallet from the document
    for other in ({"chain_id": CHAIN_ID + 1}, {"chain_id": 1}):
        with pytest.raises(ValueError, match="decryption failed"):
            wallet_envelope.decrypt(
                envelope,
                wallet_key,
                **{"chain_id": CHAIN_ID, "registry": stack.registry_address, "wallet": body["address"], **other},
            )


def test_an_uncompressed_secp256k1_key_registers_confirms_and_verifies_as_signed(api, stack):
    from dmtp_key_registry_client.keys import DmtpKeyPair
    from dmtp_key_registry_client.registry_client import open_private_key

    wallet_key = "0x" + secrets.token_hex(32)
    dmtp = DmtpKeyPair.generate("secp256k1", compressed=False)
    body, _ = build_registration(wallet_key, CHAIN_ID, stack.registry_address, dmtp=dmtp, key_type="secp256k1")
    response = post(api, body)
    assert response.status_code == 202, response.body
    assert json.loads(response.body)["DMTPpubKey"] == dmtp.public_key_hex and len(dmtp.public_key_bytes) == 65

    answer = confirmed_answer(api, stack, body["address"])
    key = verify(
        answer,
        stack.anvil.url,
        wallet=body["address"],
        chain_id=CHAIN_ID,
        registry=stack.registry_address,
        log=ApiLog(api),
    )
    assert (key.public_key, key.key_type, key.onchain) == (dmtp.public_key_hex, "secp256k1", True)
    assert answer["bundle"]["DMTPpubKey"] == dmtp.public_key_hex  # pinned exactly as signed
    assert open_private_key(answer, wallet_key) == dmtp.private_key_hex


def test_the_js_clients_verify_accepts_an_undeployed_wallets_erc6492_registration(api, stack, factory):
    node = shutil.which("node")
    if node is None or not (REPO_ROOT / "clients" / "js" / "node_modules" / "@noble" / "curves").is_dir():
        pytest.skip("needs node and `npm ci --prefix clients/js`")
    owner_key = "0x" + secrets.token_hex(32)
    owner, salt = wallet_address(owner_key), secrets.randbits(64)
    account = counterfactual_address(stack, factory, owner, salt)
    assert (
        post(
            api, wrapped_registration(stack, owner_key, account, factory, create_account_calldata(owner, salt))
        ).status_code
        == 202
    )
    answer = confirmed_answer(api, stack, account)

    head = read_log_head(
        stack.anvil.url, stack.registry_address, CHAIN_ID
    )  # the proof the JS side will ask for, fetched here
    inclusion = {f"{account.lower()}/1/{head.size}": ApiLog(api).log_inclusion(account, 1, head.size)}

    def js_verify(served: dict[str, Any]) -> dict[str, Any]:
        request = {
            "op": "verify",
            "answer": served,
            "rpcUrl": stack.anvil.url,
            "wallet": account,
            "chainId": CHAIN_ID,
            "registry": stack.registry_address,
            "inclusion": inclusion,
        }
        done = subprocess.run(
            [node, "clients/js/test/interop-cli.js"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout)

    result = js_verify(answer)
    assert (result["usable"], result["key"]["signerMethod"]) == (True, "erc6492"), result
    # the same document with the wrapped signature of a key that does not own the account: refused
    forged = json.loads(json.dumps(answer))
    stranger = build_registration("0x" + secrets.token_hex(32), CHAIN_ID, stack.registry_address, wallet=account)[0]
    forged["bundle"]["Signature"] = (
        "0x"
        + wrap_erc6492(factory, create_account_calldata(owner, salt), bytes.fromhex(stranger["Signature"][2:])).hex()
    )
    forged.pop("cid")
    forged.pop("proof")  # a consistent liar: nothing left to compare but the signature itself
    refused = js_verify(forged)
    assert (refused["usable"], refused["reason"]) == (False, "bad-signature"), refused
