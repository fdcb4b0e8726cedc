"""The Registry use cases (chalicelib/api/registry.py) on the in-memory fakes of their ports (tests/support/api_fakes.py):
register, revoke, lookup, lookup as of a moment, history and batch lookup, with real secp256k1 signatures and a
fake clock. No server, no network: milliseconds per test.

The same behaviours are checked on the real parts (moto, the local pinning service) in tests/integration/
test_registry.py, test_api.py and test_log_api.py; these do not replace them. Every refusal is checked by its
problem `code` and `status` (dmtp_protocol.errors), as a client sees it.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.api.registry import Registry
from chalicelib.api.signatures import SignatureVerifier
from chalicelib.model import JOB_REVOKE_KEY, JOB_SET_KEY, KIND_KEY, KIND_REVOCATION, Job
from dmtp_protocol.canonical import canonical_json
from dmtp_protocol.cid import cid_for_bytes
from dmtp_protocol.errors import RegistryError
from dmtp_protocol.ethsig import recover_address, to_checksum_address
from dmtp_protocol.messages import REGISTRATION_TYPE, Domain, parse_registration, registration_message, signing_digest
from tests.support.api_fakes import (
    BUDGET_GLOBAL,
    BUDGET_SOURCE,
    BUDGET_WALLET,
    DAY_S,
    Clock,
    FakeEthRpc,
    FakeJobQueue,
    FakeLog,
    FakeRecords,
    FakeSignatureChecker,
    FakeWriteBudgets,
    Wallet,
)

NOW = 1_800_000_000  # the fake clock's start (2027-01-15); not a UTC midnight
DOMAIN = Domain(31337, to_checksum_address("0x" + "5f" * 20))
SOURCE = "203.0.113.7"


@dataclass
class World:
    clock: Clock
    log: FakeLog
    records: FakeRecords
    queue: FakeJobQueue
    verifier: Any
    budgets: FakeWriteBudgets
    registry: Registry

    def register(self, body: dict[str, Any], source: str = SOURCE) -> tuple[bool, dict[str, Any]]:
        return self.registry.register(body, source)

    def revoke(self, address: str, body: dict[str, Any], source: str = SOURCE) -> dict[str, Any]:
        return self.registry.revoke(address, body, source)


def make_world(
    verifier: Any = None, budgets: FakeWriteBudgets | None = None, with_log: bool = True, reads: Any = None
) -> World:
    clock = Clock(NOW)
    log = FakeLog(clock)
    records = FakeRecords(clock, log if with_log else None)
    queue = FakeJobQueue()
    verifier = verifier or FakeSignatureChecker()
    budgets = budgets or FakeWriteBudgets(wallet_per_day=10, source_per_day=100, global_per_day=1000)
    budgets.counters = records.counters  # one store: the record and its charge are one transaction
    registry = Registry(
        records, queue, DOMAIN, verifier, budgets, now=clock, log=log if with_log else None, reads=reads
    )
    return World(clock, log, records, queue, verifier, budgets, registry)


@pytest.fixture()
def world() -> World:
    return make_world()


@pytest.fixture()
def wallet() -> Wallet:
    return Wallet()


def refused(call: Callable[..., Any], *args: Any) -> dict[str, Any]:
    """The problem+json body of the error `call(*args)` raises (a test fails if it raises none)."""
    try:
        call(*args)
    except RegistryError as error:
        return error.to_problem()
    pytest.fail(f"{getattr(call, '__name__', call)} raised no problem")


def registered(world: World, wallet: Wallet, versions: int = 1) -> dict[str, Any]:
    """Register keys 1..versions at the clock's time; the last view."""
    view: dict[str, Any] = {}
    for version in range(1, versions + 1):
        created, view = world.register(wallet.registration(DOMAIN, int(world.clock()), version=version))
        assert created
    return view


# ==================================================================================================== register


def test_a_new_key_is_stored_queued_with_its_set_job_enqueued_and_its_budget_charged(world, wallet):
    body = wallet.registration(DOMAIN, NOW)

    created, view = world.register(body)

    assert created is True
    assert (view["wallet"], view["version"], view["status"]) == (wallet.address, 1, "queued")
    assert world.records.statuses_of(wallet.address, 1) == ["queued"]
    assert world.queue.jobs == [Job(wallet.address, 1, view["cid"], JOB_SET_KEY)]
    assert [
        world.budgets.used(b, who, NOW)
        for b, who in ((BUDGET_WALLET, wallet.address), (BUDGET_SOURCE, SOURCE), (BUDGET_GLOBAL, ""))
    ] == [1, 1, 1]


