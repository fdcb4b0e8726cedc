// Against the running local stack (chalice local + worker + Anvil with DMTPKeys + moto + pinning service), started
// by tests/test_js_client.py, which passes DMTP_API_URL, DMTP_RPC_URL, DMTP_CHAIN_ID and DMTP_REGISTRY.
// A wallet registers, the worker confirms it on chain, verify() reads the contract and says usable; then revoked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EthersProvider } from './ethers-provider.js';
import { ethers } from './helpers.js';
import { DomainMismatchError, RegistryClient, RegistryError, openPrivateKey, verify } from '../src/index.js';

const env = process.env;
const configured = Boolean(env.DMTP_API_URL && env.DMTP_RPC_URL && env.DMTP_CHAIN_ID && env.DMTP_REGISTRY);
const skip = configured ? false : 'needs DMTP_API_URL, DMTP_RPC_URL, DMTP_CHAIN_ID, DMTP_REGISTRY (run by tests/test_js_client.py)';
const PINS = { chainId: Number(env.DMTP_CHAIN_ID), registry: env.DMTP_REGISTRY };
const WAIT = { timeoutMs: 60000, intervalMs: 200 };

const provider = new EthersProvider(ethers.Wallet.createRandom().privateKey, { chainId: PINS.chainId });
const wallet = provider.address;
const client = configured ? new RegistryClient({ apiUrl: env.DMTP_API_URL }) : null;
const trust = { ...PINS, wallet, rpcUrl: env.DMTP_RPC_URL };
let first;

test('register (eip712, x25519 envelope) → confirmed on chain → verify says usable', { skip }, async () => {
  first = await client.register({ provider, wallet, ...PINS });
  assert.equal(first.answer.version, 1);
  assert.ok(['pinned', 'queued', 'submitted', 'confirmed'].includes(first.answer.status), first.answer.status);
  const confirmed = await client.waitForStatus(wallet, { version: 1, ...WAIT });
  assert.equal(confirmed.status, 'confirmed');

  const result = await verify(confirmed, trust);
  assert.equal(result.reason, null, result.detail);
  assert.equal(result.usable, true);
  assert.equal(result.key.publicKey, first.key.publicKey);
  assert.equal(result.key.signerMethod, 'ecdsa');
});

test('the same answer is not usable without an RPC, nor for another registry', { skip }, async () => {
  const answer = await client.lookup(wallet);
  assert.equal((await verify(answer, { ...trust, rpcUrl: undefined })).reason, 'no-rpc');
  assert.equal((await verify(answer, { ...trust, registry: '0x' + '11'.repeat(20) })).reason, 'domain-mismatch');
});

test('the wallet opens its DMTP private key from the lookup answer (eth_decrypt)', { skip }, async () => {
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

test('a new key (eip191, AES envelope, secp256k1) after the revocation is usable; history, asOf and batch lookup agree', { skip }, async () => {
  const { key } = await client.register({ provider, wallet, ...PINS, signatureType: 'eip191', envelope: 'dmtp-eip191-aes256gcm-hkdf-v1', keyType: 'secp256k1' });
  const confirmed = await client.waitForStatus(wallet, { version: 3, ...WAIT });
  const result = await verify(confirmed, trust);
  assert.equal(result.reason, null, result.detail);
  assert.equal(result.key.keyType, 'secp256k1');
  assert.equal(await openPrivateKey(confirmed, { provider, wallet }), key.privateKey);

  const history = await client.history(wallet, { limit: 10 });
  assert.deepEqual(history.items.map((item) => [item.version, item.kind]), [[3, 'key'], [2, 'revocation'], [1, 'key']]);
  const earlier = await client.lookup(wallet, { asOf: first.answer.createdAt });
  assert.equal(earlier.version, 1);
  const batch = await client.batchLookup([wallet, '0x' + '99'.repeat(20)]);
  assert.equal(batch.countFound, 1);
  const entry = batch.results[0];
  assert.equal(entry.found, true);
  assert.equal((await verify(entry, trust)).usable, true);
  assert.equal((await verify(earlier, trust)).reason, 'not-current');
});
