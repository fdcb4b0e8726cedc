// watchWallet / checkWallet's decisions against a scripted chain (JSON-RPC over a fake fetch: the wallet's
// KeyUpdated/KeyRevoked events, the contract's anchored log head) and a scripted log (GET /log/head, /log/leaves),
// with an in-memory store as the owner's record. The real chain and registry are in stack.test.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VECTORS, WALLET_KEY } from './helpers.js';
import { EthersProvider } from './ethers-provider.js';
import {
  RegistryClient,
  WatchError,
  buildRegistration,
  buildRevocation,
  checkWallet,
  cidOfDigest,
  digestOfCid,
  loadWatch,
  recordRegistration,
  recordRevocation,
  registrationDocumentHash,
  watchWallet,
} from '../src/index.js';
import { fromHex, to0x, toHex, utf8 } from '../src/bytes.js';
import { RegistryError } from '../src/errors.js';
import { keccak256 } from '../src/ethsig.js';
import { LEAF_KIND_KEY, LEAF_KIND_REVOCATION, TreeBuilder, leafBytes, leafHash } from '../src/log.js';
import { selector, word } from '../src/rpc.js';

const { inputs } = VECTORS;
const DOMAIN = { chainId: inputs.chainId, registry: inputs.registry };
const KEY_UPDATED = to0x(keccak256(utf8('KeyUpdated(address,bytes32,uint64)')));
const KEY_REVOKED = to0x(keccak256(utf8('KeyRevoked(address,bytes32,uint64)')));
const LOG_HEAD = '0x' + toHex(selector('logHead()'));
const provider = new EthersProvider(WALLET_KEY, { chainId: inputs.chainId });
const WALLET = provider.address;
const OTHER = '0x' + '42'.repeat(20);

/** A Web Storage stand-in: what the owner's record and the cursor are kept in. */
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

const hex32 = (text) => to0x(keccak256(utf8(text)));

/**
 * A chain and a registry log, scripted: `emit` a KeyUpdated/KeyRevoked event (a new block each), `append` leaves,
 * `anchor` the log's current root in the contract. `hide` leaf indexes from what the registry serves.
 */
class World {
  constructor() {
    this.block = 100;
    this.events = [];
    this.leaves = [];
    this.anchored = { size: 0, root: new TreeBuilder().root() };
    this.served = null; // null: serve this.leaves; else the leaves the registry shows instead
    this.getLogs = [];
    this.leafRequests = [];
    this.chainId = inputs.chainId;
  }

  emit(kind, wallet, digest, version) {
    this.block += 1;
    const tx = hex32(`tx ${this.block}`);
    this.events.push({ kind, wallet: wallet.toLowerCase(), digest, version, block: this.block, tx, logIndex: 0 });
    return tx;
  }

  append(kind, wallet, version, documentHash) {
    this.leaves.push(leafBytes(kind === 'key' ? LEAF_KIND_KEY : LEAF_KIND_REVOCATION, wallet, version, fromHex(documentHash)));
    return this.leaves.length - 1;
  }

  anchor() {
    const builder = new TreeBuilder();
    for (const leaf of this.leaves) builder.append(leafHash(leaf));
    this.anchored = { size: this.leaves.length, root: builder.root() };
    this.block += 1;
  }

  fetch = async (url, init) => {
    const { id, method, params } = JSON.parse(init.body);
    const result = {
      eth_chainId: () => '0x' + this.chainId.toString(16),
      eth_blockNumber: () => '0x' + this.block.toString(16),
      eth_call: () => {
        assert.equal(params[0].data, LOG_HEAD);
        return '0x' + this.anchored.size.toString(16).padStart(64, '0') + toHex(this.anchored.root);
      },
      eth_getLogs: () => {
        const [filter] = params;
        this.getLogs.push([Number(BigInt(filter.fromBlock)), Number(BigInt(filter.toBlock))]);
        const wallet = '0x' + filter.topics[1].slice(-40);
        return this.events
          .filter((e) => e.wallet === wallet && e.block >= Number(BigInt(filter.fromBlock)) && e.block <= Number(BigInt(filter.toBlock)))
          .map((e) => ({
            address: inputs.registry,
            topics: [e.kind === 'key' ? KEY_UPDATED : KEY_REVOKED, filter.topics[1]],
            data: e.digest + toHex(word(e.version)),
            blockNumber: '0x' + e.block.toString(16),
            logIndex: '0x' + e.logIndex.toString(16),
            transactionHash: e.tx,
            removed: false,
          }));
      },
    }[method]();
    return new Response(JSON.stringify({ jsonrpc: '2.0', id, result }), { headers: { 'content-type': 'application/json' } });
  };