def test_the_stored_document_is_the_bundles_canonical_document_under_its_own_cid(world, wallet):
    body = wallet.registration(DOMAIN, NOW)

    _, view = world.register(body)

    stored = world.records.get(wallet.address, 1)
    assert stored is not None
    document = stored.document.encode("utf-8")  # what the worker pins, and whose digest goes on chain
    assert cid_for_bytes(document) == view["cid"]
    assert document == canonical_json(view["bundle"])
    assert (view["bundle"]["wallet"], view["bundle"]["chainId"], view["bundle"]["registry"]) == (
        wallet.address,
        DOMAIN.chain_id,
        DOMAIN.registry,
    )


def test_a_new_registration_reads_nothing_writes_once_and_sends_one_message(world, wallet):
    """The request path (issue 22): no pinning request, no log append, nothing every registration shares, and no
    read: one write (the record, its head and its budget counters are one transaction, whose conditions decide
    the version), one message."""
    world.register(wallet.registration(DOMAIN, NOW))

    assert world.records.calls == ["create"]
    assert len(world.queue.jobs) == 1
    assert world.log.calls == ["latest_anchor"]  # the answer's view reads the anchor; nothing is appended


def test_a_new_keys_view_carries_a_proof_that_recovers_to_the_wallet(world, wallet):
    _, view = world.register(wallet.registration(DOMAIN, NOW))

    proof = view["proof"]
    assert proof["typedData"]["domain"] == DOMAIN.as_eip712()
    assert (proof["chainId"], proof["registry"], proof["signature"]) == (
        DOMAIN.chain_id,
        DOMAIN.registry,
        view["bundle"]["Signature"],
    )
    assert recover_address(bytes.fromhex(proof["digest"][2:]), proof["signature"]) == wallet.address
    assert "personalSignText" not in proof
    assert view["signerCheck"] == {"method": "ecdsa", "chainId": None, "blockNumber": None}


def test_the_signing_digest_a_proof_names_is_the_registrations_own(world, wallet):
    body = wallet.registration(DOMAIN, NOW)

    _, view = world.register(body)

    digest = signing_digest(REGISTRATION_TYPE, registration_message(parse_registration(body)), DOMAIN, "eip712")
    assert view["proof"]["digest"] == "0x" + digest.hex()


def test_a_personal_sign_registration_is_accepted_and_its_proof_carries_the_signed_text(world, wallet):
    created, view = world.register(wallet.registration(DOMAIN, NOW, signature_type="eip191"))

    assert created is True
    assert view["proof"]["signatureType"] == "eip191"
    assert "DMTP Key Registry" in view["proof"]["personalSignText"]


def test_the_same_bundle_again_is_answered_200_with_the_stored_record_and_nothing_new(world, wallet):
    body = wallet.registration(DOMAIN, NOW)
    _, first = world.register(body)
    world.clock.now += 5

    created, again = world.register(body)

    assert created is False  # app.py answers 200
    assert (again["version"], again["cid"], again["status"]) == (1, first["cid"], "queued")
    assert world.records.count() == 1
    assert len(world.queue.jobs) == 1
    assert world.budgets.used(BUDGET_WALLET, wallet.address, NOW) == 1  # charged once: the second write was refused
    # Within the clock window it is checked like any request, then recognised by the write's refusal (its record
    # is the wallet's newest): verified twice in all, stored once
    assert len(world.verifier.calls) == 2


def test_when_the_queue_is_down_the_record_is_left_pinned_and_the_answer_is_503_with_its_cid(world, wallet):
    world.queue.down = True
    body = wallet.registration(DOMAIN, NOW)

    problem = refused(world.register, body)

    assert (problem["status"], problem["code"]) == (503, "dependency-unavailable")
    stored = world.records.get(wallet.address, 1)
    assert stored is not None and stored.status == "pinned"
    assert problem["cid"] == stored.cid
    assert world.queue.jobs == []


def test_a_record_left_pinned_is_queued_by_resubmitting_it_long_after_the_clock_window_closed(world, wallet):
    # Given a registration stored while the queue was down (its record is left pinned: no job on the queue)
    body = wallet.registration(DOMAIN, NOW)
    world.queue.down = True
    refused(world.register, body)
    # When the queue is back and the client sends the same bundle an hour later (far outside the 900 s window)
    world.queue.down = False
    world.clock.now += 3600
    created, view = world.register(body)
    # Then it is recognised as the stored bundle before the clock rule, and queued, charged once in all
    assert (created, view["status"], view["version"]) == (False, "queued", 1)
    assert world.queue.jobs == [Job(wallet.address, 1, view["cid"], JOB_SET_KEY)]
    assert world.records.statuses_of(wallet.address, 1) == ["queued", "pinned", "queued"]
    assert len(world.budgets.calls) == 1


def test_a_version_gap_is_409_version_conflict_naming_the_current_version(world, wallet):
    problem = refused(world.register, wallet.registration(DOMAIN, NOW, version=2))

    assert (problem["status"], problem["code"], problem["currentVersion"]) == (409, "version-conflict", 0)
    assert world.records.count() == 0 and world.budgets.used(BUDGET_WALLET, wallet.address, NOW) == 0


