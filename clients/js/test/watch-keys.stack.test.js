// watchKeys against the running local stack (chalice local + worker + Anvil with DMTPKeys + moto + pinning service),
// started by tests/e2e/test_watch_keys.py (DMTP_API_URL, DMTP_RPC_URL, DMTP_CHAIN_ID, DMTP_REGISTRY). Two watchers
// follow one wallet from "now": one on the chain's events through an rpcUrl, one on the log's leaves with an EIP-1193
// provider as its chain access. The wallet registers, rotates and revokes; each watcher delivers each change once,
// after the real verify() accepted it. Prints how long each change took to arrive (from the write's POST).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryClient, watchKeys } from '../src/index.js';
import { PrivateKeyProvider } from '../src/testing/private-key-provider.js';
import { JsonRpc } from '../src/rpc.js';
import { ethers } from './helpers.js';

const env = process.env;
const configured = Boolean(env.DMTP_API_URL && env.DMTP_RPC_URL && env.DMTP_CHAIN_ID && env.DMTP_REGISTRY);
const skip = configured ? false : 'needs DMTP_API_URL, DMTP_RPC_URL, DMTP_CHAIN_ID, DMTP_REGISTRY (run by tests/e2e/test_watch_keys.py)';
const PINS = { chainId: Number(env.DMTP_CHAIN_ID), registry: env.DMTP_REGISTRY };
const WITHIN_MS = 90000;

/** An EIP-1193 provider over the node's URL, as a dapp's own transport would be (a node error keeps its code). */
function urlProvider(url) {
  const rpc = new JsonRpc(url);
  return {
    async request({ method, params }) {
      return rpc.request(method, params ?? []);
    },
  };
}

/** Collects one watcher's deliveries; `next(predicate)` resolves with the first delivery that matches. */
function collector() {
  const seen = [];
  const waiting = [];
  return {
    seen,
    deliver(change) {
      seen.push({ ...change, at: Date.now() });
      for (const w of [...waiting]) if (w.match(change)) w.resolve(seen.at(-1));
    },
    next(match) {
      const found = seen.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching change within ${WITHIN_MS} ms; seen: ${JSON.stringify(seen.map((c) => [c.kind, c.version]))}`)), WITHIN_MS);
        waiting.push({ match, resolve: (value) => { clearTimeout(timer); resolve(value); } });
      });
    },
  };
}

test('watchers on the chain and on the log each deliver a registration, a rotation and a revocation once, verified', { skip, timeout: 4 * WITHIN_MS }, async () => {
  const client = new RegistryClient({ apiUrl: env.DMTP_API_URL });
  const provider = new PrivateKeyProvider(ethers.Wallet.createRandom().privateKey, { chainId: PINS.chainId });
  const wallet = provider.address;
  const bystander = new PrivateKeyProvider(ethers.Wallet.createRandom().privateKey, { chainId: PINS.chainId });
  const onChain = collector();
  const inLog = collector();
  const problems = [];
  const errors = [];
  const common = { ...PINS, apiUrl: env.DMTP_API_URL, intervalMs: 250, onProblem: (p) => problems.push(p), onError: (e) => errors.push(e) };
  const chainWatch = watchKeys([wallet], onChain.deliver, { ...common, rpcUrl: env.DMTP_RPC_URL });
  const logWatch = watchKeys([wallet], inLog.deliver, { ...common, source: 'log', provider: urlProvider(env.DMTP_RPC_URL) });
  await Promise.all([chainWatch.ready, logWatch.ready]);
  const timings = {};
  try {
    // Another wallet's key: never delivered to these watchers.
    await client.register({ provider: bystander, wallet: bystander.address, ...PINS });

    let sent = Date.now();
    const first = await client.register({ provider, wallet, ...PINS });
    const [a1, b1] = await Promise.all([onChain.next((c) => c.version === 1), inLog.next((c) => c.version === 1)]);
    timings.register = { chain: a1.at - sent, log: b1.at - sent };
    for (const change of [a1, b1]) {
      assert.deepEqual([change.kind, change.usable, change.key.publicKey, change.verification.log.included], ['key', true, first.key.publicKey, true]);
    }
    const record = await client.lookup(wallet); // the worker sequences the leaf: the POST's answer has none yet
    assert.equal(a1.event.txHash, record.txHash);
    assert.equal(b1.leafIndex, record.log.leafIndex);

    sent = Date.now();
    const second = await client.register({ provider, wallet, ...PINS, signatureType: 'eip191' });
    const [a2, b2] = await Promise.all([onChain.next((c) => c.version === 2), inLog.next((c) => c.version === 2)]);
    timings.rotate = { chain: a2.at - sent, log: b2.at - sent };
    for (const change of [a2, b2]) assert.deepEqual([change.kind, change.usable, change.key.publicKey], ['key', true, second.key.publicKey]);

    sent = Date.now();
    await client.revoke({ provider, wallet, ...PINS });
    const [a3, b3] = await Promise.all([onChain.next((c) => c.kind === 'revocation'), inLog.next((c) => c.kind === 'revocation')]);
    timings.revoke = { chain: a3.at - sent, log: b3.at - sent };
    for (const change of [a3, b3]) {
      assert.deepEqual([change.version, change.usable, change.verification.reason, change.verification.checks.onchain, change.key.version], [3, false, 'revoked', true, 2]);
    }

    await Promise.all([chainWatch.poll(), logWatch.poll()]);
    assert.deepEqual(onChain.seen.map((c) => [c.kind, c.version]), [['key', 1], ['key', 2], ['revocation', 3]]);
    assert.deepEqual(inLog.seen.map((c) => [c.kind, c.version]), [['key', 1], ['key', 2], ['revocation', 3]]);
    assert.ok(onChain.seen.concat(inLog.seen).every((c) => c.wallet === wallet), 'only the watched wallet');
    assert.deepEqual(problems, []);
    console.log(`watchKeys timings (ms from POST to delivery): ${JSON.stringify(timings)}`);
  } finally {
    chainWatch.stop();
    logWatch.stop();
  }
});
