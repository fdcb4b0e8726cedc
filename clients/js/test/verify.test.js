// verify()'s decisions: offline checks on the vector document, and the chain checks against a scripted JSON-RPC
// node (the real chain is exercised in stack.test.js). verify never throws and is usable only when all checks pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VECTORS } from './helpers.js';
import { EthersProvider } from './ethers-provider.js';
import { WALLET_KEY } from './helpers.js';
import { buildRegistration, canonicalJson, parseRegistration, pinnedDocument, verify } from '../src/index.js';
import { fromHex, sha256, to0x, toHex } from '../src/bytes.js';
import { keccak256 } from '../src/ethsig.js';
import { selector } from '../src/rpc.js';
import { leafBytes, leafHash, merkleRoot } from '../src/log.js';

const R = VECTORS.registrations.eip712;
const { inputs } = VECTORS;
const PINS = { wallet: inputs.wallet, chainId: inputs.chainId, registry: inputs.registry };
const NOW = inputs.issuedAt + 60;
const DIGEST = R.documentSha256.slice(2);
const OTHER = 'cd'.repeat(32); // another key document's digest
const topic = (signature) => to0x(keccak256(new TextEncoder().encode(signature)));
const TOPIC = { KeyUpdated: topic('KeyUpdated(address,bytes32,uint64)'), KeyRevoked: topic('KeyRevoked(address,bytes32,uint64)'), LogAnchored: topic('LogAnchored(uint64,bytes32)') };

/** A log of one leaf, the record's (wallet v1 with `digest`): its head and a registry proving the leaf under it. */
function oneLeafLog(wallet = inputs.wallet, digest = DIGEST) {
  const leaf = leafBytes(1, wallet, 1, fromHex(digest));
  const head = { size: 1, root: toHex(leafHash(leaf)) };
  const source = { async logInclusion(_, __, treeSize) { return { leafIndex: 0, treeSize, root: '0x' + head.root, leaf: to0x(leaf), auditPath: [] }; } };
  return { head, source };
}
const ONE = oneLeafLog();

function answer(overrides = {}) {
  return {
    wallet: inputs.wallet,
    version: 1,
    keyType: 'x25519',
    DMTPpubKey: inputs.dmtpPublicKey,
    cid: R.cid,
    status: 'confirmed',
    revoked: false,
    blockNumber: 5,
    log: { leafIndex: 0, anchoredHead: null },
    bundle: JSON.parse(R.document),
    proof: { chainId: inputs.chainId, registry: inputs.registry, signatureType: 'eip712', signature: R.signature, typedData: R.typedData, digest: R.digest },
    ...overrides,
  };
}

const hex64 = (n) => BigInt(n).toString(16).padStart(64, '0');
const quantity = (n) => '0x' + n.toString(16);

/**
 * A JSON-RPC node at block `latest` whose DMTPKeys contract holds `digest` (revoked or not) and log head `head`, with
 * `wallet`'s events `events` (`[digest, version, kind?]`, kind KeyUpdated by default, the i-th at block 10 + i,
 * log index 2) and
 * LogAnchored events `anchors` (`{block, logIndex, size, root}`; by default the head, anchored in the last event's
 * transaction, after it). eth_getLogs answers by topic and block range; `maxRange`: it refuses wider ranges.
 */