def test_an_older_bundle_replayed_after_a_newer_one_is_409_and_the_newer_stays_current(world, wallet):
    old = wallet.registration(DOMAIN, NOW, version=1)
    world.register(old)
    world.register(wallet.registration(DOMAIN, NOW, version=2))

    problem = refused(world.register, old)

    assert (problem["status"], problem["code"], problem["currentVersion"]) == (409, "version-conflict", 2)
    assert world.registry.lookup(wallet.address)["version"] == 2


def test_a_race_lost_in_create_is_409_and_only_the_winner_is_stored_and_queued(world, wallet):
    # Given a rival registration of the same version that reaches the wallet's head first
    rival = wallet.registration(DOMAIN, NOW, version=1)
    mine = wallet.registration(DOMAIN, NOW, version=1)
    world.records.before_next_create(lambda: world.register(rival))

    problem = refused(world.register, mine)

    assert (problem["status"], problem["code"], problem["currentVersion"]) == (409, "version-conflict", 1)
    winner = world.records.get(wallet.address, 1)
    assert winner is not None and json.loads(winner.document)["DMTPpubKey"] == rival["DMTPpubKey"]
    assert world.queue.jobs == [Job(wallet.address, 1, winner.cid, JOB_SET_KEY)]


@pytest.mark.parametrize(
    ("issued_at", "code"),
    [(NOW - 901, "signature-expired"), (NOW + 121, "signature-not-yet-valid")],
    ids=["older-than-900s", "more-than-120s-ahead"],
)
def test_an_issued_at_outside_the_clock_window_is_401_with_its_code_and_nothing_is_stored(
    world, wallet, issued_at, code
):
    problem = refused(world.register, wallet.registration(DOMAIN, issued_at))

    assert (problem["status"], problem["code"], problem["field"]) == (401, code, "issuedAt")
    assert (world.records.count(), world.budgets.calls, world.verifier.calls) == (0, [], [])


@pytest.mark.parametrize("issued_at", [NOW - 900, NOW + 120], ids=["900s-old", "120s-ahead"])
def test_an_issued_at_on_the_edge_of_the_clock_window_is_accepted(world, wallet, issued_at):
    created, _ = world.register(wallet.registration(DOMAIN, issued_at))

    assert created is True


def test_an_expires_at_already_past_is_401_signature_expired(world, wallet):
    body = wallet.registration(DOMAIN, NOW - 60, expires_at=NOW - 1)

    problem = refused(world.register, body)

    assert (problem["status"], problem["code"], problem["field"]) == (401, "signature-expired", "expiresAt")


def test_a_new_bundle_outside_the_clock_window_is_refused_even_when_the_wallet_has_a_stored_one(world, wallet):
    world.register(wallet.registration(DOMAIN, NOW))
    world.clock.now += 3600

    problem = refused(world.register, wallet.registration(DOMAIN, NOW, version=2))

    assert (problem["status"], problem["code"]) == (401, "signature-expired")


def test_a_signature_by_another_wallet_is_401_and_nothing_is_charged_or_stored(world, wallet):
    body = Wallet().registration(DOMAIN, NOW, address=wallet.address)

    problem = refused(world.register, body)

    assert (problem["status"], problem["code"]) == (401, "invalid-signature")
    assert (world.records.count(), world.budgets.calls) == (0, [])


def test_a_signature_made_for_another_registry_contract_is_401(world, wallet):
    other = Domain(DOMAIN.chain_id, to_checksum_address("0x" + "11" * 20))

    problem = refused(world.register, wallet.registration(other, NOW))

    assert (problem["status"], problem["code"]) == (401, "invalid-signature")


def test_a_version_lost_to_a_concurrent_write_charges_no_budget(world, wallet):
    # Given another write of the same version that lands between this request's read and its write
    world.records.before_next_create(lambda: world.register(wallet.registration(DOMAIN, NOW, version=1)))

    problem = refused(world.register, wallet.registration(DOMAIN, NOW + 1, version=1))

    # Then it is 409, and the budgets count the winner alone (the charge rides in the record's transaction)
    assert (problem["status"], problem["code"]) == (409, "version-conflict")
    assert world.budgets.used(BUDGET_WALLET, wallet.address, NOW) == 1


def test_a_spent_wallet_budget_is_429_with_the_seconds_to_the_next_utc_day_and_nothing_is_stored(wallet):
    world = make_world(budgets=FakeWriteBudgets(wallet_per_day=1))
    world.register(wallet.registration(DOMAIN, NOW))

    problem = refused(world.register, wallet.registration(DOMAIN, NOW, version=2))

    assert (problem["status"], problem["code"], problem["budget"], problem["limit"]) == (
        429,
        "quota-exceeded",
        "wallet",
        1,
    )
    assert problem["retryAfter"] == DAY_S - NOW % DAY_S
    assert world.records.count() == 1


