"""A registry that lies with its own owner key (issue 23): both clients' `verify` and the auditor catch it.

Each test runs a DMTPKeys contract of its own on a fresh Anvil, owned by a key the test holds
(tests/support/owned_registry.py), with the registry's log and API answers built alongside: every document is
genuinely signed by its wallet and every leaf is in the log, so only the rules of docs/PROTOCOL.md section 11 stand
between the lie and a sender encrypting to it:

* the events rule: the chain held v1, v2, then the owner key set v1 again. Its leaf is genuine, the contract holds it,
  an anchor covers it: only the wallet's history going back from version 2 to 1 gives it away (`version-rollback`);
* the anchor rule: a confirmed key claiming a leaf at or beyond the size of the anchor after its KeyUpdated (the
  proof skipped: `log-index-beyond-anchor`), a key no anchor covers yet (`log-not-anchored-yet`, until one does), and
  a key whose leaf the on-chain head, anchored before its KeyUpdated, already covers (usable, no anchor after it).

The JavaScript client is run through clients/js/test/interop-cli.js against the same Anvil.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devstack.anvil import Anvil
from dmtp_key_registry_client import __main__ as cli
from dmtp_key_registry_client.audit import Auditor
from dmtp_key_registry_client.pins import load_pins
from dmtp_key_registry_client.verify import VerificationFailed, verify
from tests.support.owned_registry import OwnedRegistry

REPO_ROOT = Path(__file__).resolve().parents[2]
CHAIN_ID = 31337


@pytest.fixture(scope="module")
def anvil():
    with Anvil(chain_id=CHAIN_ID) as node:
        yield node


@pytest.fixture()
def registry(anvil) -> OwnedRegistry:
    return OwnedRegistry.deploy(anvil, CHAIN_ID)


def new_wallet_key() -> str:
    return "0x" + secrets.token_hex(32)


def python_verify(registry: OwnedRegistry, answer: dict[str, Any], **options: Any) -> Any:
    options.setdefault("from_block", registry.deploy_block)
    return verify(
        answer,
        registry.anvil.url,
        wallet=answer["wallet"],
        chain_id=CHAIN_ID,
        registry=registry.address,
        log=registry,
        **options,
    )


def python_refusal(registry: OwnedRegistry, answer: dict[str, Any], **options: Any) -> VerificationFailed:
    with pytest.raises(VerificationFailed) as refused:
        python_verify(registry, answer, **options)
    return refused.value


def js_verify(registry: OwnedRegistry, answer: dict[str, Any], **options: Any) -> dict[str, Any]:
    """The JavaScript client's verify(answer, {rpcUrl, wallet, chainId, registry, ...options}), its inclusion proofs
    from this registry (fetched here at its current size, which is the size the contract anchors in these tests)."""
    node = shutil.which("node")
    if node is None or not (REPO_ROOT / "clients" / "js" / "node_modules" / "@noble" / "curves").is_dir():
        pytest.skip("needs node and `npm ci --prefix clients/js`")
    wallet, version, size = answer["wallet"], answer["version"], len(registry.leaves)
    request = {
        "op": "verify",
        "answer": answer,
        "rpcUrl": registry.anvil.url,
        "wallet": wallet,
        "chainId": CHAIN_ID,
        "registry": registry.address,
        "inclusion": {f"{wallet.lower()}/{version}/{size}": registry.log_inclusion(wallet, version, size)},
        **options,
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


def audit(registry: OwnedRegistry) -> Any:
    return Auditor(registry.anvil.url, registry.address, registry, from_block=registry.deploy_block).run()  # type: ignore[arg-type]


# ---------------------------------------------------------------- the events rule: a rollback


def rolled_back(registry: OwnedRegistry) -> tuple[Any, int]:
    """The chain holds v1, v2 (each anchored with its own transaction), then v1 set again by the owner key, in a
    transaction that also sets another wallet's genuine key and anchors the grown head: v1's genuine leaf is covered
    by an anchor after its latest KeyUpdated. Returns v1 and the rollback's block."""
    wallet_key = new_wallet_key()
    v1 = registry.accept(wallet_key, 1)
    registry.set_keys([v1])
    v2 = registry.accept(wallet_key, 2)
    registry.set_keys([v2])
    bystander = registry.accept(new_wallet_key(), 1)
    return v1, registry.set_keys([bystander, v1])


