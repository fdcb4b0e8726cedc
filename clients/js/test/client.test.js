// RegistryClient's decisions, against a scripted fetch (the real API is exercised in stack.test.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EthersProvider } from './ethers-provider.js';
import { WALLET_KEY, ethers } from './helpers.js';
import { DomainMismatchError, ProtocolError, RegistryClient, RegistryError, StatusError, TransportError, parseRegistration, typedData, registrationMessage } from '../src/index.js';

const CHAIN_ID = 31337;
const REGISTRY = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

/** A fetch answering from `routes` ("METHOD /path" → [status, body] or a function of the request body). */
function scriptedFetch(routes) {
  const seen = [];
  const fetchImpl = async (url, init) => {
    const path = new URL(url).pathname + new URL(url).search;
    const key = `${init.method} ${path}`;
    const body = init.body === undefined ? undefined : JSON.parse(init.body);
    seen.push({ key, body });
    const route = routes[key];
    if (!route) return new Response(JSON.stringify({ code: 'not-found', status: 404, detail: key }), { status: 404, headers: { 'content-type': 'application/problem+json' } });
    const [status, answer, headers] = typeof route === 'function' ? route(body) : route;
    return new Response(typeof answer === 'string' ? answer : JSON.stringify(answer), { status, headers: { 'content-type': 'application/json', ...headers } });
  };
  return { fetchImpl, seen };
}

test('register refuses, before the wallet signs anything, when /config names another registry than the pinned one', async () => {
  const provider = new EthersProvider(WALLET_KEY);
  const { fetchImpl, seen } = scriptedFetch({ 'GET /config': [200, { chainId: CHAIN_ID, registry: '0x0000000000000000000000000000000000000001' }] });
  const client = new RegistryClient({ apiUrl: 'http://registry.test', fetch: fetchImpl });
  await assert.rejects(client.register({ provider, wallet: provider.address, chainId: CHAIN_ID, registry: REGISTRY }), (error) =>
    error instanceof DomainMismatchError && error.code === 'domain-mismatch' && error.problem.served.registry === '0x0000000000000000000000000000000000000001');
  assert.deepEqual(provider.calls, []);
  assert.deepEqual(seen.map((s) => s.key), ['GET /config']);
});

test('register refuses when /config names another chain than the pinned one', async () => {
  const provider = new EthersProvider(WALLET_KEY);
  const { fetchImpl } = scriptedFetch({ 'GET /config': [200, { chainId: 1, registry: REGISTRY }] });
  const client = new RegistryClient({ apiUrl: 'http://registry.test', fetch: fetchImpl });
  await assert.rejects(client.register({ provider, wallet: provider.address, chainId: CHAIN_ID, registry: REGISTRY }), DomainMismatchError);
  assert.deepEqual(provider.calls, []);
});

test('register posts version 1 for an unknown wallet, signed by the wallet over the pinned domain', async () => {
  const provider = new EthersProvider(WALLET_KEY);
  const { fetchImpl, seen } = scriptedFetch({
    'GET /config': [200, { chainId: CHAIN_ID, registry: REGISTRY.toLowerCase() }],
    'POST /keys': (body) => [202, { wallet: body.address, version: body.version, status: 'pinned' }],
  });
  const client = new RegistryClient({ apiUrl: 'http://registry.test/', fetch: fetchImpl });
  const { answer, key, body } = await client.register({ provider, wallet: provider.address.toLowerCase(), chainId: CHAIN_ID, registry: REGISTRY });
  assert.equal(answer.status, 'pinned');
  assert.deepEqual(seen.map((s) => s.key), ['GET /config', `GET /keys/${provider.address}`, 'POST /keys']);
  const sent = seen[2].body;
  assert.deepEqual(sent, body);
  assert.equal(sent.version, 1);
  assert.equal(sent.DMTPpubKey, key.publicKey);
  const typed = typedData('KeyRegistration', registrationMessage(parseRegistration(sent)), { chainId: CHAIN_ID, registry: REGISTRY });
  const { EIP712Domain, ...types } = typed.types;
  assert.equal(ethers.verifyTypedData(typed.domain, types, typed.message, sent.Signature), provider.address);
});

test('the next version counts a revocation of the current key', async () => {
  const provider = new EthersProvider(WALLET_KEY);
  const { fetchImpl, seen } = scriptedFetch({
    'GET /config': [200, { chainId: CHAIN_ID, registry: REGISTRY }],
    [`GET /keys/${provider.address}`]: [200, { version: 3, revoked: true, revocation: { version: 4 } }],
    'POST /keys': (body) => [202, { version: body.version }],
  });
  const client = new RegistryClient({ apiUrl: 'http://registry.test', fetch: fetchImpl });
  await client.register({ provider, wallet: provider.address, chainId: CHAIN_ID, registry: REGISTRY, signatureType: 'eip191' });
  assert.equal(seen.at(-1).body.version, 5);
});

