"""The folder CID of a batch of pinned documents (chalicelib/adapters/unixfs.py) is what the reference UnixFS
importer computes (ipfs-unixfs-importer, Helia's, with Kubo's `ipfs add -r --cid-version=1` options), and each
document inside keeps the CID it has alone."""

import base64
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from chalicelib.adapters.unixfs import MAX_ENTRIES, directory_cid, directory_node
from dmtp_protocol.cid import cid_for_bytes

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")


def reference(files: list[tuple[str, bytes]]) -> dict:
    request = {"folder": "batch", "files": [{"name": n, "base64": base64.b64encode(c).decode()} for n, c in files]}
    done = subprocess.run(
        [NODE, "tests/support/js/unixfs_folder.mjs"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def entries(files: list[tuple[str, bytes]]) -> list[tuple[str, str, int]]:
    return [(name, cid_for_bytes(content), len(content)) for name, content in files]


@pytest.mark.skipif(NODE is None, reason="needs node (npm ci installs ipfs-unixfs-importer)")
@pytest.mark.parametrize("count", [1, 2, 7, 64, 300])
def test_the_folder_cid_is_the_reference_importers_and_every_file_keeps_its_own_cid(count: int) -> None:
    rng = random.Random(count)
    files = []
    for i in range(count):
        content = json.dumps({"n": i, "pad": "x" * rng.randrange(0, 16_000)}).encode()
        files.append((cid_for_bytes(content), content))  # named by its own CID, as the worker names them
    rng.shuffle(files)

    answer = reference(files)

    assert directory_cid(entries(files)) == answer["folder"]
    assert answer["files"] == {name: cid_for_bytes(content) for name, content in files}


@pytest.mark.skipif(NODE is None, reason="needs node (npm ci installs ipfs-unixfs-importer)")
def test_names_are_sorted_by_their_bytes_as_the_importer_sorts_them() -> None:
    files = [(name, name.encode()) for name in ("b", "a", "B", "aa", "é", "z9", "0")]

    assert directory_cid(entries(files)) == reference(files)["folder"]


def test_the_order_entries_are_given_in_does_not_change_the_cid() -> None:
    files = entries([(f"f{i}", bytes([i])) for i in range(10)])

    assert directory_cid(files) == directory_cid(list(reversed(files)))


@pytest.mark.parametrize(
    "bad",
    [
        [],
        [("a", cid_for_bytes(b"x"), 1), ("a", cid_for_bytes(b"y"), 1)],
        [("a/b", cid_for_bytes(b"x"), 1)],
        [("", cid_for_bytes(b"x"), 1)],
    ],
    ids=["empty", "duplicate-name", "slash", "empty-name"],
)
def test_a_folder_that_is_not_a_plain_batch_is_refused(bad: list[tuple[str, str, int]]) -> None:
    with pytest.raises(ValueError):
        directory_node(bad)


def test_a_folder_larger_than_kubo_keeps_unsharded_is_refused() -> None:
    files = [(f"f{i}", cid_for_bytes(str(i).encode()), 1) for i in range(MAX_ENTRIES + 1)]

    with pytest.raises(ValueError, match="at most"):
        directory_node(files)
