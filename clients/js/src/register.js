// `@dmtp/key-registry-client/register`: the wallet flows of register and revoke (docs/PROTOCOL.md §2, §9) as
// standalone functions. Every signature is made for the domain the CALLER pins ({chainId, registry}); GET /config
// must agree with it. Sealing loads the chosen envelope only (envelopes/index.js imports each one on first use).
import { isHex0x } from './bytes.js';
import { DomainMismatchError, ProtocolError } from './errors.js';
import { sealPrivateKey } from './envelopes/index.js';
import { dmtpPublicKeyOf, generateDmtpKey } from './keys.js';
import { apiOf, config, lookup, submitRegistration, submitRevocation } from './lookup.js';
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

/**
 * The registry's GET /config (`client.config()`), checked against the domain the caller pinned: the pinned domain
 * normalised, or DomainMismatchError.
 */
export async function checkDomainOf(client, { chainId, registry }) {
  const pinned = parseDomain({ chainId, registry });
  const served = await client.config();
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

/** The version the wallet's next write must carry (`client.lookup`): newest record's (key or revocation) + 1, or 1. */
export async function nextVersionOf(client, address) {
  const current = await client.lookup(address);
  if (current.found === false) return 1;
  const revocation = current.revocation && typeof current.revocation === 'object' ? current.revocation.version : 0;
  return Math.max(current.version, revocation || 0) + 1;
}

/** register() through `client` (config, lookup, submitRegistration: a RegistryClient, or the API functions). */
export async function registerThrough(client, options) {
  const domain = await checkDomainOf(client, options);
  const signer = await resolveSigner(options);
  const wallet = signer.address;
  const version = options.version ?? (await nextVersionOf(client, wallet));
  const { body, key } = await buildRegistration({ ...options, ...domain, signer, wallet, version });
  if (options.store) await recordRegistration(options.store, domain, body);
  const answer = await client.submitRegistration(body);
  return { answer, key, body };
}

/** revoke() through `client` (config, lookup, submitRevocation). */
export async function revokeThrough(client, options) {
  const domain = await checkDomainOf(client, options);
  const signer = await resolveSigner(options);
  const wallet = signer.address;
  const current = await client.lookup(wallet);
  if (current.found === false) throw new ProtocolError('not-found', `${wallet} has no key to revoke`, {}, 404);
  if (current.revoked) throw new ProtocolError('version-conflict', `${wallet}'s key version ${current.version} is already revoked`, { currentVersion: current.version }, 409);
  const revokedVersion = options.revokedVersion ?? current.version;
  const body = await buildRevocation({ ...options, ...domain, signer, wallet, revokedVersion, revokedPublicKey: current.DMTPpubKey });
  if (options.store) {
    const revokedCid = revokedVersion === current.version && typeof current.cid === 'string' ? current.cid : undefined;
    await recordRevocation(options.store, domain, body, { revokedPublicKey: current.DMTPpubKey, revokedCid });
  }
  const answer = await client.submitRevocation(body);
  return { answer, body };
}

/** The API at `options.apiUrl` as the `client` registerThrough/revokeThrough call. */
function endpointsOf(options) {
  const api = apiOf(options);
  return {
    config: () => config(api),
    lookup: (address) => lookup(address, api),
    submitRegistration: (body) => submitRegistration(body, api),
    submitRevocation: (body) => submitRevocation(body, api),
  };
}

/**
 * Register a DMTP key for the wallet (`signer`, or `provider` with `wallet`) at the API `apiUrl`: checks /config against
 * the pinned {chainId, registry}, makes (or takes) the key, seals it for the wallet (`envelope`, default by the
 * wallet's kind), signs (`signatureType`) and POSTs
 * it. Returns `{answer, key, body}`; `key.privateKey` is the DMTP private key: keep it, or open it again later from
 * the registry with openPrivateKey. With `store` (localStorage, or the store watchWallet is given), the signed
 * registration is recorded there as the owner's own before it is sent, so watchWallet does not report it.
 */
export function register(options) {
  return registerThrough(endpointsOf(options), options);
}

/**
 * Revoke the wallet's current key (`revokedVersion`: default the current one, which must not be revoked). With
 * `store`, the signed revocation is recorded there as the owner's own before it is sent (as for register).
 */
export function revoke(options) {
  return revokeThrough(endpointsOf(options), options);
}
