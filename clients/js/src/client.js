// RegistryClient: the HTTP API (docs/PROTOCOL.md §2, §9, §10) and the wallet flows of register and revoke.
// Every signature is made for the domain the CALLER pins ({chainId, registry}); GET /config must agree with it.
import { isHex0x } from './bytes.js';
import { DomainMismatchError, ProtocolError, RegistryError, StatusError, TransportError } from './errors.js';
import { sealPrivateKey } from './envelopes/index.js';
import { dmtpPublicKeyOf, generateDmtpKey } from './keys.js';
import { recordRegistration, recordRevocation } from './ownwrites.js';
import {
  REGISTRATION_TYPE,
  REVOCATION_TYPE,
  parseDomain,
  parseRegistration,
  parseRevocation,
  registrationMessage,
  revocationMessage,
  signedText,
  typedData,
} from './protocol.js';
import { resolveSigner } from './signers.js';

const PLACEHOLDER_SIGNATURE = '0x00';
export const FINAL_STATUSES = ['confirmed', 'failed', 'superseded'];

/** Sign a message of `primaryType` with the resolved signer (signers.js), as `signatureType` asks. */
async function signMessage(signer, primaryType, message, domain, signatureType) {
  if (signatureType === 'eip712') return signer.signTypedData(typedData(primaryType, message, domain));
  return signer.signText(signedText(primaryType, message, domain));
}

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

/**
 * The POST /keys body registering a DMTP key, sealed and signed through the wallet (`signer`, or `provider` with
 * `wallet`); no HTTP. `key`: `{keyType, privateKey}` to register (default: a fresh one of `keyType`). `envelope`:
 * default the wallet's (sealPrivateKey). Returns `{body, key}`.
 */
export async function buildRegistration({
  signer, provider, wallet, chainId, registry, version, key, keyType = 'x25519', envelope,
  signatureType = 'eip712', issuedAt, expiresAt, encryptionPublicKey, passphrase, compressed = true,
}) {
  const domain = parseDomain({ chainId, registry });
  const resolved = await resolveSigner({ signer, provider, wallet });
  const address = resolved.address;
  const dmtp = key ? { keyType: key.keyType ?? keyType, privateKey: key.privateKey.toLowerCase() } : generateDmtpKey({ keyType });
  dmtp.publicKey = dmtpPublicKeyOf(dmtp.privateKey, dmtp.keyType, { compressed: key?.compressed ?? compressed });
  const sealed = await sealPrivateKey({
    privateKey: dmtp.privateKey, envelope, signer: resolved, encryptionPublicKey, passphrase, chainId: domain.chainId, registry: domain.registry,
  });
  const body = {
    address,
    keyType: dmtp.keyType,
    DMTPpubKey: dmtp.publicKey,
    DMTPpriKey: sealed,
    version,
    issuedAt: issuedAt ?? nowSeconds(),
    signatureType,
    Signature: PLACEHOLDER_SIGNATURE,
  };
  if (expiresAt !== undefined && expiresAt !== null) body.expiresAt = expiresAt;
  const message = registrationMessage(parseRegistration(body)); // the message the registry will rebuild
  body.Signature = await signMessage(resolved, REGISTRATION_TYPE, message, domain, signatureType);
  parseRegistration(body);
  return { body, key: dmtp };
}

/** The POST /keys/{address}/revocation body revoking key `revokedVersion` (public key `revokedPublicKey`). */
export async function buildRevocation({ signer, provider, wallet, chainId, registry, revokedVersion, revokedPublicKey, signatureType = 'eip712', issuedAt }) {
  const domain = parseDomain({ chainId, registry });
  const resolved = await resolveSigner({ signer, provider, wallet });
  const address = resolved.address;
  if (!isHex0x(revokedPublicKey)) throw new ProtocolError('invalid-field', 'revokedPublicKey must be 0x + hex', { field: 'publicKey' });
  const body = {
    address,
    revokedVersion,
    version: revokedVersion + 1,
    issuedAt: issuedAt ?? nowSeconds(),
    signatureType,
    Signature: PLACEHOLDER_SIGNATURE,
  };
  const message = revocationMessage(parseRevocation(body), revokedPublicKey);
  body.Signature = await signMessage(resolved, REVOCATION_TYPE, message, domain, signatureType);
  return body;
}

export class RegistryClient {
  /** `apiUrl`: the registry API's base URL; `fetch`: a fetch implementation (default globalThis.fetch). */
  constructor({ apiUrl, fetch: fetchImpl, timeoutMs = 15000 } = {}) {
    if (typeof apiUrl !== 'string' || !apiUrl) throw new TypeError('apiUrl is required');
    this.apiUrl = apiUrl.replace(/\/+$/, '');
    this.fetch = fetchImpl ?? globalThis.fetch.bind(globalThis);
    this.timeoutMs = timeoutMs;
  }

