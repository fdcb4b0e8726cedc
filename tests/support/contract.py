"""The DMTPKeys contract on a fresh Anvil, for the contract's own tests (tests/integration/contract): accounts,
calls and the custom errors it reverts with."""

from pathlib import Path

from eth_utils import keccak

from devstack.anvil import DEV_ACCOUNTS

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = REPO_ROOT / "packages" / "dmtp-protocol" / "src" / "dmtp_protocol" / "contracts" / "DMTPKeys.json"
SOURCE = REPO_ROOT / "infra" / "contracts" / "DMTPKeys.sol"

# A realistic CIDv1 (raw codec, sha2-256, base32): 59 characters.
CID = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"

(OWNER, OWNER_KEY), (ALICE, ALICE_KEY), (BOB, BOB_KEY) = DEV_ACCOUNTS


def selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


def transact(w3, fn, key: str):
    """Sign and send a contract call with `key`; return the mined receipt."""
    sender = w3.eth.account.from_key(key).address
    tx = fn.build_transaction({"from": sender, "nonce": w3.eth.get_transaction_count(sender)})
    signed = w3.eth.account.sign_transaction(tx, key)
    return w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))


def assert_custom_error(excinfo, expected: str) -> None:
    data = excinfo.value.data
    assert isinstance(data, str) and data.startswith("0x"), data
    assert data == expected, (data, expected)