function chain({ wallet = inputs.wallet, chainId = inputs.chainId, digest = DIGEST, revoked = false, events = [[digest, 1]], down = false, head = ONE.head, anchors, latest = 100, maxRange = Infinity } = {}) {
  const calls = [];
  const getLogs = [];
  const logHeadCall = '0x' + toHex(selector('logHead()'));
  const walletTopic = '0x' + '00'.repeat(12) + wallet.slice(2).toLowerCase();
  const lastBlock = 10 + Math.max(0, events.length - 1);
  const anchored = anchors ?? (head.size > 0 ? [{ block: lastBlock, logIndex: 3, size: head.size, root: head.root }] : []);
  const entries = [
    ...events.map(([d, v, kind = 'KeyUpdated'], i) => ({ topics: [TOPIC[kind], walletTopic], blockNumber: quantity(10 + i), logIndex: '0x2', data: '0x' + d + hex64(v), transactionHash: '0x' + hex64(10 + i), removed: false })),
    ...anchored.map((a) => ({ topics: [TOPIC.LogAnchored], blockNumber: quantity(a.block), logIndex: quantity(a.logIndex), data: '0x' + hex64(a.size) + a.root, transactionHash: '0x' + hex64(a.block), removed: false })),
  ];
  const fetchImpl = async (url, init) => {
    if (down) throw new TypeError('fetch failed');
    const { id, method, params } = JSON.parse(init.body);
    calls.push(method);
    const atRegistry = () => params[0].to.toLowerCase() === inputs.registry.toLowerCase();
    const logs = () => {
      const { fromBlock, toBlock, topics } = params[0];
      const block = (tag) => (tag === 'latest' ? latest : Number(tag));
      const [from, to] = [block(fromBlock), block(toBlock)];
      getLogs.push([from, to, topics]);
      if (to - from + 1 > maxRange) return { error: { code: -32005, message: `query exceeds max block range ${maxRange}` } };
      const wanted = [].concat(topics[0]);
      return entries.filter((e) => Number(e.blockNumber) >= from && Number(e.blockNumber) <= to && wanted.includes(e.topics[0]) && (topics[1] === undefined || e.topics[1] === topics[1]));
    };
    const result = {
      eth_chainId: () => '0x' + chainId.toString(16),
      eth_blockNumber: () => quantity(latest),
      eth_call: () => (!atRegistry() ? '0x'
        : params[0].data === logHeadCall ? '0x' + hex64(head.size) + head.root
          : '0x' + digest + (revoked ? '1' : '0').padStart(64, '0')),
      eth_getCode: () => '0x',
      eth_getLogs: logs,
    }[method]();
    const body = result && result.error ? { jsonrpc: '2.0', id, error: result.error } : { jsonrpc: '2.0', id, result };
    return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  };
  return { fetchImpl, calls, getLogs };
}

async function check(theAnswer, options) {
  return verify(theAnswer, { ...PINS, rpcUrl: 'http://rpc.test', now: NOW, log: ONE.source, ...options });
}

test('an answer the contract holds, unrevoked, signed by the wallet, is usable', async () => {
  const { fetchImpl } = chain();
  const result = await check(answer(), { fetch: fetchImpl });
  assert.equal(result.reason, null, result.detail);
  assert.equal(result.usable, true);
  assert.ok(Object.values(result.checks).every((value) => value === true));
  assert.equal(result.key.publicKey, inputs.dmtpPublicKey);
  assert.equal(result.key.signerMethod, 'ecdsa');
});

test('without an RPC an otherwise perfect answer is never usable', async () => {
  const result = await verify(answer(), { ...PINS, now: NOW });
  assert.equal(result.usable, false);
  assert.equal(result.reason, 'no-rpc');
  assert.equal(result.checks.document, true);
  assert.equal(result.checks.rpc, false);
  assert.equal(result.checks.onchain, null);
});

test('the caller must name the wallet, chain and registry', async () => {
  for (const missing of ['wallet', 'chainId', 'registry']) {
    const { [missing]: _, ...pins } = PINS;
    const result = await verify(answer(), { ...pins, rpcUrl: 'http://rpc.test', fetch: chain().fetchImpl });
    assert.equal(result.usable, false);
    assert.equal(result.reason, 'missing-pin');
  }
});

test('a bundle changed after signing no longer hashes to its CID', async () => {
  const bundle = { ...answer().bundle, expiresAt: 1900000000 };
  const result = await check(answer({ bundle }), { fetch: chain().fetchImpl });
  assert.equal(result.reason, 'cid-mismatch');
});