def test_a_spent_global_budget_refuses_a_write_without_counting_it_against_its_wallet_or_source():
    world = make_world(budgets=FakeWriteBudgets(wallet_per_day=5, source_per_day=5, global_per_day=1))
    world.register(Wallet().registration(DOMAIN, NOW), source="198.51.100.1")
    late = Wallet()

    problem = refused(world.register, late.registration(DOMAIN, NOW), "198.51.100.2")

    assert (problem["code"], problem["budget"]) == ("quota-exceeded", "global")
    assert world.budgets.used(BUDGET_WALLET, late.address, NOW) == 0
    assert world.budgets.used(BUDGET_SOURCE, "198.51.100.2", NOW) == 0


def test_a_smart_wallet_key_is_checked_through_erc1271_and_the_chain_and_block_of_the_check_are_kept(wallet):
    smart = to_checksum_address("0x" + "c0" * 20)
    rpc = FakeEthRpc(block=4242, contract_wallets={smart: wallet.address})
    world = make_world(verifier=SignatureVerifier(rpc, DOMAIN.chain_id))

    created, view = world.register(wallet.registration(DOMAIN, NOW, address=smart))

    assert (created, view["wallet"]) == (True, smart)
    assert view["signerCheck"] == {"method": "erc1271", "chainId": DOMAIN.chain_id, "blockNumber": 4242}
    assert ("eth_call", smart, hex(4242)) in rpc.calls


def test_a_smart_wallet_that_refuses_the_signature_is_401(wallet):
    smart = to_checksum_address("0x" + "c0" * 20)
    rpc = FakeEthRpc(contract_wallets={smart: Wallet().address})
    world = make_world(verifier=SignatureVerifier(rpc, DOMAIN.chain_id))

    problem = refused(world.register, wallet.registration(DOMAIN, NOW, address=smart))

    assert (problem["status"], problem["code"]) == (401, "invalid-signature")


def test_an_unreachable_chain_node_for_a_smart_wallet_is_503_and_nothing_is_stored(wallet):
    smart = to_checksum_address("0x" + "c0" * 20)
    rpc = FakeEthRpc(contract_wallets={smart: wallet.address}, unreachable=True)
    world = make_world(verifier=SignatureVerifier(rpc, DOMAIN.chain_id))

    problem = refused(world.register, wallet.registration(DOMAIN, NOW, address=smart))

    assert (problem["status"], problem["code"]) == (503, "dependency-unavailable")
    assert "cid" not in problem
    assert (world.records.count(), world.budgets.calls) == (0, [])


def test_an_eoa_write_costs_no_check_on_chain_and_no_per_minute_charge(wallet):
    rpc = FakeEthRpc()
    budgets = FakeWriteBudgets(chain_checks_per_minute=1)
    world = make_world(verifier=SignatureVerifier(rpc, DOMAIN.chain_id), budgets=budgets)

    registered(world, wallet, versions=3)

    assert (rpc.calls, sum(budgets.chain_checks.values())) == ([], 0)


def test_a_source_past_its_checks_on_chain_per_minute_is_429_before_any_rpc_call(wallet):
    smart = to_checksum_address("0x" + "c0" * 20)
    rpc = FakeEthRpc(contract_wallets={smart: Wallet().address})  # it refuses every signature: 401s
    world = make_world(
        verifier=SignatureVerifier(rpc, DOMAIN.chain_id), budgets=FakeWriteBudgets(chain_checks_per_minute=2)
    )
    forged = [wallet.registration(DOMAIN, NOW, address=smart) for _ in range(3)]
    assert [refused(world.register, body)["status"] for body in forged[:2]] == [401, 401]
    calls_before = len(rpc.calls)

    problem = refused(world.register, forged[2])

    assert (problem["status"], problem["code"], problem["limit"]) == (429, "quota-exceeded", 2)
    assert 0 < problem["retryAfter"] <= 60
    assert len(rpc.calls) == calls_before  # refused before the chain was asked anything


def test_the_checks_on_chain_are_counted_per_source(wallet):
    smart = to_checksum_address("0x" + "c0" * 20)
    rpc = FakeEthRpc(contract_wallets={smart: wallet.address})
    world = make_world(
        verifier=SignatureVerifier(rpc, DOMAIN.chain_id), budgets=FakeWriteBudgets(chain_checks_per_minute=1)
    )
    world.register(wallet.registration(DOMAIN, NOW, address=smart), source="198.51.100.1")

    created, _ = world.register(wallet.registration(DOMAIN, NOW, address=smart, version=2), source="198.51.100.2")

    assert created