  get log() {
    const world = this;
    const shown = () => world.served ?? world.leaves;
    return {
      async logHead() {
        return { size: shown().length };
      },
      async logLeaves(start, end) {
        world.leafRequests.push([start, end]);
        if (end > shown().length) throw new RegistryError({ code: 'invalid-field', detail: `end must be at most ${shown().length}` }, 400);
        return { start, end, leaves: shown().slice(start, end).map((leaf, i) => ({ index: start + i, leaf: to0x(leaf) })) };
      },
    };
  }
}

function options(world, store, extra = {}) {
  return { rpcUrl: 'http://rpc.test', ...DOMAIN, fetch: world.fetch, log: world.log, store, ...extra };
}

/** The owner registers version `version` from this device: her store records it, the registry sequences it, the chain holds it. */
async function ownRegistration(world, store, version) {
  const { body } = await buildRegistration({ provider, wallet: WALLET, ...DOMAIN, version, envelope: 'dmtp-eip191-aes256gcm-hkdf-v1' });
  const { documentHash } = await recordRegistration(store, DOMAIN, body);
  world.append('key', WALLET, version, documentHash);
  world.emit('key', WALLET, documentHash, version);
  world.anchor();
  return { body, documentHash };
}

test('the document hash recorded for a registration is the digest inside the registry\'s CID of its document', async () => {
  const R = VECTORS.registrations.eip712;
  assert.equal(await registrationDocumentHash(DOMAIN, R.body), R.documentSha256);
  assert.equal(to0x(digestOfCid(R.cid)), R.documentSha256);
});

test('a check that finds only her own registrations reports nothing, and moves the cursor to the chain and the anchored log', async () => {
  const world = new World();
  const store = new MemoryStore();
  world.append('key', OTHER, 1, hex32('someone else'));
  await ownRegistration(world, store, 1);
  const changed = [];

  const report = await checkWallet(WALLET, options(world, store, { fromBlock: 50, onChange: (r) => changed.push(r) }));

  assert.equal(report.clean, true, JSON.stringify(report));
  assert.deepEqual(report.changes, []);
  assert.deepEqual(changed, []);
  assert.deepEqual(report.checked, { fromBlock: 50, toBlock: world.block, fromLeaf: 0, toLeaf: 2, anchoredSize: 2 });
  assert.deepEqual(report.cursor, { block: world.block, leaf: 2 });
});

test('a key registered behind her back is reported once, with its transaction and its leaf', async () => {
  const world = new World();
  const store = new MemoryStore();
  await ownRegistration(world, store, 1);
  await checkWallet(WALLET, options(world, store));
  const rogue = hex32('a key the registry made');
  const leafIndex = world.append('key', WALLET, 2, rogue);
  const tx = world.emit('key', WALLET, rogue, 2);
  world.anchor();
  const changed = [];

  const report = await checkWallet(WALLET, options(world, store, { onChange: (r) => changed.push(r) }));

  assert.equal(report.clean, false);
  assert.deepEqual(report.changes, [{
    kind: 'key', version: 2, reason: 'not-recorded', digest: rogue, documentHash: rogue, txHash: tx, blockNumber: world.block - 1, leafIndex, onChain: true, inLog: true,
  }]);
  assert.deepEqual(changed, [report]);
  const again = await checkWallet(WALLET, options(world, store, { onChange: (r) => changed.push(r) }));
  assert.equal(again.clean, true);
  assert.equal(changed.length, 1);
  assert.deepEqual(again.allChanges, report.changes, 'what was found stays listed');
});

