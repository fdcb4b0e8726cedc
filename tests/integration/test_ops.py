"""The operator's console (python -m infra.ops) against the local stack: a stage of its own deployed from
infra/template.yaml into moto, its owner key's address funded on Anvil."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from devstack.stack import LocalStack, deploy_template
from tests.support.cfn import chalice_config

STAGE = "opsconsole"
ONE_ETH = 10**18


@pytest.fixture(scope="module")
def ops_stage(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Given a stage with 2 jobs waiting and 1 dead letter; records confirmed, queued an hour ago (stranded) and
    pinned just now; a transaction confirmed 100 s ago that cost 0.01 ETH and one pending, signed twice (one
    replacement) 300 s ago; a nonce counter at 2; an owner holding 1 ETH."""
    from chalicelib.adapters.kms_signer import KmsSigner

    deploy_template(stack.aws_endpoint, STAGE)
    names = {
        "RECORDS_TABLE": f"dmtp-registry-{STAGE}-records",
        "TRANSACTIONS_TABLE": f"dmtp-registry-{STAGE}-transactions",
        "JOBS_QUEUE_NAME": f"dmtp-registry-{STAGE}-jobs",
        "KMS_KEY_ID": f"alias/dmtp-registry-{STAGE}-owner-blue",
    }
    config = chalice_config()
    config["stages"][STAGE] = {"environment_variables": names}
    path = tmp_path_factory.mktemp("ops") / "config.json"
    path.write_text(json.dumps(config))

    signer = KmsSigner(boto3.client("kms", endpoint_url=stack.aws_endpoint), names["KMS_KEY_ID"]).address
    stack.anvil.rpc("anvil_setBalance", [signer, hex(ONE_ETH)])
    sqs = boto3.client("sqs", endpoint_url=stack.aws_endpoint)
    for queue, count in ((names["JOBS_QUEUE_NAME"], 2), (names["JOBS_QUEUE_NAME"] + "-dlq", 1)):
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        for i in range(count):
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": i}))
    dynamodb = boto3.resource("dynamodb", endpoint_url=stack.aws_endpoint)
    now = int(time.time())
    records = dynamodb.Table(names["RECORDS_TABLE"])
    for wallet, status, updated in (
        ("0x" + "a1" * 20, "confirmed", now - 7200),
        ("0x" + "b2" * 20, "queued", now - 3600),
        ("0x" + "c3" * 20, "pinned", now),
    ):
        records.put_item(
            Item={
                "wallet": wallet,
                "version": 1,
                "walletEip55": wallet,
                "status": status,
                "updatedAt": updated,
                "createdAt": updated,
            }
        )
        records.put_item(
            Item={"wallet": wallet, "version": 0, "walletEip55": wallet, "latest": 1}
        )  # head: not a record
    txs = dynamodb.Table(names["TRANSACTIONS_TABLE"])
    owner = signer.lower()

    def attempt(tx_hash, fee, at):
        return {"hash": tx_hash, "maxFee": fee, "tip": fee // 10, "at": at}

    txs.put_item(Item={"signer": owner, "nonce": -1, "next": 2, "floor": 1})
    txs.put_item(
        Item={
            "signer": owner,
            "nonce": 0,
            "state": "confirmed",
            "kind": "set",
            "feePaidWei": ONE_ETH // 100,
            "updatedAt": now - 100,
            "attempts": json.dumps([attempt("0x" + "01" * 32, 10**9, now - 200)]),
        }
    )
    txs.put_item(
        Item={
            "signer": owner,
            "nonce": 1,
            "state": "signed",
            "kind": "set",
            "updatedAt": now - 60,
            "entries": json.dumps([["0x" + "b2" * 20, 1, "bafy", "set"]]),
            "attempts": json.dumps(
                [attempt("0x" + "02" * 32, 2 * 10**9, now - 300), attempt("0x" + "03" * 32, 3 * 10**9, now - 60)]
            ),
        }
    )
    return {"config": path, "signer": signer, "anvil": stack.anvil.url}


def run_ops(ops_stage: dict[str, Any], capsys: pytest.CaptureFixture, *args: str) -> str:
    from infra import ops

    url_file = Path(ops_stage["config"]).with_name("rpc-url.txt")
    url_file.write_text(ops_stage["anvil"])
    code = ops.main(["--stage", STAGE, "--config", str(ops_stage["config"]), "--rpc-url-file", str(url_file), *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_status_reports_queue_records_nonces_pending_transactions_and_runway(ops_stage, capsys):
    status = json.loads(run_ops(ops_stage, capsys, "--json", "status", "--stranded-after", "900"))

    assert {k: status["queue"][k] for k in ("visible", "in_flight", "dead_letters")} == {
        "visible": 2,
        "in_flight": 0,
        "dead_letters": 1,
    }
    assert status["records"]["by_status"] == {"confirmed": 1, "pinned": 1, "queued": 1}
    assert (status["records"]["open"], status["records"]["stranded"]) == (2, 1)
    assert status["nonces"] == {
        "signer": ops_stage["signer"],
        "counter_next": 2,
        "counter_floor": 1,
        "chain_latest": 0,
        "chain_pending": 0,
        "drift": 2,
    }
    (pending,) = status["pending"]
    assert (pending["nonce"], pending["state"], pending["replacements"], pending["max_fee_gwei"], pending["jobs"]) == (
        1,
        "signed",
        1,
        3.0,
        1,
    )
    assert 295 <= pending["age_s"] <= 400
    assert status["owner"]["balance_eth"] == 1.0 and status["owner"]["spent_24h_eth"] == 0.01
    assert status["owner"]["runway_days"] == 100.0
    assert status["worker"]["paused"] is False


def test_pause_and_resume_flip_the_switch_the_worker_reads_and_status_says_why(ops_stage, capsys):
    from chalicelib.adapters.control import WorkerControl

    table = boto3.resource("dynamodb").Table(f"dmtp-registry-{STAGE}-transactions")
    paused = json.loads(
        run_ops(ops_stage, capsys, "--json", "pause", "--reason", "RPC provider incident", "--by", "alice")
    )
    shown = run_ops(ops_stage, capsys, "status")

    assert paused["paused"] is True and WorkerControl(table).state().reason == "RPC provider incident"
    assert "PAUSED since" in shown and "by alice: RPC provider incident" in shown

    resumed = json.loads(run_ops(ops_stage, capsys, "--json", "resume", "--by", "bob"))

    assert (resumed["paused"], resumed["by"]) == (False, "bob")
    assert WorkerControl(table).state().paused is False
    assert "Worker      running" in run_ops(ops_stage, capsys, "status")


def test_status_for_a_person_names_every_part(ops_stage, capsys):
    shown = run_ops(ops_stage, capsys, "status")

    for part in (
        "Queue       2 waiting",
        "Dead letter 1 job(s)",
        "1 stranded",
        "counter next 2",
        "runway 100.0 days",
        "nonce 1: signed set, 1 job(s)",
        "replaced 1x",
    ):
        assert part in shown, part
