// The owner's own record of the writes she made from this device, and the watch state kept beside it
// (docs/PROTOCOL.md §16). One JSON value per (chainId, registry, wallet) in a store with the Web Storage interface
// (`getItem`/`setItem`, sync or async: localStorage, or the caller's own), under the key
// `dmtp.watch.<chainId>.<registry, lowercase>.<wallet, lowercase>`. Its members (the Python client's state file holds
// the same object per watch):
//   own:      [{kind: 'key', version, documentHash, recordedAt}
//              | {kind: 'revocation', version, documentHash, revokedDigest, recordedAt}]
//             documentHash: SHA-256 of the pinned document (a key: the digest KeyUpdated emits) or of the revocation
//             document (its leaf's hash); revokedDigest: the digest of the key it revokes (what KeyRevoked emits);
//   cursor:   {block (the last block whose events were read, null before the first check), leaf (the leaves below
//             it are checked and hash to an anchored root), peaks (the RFC 9162 frontier of those leaves, 0x hex)};
//   foreign:  {events: [...], leaves: [...]}: what was found that she did not make; reported: ids already reported.
// A write is recorded when it is signed, before it is sent: a body the registry holds is hers whether or not its
// answer reached her.
import { sha256, to0x, utf8 } from './bytes.js';
import { canonicalJson, digestOfCid } from './canonical.js';
import { parseAddress } from './ethsig.js';
import { parseDomain, parseRegistration, parseRevocation, pinnedDocument, revocationMessage } from './protocol.js';

export const WATCH_FORMAT = 'dmtp-watch/1';

/** The store key of a wallet's record and watch state for the pinned {chainId, registry}. */
export function watchKey(domain, wallet) {
  const { chainId, registry } = parseDomain(domain);
  return `dmtp.watch.${chainId}.${registry.toLowerCase()}.${parseAddress(wallet, 'wallet').toLowerCase()}`;
}

function emptyWatch(domain, wallet) {
  return {
    format: WATCH_FORMAT,
    wallet,
    chainId: domain.chainId,
    registry: domain.registry,
    own: [],
    cursor: { block: null, leaf: 0, peaks: [] },
    foreign: { events: [], leaves: [] },
    reported: [],
  };
}

/** The store given, else the browser's localStorage; TypeError when there is neither. */
export function storeOf(store) {
  const chosen = store ?? globalThis.localStorage;
  if (!chosen || typeof chosen.getItem !== 'function' || typeof chosen.setItem !== 'function') {
    throw new TypeError('a store with getItem/setItem is needed (localStorage in a browser, or your own)');
  }
  return chosen;
}

/** The wallet's record and watch state in `store` (a fresh one when there is none). */
export async function loadWatch(store, domain, wallet) {
  const pinned = parseDomain(domain);
  const address = parseAddress(wallet, 'wallet');
  const raw = await storeOf(store).getItem(watchKey(pinned, address));
  if (raw === null || raw === undefined || raw === '') return emptyWatch(pinned, address);
  const saved = JSON.parse(raw);
  if (!saved || saved.format !== WATCH_FORMAT) throw new TypeError(`${watchKey(pinned, address)} does not hold a ${WATCH_FORMAT} record`);
  return { ...emptyWatch(pinned, address), ...saved };
}

export async function saveWatch(store, watch) {
  await storeOf(store).setItem(watchKey(watch, watch.wallet), JSON.stringify(watch));
}

async function record(store, domain, wallet, entry) {
  const watch = await loadWatch(store, domain, wallet);
  const same = (other) => other.kind === entry.kind && other.version === entry.version && other.documentHash === entry.documentHash;
  if (!watch.own.some(same)) watch.own.push(entry);
  await saveWatch(store, watch);
  return entry;
}

function now() {
  return Math.floor(Date.now() / 1000);
}

/** SHA-256 (0x hex) of the document the registry pins for a POST /keys body signed for `domain`: KeyUpdated's digest. */
export async function registrationDocumentHash(domain, body) {
  return to0x(await sha256(utf8(canonicalJson(pinnedDocument(parseRegistration(body), parseDomain(domain))))));
}

/** SHA-256 (0x hex) of the revocation document (docs/PROTOCOL.md §9) of a revocation body: its leaf's documentHash. */
export async function revocationDocumentHash(domain, body, revokedPublicKey) {
  const pinned = parseDomain(domain);
  const revocation = parseRevocation(body);
  const document = {
    kind: 'revocation',
    ...revocationMessage(revocation, revokedPublicKey),
    signatureType: revocation.signatureType,
    Signature: revocation.signature,
    chainId: pinned.chainId,
    registry: pinned.registry,
  };
  return to0x(await sha256(utf8(canonicalJson(document))));
}

/** Record a registration the owner signed (a POST /keys body) in her store. Returns the entry. */
export async function recordRegistration(store, domain, body) {
  const registration = parseRegistration(body);
  const entry = { kind: 'key', version: registration.version, documentHash: await registrationDocumentHash(domain, body), recordedAt: now() };
  return record(store, domain, registration.wallet, entry);
}

/**
 * Record a revocation the owner signed in her store. `revokedPublicKey`: the revoked key's DMTPpubKey (what she
 * signed); `revokedCid`: its CID, from which KeyRevoked's digest is read (null: any digest of that version matches).
 */
export async function recordRevocation(store, domain, body, { revokedPublicKey, revokedCid } = {}) {
  const revocation = parseRevocation(body);
  const entry = {
    kind: 'revocation',
    version: revocation.version,
    documentHash: typeof revokedPublicKey === 'string' ? await revocationDocumentHash(domain, body, revokedPublicKey) : null,
    revokedDigest: typeof revokedCid === 'string' ? to0x(digestOfCid(revokedCid)) : null,
    recordedAt: now(),
  };
  return record(store, domain, revocation.wallet, entry);
}
