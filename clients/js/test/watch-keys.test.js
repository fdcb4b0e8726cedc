// watchKeys' decisions against a scripted chain (KeyUpdated/KeyRevoked events over JSON-RPC, through a fake fetch or
// an EIP-1193 provider), a scripted registry (lookup, history, the log's leaves) and a scripted verify(): which changes
// are delivered, when, and which never are. The real chain, registry and verify() are in watch-keys.stack.test.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WatchError, cidOfDigest, eip1193Fetch, watchKeys } from '../src/index.js';
import { fromHex, to0x, toHex, utf8 } from '../src/bytes.js';
import { RegistryError } from '../src/errors.js';
import { keccak256 } from '../src/ethsig.js';
import { LEAF_KIND_KEY, LEAF_KIND_REVOCATION, leafBytes } from '../src/log.js';
import { word } from '../src/rpc.js';

const CHAIN_ID = 31337;
const REGISTRY = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const KEY_UPDATED = to0x(keccak256(utf8('KeyUpdated(address,bytes32,uint64)')));
const KEY_REVOKED = to0x(keccak256(utf8('KeyRevoked(address,bytes32,uint64)')));
const ALICE = '0x' + 'a1'.repeat(20);
const BOB = '0x' + 'b0'.repeat(20);
const CAROL = '0x' + 'c4'.repeat(20);
const hex32 = (text) => to0x(keccak256(utf8(text)));
const topicOf = (wallet) => '0x' + '00'.repeat(12) + wallet.slice(2).toLowerCase();

/**
 * One chain, one registry: `register` a key (the registry's record, its leaf, and unless `onChain: false` its
 * KeyUpdated in a new block), `revoke` it (KeyRevoked, the revocation's leaf). `verdicts` scripts verify(): by
 * `wallet:version`, a result other than "usable" (or a function of the answer).
 */
class World {
  constructor() {
    this.block = 10;
    this.events = [];
    this.leaves = [];
    this.records = new Map(); // wallet (lowercase) → records, oldest first
    this.verdicts = new Map();
    this.verified = []; // [answer, options] of each verify() call
    this.rpcCalls = [];
    this.chainId = CHAIN_ID;
    this.digests = new Map(); // cid → digest
  }

  register(wallet, version, { onChain = true } = {}) {
    const digest = hex32(`${wallet} key ${version}`);
    const record = { wallet, version, kind: 'key', cid: cidOfDigest(fromHex(digest)), status: onChain ? 'confirmed' : 'queued', bundle: { version }, revoked: false, revocation: null, log: { leafIndex: this.leaves.length } };
    this.digests.set(record.cid, digest);
    const list = this.records.get(wallet.toLowerCase()) ?? [];
    list.push(record);
    this.records.set(wallet.toLowerCase(), list);
    this.leaves.push(leafBytes(LEAF_KIND_KEY, wallet, version, fromHex(digest)));
    if (onChain) this.emit(KEY_UPDATED, wallet, digest, version);
    return { digest, record };
  }

  revoke(wallet) {
    const list = this.records.get(wallet.toLowerCase());
    const key = list.filter((r) => r.kind === 'key').at(-1);
    const version = list.at(-1).version + 1;
    const documentHash = hex32(`${wallet} revocation ${version}`);
    key.revoked = true;
    key.revocation = { version, status: 'confirmed' };
    list.push({ wallet, version, kind: 'revocation' });
    this.leaves.push(leafBytes(LEAF_KIND_REVOCATION, wallet, version, fromHex(documentHash)));
    this.emit(KEY_REVOKED, wallet, this.digests.get(key.cid), version); // KeyRevoked names the revoked key's digest
    return { version, documentHash };
  }

  emit(topic, wallet, digest, version) {
    this.block += 1;
    this.events.push({ topic, wallet: wallet.toLowerCase(), digest, version, block: this.block, tx: hex32(`tx ${this.block}`) });
  }

