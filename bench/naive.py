"""The baseline the benchmark compares against: one setKey transaction per SQS message, and the worker waits
for its receipt before it takes the next message (what the walking skeleton did)."""

import time

from bench.parts import Parts
from chalicelib.chain.decisions.fees import first_offer
from chalicelib.model import STATUS_CONFIRMED, STATUS_QUEUED, Job, Receipt, StatusChange


class NaiveWorker:
    def __init__(self, parts: Parts) -> None:
        self._parts = parts

    def run(self, jobs: list[Job]) -> tuple[float, list[Receipt]]:
        """Queue `jobs`, then time taking them one by one to a mined receipt. Returns (seconds, receipts)."""
        parts = self._parts
        parts.enqueue(jobs)
        receipts: list[Receipt] = []
        nonce = parts.chain.pending_nonce(parts.signer.address)
        started = time.monotonic()
        while len(receipts) < len(jobs):
            answer = parts.sqs.receive_message(QueueUrl=parts.queue.url, MaxNumberOfMessages=1, WaitTimeSeconds=1)
            for message in answer.get("Messages", []):
                job = Job.from_body(message["Body"])
                fees = first_offer(parts.chain.market(), parts.settings.max_fee_cap_wei).fees
                data = parts.chain.set_keys_data(
                    [job], anchor=False
                )  # the baseline: the seed's one write, no log anchor
                gas = parts.chain.estimate(parts.signer.address, data) * 6 // 5
                signed = parts.chain.sign(
                    parts.signer,
                    nonce=nonce,
                    to=parts.chain.address,
                    data=data,
                    gas=gas,
                    max_fee=fees.max_fee,
                    tip=fees.tip,
                )
                parts.chain.send(signed.raw)
                receipt = self._wait(signed.tx_hash)
                nonce += 1
                parts.records.set_statuses(
                    [
                        StatusChange(
                            job.wallet,
                            job.version,
                            STATUS_CONFIRMED,
                            (STATUS_QUEUED,),
                            (("tx_hash", signed.tx_hash), ("block_number", receipt.block_number)),
                        )
                    ]
                )
                parts.sqs.delete_message(QueueUrl=parts.queue.url, ReceiptHandle=message["ReceiptHandle"])
                receipts.append(receipt)
        return time.monotonic() - started, receipts

    def _wait(self, tx_hash: str) -> Receipt:
        while True:
            receipt = self._parts.chain.receipt(tx_hash)
            if receipt is not None:
                return receipt
            time.sleep(0.05)
