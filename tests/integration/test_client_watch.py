"""watch_keys (clients/python/src/dmtp_key_registry_client/watch.py) on the real local stack: the Chalice app on moto,
the KMS-signed worker putting keys on chain and in the transparency log, Anvil with a DMTPKeys contract of the test's
own (the `world` of tests/integration/test_client_monitor.py). A backend watches two wallets; one rotates its key,
the other revokes its own, a third wallet it does not watch changes too. The iterator yields exactly the watched
changes, each verified: the rotated key usable, the revocation as the contract's; a key the registry wrote behind a
wallet's back is never yielded: `on_problem` gets it (`bad-signature`), once."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from dmtp_key_registry_client import KeyChange, KeyProblem, watch_keys
from dmtp_key_registry_client.registry_client import build_registration, build_revocation, wallet_address
from tests.conftest import CHAIN_ID
from tests.integration.test_client_monitor import world  # noqa: F401 (the fixture `scene` stands on)
from tests.integration.test_client_verify import new_wallet_key


@pytest.fixture()
def scene(world: Any) -> Any:  # noqa: F811 (the imported fixture)
    """test_client_monitor's world: a fresh log table and contract, the real RegistryClient answered in process."""
    return world


def register(scene: Any, wallet_key: str, version: int) -> dict[str, Any]:
    body, _ = build_registration(wallet_key, CHAIN_ID, scene.registry, version=version)
    return scene.client.register(body)


def revoke(scene: Any, wallet_key: str) -> None:
    wallet = wallet_address(wallet_key)
    current = scene.client.found(wallet)
    body = build_revocation(wallet_key, CHAIN_ID, scene.registry, current["version"], current["DMTPpubKey"])
    scene.client.revoke(wallet, body)


def watched(scene: Any, wallets: list[str], count: int, **options: Any) -> list[KeyChange]:
    """The first `count` changes watch_keys yields for `wallets` (it gives up after 60 s)."""
    changes = watch_keys(
        wallets,
        scene.stack.anvil.url,
        chain_id=CHAIN_ID,
        registry=scene.registry,
        api=scene.client,
        deploy_block=scene.from_block,
        poll_interval_s=0.2,
        timeout_s=60,
        **options,
    )
    return list(itertools.islice(changes, count))


def test_watch_keys_follows_the_chains_events_and_yields_each_watched_change_verified(scene):
    # Given: Alice and Bob (watched) and Carol (not) each have a confirmed key
    alice, bob, carol = new_wallet_key(), new_wallet_key(), new_wallet_key()
    for key in (alice, bob, carol):
        register(scene, key, 1)
    scene.settle()
    cursor = int(scene.stack.anvil.rpc("eth_blockNumber", []), 16) + 1  # what the backend saw last, plus one

    # When: Alice rotates to version 2, Bob revokes his key, Carol rotates; the chain takes all three
    register(scene, alice, 2)
    revoke(scene, bob)
    register(scene, carol, 2)
    scene.settle()
    changes = watched(scene, [wallet_address(alice), wallet_address(bob)], 2, from_block=cursor)

    # Then: Alice's new key, usable; Bob's revocation, verified as revoked; nothing of Carol's
    by_wallet = {change.wallet: change for change in changes}
    assert set(by_wallet) == {wallet_address(alice), wallet_address(bob)}
    rotated, revoked = by_wallet[wallet_address(alice)], by_wallet[wallet_address(bob)]
    assert (rotated.kind, rotated.version, rotated.usable) == ("key", 2, True)
    assert rotated.result is not None and rotated.result.key is not None and rotated.result.key.version == 2
    assert rotated.tx_hash == scene.client.found(wallet_address(alice))["txHash"]
    assert revoked.result is not None
    assert (revoked.kind, revoked.usable, revoked.result.reason) == ("revocation", False, "revoked")
    assert revoked.result.checks["onchain"] is True  # the contract's word, not the registry's
    assert all(change.block is not None and change.block >= cursor for change in changes)
    assert rotated.to_json()["event"]["txHash"] == rotated.tx_hash


def test_watch_keys_from_the_registrys_log_leaves_yields_the_same_changes_with_their_leaf_index(scene):
    alice, bob = new_wallet_key(), new_wallet_key()
    register(scene, alice, 1)
    register(scene, bob, 1)
    scene.settle()
    cursor = scene.client.log_head()["size"]  # the scene's log is fresh: its leaves are these two

    register(scene, alice, 2)
    revoke(scene, bob)
    scene.settle()
    changes = watched(scene, [wallet_address(alice), wallet_address(bob)], 2, source="log", from_leaf=cursor)

    assert sorted((c.wallet, c.kind, c.version, c.usable, c.result and c.result.reason) for c in changes) == sorted(
        [
            (wallet_address(alice), "key", 2, True, None),
            (wallet_address(bob), "revocation", 2, False, "revoked"),
        ]
    )
    assert sorted(change.leaf_index for change in changes) == [cursor, cursor + 1]
    alice_now = scene.client.found(wallet_address(alice))
    [alices] = [change for change in changes if change.wallet == wallet_address(alice)]
    assert alices.leaf_index == alice_now["log"]["leafIndex"]


def test_a_key_written_behind_the_wallets_back_is_never_yielded_and_goes_to_on_problem_once(scene):
    # Given: a watched wallet with its own key
    alice = new_wallet_key()
    register(scene, alice, 1)
    scene.settle()
    cursor = int(scene.stack.anvil.rpc("eth_blockNumber", []), 16) + 1

    # When: the registry writes version 2 for it with a signature that is not the wallet's, and the chain takes it
    scene.behind_her_back(wallet_address(alice), 2)
    scene.settle()
    problems: list[KeyProblem] = []
    changes = watch_keys(
        [wallet_address(alice)],
        scene.stack.anvil.url,
        chain_id=CHAIN_ID,
        registry=scene.registry,
        api=scene.client,
        from_block=cursor,
        deploy_block=scene.from_block,
        poll_interval_s=0.2,
        timeout_s=2,
        on_problem=problems.append,
    )

    # Then: nothing is yielded; the problem is reported once, with the check that refused it
    assert list(changes) == []
    [problem] = problems
    assert (problem.change.kind, problem.change.version, problem.reason) == ("key", 2, "bad-signature")
    assert problem.change.result is not None and problem.change.result.checks["signature"] is False


def test_watch_keys_ends_at_its_timeout_when_nothing_changes(scene):
    alice = new_wallet_key()
    register(scene, alice, 1)
    scene.settle()

    changes = watch_keys(
        [wallet_address(alice)],
        scene.stack.anvil.url,
        chain_id=CHAIN_ID,
        registry=scene.registry,
        api=scene.client,
        poll_interval_s=0.1,
        timeout_s=0.5,
    )

    assert list(changes) == []  # from the next block on: her registration is before it
