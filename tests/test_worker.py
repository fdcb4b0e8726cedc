"""The worker on moto and a real Anvil: KMS-signed addKey transactions, exactly once per registration."""
import json

import boto3
import pytest

from chalicelib import services
from chalicelib.chain import RegistryChain
from chalicelib.errors import DependencyUnavailable
from chalicelib.jobs import Job, JobQueue
from chalicelib.kms_signer import KmsSigner
from chalicelib.records import STATUS_PINNED, STATUS_QUEUED
from chalicelib.registry import Registry
from chalicelib.worker import ChainWorker
from devstack.stack import WorkerLoop, deploy_registry
from chalicelib.protocol import Domain
from tests.bundles import registration_body
from tests.conftest import CHAIN_ID


@pytest.fixture()
def chain(stack):
    return RegistryChain(stack.anvil.url, stack.registry_address, CHAIN_ID)


@pytest.fixture()
def worker(stack):
    services.reset()
    return services.chain_worker()


def register(api, stack, wallet):
    response = api.http.post(
        "/keys", headers={"Content-Type": "application/json"}, body=json.dumps(registration_body(wallet, Domain(CHAIN_ID, stack.registry_address)))
    )
    assert response.status_code == 202
    return json.loads(response.body)


def drain_queue(stack):
    import app

    loop = WorkerLoop(stack.aws_endpoint, stack.env["JOBS_QUEUE_NAME"])
    while loop.poll_once(app.process_jobs, wait_s=0):
        pass


def test_registration_lands_on_chain_through_the_kms_signed_worker(api, stack, chain, wallet):
    accepted = register(api, stack, wallet)
    drain_queue(stack)
    record = json.loads(api.http.get(f"/keys/{wallet.address}").body)
    assert record["status"] == "confirmed"
    assert chain.get_key(wallet.address) == accepted["cid"]
    tx = chain.w3.eth.get_transaction(record["txHash"])
    assert tx["from"] == stack.owner_address
    assert tx["type"] == 2  # EIP-1559 on a chain that has a base fee


def test_a_redelivered_job_sends_no_second_transaction(api, stack, chain, worker, wallet):
    accepted = register(api, stack, wallet)
    job = Job(wallet.address, accepted["version"], accepted["cid"])
    first = worker.process(job)
    nonce_after_first = chain.mined_nonce(stack.owner_address)
    again = worker.process(job)
    assert again.tx_hash == first.tx_hash
    assert chain.mined_nonce(stack.owner_address) == nonce_after_first


def test_a_worker_killed_after_signing_rebroadcasts_the_stored_bytes(api, stack, chain, worker, wallet):
    accepted = register(api, stack, wallet)
    record = worker._records.get(wallet.address, accepted["version"])
    stored = worker._sign_and_store(record)  # the worker dies here, before broadcasting
    assert chain.receipt(stored.tx_hash) is None
    done = worker.process(Job(wallet.address, accepted["version"], accepted["cid"]))
    assert done.tx_hash == stored.tx_hash
    assert done.status == "confirmed"


def test_a_signed_tx_whose_nonce_another_tx_took_is_signed_again(api, stack, chain, worker, wallet):
    from eth_account import Account

    first_wallet, second_wallet = wallet, Account.create()
    first = register(api, stack, first_wallet)
    second = register(api, stack, second_wallet)
    stale = worker._sign_and_store(worker._records.get(first_wallet.address, first["version"]))  # never broadcast
    worker.process(Job(second_wallet.address, second["version"], second["cid"]))  # takes the same nonce
    done = worker.process(Job(first_wallet.address, first["version"], first["cid"]))
    assert done.status == "confirmed" and done.tx_hash != stale.tx_hash
    assert chain.get_key(first_wallet.address) == first["cid"]


def test_a_write_the_contract_refuses_ends_failed_with_the_reason(api, stack, chain, wallet):
    from devstack.anvil import DEV_ACCOUNTS

    other_owner, _ = DEV_ACCOUNTS[1]
    foreign_registry = deploy_registry(stack.anvil, other_owner)  # the KMS key does not own this one
    config = services.settings()
    records = services.record_store(config)
    signer = KmsSigner(boto3.client("kms", endpoint_url=stack.aws_endpoint), config.kms_key_id)
    worker = ChainWorker(records, RegistryChain(stack.anvil.url, foreign_registry, CHAIN_ID), signer, 10)
    accepted = register(api, stack, wallet)
    done = worker.process(Job(wallet.address, accepted["version"], accepted["cid"]))
    assert done.status == "failed"
    assert done.error == f"contract refused the write: NotOwner({stack.owner_address.lower()})"


def test_a_mined_revert_ends_failed_with_the_decoded_reason(api, stack, wallet):
    from devstack.anvil import DEV_ACCOUNTS

    config = services.settings()
    signer = KmsSigner(boto3.client("kms", endpoint_url=stack.aws_endpoint), config.kms_key_id)
    registry = deploy_registry(stack.anvil, stack.owner_address)
    chain = RegistryChain(stack.anvil.url, registry, CHAIN_ID)
    worker = ChainWorker(services.record_store(config), chain, signer, 10)
    accepted = register(api, stack, wallet)
    worker._sign_and_store(worker._records.get(wallet.address, accepted["version"]))
    # Ownership moves away between signing and broadcasting (storage slot 0 holds `owner`): the stored tx reverts.
    new_owner = "0x" + DEV_ACCOUNTS[1][0][2:].lower().rjust(64, "0")
    stack.anvil.rpc("anvil_setStorageAt", [registry, "0x0", new_owner])
    assert chain.contract.functions.owner().call() == DEV_ACCOUNTS[1][0]
    done = worker.process(Job(wallet.address, accepted["version"], accepted["cid"]))
    assert chain.receipt(done.tx_hash).status == 0
    assert (done.status, done.error) == ("failed", f"NotOwner({stack.owner_address.lower()})")