test('a bundle with an extra member is not a valid document', async () => {
  const bundle = { ...answer().bundle, note: 'trust me' };
  const result = await check(answer({ bundle, cid: undefined }), { fetch: chain().fetchImpl });
  assert.equal(result.reason, 'malformed-document');
});

test('an answer about another wallet than the one asked about is refused', async () => {
  const result = await check(answer(), { wallet: '0x' + '12'.repeat(20), fetch: chain().fetchImpl });
  assert.equal(result.reason, 'wallet-mismatch');
});

test('a document signed for another registry or chain than the pinned one is refused', async () => {
  assert.equal((await check(answer(), { registry: '0x' + '34'.repeat(20), fetch: chain().fetchImpl })).reason, 'domain-mismatch');
  assert.equal((await check(answer(), { chainId: 1, fetch: chain().fetchImpl })).reason, 'domain-mismatch');
});

test('an answer whose fields or proof disagree with its document is refused', async () => {
  assert.equal((await check(answer({ DMTPpubKey: '0x' + '00'.repeat(32) }), { fetch: chain().fetchImpl })).reason, 'answer-mismatch');
  const proof = { ...answer().proof, digest: '0x' + '00'.repeat(32) };
  assert.equal((await check(answer({ proof }), { fetch: chain().fetchImpl })).reason, 'proof-mismatch');
});

test('an RPC serving another chain is refused', async () => {
  const result = await check(answer(), { fetch: chain({ chainId: 1 }).fetchImpl });
  assert.equal(result.reason, 'chain-mismatch');
  assert.equal(result.checks.rpc, false);
});

test('an unreachable RPC fails closed', async () => {
  const result = await check(answer(), { fetch: chain({ down: true }).fetchImpl });
  assert.equal(result.usable, false);
  assert.equal(result.reason, 'rpc-unavailable');
});

test('a key the contract does not hold yet (not confirmed) is not usable, whatever the API says', async () => {
  const result = await check(answer({ status: 'confirmed' }), { fetch: chain({ digest: '00'.repeat(32), events: [] }).fetchImpl });
  assert.equal(result.reason, 'not-onchain');
});

test('a key replaced on chain by another is not usable', async () => {
  const result = await check(answer(), { fetch: chain({ digest: 'ab'.repeat(32) }).fetchImpl });
  assert.equal(result.reason, 'not-current');
});

test('a key revoked on chain is not usable, even when the API says it is not revoked', async () => {
  const result = await check(answer({ revoked: false }), { fetch: chain({ revoked: true }).fetchImpl });
  assert.equal(result.reason, 'revoked');
  assert.equal(result.checks.onchain, true);
});

test('a key the API says is revoked is not usable, even before the revocation reaches the chain', async () => {
  const result = await check(answer({ revoked: true }), { fetch: chain().fetchImpl });
  assert.equal(result.reason, 'revoked');
});

test('a key past its expiresAt is not usable; before it, it is', async () => {
  const provider = new EthersProvider(WALLET_KEY);
  const domain = { chainId: inputs.chainId, registry: inputs.registry };
  const { body } = await buildRegistration({ provider, wallet: provider.address, ...domain, version: 1, issuedAt: NOW, expiresAt: NOW + 3600 });
  const bundle = pinnedDocument(parseRegistration(body), domain);
  const digest = toHex(await sha256(new TextEncoder().encode(canonicalJson(bundle))));
  const { head, source } = oneLeafLog(provider.address, digest);
  const options = { wallet: provider.address, log: source, fetch: chain({ wallet: provider.address, digest, events: [[digest, 1]], head }).fetchImpl };
  const served = { bundle, revoked: false, log: { leafIndex: 0 } };
  const before = await check(served, { ...options, now: NOW + 3599 });
  assert.equal(before.usable, true, before.detail);
  const expired = await check(served, { ...options, now: NOW + 3600 });
  assert.equal(expired.reason, 'expired');
  assert.equal(expired.checks.notRevoked, true);
});