def test_a_smart_wallets_revocation_counts_against_the_same_checks_on_chain(wallet):
    smart = to_checksum_address("0x" + "c0" * 20)
    rpc = FakeEthRpc(contract_wallets={smart: wallet.address})
    world = make_world(
        verifier=SignatureVerifier(rpc, DOMAIN.chain_id), budgets=FakeWriteBudgets(chain_checks_per_minute=1)
    )
    world.register(wallet.registration(DOMAIN, NOW, address=smart))
    public_key = json.loads(world.records.get(smart, 1).document)["DMTPpubKey"]

    problem = refused(world.revoke, smart, wallet.revocation(DOMAIN, 1, public_key, NOW, address=smart))

    assert (problem["status"], problem["code"]) == (429, "quota-exceeded")


def _document_of(body: dict[str, Any]) -> dict[str, Any]:
    """The pinned document the registry makes of `body` (docs/PROTOCOL.md section 7)."""
    registration = parse_registration(body)
    return {
        "format": "dmtp-key-bundle/2",
        "wallet": registration.wallet,
        "keyType": registration.key_type,
        "DMTPpubKey": registration.public_key,
        "DMTPpriKey": registration.envelope,
        "version": registration.version,
        "issuedAt": registration.issued_at,
        "expiresAt": registration.expires_at,
        "signatureType": registration.signature_type,
        "Signature": registration.signature,
        "chainId": DOMAIN.chain_id,
        "registry": DOMAIN.registry,
    }


# ==================================================================================================== revoke


def test_a_revocation_of_the_current_key_is_stored_and_queued_as_a_revoke_job_naming_the_keys_cid(world, wallet):
    key = registered(world, wallet)
    body = wallet.revocation(DOMAIN, 1, key["DMTPpubKey"], NOW)

    view = world.revoke(wallet.address, body)

    assert (view["version"], view["revoked"]) == (1, True)
    assert (view["revocation"]["version"], view["revocation"]["status"]) == (2, "queued")
    record = world.records.get(wallet.address, 2)
    assert record is not None
    assert (record.kind, record.revokes_cid, record.cid) == (KIND_REVOCATION, key["cid"], key["cid"])
    assert world.records.statuses_of(wallet.address, 2) == ["queued"]
    assert world.queue.jobs[-1] == Job(wallet.address, 2, key["cid"], JOB_REVOKE_KEY)
    assert world.budgets.used(BUDGET_WALLET, wallet.address, NOW) == 2


def test_a_revocations_document_is_what_the_wallet_signed_in_this_registrys_domain(world, wallet):
    key = registered(world, wallet)
    body = wallet.revocation(DOMAIN, 1, key["DMTPpubKey"], NOW)

    document = world.revoke(wallet.address, body)["revocation"]["document"]

    assert document == {
        "kind": "revocation",
        "wallet": wallet.address,
        "publicKey": key["DMTPpubKey"],
        "revokedVersion": 1,
        "version": 2,
        "issuedAt": NOW,
        "signatureType": "eip712",
        "Signature": body["Signature"],
        "chainId": DOMAIN.chain_id,
        "registry": DOMAIN.registry,
    }


def test_lookup_after_a_revocation_shows_the_key_revoked_with_its_revocation(world, wallet):
    key = registered(world, wallet)
    world.revoke(wallet.address, wallet.revocation(DOMAIN, 1, key["DMTPpubKey"], NOW))

    found = world.registry.lookup(wallet.address)

    assert (found["version"], found["cid"], found["revoked"]) == (1, key["cid"], True)
    assert found["revocation"]["version"] == 2


def test_revoking_a_version_that_is_a_revocation_and_not_a_key_is_404(world, wallet):
    key = registered(world, wallet)
    world.revoke(wallet.address, wallet.revocation(DOMAIN, 1, key["DMTPpubKey"], NOW))

    problem = refused(world.revoke, wallet.address, wallet.revocation(DOMAIN, 2, key["DMTPpubKey"], NOW))

    assert (problem["status"], problem["code"]) == (404, "not-found")


def test_revoking_a_version_the_wallet_never_had_is_404(world, wallet):
    key = registered(world, wallet)

    problem = refused(world.revoke, wallet.address, wallet.revocation(DOMAIN, 5, key["DMTPpubKey"], NOW))

    assert (problem["status"], problem["code"]) == (404, "not-found")
    assert world.records.count() == 1


def test_a_revocation_whose_body_names_another_address_than_the_path_is_400(world, wallet):
    key = registered(world, wallet)
    other = Wallet()
    body = other.revocation(DOMAIN, 1, key["DMTPpubKey"], NOW)

    problem = refused(world.revoke, wallet.address, body)

    assert (problem["status"], problem["code"], problem["field"]) == (400, "invalid-field", "address")
    assert world.records.count() == 1


def test_a_revocation_signed_over_another_public_key_is_401(world, wallet):
    registered(world, wallet)

    problem = refused(world.revoke, wallet.address, wallet.revocation(DOMAIN, 1, "0x" + "22" * 32, NOW))

    assert (problem["status"], problem["code"]) == (401, "invalid-signature")
    assert world.records.count() == 1