  /** The node: what the fake fetch and the EIP-1193 provider both answer. */
  answer(method, params) {
    this.rpcCalls.push(method);
    if (method === 'eth_chainId') return '0x' + this.chainId.toString(16);
    if (method === 'eth_blockNumber') return '0x' + this.block.toString(16);
    if (method === 'eth_getLogs') {
      const [filter] = params;
      assert.equal(filter.address, REGISTRY);
      assert.deepEqual(filter.topics[0], [KEY_UPDATED, KEY_REVOKED]);
      const from = Number(BigInt(filter.fromBlock));
      const to = Number(BigInt(filter.toBlock));
      return this.events
        .filter((e) => filter.topics[1].includes(topicOf(e.wallet)) && e.block >= from && e.block <= to)
        .map((e) => ({ address: REGISTRY, topics: [e.topic, topicOf(e.wallet)], data: e.digest + toHex(word(e.version)), blockNumber: '0x' + e.block.toString(16), logIndex: '0x0', transactionHash: e.tx, removed: false }));
    }
    throw Object.assign(new Error(`unexpected ${method}`), { code: -32601 });
  }

  fetch = async (url, init) => {
    const { id, method, params } = JSON.parse(init.body);
    return new Response(JSON.stringify({ jsonrpc: '2.0', id, result: this.answer(method, params) }));
  };

  provider = { request: async ({ method, params }) => this.answer(method, params) };

  get log() {
    const world = this;
    const recordsOf = (wallet) => world.records.get(wallet.toLowerCase()) ?? [];
    return {
      async lookup(wallet) {
        const key = recordsOf(wallet).filter((r) => r.kind === 'key').at(-1);
        if (!key) throw new RegistryError({ code: 'not-found', detail: 'none' }, 404);
        return { ...key };
      },
      async history(wallet, { limit, cursor }) {
        const items = recordsOf(wallet).filter((r) => r.version < cursor).reverse().slice(0, limit);
        return { wallet, items: items.map((r) => ({ version: r.version, kind: r.kind, cid: r.cid, status: r.status, document: r.bundle, log: r.log })), nextCursor: null };
      },
      async logHead() {
        return { size: world.leaves.length };
      },
      async logLeaves(start, end) {
        return { start, end, leaves: world.leaves.slice(start, end).map((leaf, i) => ({ index: start + i, leaf: to0x(leaf) })) };
      },
    };
  }

  /** verify(), scripted: usable unless `verdicts` says otherwise for the answer's wallet and version. */
  verify = async (answer, options) => {
    this.verified.push([answer, options]);
    const scripted = this.verdicts.get(`${options.wallet.toLowerCase()}:${answer.version}`);
    const verdict = typeof scripted === 'function' ? scripted(answer) : scripted;
    const key = { wallet: options.wallet, version: answer.version, cid: answer.cid };
    if (!verdict) return { usable: true, reason: null, detail: null, checks: { onchain: true }, key };
    return { usable: false, reason: verdict.reason, detail: verdict.reason, checks: { onchain: verdict.onchain ?? false }, key };
  };
}

function options(world, extra = {}) {
  return { apiUrl: undefined, log: world.log, chainId: CHAIN_ID, registry: REGISTRY, rpcUrl: 'http://rpc.test', fetch: world.fetch, verify: world.verify, intervalMs: 0, ...extra };
}

/** A watcher whose deliveries and problems are collected; polls only when asked (intervalMs 0). */
async function watching(world, wallets, extra = {}) {
  const changes = [];
  const problems = [];
  const watcher = watchKeys(wallets, (change) => changes.push(change), options(world, { onProblem: (p) => problems.push(p), ...extra }));
  await watcher.ready;
  return { watcher, changes, problems };
}

test('a new key of a watched wallet, on chain and verified, is delivered once with its event; earlier ones and other wallets are not', async () => {
  const world = new World();
  world.register(ALICE, 1); // before the watch starts: history, not a change
  const { watcher, changes } = await watching(world, [ALICE, BOB]);
  world.register(CAROL, 1); // not watched
  const { digest } = world.register(ALICE, 2);

  await watcher.poll();
  await watcher.poll();

  assert.equal(changes.length, 1);
  const [change] = changes;
  assert.equal(change.wallet.toLowerCase(), ALICE);
  assert.deepEqual([change.kind, change.version, change.source, change.digest, change.usable], ['key', 2, 'chain', digest, true]);
  assert.deepEqual(change.event, { txHash: hex32(`tx ${world.block}`), blockNumber: world.block, logIndex: 0 });
  assert.equal(change.key.version, 2);
  assert.equal(change.answer.version, 2);
  assert.deepEqual(watcher.cursor(), { source: 'chain', block: world.block + 1 });
});

