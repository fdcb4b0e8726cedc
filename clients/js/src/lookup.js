// `@dmtp/key-registry-client/lookup`: the registry's HTTP API (docs/PROTOCOL.md §2, §9, §10) as standalone functions
// over fetch. No crypto and no wallet: importing this costs a dapp a few KB. What the registry answers here is its
// word only; verify() (the /verify entry) checks an answer against the chain.
// Every function takes `{apiUrl, fetch?, timeoutMs?}` (fetch: default globalThis.fetch; timeoutMs: per request,
// default 15 s) beside its own options.
import { RegistryError, StatusError, TransportError } from './errors.js';

export const FINAL_STATUSES = ['confirmed', 'failed', 'superseded'];
const REQUEST_TIMEOUT_MS = 15000;

/** `{apiUrl, fetch, timeoutMs}` checked: apiUrl without its trailing slashes; TypeError when it is missing. */
export function apiOf({ apiUrl, fetch: fetchImpl, timeoutMs } = {}) {
  if (typeof apiUrl !== 'string' || !apiUrl) throw new TypeError('apiUrl is required');
  return { apiUrl: apiUrl.replace(/\/+$/, ''), fetch: fetchImpl ?? globalThis.fetch.bind(globalThis), timeoutMs: timeoutMs ?? REQUEST_TIMEOUT_MS };
}

/**
 * One request to the API `api` ({apiUrl, fetch, timeoutMs}, as apiOf makes it). Returns the JSON object answered;
 * throws RegistryError (the server's problem+json, with `retryAfter` when it said so) for an HTTP error, and
 * TransportError `network-error` (no answer) or `bad-response` (not a JSON object).
 */
export async function request(api, method, path, body) {
  let response;
  try {
    const fetchImpl = api.fetch; // called unbound: a browser's window.fetch refuses another `this`
    response = await fetchImpl(api.apiUrl + path, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(api.timeoutMs),
    });
  } catch (error) {
    throw new TransportError('network-error', `${method} ${path}: ${error && error.message ? error.message : error}`);
  }
  const text = await response.text();
  let payload = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch (error) {
    payload = null;
  }
  if (!response.ok) {
    const problem = payload && typeof payload === 'object' && !Array.isArray(payload)
      ? payload
      : { status: response.status, code: 'http-error', detail: text.slice(0, 2000) };
    const error = new RegistryError(problem, response.status);
    const retryAfter = response.headers.get('retry-after');
    if (retryAfter !== null) error.retryAfter = Number(retryAfter);
    throw error;
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new TransportError('bad-response', `${method} ${path}: expected a JSON object`, response.status);
  }
  return payload;
}

/** GET /config: `{chainId, registry}` the registry signs for (its word: pin your own). */
export function config(options) {
  return request(apiOf(options), 'GET', '/config');
}

/**
 * GET /keys/{address} (`asOf`: the key current at that unix time). A wallet with no key (then) is an answer, not an
 * error: `{found: false, address}`, the shape of a batch-lookup miss, which verify() reports as `not-found`. Every
 * other failure throws a RegistryError as before.
 */
export function lookup(address, options = {}) {
  const { asOf } = options;
  const query = asOf === undefined || asOf === null ? '' : `?asOf=${encodeURIComponent(String(asOf))}`;
  return notFoundAsValue(address, request(apiOf(options), 'GET', `/keys/${encodeURIComponent(address)}${query}`));
}

/** `answering`'s answer, or `{found: false, address}` when it fails with the registry's 404 `not-found`. */
export async function notFoundAsValue(address, answering) {
  try {
    return await answering;
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404 && error.code === 'not-found') return { found: false, address: String(address) };
    throw error;
  }
}

/** POST /batch-lookup of 1 to 100 addresses. */
export function batchLookup(addresses, options) {
  return request(apiOf(options), 'POST', '/batch-lookup', { addresses: Array.from(addresses) });
}

/** GET /keys/{address}/history: `{wallet, items, nextCursor}`, newest first. */
export function history(address, options = {}) {
  const { limit, cursor } = options;
  const params = new URLSearchParams();
  if (limit !== undefined && limit !== null) params.set('limit', String(limit));
  if (cursor !== undefined && cursor !== null) params.set('cursor', String(cursor));
  const query = params.toString() ? `?${params}` : '';
  return request(apiOf(options), 'GET', `/keys/${encodeURIComponent(address)}/history${query}`);
}

