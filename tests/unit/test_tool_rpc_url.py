"""The operator tools take the chain RPC URL from a file or the environment, never the command line
(infra/rpc_url.py; issue 24): a URL carries the provider's key, and `ps` shows a command line to every user."""

import argparse
from pathlib import Path

import pytest

from infra import deploy_contract, ops, rotate_owner
from infra.rpc_url import add_rpc_url_arguments, rpc_url_from

SECRET = "k3y-0f-the-provider"
URL = f"https://base-mainnet.example-rpc.io/v2/{SECRET}"


def parsed(*argv: str) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="tool")
    add_rpc_url_arguments(parser)
    return parser, parser.parse_args(list(argv))


@pytest.mark.parametrize(
    "main, argv",
    [
        (deploy_contract.main, ["--rpc-url", URL, "--deployer-key", "0x" + "11" * 32]),
        (rotate_owner.main, ["--stage", "dev", "--rpc-url", URL, "--to-address", "0x" + "22" * 20]),
        (ops.main, ["--stage", "dev", "--rpc-url", URL, "status"]),
    ],
)
def test_every_tool_refuses_an_rpc_url_on_the_command_line_and_says_what_to_use(main, argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)

    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "--rpc-url-file FILE" in err and "RPC_URL" in err
    assert SECRET not in err


def test_the_url_is_read_from_the_file_named(tmp_path: Path):
    path = tmp_path / "rpc-url.txt"
    path.write_text(URL + "\n")
    parser, args = parsed("--rpc-url-file", str(path))

    assert rpc_url_from(parser, args, {"RPC_URL": "https://elsewhere.example"}) == URL


def test_without_a_file_the_url_comes_from_the_environment():
    parser, args = parsed()

    assert rpc_url_from(parser, args, {"RPC_URL": URL}) == URL
    assert rpc_url_from(parser, args, {}) is None


def test_an_empty_or_missing_file_is_an_error_naming_the_file(tmp_path: Path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    for path in (empty, tmp_path / "missing.txt"):
        parser, args = parsed("--rpc-url-file", str(path))
        with pytest.raises(SystemExit):
            rpc_url_from(parser, args, {"RPC_URL": URL})
        assert str(path) in capsys.readouterr().err


def test_a_tool_without_any_url_asks_for_a_file_or_the_environment(monkeypatch, capsys):
    monkeypatch.delenv("RPC_URL", raising=False)

    with pytest.raises(SystemExit):
        deploy_contract.main(["--deployer-key", "0x" + "11" * 32])

    assert "--rpc-url-file FILE, or RPC_URL" in capsys.readouterr().err
