"""The L1 data fee of OP-stack chains (Base): read from the GasPriceOracle predeploy, counted when the worker checks
that the owner can pay and against the per-transaction cost cap. On Anvil, with a stand-in of the predeploy
(tests/support/contracts/GasPriceOracle.sol: the predeploy's Ecotone formula) placed at its address with anvil_setCode."""

import json
import shutil
import subprocess
import time
from typing import Any

import pytest

from chalicelib.adapters.ethereum import GAS_PRICE_ORACLE, RegistryChain
from devstack.anvil import DEV_ACCOUNTS
from devstack.stack import REPO_ROOT
from dmtp_protocol.ethsig import keccak256
from tests.conftest import CHAIN_ID

# Base mainnet's Ecotone scalars (the L1Block predeploy's baseFeeScalar and blobBaseFeeScalar).
BASE_FEE_SCALAR = 2269
BLOB_BASE_FEE_SCALAR = 1055762


@pytest.fixture(scope="module")
def oracle_runtime_source() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (REPO_ROOT / "node_modules" / "solc").is_dir():
        pytest.skip("needs node and `npm ci` (solc)")
    request = {"path": "tests/support/contracts/GasPriceOracle.sol", "contracts": ["GasPriceOracle"]}
    done = subprocess.run(
        [node, "tests/support/js/compile_solidity.js"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)["GasPriceOracle"]


def transact(anvil: Any, call: dict[str, Any]) -> dict[str, Any]:
    tx_hash = anvil.rpc("eth_sendTransaction", [{"from": DEV_ACCOUNTS[2][0], **call}])
    deadline = time.monotonic() + 15
    while (receipt := anvil.rpc("eth_getTransactionReceipt", [tx_hash])) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receipt is not None and int(receipt["status"], 16) == 1
    return receipt


def set_fees(anvil: Any, l1_base_fee: int, blob_base_fee: int) -> None:
    args = b"".join(
        value.to_bytes(32, "big") for value in (l1_base_fee, blob_base_fee, BASE_FEE_SCALAR, BLOB_BASE_FEE_SCALAR)
    )
    selector = keccak256(b"setFees(uint256,uint256,uint32,uint32)")[:4]
    transact(anvil, {"to": GAS_PRICE_ORACLE, "data": "0x" + (selector + args).hex()})


def ecotone_fee(unsigned_tx: bytes, l1_base_fee: int, blob_base_fee: int) -> int:
    """The predeploy's formula, written out independently of the contract."""
    l1_gas = sum(4 if byte == 0 else 16 for byte in unsigned_tx) + 68 * 16
    return l1_gas * (BASE_FEE_SCALAR * 16 * l1_base_fee + BLOB_BASE_FEE_SCALAR * blob_base_fee) // (16 * 10**6)


def with_oracle(world: Any, oracle_runtime_source: dict[str, Any]) -> Any:
    """The world's chain with the GasPriceOracle at the predeploy address, and a worker and monitor that ask it."""
    deployed = transact(world.anvil, {"data": oracle_runtime_source["bytecode"]})["contractAddress"]
    world.anvil.rpc("anvil_setCode", [GAS_PRICE_ORACLE, world.anvil.rpc("eth_getCode", [deployed, "latest"])])
    world.chain = RegistryChain(world.anvil.url, world.registry_address, CHAIN_ID, l1_fee_oracle="op-stack")
    return world


@pytest.fixture()
def op_world(worlds, oracle_runtime_source):
    return with_oracle(worlds(), oracle_runtime_source)


def test_the_l1_fee_is_the_predeploys_answer_for_the_unsigned_transaction(op_world):
    set_fees(op_world.anvil, l1_base_fee=12 * 10**9, blob_base_fee=3)
    data = op_world.chain.set_keys_data([op_world.new_key(enqueue=False) for _ in range(5)])
    unsigned = op_world.chain.unsigned(
        nonce=7, to=op_world.registry_address, data=data, gas=200_000, max_fee=10**9, tip=10**6
    )

    fee = op_world.chain.l1_fee(unsigned)

    assert fee == ecotone_fee(unsigned, 12 * 10**9, 3) > 0
    assert op_world.chain.l1_fee_of(data=data, gas=200_000, max_fee=10**9, tip=10**6) >= fee  # any nonce: 4 bytes


def test_a_chain_without_an_oracle_charges_no_l1_fee(op_world):
    set_fees(op_world.anvil, l1_base_fee=12 * 10**9, blob_base_fee=3)
    plain = RegistryChain(op_world.anvil.url, op_world.registry_address, CHAIN_ID)  # L1_FEE_ORACLE=none

    assert plain.l1_fee(b"\x02" + b"\x01" * 300) == 0


def test_an_owner_who_can_pay_the_gas_but_not_the_l1_fee_pauses_the_worker(op_world):
    set_fees(op_world.anvil, l1_base_fee=10**18, blob_base_fee=0)  # ~6 ETH of L1 fee for a one-key setKey
    job = op_world.new_key()
    op_world.anvil.rpc("anvil_setBalance", [op_world.owner, hex(10**18)])  # 1 ETH: plenty for the L2 gas alone
    worker = op_world.worker(max_tx_cost_wei=10**21)

    failed = op_world.deliver(worker)

    assert len(failed) == 1 and op_world.record(job).status == "queued"
    assert "L1 data fee" in op_world.record(job).error and worker.telemetry.value("WorkerPaused") == 1
    assert op_world.chain.mined_nonce(op_world.owner) == 0

    set_fees(op_world.anvil, l1_base_fee=10**9, blob_base_fee=1)  # back to a normal L1
    op_world.settle(op_world.worker(max_tx_cost_wei=10**21), op_world.monitor())
    assert op_world.record(job).status == "confirmed"


def test_a_transaction_whose_gas_and_l1_fee_exceed_the_cost_cap_waits_and_raises_the_fee_cap_alarm(op_world):
    set_fees(op_world.anvil, l1_base_fee=10**16, blob_base_fee=0)  # ~0.06 ETH of L1 fee for a one-key setKey
    job = op_world.new_key()
    worker = op_world.worker(max_tx_cost_wei=10**16)  # 0.01 ETH

    failed = op_world.deliver(worker)

    assert len(failed) == 1 and op_world.record(job).status == "queued"
    assert "over the cap" in op_world.record(job).error and worker.telemetry.value("FeeCapReached") == 1

    op_world.settle(op_world.worker(max_tx_cost_wei=10**18), op_world.monitor())
    assert op_world.record(job).status == "confirmed"


# ---------------------------------------------------------------- the monitor's replacements (fee bumps)


@pytest.fixture()
def stuck_op_world(worlds, oracle_runtime_source):
    """An OP-stack world (normal L1 fees) whose one registration was sent and sits unmined (no automining)."""
    world = with_oracle(worlds(), oracle_runtime_source)
    set_fees(world.anvil, l1_base_fee=10**9, blob_base_fee=1)
    world.anvil.rpc("evm_setAutomine", [False])
    world.job = world.new_key()
    assert world.deliver(world.worker(max_tx_cost_wei=10**18)) == []
    world.item = world.txs.get(world.record(world.job).nonce)
    return world


def set_fees_unmined(world: Any, l1_base_fee: int, blob_base_fee: int) -> None:
    """set_fees on a chain that mines only when asked: the oracle's new fees, with no other pending tx mined."""
    world.anvil.rpc("anvil_dropTransaction", [world.item.latest.tx_hash])  # or it is mined with setFees
    world.anvil.rpc("evm_setAutomine", [True])
    set_fees(world.anvil, l1_base_fee, blob_base_fee)
    world.anvil.rpc("evm_setAutomine", [False])
    world.anvil.rpc("eth_sendRawTransaction", [world.item.raw])  # back in the pool, unmined


def test_a_replacement_whose_gas_and_l1_fee_exceed_the_cost_cap_is_not_sent_and_raises_the_fee_cap_alarm(
    stuck_op_world,
):
    world = stuck_op_world
    set_fees_unmined(world, l1_base_fee=10**16, blob_base_fee=0)  # ~0.06 ETH of L1 fee; the L2 gas costs ~0.0001 ETH
    gas_only = world.item.gas * world.item.latest.max_fee * 2  # more than a +10% bump's gas
    monitor = world.monitor(bump_after_s=0, max_tx_cost_wei=10**16)  # 0.01 ETH: gas alone fits, gas and L1 fee do not
    assert gas_only < 10**16

    report = monitor.run_once()

    assert (report.replaced, report.fee_capped) == (0, 1) and monitor.telemetry.value("FeeCapReached") == 1
    assert world.txs.get(world.item.nonce).attempts == world.item.attempts
    assert world.chain.known(world.item.latest.tx_hash)


def test_a_replacement_within_the_cost_cap_counting_the_l1_fee_is_sent(stuck_op_world):
    world = stuck_op_world
    monitor = world.monitor(bump_after_s=0, max_tx_cost_wei=10**16)  # the same cap, a normal L1 fee

    report = monitor.run_once()

    assert (report.replaced, report.fee_capped) == (1, 0)
    first, second = world.txs.get(world.item.nonce).attempts
    l1_fee = world.chain.l1_fee(
        world.chain.unsigned(
            nonce=world.item.nonce,
            to=world.registry_address,
            data=world.item.data,
            gas=world.item.gas,
            max_fee=second.max_fee,
            tip=second.tip,
        )
    )
    assert second.max_fee * 10 >= first.max_fee * 11 and l1_fee > 0
    assert world.item.gas * second.max_fee + l1_fee <= 10**16
    world.mine()
    world.monitor().run_once()
    assert (world.record(world.job).status, world.record(world.job).tx_hash) == ("confirmed", second.tx_hash)


def test_the_cost_cap_lowers_a_replacements_max_fee_to_what_the_l1_fee_leaves_room_for(stuck_op_world):
    world = stuck_op_world
    first = world.item.latest
    l1_fee = world.chain.l1_fee_of(
        data=world.item.data, gas=world.item.gas, max_fee=first.max_fee * 10, tip=first.tip * 10
    )
    room = world.item.gas * (first.max_fee * 12 // 10)  # room for +20% per gas, not for the market's 2 * base fee + tip
    monitor = world.monitor(bump_after_s=0, max_tx_cost_wei=room + l1_fee, max_fee_cap_wei=first.max_fee * 100)
    world.anvil.rpc("anvil_setNextBlockBaseFeePerGas", [hex(first.max_fee * 2)])  # the market asks for far more
    world.mine()  # a block without the stuck tx (priced under the new base fee)

    report = monitor.run_once()

    second = world.txs.get(world.item.nonce).attempts[-1]
    assert report.replaced == 1 and report.fee_capped == 1
    assert first.max_fee * 11 <= second.max_fee * 10 < first.max_fee * 2 * 10  # +10% at least, under the market's ask
    second_l1_fee = world.chain.l1_fee_of(
        data=world.item.data, gas=world.item.gas, max_fee=second.max_fee, tip=second.tip
    )
    assert world.item.gas * second.max_fee + second_l1_fee <= monitor.policy.max_tx_cost_wei
