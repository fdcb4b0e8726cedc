"""moto corrections for SQS: one request at a time, and a receive must not cost seconds on a queue of thousands.

moto 5.2.x's SQS backend is not safe under its threaded server: a receive iterates the queue's pending set while
another request's delete changes it ("Set changed size during iteration", a 500 the worker benchmark hit), and
two receives can both take the same visible message between checking and marking it. As DynamoDB's
(devstack/moto_dynamodb.py), SQS requests run one at a time; a long-polling receive lets go while it waits, so
a send can wake it, as in SQS.

moto 5.2.x decides whether each message is visible and not delayed with a datetime computation per check (about
10 µs), over every message in the queue, several times per ReceiveMessage, and for every message it returns it
computes all the queue's attributes (counting every message again) to read the retention period, and it deletes
a message by scanning the queue twice: 2.7 s per receive with 2,000 messages queued, which is the local stack's
whole budget. We read the clock once per pass, with the same arithmetic (milliseconds since the epoch), read
the retention period directly, and delete in one scan, so behaviour is unchanged and only the cost goes.
Each receipt handle (185 random lowercase letters) is drawn in one call instead of 185 (4% of the server's CPU
under the worker benchmark), from the same generator.
"""

import string
import threading
import time
from typing import Any

from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import BaseResponse
from moto.moto_api._internal import mock_random
from moto.sqs import models as sqs_models
from moto.sqs.exceptions import ReceiptHandleIsInvalid
from moto.sqs.models import Message, Queue, SQSBackend
from moto.sqs.responses import SQSResponse

_applied = False
_LOCK = threading.RLock()
_inside = threading.local()  # whether this thread holds _LOCK for a request
original_call_action = SQSResponse.call_action
original_receive_message = SQSBackend.receive_message


def _call_action_one_at_a_time(self: BaseResponse) -> TYPE_RESPONSE:
    with _LOCK:
        _inside.held = True
        try:
            return original_call_action(self)
        finally:
            _inside.held = False


def _receive_message(
    self: SQSBackend,
    queue_name: str,
    count: int,
    wait_seconds_timeout: int,
    visibility_timeout: int,
    message_attribute_names: list[str] | None = None,
) -> list[Message]:
    """moto's receive, one pass at a time, waiting (for up to WaitTimeSeconds) outside the lock."""
    deadline = time.time() + wait_seconds_timeout
    while True:
        result = original_receive_message(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
        remaining = deadline - time.time()
        if result or remaining <= 0:
            return result
        held = getattr(_inside, "held", False)
        if held:
            _LOCK.release()
        try:
            self.get_queue(queue_name).wait_for_messages(min(1.0, remaining))  # type: ignore[arg-type]
        finally:
            if held:
                _LOCK.acquire()


def _now_ms() -> float:
    return time.time() * 1000.0


def _visible(self: Message) -> bool:
    return _now_ms() > self.visible_at


def _delayed(self: Message) -> bool:
    return _now_ms() < self.delayed_until


def _messages(self: Queue) -> list[Any]:
    now = _now_ms()
    return [message for message in self._messages if now > message.visible_at and not now < message.delayed_until]


def _not_visible_count(self: Queue) -> int:
    now = _now_ms()
    return sum(1 for message in self._messages if not now > message.visible_at)


def _delayed_count(self: Queue) -> int:
    now = _now_ms()
    return sum(1 for message in self._messages if now < message.delayed_until)


def _within_retention(self: SQSBackend, queue_name: str, message: Message) -> bool:
    # moto sets a queue's settings as attributes (setattr), and types sent_timestamp None until the message is sent.
    retention_s = int(self.get_queue(queue_name).message_retention_period)  # type: ignore[attr-defined]
    return retention_s + message.sent_timestamp / 1000 > time.time()  # type: ignore[operator]


def _delete_message(self: Queue, receipt_handle: str) -> None:
    if receipt_handle in self.deleted_messages:
        return  # deleting it again is fine
    for index, message in enumerate(self._messages):
        if message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles:
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)  # type: ignore[arg-type]  # as moto's own delete
            del self._messages[index]
            return
    raise ReceiptHandleIsInvalid()


def _receipt_handle() -> str:
    return "".join(mock_random.choices(string.ascii_lowercase, k=185))


def register() -> None:
    global _applied
    if _applied:
        return
    Message.visible = property(_visible)  # type: ignore[assignment]
    Message.delayed = property(_delayed)  # type: ignore[assignment]
    Queue.messages = property(_messages)  # type: ignore[assignment]
    Queue.approximate_number_of_messages_not_visible = property(_not_visible_count)  # type: ignore[assignment]
    Queue.approximate_number_of_messages_delayed = property(_delayed_count)  # type: ignore[assignment]
    SQSBackend.is_message_valid_based_on_retention_period = _within_retention  # type: ignore[method-assign]
    Queue.delete_message = _delete_message  # type: ignore[method-assign]
    sqs_models.generate_receipt_handle = _receipt_handle  # type: ignore[attr-defined]
    SQSResponse.call_action = _call_action_one_at_a_time  # type: ignore[method-assign]
    SQSBackend.receive_message = _receive_message  # type: ignore[method-assign]
    _applied = True
