// RegistryClient: the HTTP API (docs/PROTOCOL.md §2, §9, §10) and the wallet flows of register and revoke, as one
// object for the API at `apiUrl`. Using the class brings all of it into a bundle (its methods cannot be shaken out):
// a dapp that needs less imports the standalone functions of /lookup or /register instead, which this class calls.
// Every signature is made for the domain the CALLER pins ({chainId, registry}); GET /config must agree with it.
import { apiOf, notFoundAsValue, pollStatus, request } from './lookup.js';
import { checkDomainOf, nextVersionOf, registerThrough, revokeThrough } from './register.js';

export { FINAL_STATUSES, batchLookup, history, lookup, waitForStatus } from './lookup.js';
export { buildRegistration, buildRevocation, register, revoke } from './register.js';

export class RegistryClient {
  /** `apiUrl`: the registry API's base URL; `fetch`: a fetch implementation (default globalThis.fetch). */
  constructor({ apiUrl, fetch: fetchImpl, timeoutMs = 15000 } = {}) {
    Object.assign(this, apiOf({ apiUrl, fetch: fetchImpl, timeoutMs }));
  }

  request(method, path, body) {
    return request(this, method, path, body);
  }

  /** GET /config: `{chainId, registry}` the registry signs for. */
  config() {
    return this.request('GET', '/config');
  }

  /** GET /config, checked against the domain the caller pinned; DomainMismatchError otherwise. */
  checkDomain({ chainId, registry }) {
    return checkDomainOf(this, { chainId, registry });
  }

  /** GET /keys/{address} (`asOf`: the key current at that unix time); a wallet with no key: `{found: false, address}`. */
  lookup(address, { asOf } = {}) {
    const query = asOf === undefined || asOf === null ? '' : `?asOf=${encodeURIComponent(String(asOf))}`;
    return notFoundAsValue(address, this.request('GET', `/keys/${encodeURIComponent(address)}${query}`));
  }

  /** POST /batch-lookup of 1 to 100 addresses. */
  batchLookup(addresses) {
    return this.request('POST', '/batch-lookup', { addresses: Array.from(addresses) });
  }

  /** GET /keys/{address}/history: `{wallet, items, nextCursor}`, newest first. */
  history(address, { limit, cursor } = {}) {
    const params = new URLSearchParams();
    if (limit !== undefined && limit !== null) params.set('limit', String(limit));
    if (cursor !== undefined && cursor !== null) params.set('cursor', String(cursor));
    const query = params.toString() ? `?${params}` : '';
    return this.request('GET', `/keys/${encodeURIComponent(address)}/history${query}`);
  }

  // The transparency log (docs/PROTOCOL.md): answers verify() checks against heads read from the chain.

  /** GET /log/head: `{size, root, anchored}` as the registry says (trust only the contract's logHead()). */
  logHead() {
    return this.request('GET', '/log/head');
  }

  /** GET /log/inclusion: `{leafIndex, treeSize, root, leaf, auditPath}` of the wallet's record `version`. */
  logInclusion(wallet, version, treeSize) {
    const params = new URLSearchParams({ wallet, version: String(version) });
    if (treeSize !== undefined && treeSize !== null) params.set('treeSize', String(treeSize));
    return this.request('GET', `/log/inclusion?${params}`);
  }

  /** GET /log/consistency: `{from, to, fromRoot, toRoot, proof}`. */
  logConsistency(fromSize, toSize) {
    return this.request('GET', `/log/consistency?from=${fromSize}&to=${toSize}`);
  }

  /** GET /log/leaves: `{start, end, leaves}` (at most 1,000 per page). */
  logLeaves(start, end) {
    return this.request('GET', `/log/leaves?start=${start}&end=${end}`);
  }

  /** The version the wallet's next write must carry: newest record's (key or revocation) + 1, or 1. */
  nextVersion(address) {
    return nextVersionOf(this, address);
  }

  /** POST /keys with a body made elsewhere (buildRegistration). */
  submitRegistration(body) {
    return this.request('POST', '/keys', body);
  }

  /** POST /keys/{address}/revocation with a body made elsewhere (buildRevocation). */
  submitRevocation(body) {
    return this.request('POST', `/keys/${encodeURIComponent(body.address)}/revocation`, body);
  }

  /**
   * Register a DMTP key for `wallet`: checks /config against the pinned {chainId, registry}, makes (or takes)
   * the key, seals it for the wallet (`envelope`), signs through the provider (`signatureType`) and POSTs it.
   * Returns `{answer, key, body}`; `key.privateKey` is the DMTP private key: keep it, or open it again later
   * from the registry with openPrivateKey. With `store` (localStorage, or the store watchWallet is given), the signed
   * registration is recorded there as the owner's own before it is sent, so watchWallet does not report it.
   */
  register(options) {
    return registerThrough(this, options);
  }

  /**
   * Revoke the wallet's current key (`revokedVersion`: default the current one, which must not be revoked). With
   * `store`, the signed revocation is recorded there as the owner's own before it is sent (as for register).
   */
  revoke(options) {
    return revokeThrough(this, options);
  }

  /**
   * Poll GET /keys/{address} until the wallet's write of `version` reaches one of `until` (see waitForStatus in
   * /lookup). Returns the last lookup answer.
   */
  waitForStatus(address, options) {
    return pollStatus(() => this.lookup(address), address, options);
  }
}