/** POST /keys with a signed body (buildRegistration, in /register). */
export function submitRegistration(body, options) {
  return request(apiOf(options), 'POST', '/keys', body);
}

/** POST /keys/{address}/revocation with a signed body (buildRevocation, in /register). */
export function submitRevocation(body, options) {
  return request(apiOf(options), 'POST', `/keys/${encodeURIComponent(body.address)}/revocation`, body);
}

// The transparency log (docs/PROTOCOL.md): verify() checks these answers against heads read from the chain.

/** GET /log/head: `{size, root, anchored}` as the registry says (trust only the contract's logHead()). */
export function logHead(options) {
  return request(apiOf(options), 'GET', '/log/head');
}

/** GET /log/inclusion: `{leafIndex, treeSize, root, leaf, auditPath}` of the wallet's record `version`. */
export function logInclusion(wallet, version, treeSize, options) {
  const params = new URLSearchParams({ wallet, version: String(version) });
  if (treeSize !== undefined && treeSize !== null) params.set('treeSize', String(treeSize));
  return request(apiOf(options), 'GET', `/log/inclusion?${params}`);
}

/** GET /log/consistency: `{from, to, fromRoot, toRoot, proof}`. */
export function logConsistency(fromSize, toSize, options) {
  return request(apiOf(options), 'GET', `/log/consistency?from=${fromSize}&to=${toSize}`);
}

/** GET /log/leaves: `{start, end, leaves}` (at most 1,000 per page). */
export function logLeaves(start, end, options) {
  return request(apiOf(options), 'GET', `/log/leaves?start=${start}&end=${end}`);
}

/** The log reads of the API at `options.apiUrl` as the object verify() and watchWallet() take as `log`. */
export function logReader(options) {
  const api = apiOf(options);
  return {
    logHead: () => logHead(api),
    logInclusion: (wallet, version, treeSize) => logInclusion(wallet, version, treeSize, api),
    logConsistency: (fromSize, toSize) => logConsistency(fromSize, toSize, api),
    logLeaves: (start, end) => logLeaves(start, end, api),
  };
}

/**
 * Poll GET /keys/{address} until the wallet's write of `version` (a registration, or a revocation: its
 * `revocation.version`) reaches one of `until`; without `version`, the current key's record. No key yet or an older
 * version is "not visible yet". Ending in another final status (failed, superseded) → StatusError
 * `unexpected-status`; nothing within `timeoutMs` (of waiting, default 60 s) → StatusError `timeout`. Returns the
 * last lookup answer.
 */
export function waitForStatus(address, options = {}) {
  const api = apiOf({ apiUrl: options.apiUrl, fetch: options.fetch });
  return pollStatus(() => lookup(address, api), address, options);
}

/** waitForStatus's loop over any `read()` of the wallet's lookup answer (RegistryClient passes its own lookup). */
export async function pollStatus(read, address, { version, until = ['confirmed'], timeoutMs = 60000, intervalMs = 1000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  for (;;) {
    const answer = await read(); // a wallet with no key yet: {found: false}, not visible yet
    if (answer && answer.found !== false) last = answer;
    const write = last && writeOf(last, version);
    if (write) {
      if (until.includes(write.status)) return last;
      if (FINAL_STATUSES.includes(write.status)) {
        throw new StatusError('unexpected-status', `${address} version ${write.version} ended ${write.status}${last.error ? `: ${last.error}` : ''}`, last);
      }
    } else if (last && version !== undefined && Math.max(last.version, last.revocation ? last.revocation.version : 0) > version) {
      throw new StatusError('unexpected-status', `${address} has moved on past version ${version}`, last);
    }
    if (Date.now() >= deadline) {
      throw new StatusError('timeout', `${address} did not reach ${until.join('/')} within ${timeoutMs} ms (last: ${write ? write.status : last ? `version ${last.version}` : 'not found'})`, last);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}

/** The `{version, status}` of the write `version` in a lookup answer (its key, or its key's revocation), or null. */
function writeOf(answer, version) {
  if (version === undefined || answer.version === version) return { version: answer.version, status: answer.status };
  const revocation = answer.revocation;
  if (revocation && typeof revocation === 'object' && revocation.version === version) return { version, status: revocation.status };
  return null;
}

export { RegistryError, StatusError, TransportError };
