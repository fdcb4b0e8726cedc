"""`verify --wait S` asks again while a fresh key is not anchored in the log (or not on chain) yet, for up to S seconds;
without it, verify answers at once. What verify_answer says is stubbed here (the command's loop is under test;
tests/integration/test_client_verify.py runs the command against the stack)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dmtp_key_registry_client import __main__ as cli
from dmtp_key_registry_client.verify import CHECKS, VerifyResult

WALLET = "0x" + "ab" * 20
FLAGS = ["verify", "--api", "http://registry.invalid", "--rpc", "http://rpc.invalid", "--chain-id", "1"]
FLAGS += ["--registry", "0x" + "cd" * 20]


def result(reason: str | None) -> VerifyResult:
    return VerifyResult(reason is None, reason, None if reason is None else "stub", dict.fromkeys(CHECKS, True))


@pytest.fixture()
def answers(monkeypatch: pytest.MonkeyPatch) -> list[VerifyResult]:
    """The results verify_answer gives, one per call, in order; the list shrinks as they are used."""
    queue: list[VerifyResult] = []
    monkeypatch.setattr(cli.RegistryClient, "lookup", lambda self, address, as_of=None: {"stub": True})
    monkeypatch.setattr(cli, "verify_answer", lambda *args, **kwargs: queue.pop(0))
    monkeypatch.setattr(cli, "VERIFY_RETRY_S", 0.01)
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent")
    monkeypatch.delenv("DMTP_CLIENT_CONFIG", raising=False)
    return queue


def test_verify_with_wait_asks_again_until_the_key_is_anchored(answers: list[VerifyResult], capsys: Any):
    answers += [result("log-not-anchored-yet"), result("not-onchain"), result(None)]

    assert cli.main([*FLAGS, "--wait", "30", WALLET]) == 0

    assert answers == [] and json.loads(capsys.readouterr().out)["usable"] is True


def test_verify_without_wait_answers_at_once(answers: list[VerifyResult], capsys: Any):
    answers += [result("log-not-anchored-yet"), result(None)]

    assert cli.main([*FLAGS, WALLET]) == 1

    assert len(answers) == 1 and json.loads(capsys.readouterr().out)["reason"] == "log-not-anchored-yet"


def test_verify_with_wait_never_asks_again_about_a_key_that_will_not_become_usable(answers: list[VerifyResult]):
    answers += [result("revoked"), result(None)]

    assert cli.main([*FLAGS, "--wait", "30", WALLET]) == 1

    assert len(answers) == 1
