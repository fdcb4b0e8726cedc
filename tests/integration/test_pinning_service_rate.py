"""The local pinning service over HTTP with a plan limit (rate_per_minute): 429 with Retry-After past the rate,
counted; no limit unless one is set."""

import json

import requests

from devstack.pinning_service import PinningService

JWT = "rate-test-jwt"


def pin(service: PinningService, content: bytes) -> requests.Response:
    return requests.post(
        service.url + "/pinning/pinFileToIPFS",
        headers={"Authorization": f"Bearer {JWT}"},
        files={"file": ("doc.json", content, "application/json")},
        data={"pinataOptions": json.dumps({"cidVersion": 1})},
        timeout=10,
    )


def test_pins_past_the_rate_per_minute_are_answered_429_with_retry_after_and_counted():
    with PinningService(jwt=JWT, rate_per_minute=2) as service:
        answers = [pin(service, f"doc {i}".encode()) for i in range(3)]

        assert [a.status_code for a in answers] == [200, 200, 429]
        assert int(answers[2].headers["Retry-After"]) >= 1
        assert (service.pin_requests, service.pin_requests_refused, len(service.pins)) == (3, 1, 2)


def test_a_service_without_a_rate_pins_everything():
    with PinningService(jwt=JWT) as service:
        answers = [pin(service, f"doc {i}".encode()) for i in range(30)]

        assert {a.status_code for a in answers} == {200}
        assert (service.rate_per_minute, service.pin_requests, service.pin_requests_refused) == (None, 30, 0)


def test_a_rate_set_on_a_running_service_applies_to_the_next_pins():
    with PinningService(jwt=JWT) as service:
        service.rate_per_minute = 1

        answers = [pin(service, f"doc {i}".encode()) for i in range(2)]

        assert [a.status_code for a in answers] == [200, 429]
