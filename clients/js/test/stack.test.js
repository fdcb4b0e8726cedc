// Against the running local stack (chalice local + worker + Anvil with DMTPKeys + moto + pinning service), started
// by tests/e2e/test_js_client.py, which passes DMTP_API_URL, DMTP_RPC_URL, DMTP_CHAIN_ID and DMTP_REGISTRY.
// A wallet registers, the worker confirms it on chain, verify() reads the contract and says usable; then revoked;
// a smart-contract wallet registers through ERC-1271.
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { EthersProvider } from './ethers-provider.js';
import { ethers } from './helpers.js';
import { DomainMismatchError, RegistryClient, RegistryError, checkWallet, openPrivateKey, verify } from '../src/index.js';

const env = process.env;
const configured = Boolean(env.DMTP_API_URL && env.DMTP_RPC_URL && env.DMTP_CHAIN_ID && env.DMTP_REGISTRY);
const skip = configured ? false : 'needs DMTP_API_URL, DMTP_RPC_URL, DMTP_CHAIN_ID, DMTP_REGISTRY (run by tests/e2e/test_js_client.py)';
const PINS = { chainId: Number(env.DMTP_CHAIN_ID), registry: env.DMTP_REGISTRY };
const WAIT = { timeoutMs: 60000, intervalMs: 200 };

const provider = new EthersProvider(ethers.Wallet.createRandom().privateKey, { chainId: PINS.chainId });
const wallet = provider.address;
const client = configured ? new RegistryClient({ apiUrl: env.DMTP_API_URL }) : null;
const trust = { ...PINS, wallet, rpcUrl: env.DMTP_RPC_URL, log: client ?? undefined }; // log: where inclusion proofs come from
let first;

test('register (eip712, the default envelope: signature-derived for this EOA) → confirmed on chain → verify says usable', { skip }, async () => {
  first = await client.register({ provider, wallet, ...PINS });
  assert.equal(first.answer.version, 1);
  assert.equal(first.body.DMTPpriKey.version, 'dmtp-eip191-aes256gcm-hkdf-v1');
  assert.ok(['pinned', 'queued', 'submitted', 'confirmed'].includes(first.answer.status), first.answer.status);
  const confirmed = await client.waitForStatus(wallet, { version: 1, ...WAIT });
  assert.equal(confirmed.status, 'confirmed');

  const result = await verify(confirmed, trust);
  assert.equal(result.reason, null, result.detail);
  assert.equal(result.usable, true);
  assert.equal(result.key.publicKey, first.key.publicKey);
  assert.equal(result.key.signerMethod, 'ecdsa');
  // the worker anchored the log head with the key: the record's leaf is proven against the contract's logHead()
  assert.equal(result.log.included, true);
  assert.ok(result.log.head.size > confirmed.log.leafIndex);
});

test('the same answer is not usable without an RPC, nor for another registry', { skip }, async () => {
  const answer = await client.lookup(wallet);
  assert.equal((await verify(answer, { ...trust, rpcUrl: undefined })).reason, 'no-rpc');
  assert.equal((await verify(answer, { ...trust, registry: '0x' + '11'.repeat(20) })).reason, 'domain-mismatch');
});

test('the wallet opens its DMTP private key from the lookup answer (personal_sign of the unlock text)', { skip }, async () => {
  const answer = await client.lookup(wallet);
  assert.equal(await openPrivateKey(answer, { provider, wallet }), first.key.privateKey);
});

test('a stale version is refused by the registry with its problem+json code', { skip }, async () => {
  await assert.rejects(client.register({ provider, wallet, ...PINS, version: 1, signatureType: 'eip191' }), (error) =>
    error instanceof RegistryError && error.status === 409 && error.code === 'version-conflict' && error.problem.currentVersion === 1);
});

test('register refuses when the caller pins another chain than the registry serves', { skip }, async () => {
  await assert.rejects(client.register({ provider, wallet, chainId: PINS.chainId + 1, registry: PINS.registry }), DomainMismatchError);
});

