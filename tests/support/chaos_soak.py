"""`python -m bench.chaos` for tests/e2e/test_chaos.py, which also keeps every refused answer the soak's clients saw.

The soak's JSON keeps only the 12 most common refusals ("refused_answers"); a test that states every refusal is a
pinning failure must see them all. Usage: `python -m tests.support.chaos_soak --every-refusal FILE <bench.chaos
arguments>`: runs bench.chaos.main with those arguments, unchanged, then writes FILE: {"status code: detail":
count} of every answer that was not 2xx (bench.chaos.Ledger.rejected, whole), also when the soak fails.
"""

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import bench.chaos as chaos


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "--every-refusal":
        raise SystemExit("usage: python -m tests.support.chaos_soak --every-refusal FILE <bench.chaos arguments>")
    refusals_file, bench_argv = Path(argv[1]), argv[2:]
    ledgers: list[chaos.Ledger] = []

    class KeptLedger(chaos.Ledger):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            ledgers.append(self)

    chaos.Ledger = KeptLedger  # type: ignore[misc]  # the soak builds its one Ledger through the module's name
    try:
        return chaos.main(bench_argv)
    finally:
        every: Counter[str] = Counter()
        for ledger in ledgers:
            with ledger.lock:
                every.update(ledger.rejected)
        refusals_file.write_text(json.dumps(dict(every)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