test('a change is not delivered while verify() fails a check a later poll may pass, and is once it passes', async () => {
  const world = new World();
  const { watcher, changes, problems } = await watching(world, [ALICE]);
  world.register(ALICE, 1);
  world.verdicts.set(`${ALICE}:1`, { reason: 'log-not-anchored-yet' });

  await watcher.poll();
  assert.deepEqual(changes, []);
  world.verdicts.delete(`${ALICE}:1`); // the worker anchored the log
  await watcher.poll();

  assert.deepEqual(changes.map((c) => [c.kind, c.version, c.usable]), [['key', 1, true]]);
  assert.deepEqual(problems, []);
});

test('a change that fails a check no later poll can pass is never delivered, and is reported to onProblem once', async () => {
  const world = new World();
  const { watcher, changes, problems } = await watching(world, [ALICE]);
  world.register(ALICE, 1);
  world.verdicts.set(`${ALICE}:1`, { reason: 'bad-signature' });

  await watcher.poll();
  await watcher.poll();

  assert.deepEqual(changes, []);
  assert.deepEqual(problems.map((p) => [p.wallet.toLowerCase(), p.kind, p.version, p.reason]), [[ALICE, 'key', 1, 'bad-signature']]);
  assert.equal(world.verified.length, 1, 'a final failure is not tried again');
});

test('a key the registry does not serve as current is verified from its /history record', async () => {
  const world = new World();
  const { watcher, changes } = await watching(world, [ALICE]);
  world.register(ALICE, 1);
  world.register(ALICE, 2, { onChain: false }); // accepted, not on chain yet: lookup answers it, the chain says 1

  await watcher.poll();

  assert.deepEqual(changes.map((c) => [c.version, c.answer.version, c.answer.cid]), [[1, 1, world.records.get(ALICE)[0].cid]]);
  assert.deepEqual(world.verified.map(([answer]) => answer.version), [1]);
});

test('a revocation is delivered when verify() finds the contract saying the key is revoked, not on the registry\'s word', async () => {
  const world = new World();
  world.register(ALICE, 1);
  const { watcher, changes } = await watching(world, [ALICE]);
  world.revoke(ALICE);
  world.verdicts.set(`${ALICE}:1`, (answer) => {
    assert.equal(answer.revoked, false, 'the registry\'s revoked flag is not passed to verify()');
    return { reason: 'revoked', onchain: true };
  });

  await watcher.poll();

  assert.deepEqual(changes.map((c) => [c.kind, c.version, c.usable, c.answer.version, c.verification.reason]), [['revocation', 2, false, 1, 'revoked']]);
});

test('a revocation the contract does not hold yet waits', async () => {
  const world = new World();
  world.register(ALICE, 1);
  const { watcher, changes, problems } = await watching(world, [ALICE]);
  world.revoke(ALICE);

  await watcher.poll(); // verify() says usable: the chain does not say revoked

  assert.deepEqual(changes, []);
  assert.deepEqual(problems, []);
});

test('a KeyRevoked of another key than the one the registry serves waits, without asking verify() about the wrong key', async () => {
  const world = new World();
  world.register(ALICE, 1);
  const { watcher, changes, problems } = await watching(world, [ALICE]);
  world.emit(KEY_REVOKED, ALICE, hex32('a key the registry never served'), 2);

  await watcher.poll();

  assert.deepEqual(changes, []);
  assert.deepEqual(problems, []);
  assert.deepEqual(world.verified, []);
});

test('with an EIP-1193 provider and no rpcUrl, the events and verify()\'s reads go through the provider', async () => {
  const world = new World();
  const { watcher, changes } = await watching(world, [ALICE], { rpcUrl: undefined, fetch: undefined, provider: world.provider });
  world.register(ALICE, 1);

  await watcher.poll();

  assert.equal(changes.length, 1);
  assert.ok(world.rpcCalls.includes('eth_getLogs'));
  const [, verifyOptions] = world.verified[0];
  assert.equal(verifyOptions.rpcUrl, 'eip1193:provider');
  const answer = await (await verifyOptions.fetch(verifyOptions.rpcUrl, { body: JSON.stringify({ id: 7, method: 'eth_blockNumber', params: [] }) })).json();
  assert.deepEqual(answer, { jsonrpc: '2.0', id: 7, result: '0x' + world.block.toString(16) });
});

