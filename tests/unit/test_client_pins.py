"""What the client trusts comes from the user (flags) or the client's own configuration file, never the registry."""

import json

import pytest

from dmtp_key_registry_client.pins import CONFIG_ENV, Pins, load_pins

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_flags_win_over_the_configuration_file(tmp_path):
    path = tmp_path / "client.json"
    path.write_text(json.dumps({"chainId": 8453, "registry": REGISTRY, "rpc": "http://file", "api": "http://api"}))
    pins = load_pins(path, chain_id=31337, rpc_url="http://flag")
    assert (pins.chain_id, pins.registry, pins.rpc_url, pins.api_url, pins.source) == (
        31337,
        REGISTRY,
        "http://flag",
        "http://api",
        str(path),
    )


def test_the_configuration_file_comes_from_the_environment_when_not_named(tmp_path, monkeypatch):
    path = tmp_path / "pins.json"
    path.write_text(json.dumps({"chainId": 1}))
    monkeypatch.setenv(CONFIG_ENV, str(path))
    assert load_pins().chain_id == 1


def test_without_flags_or_a_file_nothing_is_pinned(tmp_path, monkeypatch):
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load_pins() == Pins()


@pytest.mark.parametrize(
    "content", ['{"chainId": "8453"}', '{"chainId": 0}', '{"registryUrl": "x"}', "[1]", "not json"]
)
def test_a_configuration_file_with_anything_else_is_refused(tmp_path, content):
    path = tmp_path / "client.json"
    path.write_text(content)
    with pytest.raises(ValueError):
        load_pins(path)