def test_revoking_a_key_that_is_no_longer_the_current_one_is_409(world, wallet):
    first = registered(world, wallet)
    world.register(wallet.registration(DOMAIN, NOW, version=2))

    problem = refused(world.revoke, wallet.address, wallet.revocation(DOMAIN, 1, first["DMTPpubKey"], NOW))

    assert (problem["status"], problem["code"], problem["currentVersion"]) == (409, "version-conflict", 2)


def test_a_stale_revocation_is_401_signature_expired(world, wallet):
    key = registered(world, wallet)

    problem = refused(world.revoke, wallet.address, wallet.revocation(DOMAIN, 1, key["DMTPpubKey"], NOW - 901))

    assert (problem["status"], problem["code"]) == (401, "signature-expired")


def test_a_key_registered_after_a_revocation_is_current_and_not_revoked(world, wallet):
    key = registered(world, wallet)
    world.revoke(wallet.address, wallet.revocation(DOMAIN, 1, key["DMTPpubKey"], NOW))

    created, _ = world.register(wallet.registration(DOMAIN, NOW, version=3))

    found = world.registry.lookup(wallet.address)
    assert (created, found["version"], found["revoked"], found["revocation"]) == (True, 3, False, None)


def test_a_revocation_left_pinned_when_the_queue_was_down_answers_503_with_the_keys_cid(world, wallet):
    key = registered(world, wallet)
    world.queue.down = True

    problem = refused(world.revoke, wallet.address, wallet.revocation(DOMAIN, 1, key["DMTPpubKey"], NOW))

    assert (problem["status"], problem["code"], problem["cid"]) == (503, "dependency-unavailable", key["cid"])
    assert world.records.statuses_of(wallet.address, 2) == ["queued", "pinned"]


def test_a_revocation_left_pinned_is_queued_by_sending_the_same_revocation_again(world, wallet):
    key = registered(world, wallet)
    body = wallet.revocation(DOMAIN, 1, key["DMTPpubKey"], NOW)
    world.queue.down = True
    refused(world.revoke, wallet.address, body)
    world.queue.down = False

    view = world.revoke(wallet.address, body)

    assert (view["revoked"], view["revocation"]["status"]) == (True, "queued")
    assert world.queue.jobs[-1] == Job(wallet.address, 2, key["cid"], JOB_REVOKE_KEY)


def test_a_revocation_left_pinned_is_queued_by_sending_it_again_long_after_the_clock_window_closed(world, wallet):
    key = registered(world, wallet)
    body = wallet.revocation(DOMAIN, 1, key["DMTPpubKey"], NOW)
    world.queue.down = True
    refused(world.revoke, wallet.address, body)
    world.queue.down = False
    world.clock.now += 3600  # the signature is an hour old: a new revocation would be 401

    view = world.revoke(wallet.address, body)

    assert (view["revoked"], view["revocation"]["status"]) == (True, "queued")
    assert [job.kind for job in world.queue.jobs] == [JOB_SET_KEY, JOB_REVOKE_KEY]


# ==================================================================================================== lookup


def test_lookup_of_an_unknown_wallet_is_404_not_found(world, wallet):
    problem = refused(world.registry.lookup, wallet.address)

    assert (problem["status"], problem["code"]) == (404, "not-found")


def test_lookup_of_a_malformed_address_is_400_invalid_address(world):
    problem = refused(world.registry.lookup, "0x12345")

    assert (problem["status"], problem["code"]) == (400, "invalid-address")


def test_lookup_finds_the_current_key_by_its_lowercase_address(world, wallet):
    registered(world, wallet, versions=2)

    found = world.registry.lookup(wallet.address.lower())

    assert (found["wallet"], found["version"], found["status"], found["revoked"]) == (
        wallet.address,
        2,
        "queued",
        False,
    )


def test_lookup_as_of_a_moment_returns_the_key_that_was_current_then(world, wallet):
    world.register(wallet.registration(DOMAIN, NOW, version=1))
    world.clock.now = NOW + 100
    world.register(wallet.registration(DOMAIN, NOW + 100, version=2))

    assert world.registry.lookup(wallet.address, str(NOW + 99))["version"] == 1
    assert world.registry.lookup(wallet.address, str(NOW + 100))["version"] == 2


def test_lookup_as_of_a_moment_before_the_first_key_is_404(world, wallet):
    registered(world, wallet)

    problem = refused(world.registry.lookup, wallet.address, str(NOW - 1))

    assert (problem["status"], problem["code"]) == (404, "not-found")


def test_lookup_as_of_a_moment_before_the_revocation_shows_the_key_not_revoked(world, wallet):
    key = registered(world, wallet)
    world.clock.now = NOW + 60
    world.revoke(wallet.address, wallet.revocation(DOMAIN, 1, key["DMTPpubKey"], NOW + 60))

    before = world.registry.lookup(wallet.address, str(NOW + 59))
    after = world.registry.lookup(wallet.address, str(NOW + 60))

    assert (before["revoked"], before["revocation"]) == (False, None)
    assert (after["revoked"], after["revocation"]["version"]) == (True, 2)