test('revoke → confirmed on chain → verify says revoked', { skip }, async () => {
  const { answer } = await client.revoke({ provider, wallet, ...PINS, signatureType: 'eip191' });
  assert.equal(answer.revoked, true);
  const after = await client.waitForStatus(wallet, { version: 2, ...WAIT });
  assert.equal(after.revocation.status, 'confirmed');
  const result = await verify(after, trust);
  assert.equal(result.usable, false);
  assert.equal(result.reason, 'revoked');
  assert.equal(result.checks.onchain, true);
});

test('a new key (eip191, the x25519 envelope by name, secp256k1) after the revocation is usable and opens through eth_decrypt; history, asOf and batch lookup agree', { skip }, async () => {
  const { key } = await client.register({ provider, wallet, ...PINS, signatureType: 'eip191', envelope: 'x25519-xsalsa20-poly1305', keyType: 'secp256k1' });
  const confirmed = await client.waitForStatus(wallet, { version: 3, ...WAIT });
  const result = await verify(confirmed, trust);
  assert.equal(result.reason, null, result.detail);
  assert.equal(result.key.keyType, 'secp256k1');
  assert.equal(await openPrivateKey(confirmed, { provider, wallet }), key.privateKey);

  const history = await client.history(wallet, { limit: 10 });
  assert.deepEqual(history.items.map((item) => [item.version, item.kind]), [[3, 'key'], [2, 'revocation'], [1, 'key']]);
  const earlier = await client.lookup(wallet, { asOf: first.answer.createdAt });
  assert.equal(earlier.version, 1);
  const batch = await client.batchLookup([wallet.toLowerCase(), '0x' + '99'.repeat(20)]);
  assert.equal(batch.countFound, 1);
  const entry = batch.results[0];
  assert.equal(entry.found, true);
  assert.equal((await verify(entry, trust)).usable, true);
  assert.equal((await verify(earlier, trust)).reason, 'not-current');
});

// ---------------------------------------------------------------- ERC-1271: a smart-contract wallet


const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEPLOYER = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'; // Anvil dev account 2, unlocked; not the registry's