def test_a_rollback_to_an_older_key_set_again_by_the_owner_key_fails_verify_in_python(registry):
    v1, block = rolled_back(registry)

    reason = python_refusal(registry, registry.answer(v1, block_hint=block))

    assert reason.code == "version-rollback"
    assert "goes back from version 2 to 1" in reason.reason and v1.wallet in reason.reason
    assert f"KeyUpdated of version 1 at block {block}" in reason.reason


def test_a_rollback_fails_verify_in_javascript_with_the_pinned_deploy_block_or_none_whatever_the_answer_hints(
    registry,
):
    v1, block = rolled_back(registry)
    answer = registry.answer(v1, block_hint=block)  # the hint would skip v1 and v2, at earlier blocks

    for options in ({"deployBlock": registry.deploy_block}, {}, {"fromBlock": registry.deploy_block}):
        result = js_verify(registry, answer, **options)
        assert (result["usable"], result["reason"]) == (False, "version-rollback"), (options, result)
        assert "goes back from version 2 to 1" in result["detail"] and result["checks"]["history"] is False


def test_a_rollback_is_an_audit_failure_naming_the_wallet_and_both_versions(registry):
    v1, block = rolled_back(registry)

    result = audit(registry)

    assert not result.ok
    rollbacks = [d for d in result.discrepancies if d.code == "version-rollback"]
    assert [(d.wallet, d.version, d.earlier_version, d.leaf_index) for d in rollbacks] == [(v1.wallet, 1, 2, 0)]
    assert f"KeyUpdated({v1.wallet}, version 1) at block {block}" in rollbacks[0].detail
    assert "goes back from version 2 to 1" in rollbacks[0].detail


def test_an_older_document_set_under_a_new_version_number_fails_verify_in_both_clients(registry):
    wallet_key = new_wallet_key()
    v1 = registry.accept(wallet_key, 1)
    registry.set_keys([v1])
    v2 = registry.accept(wallet_key, 2)
    registry.set_keys([v2])
    registry.set_keys([v1], versions=[3])  # the v1 document, under a version number no leaf or signature has

    assert python_refusal(registry, registry.answer(v1)).code == "version-mismatch"
    assert js_verify(registry, registry.answer(v1))["reason"] == "version-mismatch"


def test_the_honest_history_verifies_and_a_start_block_past_the_wallets_events_fails_closed(registry):
    wallet_key = new_wallet_key()
    v1 = registry.accept(wallet_key, 1)
    registry.set_keys([v1])
    v2 = registry.accept(wallet_key, 2)
    block = registry.set_keys([v2])

    key = python_verify(registry, registry.answer(v2))
    assert (key.usable(), key.log_included, key.log_head.size) == (True, True, 2)
    assert js_verify(registry, registry.answer(v2), deployBlock=registry.deploy_block)["usable"] is True
    assert python_refusal(registry, registry.answer(v2), from_block=block + 1).code == "no-event"
    assert js_verify(registry, registry.answer(v2), fromBlock=block + 1)["reason"] == "no-event"


def test_the_cli_reads_the_start_block_from_deploy_block_in_the_configuration_or_from_block(
    registry, monkeypatch, capsys, tmp_path
):
    v1, _ = rolled_back(registry)
    monkeypatch.setattr(cli.RegistryClient, "lookup", lambda self, address, as_of=None: registry.answer(v1))
    monkeypatch.setattr(cli.RegistryClient, "log_inclusion", lambda self, *args: registry.log_inclusion(*args))
    config = tmp_path / "client.json"
    config.write_text(
        json.dumps(
            {
                "chainId": CHAIN_ID,
                "registry": registry.address,
                "deployBlock": registry.deploy_block,
                "rpc": registry.anvil.url,
                "api": "http://registry.invalid",
            }
        )
    )
    assert load_pins(config).deploy_block == registry.deploy_block

    for extra in (["--config", str(config)], ["--config", str(config), "--from-block", str(registry.deploy_block)]):
        capsys.readouterr()
        assert cli.main(["verify", *extra, v1.wallet]) == 1
        assert json.loads(capsys.readouterr().out)["reason"] == "version-rollback"
    config.write_text(json.dumps({"deployBlock": -1}))
    with pytest.raises(SystemExit):
        cli.main(["verify", "--config", str(config), v1.wallet])