@pytest.mark.parametrize("as_of", ["-1", "1e3", " 7", "1_0", "9007199254740992", ""])
def test_an_as_of_that_is_not_unix_seconds_is_400_invalid_field(world, wallet, as_of):
    registered(world, wallet)

    problem = refused(world.registry.lookup, wallet.address, as_of)

    assert (problem["status"], problem["code"], problem["field"]) == (400, "invalid-field", "asOf")


# ==================================================================================================== history


def test_history_lists_keys_and_revocations_newest_first_in_pages_joined_by_next_cursor(world, wallet):
    key = registered(world, wallet, versions=2)
    world.revoke(wallet.address, wallet.revocation(DOMAIN, 2, key["DMTPpubKey"], NOW))

    first = world.registry.history(wallet.address, "2", None)
    second = world.registry.history(wallet.address, "2", first["nextCursor"])

    assert [(i["version"], i["kind"]) for i in first["items"]] == [(3, KIND_REVOCATION), (2, KIND_KEY)]
    assert first["nextCursor"] == "2"
    assert [(i["version"], i["kind"]) for i in second["items"]] == [(1, KIND_KEY)]
    assert second["nextCursor"] is None
    assert first["items"][0]["revocation"]["revokedVersion"] == 2
    assert first["items"][1]["document"]["DMTPpubKey"] == key["DMTPpubKey"]


def test_a_history_page_that_ends_at_version_1_has_no_next_cursor(world, wallet):
    registered(world, wallet, versions=2)

    page = world.registry.history(wallet.address, "2", None)

    assert ([i["version"] for i in page["items"]], page["nextCursor"]) == ([2, 1], None)


def test_history_pages_hold_20_versions_unless_told_otherwise(wallet):
    world = make_world(budgets=FakeWriteBudgets(wallet_per_day=21))
    registered(world, wallet, versions=21)

    page = world.registry.history(wallet.address, None, None)

    assert (len(page["items"]), page["nextCursor"]) == (20, "2")


@pytest.mark.parametrize(
    ("limit", "cursor", "field"),
    [
        ("0", None, "limit"),
        ("101", None, "limit"),
        ("ten", None, "limit"),
        ("", None, "limit"),
        ("5", "1", "cursor"),
        ("5", "0", "cursor"),
        ("5", "-3", "cursor"),
    ],
)
def test_a_history_limit_outside_1_to_100_or_a_cursor_below_2_is_400_naming_it(world, wallet, limit, cursor, field):
    registered(world, wallet)

    problem = refused(world.registry.history, wallet.address, limit, cursor)

    assert (problem["status"], problem["code"], problem["field"]) == (400, "invalid-field", field)


def test_history_takes_the_largest_page_of_100(world, wallet):
    registered(world, wallet, versions=3)

    page = world.registry.history(wallet.address, "100", None)

    assert [i["version"] for i in page["items"]] == [3, 2, 1]


def test_history_of_an_unknown_wallet_is_404(world, wallet):
    problem = refused(world.registry.history, wallet.address, None, None)

    assert (problem["status"], problem["code"]) == (404, "not-found")


def test_history_from_a_cursor_lists_only_the_versions_below_it(world, wallet):
    registered(world, wallet, versions=3)

    page = world.registry.history(wallet.address, None, "3")

    assert ([i["version"] for i in page["items"]], page["nextCursor"]) == ([2, 1], None)


# ==================================================================================================== batch lookup


def test_batch_lookup_answers_found_and_not_found_in_request_order_with_counts_in_one_read(world):
    alice, bob, carol = Wallet(), Wallet(), Wallet()
    alice_key = registered(world, alice)
    registered(world, bob)
    world.revoke(alice.address, alice.revocation(DOMAIN, 1, alice_key["DMTPpubKey"], NOW))
    unknown = Wallet().address
    world.records.calls.clear()

    answer = world.registry.batch_lookup({"addresses": [alice.address.lower(), unknown, bob.address, carol.address]})

    assert [(r["address"], r["found"]) for r in answer["results"]] == [
        (alice.address, True),
        (unknown, False),
        (bob.address, True),
        (carol.address, False),
    ]
    assert (answer["countFound"], answer["countNotFound"]) == (2, 2)
    found = answer["results"][0]
    assert (found["version"], found["cid"], found["revoked"]) == (1, alice_key["cid"], True)
    assert found["DMTPpubKey"] == alice_key["DMTPpubKey"]
    assert world.records.calls == ["heads"]


def test_batch_lookup_refuses_the_same_address_twice_in_any_case(world, wallet):
    problem = refused(world.registry.batch_lookup, {"addresses": [wallet.address, wallet.address.lower()]})

    assert (problem["status"], problem["code"], problem["duplicates"]) == (400, "invalid-field", [wallet.address])