async function rpc(method, params) {
  const response = await fetch(env.DMTP_RPC_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const { result, error } = await response.json();
  if (error) throw new Error(`${method}: ${error.message}`);
  return result;
}

/** tests/support/contracts/SmartWallet.sol (isValidSignature answers the magic value for its owner's signatures), deployed. */
async function deploySmartWallet(owner) {
  const compiled = spawnSync(process.execPath, ['tests/support/js/compile_solidity.js'], {
    cwd: REPO_ROOT, input: JSON.stringify({ path: 'tests/support/contracts/SmartWallet.sol', contracts: ['SmartWallet'] }), encoding: 'utf8',
  });
  assert.equal(compiled.status, 0, compiled.stdout + compiled.stderr);
  const { bytecode } = JSON.parse(compiled.stdout).SmartWallet;
  const constructorArgument = owner.slice(2).toLowerCase().padStart(64, '0');
  const txHash = await rpc('eth_sendTransaction', [{ from: DEPLOYER, data: bytecode + constructorArgument }]);
  for (let i = 0; i < 100; i++) {
    const receipt = await rpc('eth_getTransactionReceipt', [txHash]);
    if (receipt) {
      assert.equal(Number(receipt.status), 1);
      return ethers.getAddress(receipt.contractAddress);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the SmartWallet deployment was not mined');
}

test('a smart-contract wallet registers through its owner key, its key sealed under a passphrase by default; verify asks ERC-1271 through the RPC and says usable', { skip }, async () => {
  const owner = ethers.Wallet.createRandom();
  const contractWallet = await deploySmartWallet(owner.address);
  const signer = new EthersProvider(owner.privateKey, { chainId: PINS.chainId, actAs: contractWallet });
  await assert.rejects(client.register({ provider: signer, wallet: contractWallet, ...PINS }), /pass `passphrase`/);
  const passphrase = 'tulip ladder ochre gravity 42 zeppelin';
  const { answer, key, body } = await client.register({ provider: signer, wallet: contractWallet, ...PINS, passphrase });
  assert.equal(body.DMTPpriKey.version, 'dmtp-scrypt-aes256gcm-v1');
  assert.equal(answer.signerCheck.method, 'erc1271');
  const confirmed = await client.waitForStatus(contractWallet, { version: 1, ...WAIT });

  const result = await verify(confirmed, { ...PINS, wallet: contractWallet, rpcUrl: env.DMTP_RPC_URL, log: client });
  assert.equal(result.reason, null, result.detail);
  assert.equal(result.key.signerMethod, 'erc1271');
  assert.equal(result.key.publicKey, key.publicKey);
  assert.equal(await openPrivateKey(confirmed, { passphrase }), key.privateKey);
  const impostor = await deploySmartWallet(ethers.Wallet.createRandom().address); // a contract wallet of another owner
  const moved = { ...confirmed, bundle: { ...confirmed.bundle, wallet: impostor }, cid: undefined, wallet: impostor, proof: undefined };
  assert.equal((await verify(moved, { ...PINS, wallet: impostor, rpcUrl: env.DMTP_RPC_URL })).reason, 'bad-signature');
});

// ---------------------------------------------------------------- a wallet watches its own key

/** A Web Storage stand-in: the owner's record of her own writes, and the watch cursor. */
class MemoryStore {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
}

/** tests/support/behind_the_back.py: the registry stores and queues key `version` for `wallet` without the wallet. */
function registerBehindTheBack(wallet, version) {
  const done = spawnSync(env.DMTP_PYTHON, ['-m', 'tests.support.behind_the_back', wallet, String(version)], { cwd: REPO_ROOT, encoding: 'utf8', env });
  assert.equal(done.status, 0, done.stdout + done.stderr);
  return JSON.parse(done.stdout.trim().split('\n').at(-1));
}

test('checkWallet reports a key the registry registered behind the owner\'s back with its transaction and leaf; her own writes never', { skip }, async () => {
  const owner = new EthersProvider(ethers.Wallet.createRandom().privateKey, { chainId: PINS.chainId });
  const store = new MemoryStore();
  const watching = { ...PINS, rpcUrl: env.DMTP_RPC_URL, log: client, store };
  await client.register({ provider: owner, wallet: owner.address, ...PINS, store });
  await client.waitForStatus(owner.address, { version: 1, ...WAIT });
  const ownOnly = await checkWallet(owner.address, watching);
  assert.equal(ownOnly.clean, true, JSON.stringify(ownOnly));

  registerBehindTheBack(owner.address, 2);
  const rogue = await client.waitForStatus(owner.address, { version: 2, ...WAIT });
  assert.ok(rogue.txHash && Number.isSafeInteger(rogue.log.leafIndex), JSON.stringify(rogue));
  const changed = [];
  const report = await checkWallet(owner.address, { ...watching, onChange: (r) => changed.push(r) });

  assert.deepEqual(report.changes.map((c) => [c.kind, c.version, c.reason, c.txHash, c.blockNumber, c.leafIndex]),
    [['key', 2, 'not-recorded', rogue.txHash, rogue.blockNumber, rogue.log.leafIndex]]);
  assert.deepEqual(changed, [report]);

  // she revokes the key she did not make, with her store: her own write, not reported; the rogue key not again
  await client.revoke({ provider: owner, wallet: owner.address, ...PINS, store });
  const revoked = await client.waitForStatus(owner.address, { version: 3, ...WAIT });
  assert.equal(revoked.revocation.status, 'confirmed');
  const after = await checkWallet(owner.address, watching);
  assert.equal(after.clean, true, JSON.stringify(after));
});