  async request(method, path, body) {
    let response;
    try {
      const fetchImpl = this.fetch; // called unbound: a browser's window.fetch refuses another `this`
      response = await fetchImpl(this.apiUrl + path, {
        method,
        headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
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

  /** GET /config: `{chainId, registry}` the registry signs for. */
  config() {
    return this.request('GET', '/config');
  }

  /** GET /config, checked against the domain the caller pinned; DomainMismatchError otherwise. */
  async checkDomain({ chainId, registry }) {
    const pinned = parseDomain({ chainId, registry });
    const served = await this.config();
    let normalised;
    try {
      normalised = parseDomain(served);
    } catch (error) {
      throw new DomainMismatchError('the registry’s /config is not a valid domain', pinned, served);
    }
    if (normalised.chainId !== pinned.chainId || normalised.registry !== pinned.registry) {
      throw new DomainMismatchError(
        `the registry signs for chain ${normalised.chainId} registry ${normalised.registry}; you pinned chain ${pinned.chainId} registry ${pinned.registry}`,
        pinned,
        normalised,
      );
    }
    return pinned;
  }

  /**
   * GET /keys/{address} (`asOf`: the key current at that unix time). A wallet with no key (then) is an answer, not an
   * error: `{found: false, address}`, the shape of a batch-lookup miss, which verify() reports as `not-found`. Every
   * other failure throws as before.
   */
  async lookup(address, { asOf } = {}) {
    const query = asOf === undefined || asOf === null ? '' : `?asOf=${encodeURIComponent(String(asOf))}`;
    try {
      return await this.request('GET', `/keys/${encodeURIComponent(address)}${query}`);
    } catch (error) {
      if (error instanceof RegistryError && error.status === 404 && error.code === 'not-found') return { found: false, address: String(address) };
      throw error;
    }
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
  async nextVersion(address) {
    const current = await this.lookup(address);
    if (current.found === false) return 1;
    const revocation = current.revocation && typeof current.revocation === 'object' ? current.revocation.version : 0;
    return Math.max(current.version, revocation || 0) + 1;
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
  async register(options) {
    const domain = await this.checkDomain(options);
    const signer = await resolveSigner(options);
    const wallet = signer.address;
    const version = options.version ?? (await this.nextVersion(wallet));
    const { body, key } = await buildRegistration({ ...options, ...domain, signer, wallet, version });
    if (options.store) await recordRegistration(options.store, domain, body);
    const answer = await this.submitRegistration(body);
    return { answer, key, body };
  }

  /**
   * Revoke the wallet's current key (`revokedVersion`: default the current one, which must not be revoked). With
   * `store`, the signed revocation is recorded there as the owner's own before it is sent (as for register).
   */
  async revoke(options) {
    const domain = await this.checkDomain(options);
    const signer = await resolveSigner(options);
    const wallet = signer.address;
    const current = await this.lookup(wallet);
    if (current.found === false) throw new ProtocolError('not-found', `${wallet} has no key to revoke`, {}, 404);
    if (current.revoked) throw new ProtocolError('version-conflict', `${wallet}'s key version ${current.version} is already revoked`, { currentVersion: current.version }, 409);
    const revokedVersion = options.revokedVersion ?? current.version;
    const body = await buildRevocation({ ...options, ...domain, signer, wallet, revokedVersion, revokedPublicKey: current.DMTPpubKey });
    if (options.store) {
      const revokedCid = revokedVersion === current.version && typeof current.cid === 'string' ? current.cid : undefined;
      await recordRevocation(options.store, domain, body, { revokedPublicKey: current.DMTPpubKey, revokedCid });
    }
    const answer = await this.submitRevocation(body);
    return { answer, body };
  }

  /**
   * Poll GET /keys/{address} until the wallet's write of `version` (a registration, or a revocation: its
   * `revocation.version`) reaches one of `until`; without `version`, the current key's record. A 404 or an older
   * version is "not visible yet". Ending in another final status (failed, superseded) → StatusError
   * `unexpected-status`; nothing within `timeoutMs` → StatusError `timeout`. Returns the last lookup answer.
   */
  async waitForStatus(address, { version, until = ['confirmed'], timeoutMs = 60000, intervalMs = 1000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last = null;
    for (;;) {
      const answer = await this.lookup(address);
      if (answer.found !== false) last = answer;
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
}

/** The `{version, status}` of the write `version` in a lookup answer (its key, or its key's revocation), or null. */
function writeOf(answer, version) {
  if (version === undefined || answer.version === version) return { version: answer.version, status: answer.status };
  const revocation = answer.revocation;
  if (revocation && typeof revocation === 'object' && revocation.version === version) return { version, status: revocation.status };
  return null;
}

// Standalone forms: the same calls with `apiUrl` (and optional `fetch`) in the options.
const clientOf = ({ apiUrl, fetch: fetchImpl }) => new RegistryClient({ apiUrl, fetch: fetchImpl });
export const register = (options) => clientOf(options).register(options);
export const revoke = (options) => clientOf(options).revoke(options);
export const lookup = (address, options) => clientOf(options).lookup(address, options);
export const batchLookup = (addresses, options) => clientOf(options).batchLookup(addresses);
export const history = (address, options) => clientOf(options).history(address, options);
export const waitForStatus = (address, options) => clientOf(options).waitForStatus(address, options);
