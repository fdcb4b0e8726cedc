"""The worker's calldata, encoded with eth_abi directly, equals web3's ABI encoding of the same calls."""

import os

from chalicelib.adapters.ethereum import RegistryChain
from chalicelib.model import JOB_REVOKE_KEY, Job
from dmtp_protocol.cid import cid_from_digest, digest_from_cid
from dmtp_protocol.ethsig import to_checksum_address


def random_job(version: int = 1, kind: str = "set") -> Job:
    return Job(to_checksum_address("0x" + os.urandom(20).hex()), version, cid_from_digest(os.urandom(32)), kind)


def test_set_keys_calldata_matches_web3s_abi_encoding():
    chain = RegistryChain("http://127.0.0.1:9", "0x" + "11" * 20, 31337)
    jobs = [random_job(version) for version in (1, 7, 2**40)]

    assert chain.set_keys_data(jobs) == chain.contract.encode_abi(
        "setKeys", args=[[j.wallet for j in jobs], [digest_from_cid(j.cid) for j in jobs], [j.version for j in jobs]]
    )
    (one,) = jobs[:1]
    assert chain.set_keys_data([one]) == chain.contract.encode_abi(
        "setKey", args=[one.wallet, digest_from_cid(one.cid), 1]
    )


def test_revoke_calldata_matches_web3s_abi_encoding():
    chain = RegistryChain("http://127.0.0.1:9", "0x" + "11" * 20, 31337)
    job = random_job(3, JOB_REVOKE_KEY)

    assert chain.revoke_data(job) == chain.contract.encode_abi(
        "revokeKey", args=[job.wallet, digest_from_cid(job.cid), 3]
    )
