"""Issue 24's bounds on what a stranger can make the owner spend, on the Registry use cases and the fakes of their
ports (tests/support/api_fakes.py): reads limited per source (batch lookups per address), the checks that need no
chain before any RPC call, sources grouped by network, a reserve of the global budget for wallets that already
have a key, and asOf reads that stop at the first key."""

import json

from chalicelib.api.read_limits import ReadLimiter
from chalicelib.api.signatures import SignatureVerifier
from dmtp_protocol.ethsig import to_checksum_address
from tests.support.api_fakes import BUDGET_GLOBAL, FakeEthRpc, FakeWriteBudgets, Wallet
from tests.unit.test_registry_use_cases import DOMAIN, NOW, make_world, refused, registered

SMART = to_checksum_address("0x" + "c0" * 20)  # a deployed ERC-1271 wallet (FakeEthRpc)


def contract_world(budgets: FakeWriteBudgets, owner: Wallet | None = None) -> tuple[object, FakeEthRpc]:
    """A registry whose signature checks go to a recording RPC, where SMART is a contract wallet of `owner`
    (default: a wallet nobody here signs with, so every signature for SMART is a forgery)."""
    rpc = FakeEthRpc(contract_wallets={SMART: (owner or Wallet()).address})
    return make_world(verifier=SignatureVerifier(rpc, DOMAIN.chain_id), budgets=budgets), rpc


# ==================================================================================================== reads


def test_batch_lookups_past_the_source_read_limit_are_429():
    world = make_world(reads=ReadLimiter(None, 100, 0, now=lambda: NOW))
    batch = {"addresses": [Wallet().address for _ in range(50)]}
    world.registry.batch_lookup(batch, "198.51.100.7")
    world.registry.batch_lookup(batch, "198.51.100.7")

    problem = refused(world.registry.batch_lookup, batch, "198.51.100.7")

    assert (problem["status"], problem["code"], problem["budget"]) == (429, "quota-exceeded", "source-reads")
    assert problem["retryAfter"] > 0
    assert world.records.calls.count("heads") == 2  # the refused batch read nothing


def test_a_malformed_batch_costs_one_read():
    world = make_world(reads=ReadLimiter(None, 100, 0, now=lambda: NOW))
    for _ in range(100):
        assert refused(world.registry.batch_lookup, {"addresses": "no"}, "198.51.100.7")["status"] == 400

    assert refused(world.registry.batch_lookup, {"addresses": "no"}, "198.51.100.7")["status"] == 429


# ==================================================================================================== cheap checks first


def test_forged_contract_wallet_writes_after_the_global_budget_is_spent_make_no_rpc_call():
    world, rpc = contract_world(FakeWriteBudgets(global_per_day=2))
    registered(world, Wallet())
    registered(world, Wallet())  # the day's budget is spent (EOAs: no RPC call either)

    problems = [refused(world.register, Wallet().registration(DOMAIN, NOW, address=SMART)) for _ in range(10)]

    assert {(p["status"], p["budget"]) for p in problems} == {(429, "global")}
    assert rpc.calls == []


def test_a_forged_contract_wallet_write_past_the_source_budget_makes_no_rpc_call():
    world, rpc = contract_world(FakeWriteBudgets(source_per_day=1))
    registered(world, Wallet())

    problem = refused(world.register, Wallet().registration(DOMAIN, NOW, address=SMART))

    assert (problem["status"], problem["budget"], rpc.calls) == (429, "source", [])


def test_a_contract_wallet_write_of_the_wrong_version_is_409_before_any_rpc_call():
    world, rpc = contract_world(FakeWriteBudgets())

    problem = refused(world.register, Wallet().registration(DOMAIN, NOW, address=SMART, version=3))

    assert (problem["status"], problem["currentVersion"], rpc.calls) == (409, 0, [])


def test_a_contract_wallet_write_with_room_is_checked_on_chain_and_stored():
    owner = Wallet()
    world, rpc = contract_world(FakeWriteBudgets(global_per_day=5, source_per_day=5), owner)

    created, view = world.register(owner.registration(DOMAIN, NOW, address=SMART))

    assert created and view["signerCheck"]["method"] == "erc1271"
    assert [call[0] for call in rpc.calls] == [
        "eth_chainId",
        "eth_blockNumber",
        "eth_getCode",
        "eth_call",
    ]  # the chain id once per process
    assert world.budgets.room_checks == [(SMART, "ip4:203.0.113.7", NOW)]


def test_a_contract_wallet_bundle_sent_again_is_200_with_no_second_rpc_call():
    owner = Wallet()
    world, rpc = contract_world(FakeWriteBudgets(), owner)
    body = owner.registration(DOMAIN, NOW, address=SMART)
    world.register(body)
    calls = len(rpc.calls)

    created, view = world.register(body)

    assert (created, view["version"], len(rpc.calls)) == (False, 1, calls)


