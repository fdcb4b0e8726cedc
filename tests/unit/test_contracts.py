"""The contracts' compiled artifacts shipped with the protocol package (dmtp_protocol/contracts)."""

from dmtp_protocol import contracts


def test_a_contracts_abi_is_the_abi_of_its_artifact() -> None:
    fragments = contracts.abi(contracts.DMTP_KEYS)
    assert fragments == contracts.artifact(contracts.DMTP_KEYS)["abi"]
    assert {"setKeys", "revokeKey"} <= {f.get("name") for f in fragments if f["type"] == "function"}
