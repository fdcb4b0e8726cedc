"""Each port's implementations, checked against the port by mypy (`make lint`); nothing imports this module.

The ports are typing.Protocol (chalicelib/chain/ports.py, chalicelib/api/ports.py): a class conforms by its
methods alone, so nothing at run time notices an adapter or a fake drifting from its port until a use case calls
the method that drifted. Each function below returns an implementation as its port: mypy fails here, naming the
method, as soon as a signature stops matching. Add a line for every new adapter or fake.
"""

from chalicelib.adapters.control import WorkerControl
from chalicelib.adapters.ethereum import RegistryChain
from chalicelib.adapters.jobs import JobQueue
from chalicelib.adapters.kms_signer import KmsSigner
from chalicelib.adapters.nonces import NonceManager
from chalicelib.adapters.pinning import PinataPinner
from chalicelib.adapters.quotas import Quotas
from chalicelib.adapters.records import RecordStore
from chalicelib.adapters.rpc import JsonRpc
from chalicelib.adapters.transactions import TxStore
from chalicelib.adapters.translog import TransparencyLog
from chalicelib.api import ports as api_ports
from chalicelib.api.read_limits import ReadLimiter
from chalicelib.api.signatures import SignatureVerifier
from chalicelib.chain import ports as chain_ports
from tests.support import api_fakes
from tests.support.fakes import (
    FakeChain,
    FakeControl,
    FakeNonces,
    FakePinner,
    FakeQueue,
    FakeRecords,
    FakeSigner,
    FakeTxStore,
)

# ---------------------------------------------------------------------------------------------------- the chain side
# The adapters (chalicelib/adapters), as bootstrap.py wires them into the worker, monitor and sweeper.


def records_store(adapter: RecordStore) -> chain_ports.Records:
    return adapter


def nonce_manager(adapter: NonceManager) -> chain_ports.Nonces:
    return adapter


def tx_store(adapter: TxStore) -> chain_ports.Transactions:
    return adapter


def kms_signer(adapter: KmsSigner) -> chain_ports.Signer:
    return adapter


def registry_chain(adapter: RegistryChain) -> chain_ports.Chain:
    return adapter


def sqs_job_queue(adapter: JobQueue) -> chain_ports.JobQueue:
    return adapter


def worker_control(adapter: WorkerControl) -> chain_ports.Control:
    return adapter


def transparency_log_anchors(adapter: TransparencyLog) -> chain_ports.AnchorLog:
    return adapter


# The in-memory fakes (tests/support/fakes.py) the deterministic simulation runs the real worker and monitor on.


def fake_chain_pinner(fake: FakePinner) -> chain_ports.Pinner:
    return fake


def fake_records(fake: FakeRecords) -> chain_ports.Records:
    return fake


def fake_nonces(fake: FakeNonces) -> chain_ports.Nonces:
    return fake


def fake_tx_store(fake: FakeTxStore) -> chain_ports.Transactions:
    return fake


def fake_signer(fake: FakeSigner) -> chain_ports.Signer:
    return fake


def fake_chain(fake: FakeChain) -> chain_ports.Chain:
    return fake


def fake_queue(fake: FakeQueue) -> chain_ports.JobQueue:
    return fake


def fake_control(fake: FakeControl) -> chain_ports.Control:
    return fake


# ---------------------------------------------------------------------------------------------------- the API side
# The adapters, as bootstrap.py wires them into the registry and the log queries. (The API's in-memory fakes,
# tests/support/api_fakes.py, belong here too, each against its port.)


def api_records_store(adapter: RecordStore) -> api_ports.Records:
    return adapter


def transparency_log_reader(adapter: TransparencyLog) -> api_ports.LogReader:
    return adapter


def api_sqs_job_queue(adapter: JobQueue) -> api_ports.JobQueue:
    return adapter


def pinata_pinner(adapter: PinataPinner) -> chain_ports.Pinner:
    return adapter


def quotas_pin_budget(adapter: Quotas) -> chain_ports.PinBudget:
    return adapter


def signature_verifier(adapter: SignatureVerifier) -> api_ports.SignatureChecker:
    return adapter


def quotas(adapter: Quotas) -> api_ports.WriteBudgets:
    return adapter


def json_rpc(adapter: JsonRpc) -> api_ports.EthRpc:
    return adapter


# ---------------------------------------------------------------------------------------------------- the API's fakes
# tests/support/api_fakes.py, which the API use cases' unit tests run on.


def fake_api_records(fake: api_fakes.FakeRecords) -> api_ports.Records:
    return fake


def fake_log_reader(fake: api_fakes.FakeLog) -> api_ports.LogReader:
    return fake


def fake_api_job_queue(fake: api_fakes.FakeJobQueue) -> api_ports.JobQueue:
    return fake


def fake_signature_checker(fake: api_fakes.FakeSignatureChecker) -> api_ports.SignatureChecker:
    return fake


def fake_eth_rpc(fake: api_fakes.FakeEthRpc) -> api_ports.EthRpc:
    return fake


def fake_write_budgets(fake: api_fakes.FakeWriteBudgets) -> api_ports.WriteBudgets:
    return fake


def fake_read_counts(fake: api_fakes.FakeReadCounts) -> api_ports.ReadCounts:
    return fake


def quotas_read_counts(adapter: Quotas) -> api_ports.ReadCounts:
    return adapter


def read_limiter(adapter: ReadLimiter) -> api_ports.ReadLimits:
    return adapter