test('the latest KeyUpdated event must carry this digest and version', async () => {
  assert.equal((await check(answer(), { fetch: chain({ events: [] }).fetchImpl })).reason, 'no-event');
  assert.equal((await check(answer(), { fetch: chain({ events: [[DIGEST, 2]] }).fetchImpl })).reason, 'version-mismatch');
  assert.equal((await check(answer(), { fetch: chain({ events: [[DIGEST, 1], ['cd'.repeat(32), 2]] }).fetchImpl })).reason, 'version-mismatch');
});

test('garbage never throws: it is unusable with a reason', async () => {
  for (const garbage of [null, 'x', 42, [], {}, { bundle: 'x' }, { found: false, bundle: {} }]) {
    const result = await check(garbage, { fetch: chain().fetchImpl });
    assert.equal(result.usable, false);
    assert.equal(typeof result.reason, 'string');
  }
});

test('a batch-lookup entry (bundle and cid, no proof) listed under a lowercase address verifies', async () => {
  const { bundle, cid } = answer();
  const entry = { address: inputs.wallet.toLowerCase(), found: true, version: 1, keyType: 'x25519', DMTPpubKey: inputs.dmtpPublicKey, cid, revoked: false, bundle, log: { leafIndex: 0 } };
  const result = await check(entry, { fetch: chain().fetchImpl });
  assert.equal(result.reason, null, result.detail);
});

// ---------------------------------------------------------------- the transparency log