test('eip1193Fetch hands a provider error with a code back as the node\'s JSON-RPC error, and any other as no answer', async () => {
  const refusing = eip1193Fetch({ request: async () => { throw Object.assign(new Error('execution reverted'), { code: 3 }); } });
  const failing = eip1193Fetch({ request: async () => { throw new TypeError('fetch failed'); } });
  const body = JSON.stringify({ id: 1, method: 'eth_call', params: [] });

  assert.deepEqual(await (await refusing('x', { body })).json(), { jsonrpc: '2.0', id: 1, error: { code: 3, message: 'execution reverted' } });
  await assert.rejects(failing('x', { body }), /fetch failed/);
});

test('source log: the wallets\' leaves after the cursor are changes, delivered once verified; a newer one replaces a waiting one', async () => {
  const world = new World();
  world.register(ALICE, 1);
  const { watcher, changes } = await watching(world, [ALICE], { source: 'log' });
  assert.deepEqual(watcher.cursor(), { source: 'log', leaf: 1 });
  world.register(ALICE, 2);
  world.register(BOB, 1);
  world.verdicts.set(`${ALICE}:2`, { reason: 'not-onchain' });
  await watcher.poll();
  assert.deepEqual(changes, []);
  world.register(ALICE, 3);
  world.verdicts.set(`${ALICE}:3`, { reason: 'log-not-anchored-yet' });
  await watcher.poll();
  world.verdicts.delete(`${ALICE}:3`);

  await watcher.poll();

  assert.deepEqual(changes.map((c) => [c.source, c.kind, c.version, c.leafIndex, c.event]), [['log', 'key', 3, 3, null]]);
  assert.deepEqual(watcher.cursor(), { source: 'log', leaf: 4 });
});

test('a cursor passed back resumes where the last watcher stopped', async () => {
  const world = new World();
  const first = await watching(world, [ALICE]);
  const cursor = first.watcher.cursor();
  first.watcher.stop();
  world.register(ALICE, 1);

  const { watcher, changes } = await watching(world, [ALICE], { cursor });

  assert.deepEqual(changes.map((c) => c.version), [1]);
  watcher.stop();
});

test('an RPC on another chain: the first poll fails with chain-mismatch, through ready and onError', async () => {
  const world = new World();
  world.chainId = 1;
  const errors = [];
  const watcher = watchKeys([ALICE], () => assert.fail('no change'), options(world, { onError: (e) => errors.push(e) }));

  await assert.rejects(watcher.ready, (error) => error instanceof WatchError && error.code === 'chain-mismatch');
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(errors.map((e) => e.code), ['chain-mismatch']);
});

test('stop() ends the polling', async () => {
  const world = new World();
  const watcher = watchKeys([ALICE], () => {}, options(world, { intervalMs: 5 }));
  await watcher.ready;
  const deadline = Date.now() + 5000;
  while (world.rpcCalls.length < 6 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  watcher.stop();
  const asked = world.rpcCalls.length;
  assert.ok(asked >= 6, `it polled again and again (${asked} calls)`);

  await new Promise((resolve) => setTimeout(resolve, 40));

  assert.ok(world.rpcCalls.length <= asked + 2, `${world.rpcCalls.length - asked} calls after stop()`); // at most the poll under way
});

test('a watch needs its pins, a wallet, chain access and the registry', () => {
  const world = new World();
  const codeOf = (fn) => {
    try {
      fn();
    } catch (error) {
      return error.code;
    }
    return null;
  };
  assert.equal(codeOf(() => watchKeys([ALICE], () => {}, options(world, { chainId: undefined }))), 'missing-pin');
  assert.equal(codeOf(() => watchKeys([], () => {}, options(world))), 'missing-pin');
  assert.equal(codeOf(() => watchKeys([ALICE], () => {}, options(world, { rpcUrl: undefined }))), 'missing-pin');
  assert.equal(codeOf(() => watchKeys([ALICE], () => {}, options(world, { log: undefined }))), 'missing-pin');
  assert.equal(codeOf(() => watchKeys(['not an address'], () => {}, options(world))), 'missing-pin');
});