test('each check reads only blocks and leaves after its cursor', async () => {
  const world = new World();
  const store = new MemoryStore();
  await ownRegistration(world, store, 1);
  await checkWallet(WALLET, options(world, store, { fromBlock: 7 }));
  const firstBlock = world.block;
  await ownRegistration(world, store, 2);
  world.getLogs.length = 0;
  world.leafRequests.length = 0;

  const report = await checkWallet(WALLET, options(world, store, { fromBlock: 7 }));

  assert.equal(report.clean, true);
  assert.deepEqual(world.getLogs, [[firstBlock + 1, world.block]]);
  assert.deepEqual(world.leafRequests, [[1, 2]]);
  assert.deepEqual(report.cursor, { block: world.block, leaf: 2 });
});

test('a rogue key seen on chain before its leaf is reported, then reported again with its leaf once the log shows it', async () => {
  const world = new World();
  const store = new MemoryStore();
  await ownRegistration(world, store, 1);
  const rogue = hex32('sent before it was sequenced');
  const tx = world.emit('key', WALLET, rogue, 2);

  const first = await checkWallet(WALLET, options(world, store));
  const leafIndex = world.append('key', WALLET, 2, rogue);
  world.anchor();
  const second = await checkWallet(WALLET, options(world, store));

  assert.deepEqual(first.changes.map((c) => [c.txHash, c.leafIndex]), [[tx, null]]);
  assert.deepEqual(second.changes.map((c) => [c.txHash, c.leafIndex]), [[tx, leafIndex]]);
});

test('a leaf of her wallet not yet anchored is reported as soon as the registry serves it', async () => {
  const world = new World();
  const store = new MemoryStore();
  await ownRegistration(world, store, 1);
  const leafIndex = world.append('key', WALLET, 2, hex32('queued behind her back'));

  const report = await checkWallet(WALLET, options(world, store));

  assert.deepEqual(report.changes.map((c) => [c.version, c.leafIndex, c.onChain, c.inLog]), [[2, leafIndex, false, true]]);
  assert.equal(report.cursor.leaf, 1, 'the cursor stays at the anchored size: the unanchored leaf is read again next time');
  assert.equal((await checkWallet(WALLET, options(world, store))).clean, true, 'but it is reported once');
});

test('her own key set again on chain after a newer one (a rollback) is a version regression', async () => {
  const world = new World();
  const store = new MemoryStore();
  const v1 = await ownRegistration(world, store, 1);
  await ownRegistration(world, store, 2);
  await checkWallet(WALLET, options(world, store));
  const tx = world.emit('key', WALLET, v1.documentHash, 1);

  const report = await checkWallet(WALLET, options(world, store));

  assert.deepEqual(report.changes.map((c) => [c.reason, c.version, c.txHash]), [['version-regression', 1, tx]]);
});

test('a revocation she signed with the store is hers; one she did not sign is reported', async () => {
  const world = new World();
  const store = new MemoryStore();
  const v1 = await ownRegistration(world, store, 1);
  const body = await buildRevocation({ provider, wallet: WALLET, ...DOMAIN, revokedVersion: 1, revokedPublicKey: v1.body.DMTPpubKey });
  const own = await recordRevocation(store, DOMAIN, body, { revokedPublicKey: v1.body.DMTPpubKey, revokedCid: cidOfDigest(fromHex(v1.documentHash)) });
  assert.equal(own.revokedDigest, v1.documentHash);
  world.append('revocation', WALLET, 2, own.documentHash);
  world.emit('revocation', WALLET, v1.documentHash, 2);
  world.anchor();
  assert.equal((await checkWallet(WALLET, options(world, store))).clean, true);

  const v3 = await ownRegistration(world, store, 3);
  const leafIndex = world.append('revocation', WALLET, 4, hex32('a revocation she never signed'));
  const tx = world.emit('revocation', WALLET, v3.documentHash, 4);
  world.anchor();
  const report = await checkWallet(WALLET, options(world, store));

  assert.deepEqual(report.changes.map((c) => [c.kind, c.version, c.txHash, c.leafIndex]), [['revocation', 4, tx, leafIndex]]);
});

test('a log that does not hash to the anchored root (a leaf hidden from her) is a problem, and the cursor stays', async () => {
  const world = new World();
  const store = new MemoryStore();
  await ownRegistration(world, store, 1);
  world.append('key', WALLET, 2, hex32('shown to others, hidden from her'));
  world.anchor();
  world.served = [world.leaves[0], leafBytes(LEAF_KIND_KEY, OTHER, 1, fromHex(hex32('a stand-in')))];

  const report = await checkWallet(WALLET, options(world, store));

  assert.deepEqual(report.problems.map((p) => p.code), ['log-root-mismatch']);
  assert.equal(report.clean, false);
  assert.equal(report.cursor.leaf, 0);
});