def test_a_forged_contract_wallet_revocation_past_the_budget_makes_no_rpc_call():
    owner = Wallet()
    world, rpc = contract_world(FakeWriteBudgets(global_per_day=1), owner)
    world.register(owner.registration(DOMAIN, NOW, address=SMART))  # spends the day's budget
    public_key = json.loads(world.records.get(SMART, 1).document)["DMTPpubKey"]
    calls = len(rpc.calls)

    problem = refused(world.revoke, SMART, Wallet().revocation(DOMAIN, 1, public_key, NOW, address=SMART))

    assert (problem["status"], problem["budget"], len(rpc.calls)) == (429, "global", calls)


def test_an_eoa_registration_still_reads_nothing_and_checks_no_room_before_its_transaction():
    world = make_world(budgets=FakeWriteBudgets(global_per_day=5, source_per_day=5, network_per_day=5))

    registered(world, Wallet())

    assert world.records.calls == ["create"] and world.budgets.room_checks == []


# ==================================================================================================== sources by network


def test_ipv6_neighbours_in_one_slash_64_share_a_daily_write_budget():
    world = make_world(budgets=FakeWriteBudgets(source_per_day=1))
    world.register(Wallet().registration(DOMAIN, NOW), source="2001:db8:1:2::1")

    problem = refused(world.register, Wallet().registration(DOMAIN, NOW), "2001:db8:1:2::2")

    assert (problem["status"], problem["budget"]) == (429, "source")
    assert world.register(Wallet().registration(DOMAIN, NOW), source="2001:db8:1:3::1")[0] is True


def test_the_sources_of_one_slash_24_share_a_network_budget_above_their_own():
    world = make_world(budgets=FakeWriteBudgets(source_per_day=2, network_per_day=3))
    for source in ("198.51.100.1", "198.51.100.1", "198.51.100.2"):
        world.register(Wallet().registration(DOMAIN, NOW), source=source)

    problem = refused(world.register, Wallet().registration(DOMAIN, NOW), "198.51.100.3")

    assert (problem["status"], problem["budget"]) == (429, "network")
    assert world.register(Wallet().registration(DOMAIN, NOW), source="198.51.101.1")[0] is True


# ==================================================================================================== the reserve


def reserve_world():
    """WRITES_PER_DAY 10, 20 % kept for wallets that already have a key: new wallets may use 8."""
    return make_world(budgets=FakeWriteBudgets(global_per_day=10, reserved_share=0.2))


def test_new_wallets_cannot_spend_the_reserved_share():
    world = reserve_world()
    for _ in range(8):
        registered(world, Wallet())

    problem = refused(world.register, Wallet().registration(DOMAIN, NOW))

    assert (problem["status"], problem["budget"]) == (429, "global")
    assert world.budgets.used(BUDGET_GLOBAL, "", NOW) == 8


def test_an_existing_wallet_can_rotate_and_revoke_when_new_wallets_have_spent_their_share():
    world = reserve_world()
    existing = Wallet()
    registered(world, existing)
    for _ in range(7):
        registered(world, Wallet())
    refused(world.register, Wallet().registration(DOMAIN, NOW))  # new wallets: 8 of 8

    created, key = world.register(existing.registration(DOMAIN, NOW, version=2))
    revoked = world.revoke(existing.address, existing.revocation(DOMAIN, 2, key["DMTPpubKey"], NOW))

    assert created and revoked["revoked"] is True
    assert world.budgets.used(BUDGET_GLOBAL, "", NOW) == 10


def test_existing_wallets_can_use_the_whole_budget():
    world = reserve_world()
    wallet = Wallet()

    registered(world, wallet, versions=10)  # 1 new-wallet write, then 9 rotations: reserve first, then the rest

    assert refused(world.register, wallet.registration(DOMAIN, NOW, version=11))["budget"] == "global"
    assert world.budgets.used(BUDGET_GLOBAL, "", NOW) == 10


# ==================================================================================================== asOf


def test_as_of_stops_at_the_first_key_at_or_before_the_moment():
    world = make_world(budgets=FakeWriteBudgets())
    wallet = Wallet()
    for version in range(1, 31):
        world.clock.now = NOW + version
        world.register(wallet.registration(DOMAIN, NOW + version, version=version))
    world.records.versions_read = 0

    view = world.registry.lookup(wallet.address, str(NOW + 28))

    assert view["version"] == 28
    assert world.records.versions_read == 3  # versions 30 and 29 (after the moment), then 28: no older one


def test_as_of_a_revoked_key_reads_the_revocation_and_its_key_only():
    world = make_world()
    wallet = Wallet()
    key = registered(world, wallet, versions=5)
    world.clock.now = NOW + 10
    world.revoke(wallet.address, wallet.revocation(DOMAIN, 5, key["DMTPpubKey"], NOW + 10))
    world.records.versions_read = 0

    view = world.registry.lookup(wallet.address, str(NOW + 10))

    assert (view["version"], view["revoked"], world.records.versions_read) == (5, True, 2)


def test_the_reserve_is_the_floor_of_the_share_and_the_pools_add_up_to_the_budget():
    from chalicelib.adapters.quotas import pool_limits

    assert pool_limits(2000, 0.2) == {"reserved": 400, "global": 1600}
    assert pool_limits(1, 0.9) == {"global": 1}  # new wallets always keep at least one write while share < 1
    assert pool_limits(2000, 0.0) == {"global": 2000} and pool_limits(0, 0.2) == {}
