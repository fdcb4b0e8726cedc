"""The chain worker's sequencing step, for tests that read the log without running a worker: every record of the
given wallets without a leaf gets one (records.RecordStore.sequence), a wallet's versions in order."""

from typing import Any

from chalicelib import bootstrap
from chalicelib.model import Record


def sequence(*wallets: str, records: Any = None) -> list[Record]:
    """Sequence the wallets' unsequenced records (on the stage's record store unless `records` is given)."""
    store = records if records is not None else bootstrap.record_store(bootstrap.settings())
    pending = [r for wallet in wallets for r in sorted(store.all_versions(wallet), key=lambda r: r.version)]
    done: list[Record] = store.sequence([r for r in pending if r.log_index is None])
    return done