test('a registry serving fewer leaves than the chain anchors is a problem', async () => {
  const world = new World();
  const store = new MemoryStore();
  await ownRegistration(world, store, 1);
  world.append('key', OTHER, 1, hex32('anchored'));
  world.anchor();
  world.served = world.leaves.slice(0, 1);

  const report = await checkWallet(WALLET, options(world, store));

  assert.deepEqual(report.problems.map((p) => [p.code, p.leafIndex]), [['log-behind-anchor', 1]]);
});

test('a check through an RPC of another chain refuses to run and saves nothing', async () => {
  const world = new World();
  const store = new MemoryStore();
  await ownRegistration(world, store, 1);
  world.chainId = 1;
  const before = [...store.items.values()];

  await assert.rejects(checkWallet(WALLET, options(world, store)), (error) => error instanceof WatchError && error.code === 'chain-mismatch');
  assert.deepEqual([...store.items.values()], before);
});

test('watchWallet checks at once, again every interval until stopped, and on check()', async () => {
  const world = new World();
  const store = new MemoryStore();
  await ownRegistration(world, store, 1);
  const checks = [];
  const changed = [];
  const watcher = watchWallet(WALLET, options(world, store, { intervalMs: 20, onCheck: (r) => checks.push(r), onChange: (r) => changed.push(r) }));

  assert.equal((await watcher.ready).clean, true);
  world.emit('key', WALLET, hex32('behind her back'), 2);
  await new Promise((resolve) => setTimeout(resolve, 120));
  watcher.stop();
  const seen = checks.length;
  await new Promise((resolve) => setTimeout(resolve, 60));

  assert.ok(seen >= 3, `checks: ${seen}`);
  assert.equal(checks.length, seen, 'no check after stop()');
  assert.equal(changed.length, 1);
  assert.equal(changed[0].changes[0].version, 2);
  assert.equal((await watcher.check()).clean, true);
});

test('register with a store records the signed registration before it is sent', async () => {
  const store = new MemoryStore();
  const sent = [];
  const fetchImpl = async (url, init) => {
    if (url.endsWith('/config')) return Response.json(DOMAIN);
    if (url.includes('/keys/')) return Response.json({ code: 'not-found', detail: 'none' }, { status: 404 });
    sent.push(JSON.parse(init.body));
    return Response.json({ code: 'dependency-unavailable', detail: 'down' }, { status: 503 });
  };
  const client = new RegistryClient({ apiUrl: 'http://registry.test', fetch: fetchImpl });

  await assert.rejects(client.register({ provider, wallet: WALLET, ...DOMAIN, store, envelope: 'dmtp-eip191-aes256gcm-hkdf-v1' }));

  const watch = await loadWatch(store, DOMAIN, WALLET);
  assert.equal(sent.length, 1);
  assert.deepEqual(watch.own.map((o) => [o.kind, o.version, o.documentHash]), [['key', 1, await registrationDocumentHash(DOMAIN, sent[0])]]);
});

test('a check reads the chain through a viem PublicClient as through a URL', async () => {
  const { createPublicClient, custom } = await import('viem');
  const world = new World();
  const store = new MemoryStore();
  await ownRegistration(world, store, 1);
  const rogue = hex32('a key the registry made');
  world.append('key', WALLET, 2, rogue);
  world.emit('key', WALLET, rogue, 2);
  world.anchor();
  const node = { async request({ method, params }) {
    const response = await world.fetch('http://rpc.test', { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
    const body = await response.json();
    if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code });
    return body.result;
  } };

  const report = await checkWallet(WALLET, options(world, store, { rpcUrl: undefined, client: createPublicClient({ transport: custom(node) }) }));

  assert.deepEqual(report.changes.map((c) => [c.kind, c.version, c.reason]), [['key', 2, 'not-recorded']]);
  await assert.rejects(checkWallet(WALLET, options(world, store, { rpcUrl: undefined })), (error) => error.code === 'missing-pin');
});
