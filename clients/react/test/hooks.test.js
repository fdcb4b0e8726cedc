// @dmtp/key-registry-react in Node: server-side rendering (react-dom/server renderToString, no window, no DOM)
// renders every hook without touching the network; the query function, its keys and its polling rule against a
// scripted registry and chain. The hooks in a real browser, against the real stack: tests/e2e/test_react_dapp.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import {
  DmtpConfigProvider,
  dmtpKeyQueryKey,
  dmtpKeyQueryOptions,
  fetchDmtpKey,
  isSettling,
  signingOf,
  useDmtpKey,
  useRegisterDmtpKey,
  useRevokeDmtpKey,
  useWatchDmtpKey,
} from '../src/index.js';

const WALLET = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const REGISTRY = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

/** A fetch that records every request and answers with `respond(url, init)` (default: 404 problem+json). */
function recordingFetch(respond) {
  const requests = [];
  const fetchImpl = async (url, init = {}) => {
    requests.push({ url: String(url), init });
    const [status, body] = respond ? respond(String(url), init) : [404, { code: 'not-found', status: 404, detail: 'none' }];
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };
  return { fetchImpl, requests };
}

/** An EIP-1193 provider that records the methods asked and serves chain `chainId`. */
function recordingProvider(chainId) {
  const asked = [];
  return {
    asked,
    async request({ method }) {
      asked.push(method);
      if (method === 'eth_chainId') return '0x' + chainId.toString(16);
      if (method === 'eth_blockNumber') return '0x10';
      throw Object.assign(new Error(`no ${method}`), { code: -32601 });
    },
  };
}

function KeyPanel({ address }) {
  const key = useDmtpKey(address);
  const registering = useRegisterDmtpKey();
  const revoking = useRevokeDmtpKey();
  const watch = useWatchDmtpKey(address);
  const verdict = key.data ? (key.data.usable ? 'verified' : `not usable: ${key.data.reason}`) : key.status;
  return h('section', null, h('p', { id: 'verdict' }, verdict), h('p', { id: 'mutations' }, `${registering.status}/${revoking.status}`), h('p', { id: 'changes' }, String(watch.changes)));
}

function app(queryClient, config, address = WALLET) {
  return h(QueryClientProvider, { client: queryClient }, h(DmtpConfigProvider, { config }, h(KeyPanel, { address })));
}

test('every hook renders on the server (no window, no DOM) and nothing is fetched or asked of the chain', () => {
  assert.equal(typeof globalThis.window, 'undefined');
  assert.equal(typeof globalThis.document, 'undefined');
  const { fetchImpl, requests } = recordingFetch();
  const provider = recordingProvider(31337);
  const queryClient = new QueryClient();

  const html = renderToString(app(queryClient, { apiUrl: 'http://api.test', chainId: 31337, registry: REGISTRY, provider, fetch: fetchImpl }));

  assert.match(html, /<p id="verdict">pending<\/p>/);
  assert.match(html, /<p id="mutations">idle\/idle<\/p>/);
  assert.match(html, /<p id="changes">0<\/p>/);
  assert.deepEqual(requests, []);
  assert.deepEqual(provider.asked, []);
  queryClient.clear();
});

test('a key prefetched under its documented query key is what the server renders', () => {
  const queryClient = new QueryClient();
  const config = { apiUrl: 'http://api.test', chainId: 31337, registry: REGISTRY, rpcUrl: 'http://rpc.test' };
  queryClient.setQueryData(['dmtp', 'key', 31337, REGISTRY.toLowerCase(), WALLET.toLowerCase()], { found: true, usable: true, reason: null });

  const html = renderToString(app(queryClient, config, WALLET));

  assert.match(html, /<p id="verdict">verified<\/p>/);
  queryClient.clear();
});

test('query keys: chain id, lowercase registry, lowercase address; without an address, the registry\'s prefix', () => {
  assert.deepEqual(dmtpKeyQueryKey(WALLET, { chainId: '31337', registry: REGISTRY }), ['dmtp', 'key', 31337, REGISTRY.toLowerCase(), WALLET.toLowerCase()]);
  assert.deepEqual(dmtpKeyQueryKey(undefined, { chainId: 31337, registry: REGISTRY }), ['dmtp', 'key', 31337, REGISTRY.toLowerCase()]);
});

test('the query is disabled until an address, the pins, the registry API and chain access are all named', () => {
  const full = { apiUrl: 'http://api.test', chainId: 31337, registry: REGISTRY, rpcUrl: 'http://rpc.test' };
  assert.equal(dmtpKeyQueryOptions(WALLET, full).enabled, true);
  assert.equal(dmtpKeyQueryOptions(undefined, full).enabled, false);
  for (const field of ['apiUrl', 'chainId', 'registry', 'rpcUrl']) {
    assert.equal(dmtpKeyQueryOptions(WALLET, { ...full, [field]: undefined }).enabled, false, field);
  }
  assert.equal(dmtpKeyQueryOptions(WALLET, { ...full, rpcUrl: undefined, provider: recordingProvider(1) }).enabled, true);
});