# ---------------------------------------------------------------- the anchor rule: inclusion never skipped


def test_a_confirmed_key_claiming_a_leaf_at_or_beyond_the_anchor_after_its_key_updated_fails_verify(registry):
    # Given a key whose own transaction anchored the log at its size (1 leaf: the key's, at index 0)
    v1 = registry.accept(new_wallet_key(), 1)
    registry.set_keys([v1])
    assert python_verify(registry, registry.answer(v1)).log_included is True  # the honest answer

    # When the answer claims leaf 1, where no anchor reaches (a client used to take it for "newer than the head"
    # and skip the proof), then both clients refuse it
    lying = registry.answer(v1, leaf_index=1)
    reason = python_refusal(registry, lying)
    assert reason.code == "log-index-beyond-anchor" and "leaf 1, at or beyond the size 1" in reason.reason
    result = js_verify(registry, lying)
    assert (result["usable"], result["reason"], result["checks"]["anchored"]) == (
        False,
        "log-index-beyond-anchor",
        False,
    )


def test_a_confirmed_key_no_anchor_covers_yet_is_not_anchored_yet_until_an_anchor_only_transaction_covers_it(
    registry,
):
    # Given a lone key written without a head (its transaction anchors nothing)
    v1 = registry.accept(new_wallet_key(), 1)
    registry.set_keys([v1], anchor=False)

    # Then verify says so, with a reason of its own, in both clients
    reason = python_refusal(registry, registry.answer(v1))
    assert reason.code == "log-not-anchored-yet" and "LOG_ANCHOR_SINGLE_AFTER_S" in reason.reason
    assert js_verify(registry, registry.answer(v1))["reason"] == "log-not-anchored-yet"

    # When the monitor's anchor-only transaction covers its leaf, then the key is usable
    registry.anchor()
    key = python_verify(registry, registry.answer(v1))
    assert (key.usable(), key.log_included) == (True, True)
    assert js_verify(registry, registry.answer(v1))["usable"] is True


def test_a_key_whose_leaf_an_anchor_before_its_key_updated_already_covers_is_usable_with_no_anchor_after(registry):
    # Given a key sequenced (leaf 0), an anchor-only transaction covering its leaf mined first, then the key's own
    # transaction, which anchors nothing: no LogAnchored at or after its KeyUpdated, on a quiet registry
    v1 = registry.accept(new_wallet_key(), 1)
    registry.anchor()
    registry.set_keys([v1], anchor=False)

    # Then the on-chain head, anchored before the key, covers its leaf: both clients take it, proven under that head
    key = python_verify(registry, registry.answer(v1))
    assert (key.usable(), key.log_included) == (True, True)
    assert js_verify(registry, registry.answer(v1))["usable"] is True
    # and the auditor finds nothing to say
    assert audit(registry).discrepancies == []
    # while a leaf that head does not cover is still not anchored yet
    lying = registry.answer(v1, leaf_index=1)
    assert python_refusal(registry, lying).code == "log-not-anchored-yet"
    assert js_verify(registry, lying)["reason"] == "log-not-anchored-yet"


def test_a_key_set_on_chain_before_its_leaf_entered_the_log_fails_verify_and_the_audit(registry):
    # Given a key written on chain with a head that does not hold its leaf (1 leaf: another wallet's), its leaf
    # appended afterwards and covered by a later anchor, where its inclusion proof holds against the on-chain root
    bystander = registry.accept(new_wallet_key(), 1)
    late = registry.accept(new_wallet_key(), 1, sequenced=False)
    block = registry.set_keys([bystander, late])
    late = registry.sequence(late)
    registry.anchor()

    # Then the anchor of the key's own transaction (the first after its KeyUpdated) does not cover its leaf 1
    reason = python_refusal(registry, registry.answer(late))
    assert reason.code == "log-index-beyond-anchor" and f"the head anchored at block {block}" in reason.reason
    assert js_verify(registry, registry.answer(late))["reason"] == "log-index-beyond-anchor"
    result = audit(registry)
    beyond = [d for d in result.discrepancies if d.code == "log-index-beyond-anchor"]
    assert [(d.wallet, d.version, d.leaf_index) for d in beyond] == [(late.wallet, 1, 1)], result.discrepancies