/** RFC 9162 PATH(m, D[n]) and PROOF(m, D[n]) by the RFC's recursion, for scripting a registry's answers. */
function split(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
function auditPath(index, hashes) {
  if (hashes.length <= 1) return [];
  const k = split(hashes.length);
  return index < k
    ? [...auditPath(index, hashes.slice(0, k)), merkleRoot(hashes.slice(k))]
    : [...auditPath(index - k, hashes.slice(k)), merkleRoot(hashes.slice(0, k))];
}
function consistencyProof(m, hashes, complete = true) {
  const n = hashes.length;
  if (m === n) return complete ? [] : [merkleRoot(hashes)];
  const k = split(n);
  return m <= k
    ? [...consistencyProof(m, hashes.slice(0, k), complete), merkleRoot(hashes.slice(k))]
    : [...consistencyProof(m - k, hashes.slice(k), false), merkleRoot(hashes.slice(0, k))];
}

/** A log of 7 leaves whose leaf 4 is this answer's record; a registry (`log` option) that proves it honestly. */
function scriptedLog({ size = 7, index = 4 } = {}) {
  const leaves = Array.from({ length: size }, (_, i) => (i === index
    ? leafBytes(1, inputs.wallet, 1, fromHex(DIGEST))
    : leafBytes(1, '0x' + (i + 1).toString(16).padStart(40, '0'), 1, new Uint8Array(32).fill(i))));
  const hashes = leaves.map(leafHash);
  const headAt = (n) => ({ size: n, root: toHex(merkleRoot(hashes.slice(0, n))) });
  const source = {
    asked: [],
    async logInclusion(wallet, version, treeSize) {
      this.asked.push([wallet, version, treeSize]);
      return { leafIndex: index, treeSize, root: to0x(merkleRoot(hashes.slice(0, treeSize))), leaf: to0x(leaves[index]), auditPath: auditPath(index, hashes.slice(0, treeSize)).map(to0x) };
    },
    async logConsistency(from, to) {
      return { from, to, proof: consistencyProof(from, hashes.slice(0, to)).map(to0x) };
    },
  };
  return { source, headAt, leaves };
}

const logged = (index = 4) => answer({ log: { leafIndex: index, anchoredHead: null } });

test('a record under the on-chain log head is usable only with its inclusion proven against the on-chain root', async () => {
  const { source, headAt } = scriptedLog();
  const result = await check(logged(), { fetch: chain({ head: headAt(7) }).fetchImpl, log: source });
  assert.equal(result.reason, null, result.detail);
  assert.equal(result.usable, true);
  assert.deepEqual(result.log, { leafIndex: 4, head: { size: 7, root: '0x' + headAt(7).root }, included: true });
  assert.deepEqual(source.asked, [[inputs.wallet, 1, 7]]);
});

test('a record under the on-chain head needs the registry asked for its proof', async () => {
  const { headAt } = scriptedLog();
  const unasked = await check(logged(4), { fetch: chain({ head: headAt(7) }).fetchImpl, log: undefined });
  assert.equal(unasked.reason, 'log-unavailable');
  assert.equal(unasked.checks.log, false);
});

test('an answer that hides its leaf index from an anchored log is refused', async () => {
  const { source, headAt } = scriptedLog();
  const result = await check(answer({ log: null }), { fetch: chain({ head: headAt(7) }).fetchImpl, log: source });
  assert.equal(result.reason, 'log-missing');
});

// ---------------------------------------------------------------- the anchor rule: inclusion is never skipped

test('a confirmed key claiming a leaf at or beyond the size of the anchor after its KeyUpdated is refused (skipped inclusion)', async () => {
  // Given the key's own transaction anchored a head of 3 leaves, when the answer puts its leaf at index 4 or 3
  // (where no anchor reaches: before, the client took it for "newer than the head" and skipped the proof)
  const { source, headAt } = scriptedLog();
  for (const index of [4, 3]) {
    const result = await check(logged(index), { fetch: chain({ head: headAt(3) }).fetchImpl, log: source });
    // then verify fails, naming the index and the anchor
    assert.equal(result.usable, false);
    assert.equal(result.reason, 'log-index-beyond-anchor');
    assert.match(result.detail, new RegExp(`leaf ${index}, at or beyond the size 3 of the head anchored at block 10`));
    assert.equal(result.checks.anchored, false);
  }
});

test('a confirmed key whose KeyUpdated no anchor follows yet is refused as not anchored yet, then usable once one is', async () => {
  // nothing anchored yet (logHead() is empty), the key's own transaction anchoring nothing
  const empty = { size: 0, root: '00'.repeat(32) };
  const waiting = await check(answer(), { fetch: chain({ head: empty, anchors: [] }).fetchImpl });
  assert.equal(waiting.reason, 'log-not-anchored-yet');
  assert.match(waiting.detail, /retry after the registry's LOG_ANCHOR_SINGLE_AFTER_S/);
  // the monitor's anchor-only transaction (setKeysAnchored of no keys) at block 12 covers the leaf: usable
  const covered = await check(answer(), { fetch: chain({ anchors: [{ block: 12, logIndex: 0, size: 1, root: ONE.head.root }] }).fetchImpl });
  assert.equal(covered.reason, null, covered.detail);
  assert.equal(covered.usable, true);
  assert.equal(covered.log.included, true);
});

test('a key whose leaf the head anchored before its KeyUpdated already covers is usable with no anchor after it', async () => {
  // the head of 1 leaf (the key's) anchored at block 5, or earlier in the key's block 10, before its KeyUpdated
  for (const before of [{ block: 5, logIndex: 0 }, { block: 10, logIndex: 0 }]) {
    const result = await check(answer(), { fetch: chain({ anchors: [{ ...before, size: 1, root: ONE.head.root }] }).fetchImpl });
    assert.equal(result.reason, null, result.detail);
    assert.equal(result.usable, true);
    assert.equal(result.log.included, true); // still proven under that on-chain root
  }
});

// ---------------------------------------------------------------- the events rule: a history never goes back

test('a rollback to an older key set again by the owner key is refused, naming both versions', async () => {
  // the chain held v1, v2, then v1 set again (with an anchor after it, and the v1 leaf genuine)
  const events = [[DIGEST, 1], [OTHER, 2], [DIGEST, 1]];
  const result = await check(answer({ blockNumber: 12 }), { fetch: chain({ events }).fetchImpl });
  assert.equal(result.usable, false);
  assert.equal(result.reason, 'version-rollback');
  assert.match(result.detail, /KeyUpdated of version 1 at block 12 .* comes after KeyUpdated of version 2 at block 11/);
  assert.match(result.detail, /goes back from version 2 to 1/);
  assert.equal(result.checks.history, false);
  // a KeyUpdated below a revocation's version goes back too (a revoked key set again)
  const revoked = await check(answer(), { fetch: chain({ events: [[DIGEST, 1], [DIGEST, 2, 'KeyRevoked'], [DIGEST, 1]] }).fetchImpl });
  assert.equal(revoked.reason, 'version-rollback');
  // the same write seen twice is not a rollback
  const repeated = await check(answer(), { fetch: chain({ events: [[DIGEST, 1], [DIGEST, 1]] }).fetchImpl });
  assert.equal(repeated.reason, null, repeated.detail);
});

test('the wallet\'s events are searched from the pinned deployment block or the caller\'s start block, never from the answer\'s', async () => {
  // the answer's blockNumber (12) would skip v1 and v2 at blocks 10 and 11; it is ignored
  const events = [[DIGEST, 1], [OTHER, 2], [DIGEST, 1]];
  const pinned = chain({ events });
  assert.equal((await check(answer({ blockNumber: 12 }), { fetch: pinned.fetchImpl, deployBlock: 7 })).reason, 'version-rollback');
  assert.deepEqual(pinned.getLogs[0].slice(0, 2), [7, 100]);
  const own = chain({ events });
  assert.equal((await check(answer({ blockNumber: 12 }), { fetch: own.fetchImpl, deployBlock: 7, fromBlock: 3 })).reason, 'version-rollback');
  assert.deepEqual(own.getLogs[0].slice(0, 2), [3, 100]);
  const unpinned = chain({ events });
  await check(answer({ blockNumber: 12 }), { fetch: unpinned.fetchImpl });
  assert.deepEqual(unpinned.getLogs[0].slice(0, 2), [0, 100]);
  // a start block past the wallet's events finds none and fails closed; a start that is not a block is refused
  assert.equal((await check(answer(), { fetch: chain().fetchImpl, fromBlock: 50 })).reason, 'no-event');
  assert.equal((await check(answer(), { fetch: chain().fetchImpl, deployBlock: -1 })).reason, 'missing-pin');
});

test('a node refusing a wide eth_getLogs range is asked in smaller chunks', async () => {
  const narrow = chain({ latest: 5000, maxRange: 1000 });
  const result = await check(answer(), { fetch: narrow.fetchImpl });
  assert.equal(result.reason, null, result.detail);
  assert.ok(narrow.getLogs.some(([from, to]) => to - from + 1 > 1000) && narrow.getLogs.some(([from, to]) => to - from + 1 <= 1000));
});

test('a log leaf that is not the document the answer serves is refused, naming the wallet and the index', async () => {
  const { source, headAt, leaves } = scriptedLog();
  const other = leafBytes(1, inputs.wallet, 1, new Uint8Array(32).fill(9)); // a rewritten record's leaf
  const lying = { ...source, async logInclusion(...args) { return { ...(await source.logInclusion(...args)), leaf: to0x(other) }; } };
  const result = await check(logged(), { fetch: chain({ head: headAt(7) }).fetchImpl, log: lying });
  assert.equal(result.reason, 'log-leaf-mismatch');
  assert.match(result.detail, new RegExp(`${inputs.wallet}.*leaf 4`));
  assert.ok(leaves.length === 7);
});

test('an audit path that does not lead to the on-chain root is refused', async () => {
  const { source, headAt } = scriptedLog();
  const tampered = { ...source, async logInclusion(...args) { const p = await source.logInclusion(...args); return { ...p, auditPath: [...p.auditPath].reverse() }; } };
  assert.equal((await check(logged(), { fetch: chain({ head: headAt(7) }).fetchImpl, log: tampered })).reason, 'log-inclusion-failed');
  const moved = { ...source, async logInclusion(...args) { return { ...(await source.logInclusion(...args)), leafIndex: 3 }; } };
  assert.equal((await check(logged(), { fetch: chain({ head: headAt(7) }).fetchImpl, log: moved })).reason, 'log-inclusion-failed');
  // A registry whose tree differs from the anchored one: the proof is honest about ITS tree, not the chain's.
  const anchoredElsewhere = { size: 7, root: 'ee'.repeat(32) };
  assert.equal((await check(logged(), { fetch: chain({ head: anchoredElsewhere }).fetchImpl, log: source })).reason, 'log-inclusion-failed');
});

test('a new on-chain head must be proven consistent with the one seen before', async () => {
  const { source, headAt } = scriptedLog();
  const before = { size: 5, root: '0x' + headAt(5).root };
  const ok = await check(logged(), { fetch: chain({ head: headAt(7) }).fetchImpl, log: source, previousHead: before });
  assert.equal(ok.usable, true, ok.detail);
  const forked = { size: 5, root: '0x' + 'ab'.repeat(32) }; // what another view of the log showed
  const result = await check(logged(), { fetch: chain({ head: headAt(7) }).fetchImpl, log: source, previousHead: forked });
  assert.equal(result.reason, 'log-inconsistent');
  const shrunk = await check(logged(), { fetch: chain({ head: headAt(7) }).fetchImpl, log: source, previousHead: { size: 8, root: '0x' + 'ab'.repeat(32) } });
  assert.equal(shrunk.reason, 'log-inconsistent');
});

// ---------------------------------------------------------------- the dapp's own transport: a viem client, an EIP-1193 provider

/** An EIP-1193 provider in front of a scripted node's fetch: JSON-RPC errors thrown with their numeric code. */
function eip1193Of(fetchImpl) {
  return {
    async request({ method, params }) {
      const response = await fetchImpl('http://rpc.test', { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
      const body = await response.json();
      if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code });
      return body.result;
    },
  };
}

test('verify reads the chain through an EIP-1193 provider, a viem PublicClient and a viem fallback transport alike', async () => {
  const { createPublicClient, custom, fallback } = await import('viem');
  const down = { async request() { throw new TypeError('fetch failed'); } };
  const { fetchImpl } = chain();
  const provider = eip1193Of(fetchImpl);
  const viaUrl = await check(answer(), { fetch: fetchImpl });
  for (const transport of [{ provider }, { client: createPublicClient({ transport: custom(provider) }) },
    { client: createPublicClient({ transport: fallback([custom(down), custom(provider)]) }) }]) {
    const result = await check(answer(), { rpcUrl: undefined, ...transport });
    assert.equal(result.reason, null, result.detail);
    assert.deepEqual(result.checks, viaUrl.checks);
  }
});

test('through a provider, a node that is down is rpc-unavailable and a refused log range is asked again in chunks', async () => {
  const down = await check(answer(), { rpcUrl: undefined, provider: { async request() { throw new TypeError('fetch failed'); } } });
  assert.equal(down.reason, 'rpc-unavailable');
  const narrow = chain({ maxRange: 50 });
  const result = await check(answer(), { rpcUrl: undefined, provider: eip1193Of(narrow.fetchImpl) });
  assert.equal(result.reason, null, result.detail);
  assert.ok(narrow.getLogs.length > 2, 'the refused range was split');
});

test('a lookup miss ({found: false}) is not-found, not a malformed answer', async () => {
  const result = await check({ found: false, address: inputs.wallet }, { fetch: chain().fetchImpl });
  assert.equal(result.usable, false);
  assert.equal(result.reason, 'not-found');
  assert.equal(result.checks.document, false);
});