@pytest.mark.parametrize("count", [0, 101])
def test_batch_lookup_refuses_fewer_than_1_or_more_than_100_addresses(world, count):
    addresses = [to_checksum_address(f"0x{i:040x}") for i in range(1, count + 1)]

    problem = refused(world.registry.batch_lookup, {"addresses": addresses})

    assert (problem["status"], problem["code"], problem["field"]) == (400, "invalid-field", "addresses")
    assert "heads" not in world.records.calls


def test_batch_lookup_takes_exactly_100_addresses(world):
    addresses = [to_checksum_address(f"0x{i:040x}") for i in range(1, 101)]

    answer = world.registry.batch_lookup({"addresses": addresses})

    assert (answer["countFound"], answer["countNotFound"]) == (0, 100)


@pytest.mark.parametrize(
    "body",
    [[], {"addresses": "0x" + "11" * 20}, {"addresses": [], "more": 1}, {"wallets": []}],
    ids=["a-list", "addresses-not-a-list", "an-extra-member", "no-addresses"],
)
def test_a_batch_lookup_body_other_than_an_addresses_list_is_400_malformed_request(world, body):
    problem = refused(world.registry.batch_lookup, body)

    assert (problem["status"], problem["code"]) == (400, "malformed-request")


def test_a_malformed_address_in_a_batch_is_400_invalid_address(world):
    problem = refused(world.registry.batch_lookup, {"addresses": ["0x" + "11" * 20, "0x1234"]})

    assert (problem["status"], problem["code"]) == (400, "invalid-address")


# ==================================================================================================== the log in views


def anchor_first(world: World, size: int) -> dict[str, Any]:
    """Anchor the log's first `size` leaves on the 'chain'; the anchoredHead a view should show."""
    root, _ = world.log.inclusion(0, size)
    world.log.record_anchor(size, root, "0x" + "ab" * 32, 4242)
    return {"size": size, "root": "0x" + root.hex(), "txHash": "0x" + "ab" * 32, "blockNumber": 4242}


def sequence(world: World) -> None:
    """The worker's step when it takes the jobs: every record without a leaf gets one, a wallet's versions in order."""
    world.records.sequence(world.records.unsequenced())  # in the order they were accepted


def test_a_records_view_shows_no_leaf_until_the_worker_sequences_it(world, wallet):
    _, view = world.register(wallet.registration(DOMAIN, NOW))

    assert view["log"] is None  # accepted, not yet in the log: the worker sequences it when it takes the job
    sequence(world)
    assert world.registry.lookup(wallet.address)["log"] == {"leafIndex": 0, "anchoredHead": None}


def test_a_records_view_names_its_leaf_and_no_anchored_head_before_any_anchor(world, wallet):
    world.register(wallet.registration(DOMAIN, NOW))
    sequence(world)

    assert world.registry.lookup(wallet.address)["log"] == {"leafIndex": 0, "anchoredHead": None}


def test_a_views_anchored_head_appears_only_once_an_anchor_covers_its_leaf(world):
    alice, bob = Wallet(), Wallet()
    registered(world, alice)
    registered(world, bob)
    sequence(world)  # alice's leaf 0, bob's 1

    covering_alice = anchor_first(world, 1)  # size 1: leaf 0 only

    assert world.registry.lookup(alice.address)["log"] == {"leafIndex": 0, "anchoredHead": covering_alice}
    assert world.registry.lookup(bob.address)["log"] == {"leafIndex": 1, "anchoredHead": None}
    covering_both = anchor_first(world, 2)
    assert world.registry.lookup(bob.address)["log"] == {"leafIndex": 1, "anchoredHead": covering_both}


def test_batch_and_history_views_name_the_anchor_that_covers_the_leaf(world, wallet):
    registered(world, wallet)
    sequence(world)
    anchored = anchor_first(world, 1)

    batch = world.registry.batch_lookup({"addresses": [wallet.address]})["results"][0]
    history = world.registry.history(wallet.address, None, None)["items"][0]

    assert batch["log"] == history["log"] == {"leafIndex": 0, "anchoredHead": anchored}


def test_a_revocation_is_a_leaf_of_its_own_shown_in_its_view(world, wallet):
    key = registered(world, wallet)

    world.revoke(wallet.address, wallet.revocation(DOMAIN, 1, key["DMTPpubKey"], NOW))
    sequence(world)
    view = world.registry.lookup(wallet.address)

    assert view["log"]["leafIndex"] == 0
    assert view["revocation"]["log"] == {"leafIndex": 1, "anchoredHead": None}


def test_a_registry_without_a_log_shows_no_log_in_its_views(wallet):
    world = make_world(with_log=False)

    _, view = world.register(wallet.registration(DOMAIN, NOW))

    assert view["log"] is None
    assert world.registry.batch_lookup({"addresses": [wallet.address]})["results"][0]["log"] is None