test('revoke refuses a key that is already revoked, with version-conflict', async () => {
  const provider = new EthersProvider(WALLET_KEY);
  const { fetchImpl } = scriptedFetch({
    'GET /config': [200, { chainId: CHAIN_ID, registry: REGISTRY }],
    [`GET /keys/${provider.address}`]: [200, { version: 3, revoked: true, DMTPpubKey: '0x' + '11'.repeat(32) }],
  });
  const client = new RegistryClient({ apiUrl: 'http://registry.test', fetch: fetchImpl });
  await assert.rejects(client.revoke({ provider, wallet: provider.address, chainId: CHAIN_ID, registry: REGISTRY }), (e) => e instanceof ProtocolError && e.code === 'version-conflict');
});

test('a problem+json answer becomes a RegistryError with its status, code, problem and Retry-After', async () => {
  const problem = { type: 'urn:dmtp:problem:quota-exceeded', title: 'Too Many Requests', status: 429, detail: 'slow down', code: 'quota-exceeded', retryAfter: 7 };
  const { fetchImpl } = scriptedFetch({ 'POST /batch-lookup': [429, problem, { 'retry-after': '7' }] });
  const client = new RegistryClient({ apiUrl: 'http://registry.test', fetch: fetchImpl });
  await assert.rejects(client.batchLookup(['0x' + '11'.repeat(20)]), (error) =>
    error instanceof RegistryError && error.status === 429 && error.code === 'quota-exceeded' && error.problem.retryAfter === 7 && error.retryAfter === 7);
});

test('a non-JSON error body still gives a RegistryError with the HTTP status', async () => {
  const { fetchImpl } = scriptedFetch({ 'GET /config': [502, '<html>bad gateway</html>'] });
  const client = new RegistryClient({ apiUrl: 'http://registry.test', fetch: fetchImpl });
  await assert.rejects(client.config(), (error) => error instanceof RegistryError && error.status === 502 && error.code === 'http-error');
});

test('a refused connection is a TransportError network-error', async () => {
  const client = new RegistryClient({ apiUrl: 'http://127.0.0.1:9', fetch: async () => { throw new TypeError('fetch failed'); } });
  await assert.rejects(client.config(), (error) => error instanceof TransportError && error.code === 'network-error');
});

test('lookup and history put asOf, limit and cursor in the query', async () => {
  const address = '0x' + '22'.repeat(20);
  const { fetchImpl, seen } = scriptedFetch({
    [`GET /keys/${address}?asOf=1700000000`]: [200, { version: 1 }],
    [`GET /keys/${address}/history?limit=5&cursor=abc`]: [200, { items: [] }],
  });
  const client = new RegistryClient({ apiUrl: 'http://registry.test', fetch: fetchImpl });
  await client.lookup(address, { asOf: 1700000000 });
  await client.history(address, { limit: 5, cursor: 'abc' });
  assert.equal(seen.length, 2);
});

test('waitForStatus polls past 404 and queued until confirmed', async () => {
  const address = '0x' + '33'.repeat(20);
  const answers = [[404, { code: 'not-found', status: 404 }], [200, { version: 1, status: 'queued' }], [200, { version: 1, status: 'confirmed' }]];
  const { fetchImpl, seen } = scriptedFetch({ [`GET /keys/${address}`]: () => answers.shift() });
  const client = new RegistryClient({ apiUrl: 'http://registry.test', fetch: fetchImpl });
  const record = await client.waitForStatus(address, { version: 1, timeoutMs: 5000, intervalMs: 1 });
  assert.equal(record.status, 'confirmed');
  assert.equal(seen.length, 3);
});

test('waitForStatus stops with unexpected-status when the record fails, carrying the last record', async () => {
  const address = '0x' + '44'.repeat(20);
  const { fetchImpl } = scriptedFetch({ [`GET /keys/${address}`]: [200, { version: 2, status: 'failed', error: 'reverted' }] });
  const client = new RegistryClient({ apiUrl: 'http://registry.test', fetch: fetchImpl });
  await assert.rejects(client.waitForStatus(address, { intervalMs: 1 }), (error) =>
    error instanceof StatusError && error.code === 'unexpected-status' && error.last.error === 'reverted');
});

test('waitForStatus gives up with timeout', async () => {
  const address = '0x' + '55'.repeat(20);
  const { fetchImpl } = scriptedFetch({ [`GET /keys/${address}`]: [200, { version: 1, status: 'submitted' }] });
  const client = new RegistryClient({ apiUrl: 'http://registry.test', fetch: fetchImpl });
  await assert.rejects(client.waitForStatus(address, { timeoutMs: 30, intervalMs: 5 }), (error) => error instanceof StatusError && error.code === 'timeout' && error.last.status === 'submitted');
});

test('lookup answers a wallet with no key as {found: false, address}, not an error; other failures still throw', async () => {
  const address = '0x' + '99'.repeat(20);
  const { fetchImpl } = scriptedFetch({ ['GET /keys/0x' + 'ab'.repeat(20)]: [500, { code: 'internal-error', status: 500, detail: 'boom' }] });
  const client = new RegistryClient({ apiUrl: 'http://registry.test', fetch: fetchImpl });
  assert.deepEqual(await client.lookup(address), { found: false, address });
  await assert.rejects(client.lookup('0x' + 'ab'.repeat(20)), (error) => error instanceof RegistryError && error.status === 500);
});