test('a wallet with no key is a value (found: false, reason not-found), read fresh from the registry', async () => {
  const { fetchImpl, requests } = recordingFetch();

  const data = await fetchDmtpKey(WALLET, { apiUrl: 'http://api.test/', chainId: 31337, registry: REGISTRY, rpcUrl: 'http://rpc.test', fetch: fetchImpl });

  assert.deepEqual(data, { address: WALLET, found: false, answer: null, status: null, verification: null, usable: false, reason: 'not-found' });
  assert.deepEqual(requests.map((r) => [r.url, r.init.cache]), [[`http://api.test/keys/${WALLET}`, 'no-cache']]);
});

test('a registry error other than 404 is the query\'s error', async () => {
  const { fetchImpl } = recordingFetch(() => [503, { code: 'unavailable', status: 503, detail: 'down' }]);

  await assert.rejects(fetchDmtpKey(WALLET, { apiUrl: 'http://api.test', chainId: 31337, registry: REGISTRY, rpcUrl: 'http://rpc.test', fetch: fetchImpl }), (error) => error.status === 503);
});

test('with a provider, verify() reads the chain through it: a provider on another chain makes the answer unusable', async () => {
  const { VECTORS } = await import('../../js/test/helpers.js');
  const vector = VECTORS.registrations.eip712;
  const answer = { bundle: typeof vector.document === 'string' ? JSON.parse(vector.document) : vector.document, cid: vector.cid };
  const { fetchImpl } = recordingFetch(() => [200, answer]);
  const provider = recordingProvider(1);
  const { inputs } = VECTORS;

  const data = await fetchDmtpKey(inputs.wallet, { apiUrl: 'http://api.test', chainId: inputs.chainId, registry: inputs.registry, provider, fetch: fetchImpl });

  assert.equal(data.found, true);
  assert.equal(data.usable, false);
  assert.equal(data.reason, 'chain-mismatch', data.verification.detail);
  assert.deepEqual(provider.asked, ['eth_chainId']);
});

test('a key is settling while its write is on its way or its anchor is to come, and settled once verified or final', () => {
  const confirmed = { found: true, status: 'confirmed', answer: { revoked: false }, usable: true, reason: null };
  assert.equal(isSettling(confirmed), false);
  assert.equal(isSettling({ ...confirmed, status: 'queued', usable: false, reason: 'not-onchain' }), true);
  assert.equal(isSettling({ ...confirmed, usable: false, reason: 'log-not-anchored-yet' }), true);
  assert.equal(isSettling({ ...confirmed, usable: false, reason: 'bad-signature' }), false);
  assert.equal(isSettling({ ...confirmed, status: 'failed', usable: false, reason: 'not-onchain' }), false);
  assert.equal(isSettling({ ...confirmed, answer: { revoked: true, revocation: { status: 'submitted' } }, usable: false, reason: 'revoked' }), true);
  assert.equal(isSettling({ found: false }), false);
  assert.equal(isSettling(undefined), false);
});

test('a viem WalletClient signs as the EIP-1193 provider of its account; a signer or provider + wallet as given', () => {
  const walletClient = { account: { address: WALLET }, request: async () => null };
  assert.deepEqual(signingOf({ walletClient }), { provider: walletClient, wallet: WALLET });
  const signer = { address: WALLET, signMessage: async () => '0x', signTypedData: async () => '0x' };
  assert.deepEqual(signingOf({ signer }), { signer, wallet: WALLET });
  const provider = { request: async () => null };
  assert.deepEqual(signingOf({ provider, wallet: WALLET }), { provider, wallet: WALLET });
  assert.throws(() => signingOf({ walletClient: { request: async () => null } }), /connect first/);
  assert.throws(() => signingOf({}), /walletClient/);
});

test('a viem WalletClient (with signMessage) signs through fromViem: a local account\'s signatures come from the account, not the node', async () => {
  const asked = [];
  const account = { address: WALLET, type: 'local' };
  const walletClient = {
    account,
    request: async ({ method }) => { throw new Error(`the node was asked ${method}`); },
    signMessage: async (args) => { asked.push(args); return '0x' + '11'.repeat(65); },
    signTypedData: async () => '0x' + '22'.repeat(65),
  };
  const { signer, wallet } = signingOf({ walletClient });
  assert.equal(wallet, WALLET);
  assert.equal(signer.address, WALLET);
  assert.equal(signer.kind, 'eoa');
  assert.equal(await signer.signMessage({ message: 'hello' }), '0x' + '11'.repeat(65));
  assert.deepEqual(asked, [{ account, message: 'hello' }]);
});
