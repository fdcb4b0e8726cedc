// verify()'s decisions: offline checks on the vector document, and the chain checks against a scripted JSON-RPC
// node (the real chain is exercised in stack.test.js). verify never throws and is usable only when all checks pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VECTORS } from './helpers.js';
import { EthersProvider } from './ethers-provider.js';
import { WALLET_KEY } from './helpers.js';
import { buildRegistration, canonicalJson, parseRegistration, pinnedDocument, verify } from '../src/index.js';
import { sha256, toHex } from '../src/bytes.js';

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

/** A JSON-RPC node whose DMTPKeys contract holds `digest` (revoked or not) with KeyUpdated events `events`. */
function chain({ chainId = inputs.chainId, digest = DIGEST, revoked = false, events = [[digest, 1]], down = false } = {}) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    if (down) throw new TypeError('fetch failed');
    const { id, method, params } = JSON.parse(init.body);
    calls.push(method);
    const result = {
      eth_chainId: () => '0x' + chainId.toString(16),
      eth_call: () => (params[0].to.toLowerCase() === inputs.registry.toLowerCase() ? '0x' + digest + (revoked ? '1' : '0').padStart(64, '0') : '0x'),
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
