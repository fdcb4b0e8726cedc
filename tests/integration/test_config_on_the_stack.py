"""A bad setting met by a request on the local stack is a logged 500, never a 4xx (the unit tier checks the rest
of Settings: tests/unit/test_config.py)."""

import json

import pytest


@pytest.mark.parametrize("address", ["0x" + "zz" * 20, "0x" + "aB" * 20], ids=["not-hex", "bad-eip55-checksum"])
def test_a_bad_registry_address_met_by_a_request_is_a_logged_500_never_a_4xx(api, monkeypatch, caplog, address):
    from chalicelib import bootstrap

    monkeypatch.setenv("REGISTRY_ADDRESS", address)
    bootstrap.reset()
    response = api.http.get("/keys/0x" + "22" * 20)

    assert response.status_code == 500
    assert json.loads(response.body)["code"] == "internal-error"
    assert f"REGISTRY_ADDRESS='{address}'" in caplog.text
