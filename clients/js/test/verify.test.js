// verify()'s decisions: offline checks on the vector document, and the chain checks against a scripted JSON-RPC
// node (the real chain is exercised in stack.test.js). verify never throws and is usable only when all checks pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VECTORS } from './helpers.js';
import { EthersProvider } from './ethers-provider.js';
import { WALLET_KEY } from './helpers.js';
import { buildRegistration, canonicalJson, parseRegistration, pinnedDocument, verify } from '../src/index.js';
import { fromHex, sha256, to0x, toHex } from '../src/bytes.js';
import { selector } from '../src/rpc.js';
import { leafBytes, leafHash, merkleRoot } from '../src/log.js';

const R = VECTORS.registrations.eip712;
const { inputs } = VECTORS;
const PINS = { wallet: inputs.wallet, chainId: inputs.chainId, registry: inputs.registry };
const NOW = inputs.issuedAt + 60;
const DIGEST = R.documentSha256.slice(2);

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
    bundle: JSON.parse(R.document),
    proof: { chainId: inputs.chainId, registry: inputs.registry, signatureType: 'eip712', signature: R.signature, typedData: R.typedData, digest: R.digest },
    ...overrides,
  };
}

/** A JSON-RPC node whose DMTPKeys contract holds `digest` (revoked or not) with KeyUpdated events `events` and log head `head`. */
function chain({ chainId = inputs.chainId, digest = DIGEST, revoked = false, events = [[digest, 1]], down = false, head = { size: 0, root: '00'.repeat(32) } } = {}) {
  const calls = [];
  const logHeadCall = '0x' + toHex(selector('logHead()'));
  const fetchImpl = async (url, init) => {
    if (down) throw new TypeError('fetch failed');
    const { id, method, params } = JSON.parse(init.body);
    calls.push(method);
    const atRegistry = () => params[0].to.toLowerCase() === inputs.registry.toLowerCase();
    const result = {
      eth_chainId: () => '0x' + chainId.toString(16),
      eth_call: () => (!atRegistry() ? '0x'
        : params[0].data === logHeadCall ? '0x' + head.size.toString(16).padStart(64, '0') + head.root
          : '0x' + digest + (revoked ? '1' : '0').padStart(64, '0')),
      eth_getCode: () => '0x',
      eth_getLogs: () => events.map(([d, v], i) => ({ blockNumber: '0x' + (10 + i).toString(16), logIndex: '0x0', data: '0x' + d + v.toString(16).padStart(64, '0'), removed: false })),
    }[method]();
    return new Response(JSON.stringify({ jsonrpc: '2.0', id, result }), { headers: { 'content-type': 'application/json' } });
  };
  return { fetchImpl, calls };
}

async function check(theAnswer, options) {
  return verify(theAnswer, { ...PINS, rpcUrl: 'http://rpc.test', now: NOW, ...options });
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
  const options = { wallet: provider.address, fetch: chain({ digest, events: [[digest, 1]] }).fetchImpl };
  assert.equal((await check({ bundle, revoked: false }, { ...options, now: NOW + 3599 })).usable, true);
  const expired = await check({ bundle, revoked: false }, { ...options, now: NOW + 3600 });
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
  const entry = { address: inputs.wallet.toLowerCase(), found: true, version: 1, keyType: 'x25519', DMTPpubKey: inputs.dmtpPublicKey, cid, revoked: false, bundle };
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

test('a record newer than the on-chain head is usable without a proof yet; one under it needs the registry asked', async () => {
  const { source, headAt } = scriptedLog();
  const newer = await check(logged(4), { fetch: chain({ head: headAt(3) }).fetchImpl, log: source });
  assert.equal(newer.usable, true, newer.detail);
  assert.equal(newer.log.included, false);
  const unasked = await check(logged(4), { fetch: chain({ head: headAt(7) }).fetchImpl });
  assert.equal(unasked.reason, 'log-unavailable');
  assert.equal(unasked.checks.log, false);
});

test('an answer that hides its leaf index from an anchored log is refused', async () => {
  const { source, headAt } = scriptedLog();
  const result = await check(answer(), { fetch: chain({ head: headAt(7) }).fetchImpl, log: source });
  assert.equal(result.reason, 'log-missing');
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
