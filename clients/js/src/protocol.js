// What the wallet signs and what the registry pins (docs/PROTOCOL.md §2, §4, §7, §9), built from the same rules as
// packages/dmtp-protocol/src/dmtp_protocol/messages.py: messages, EIP-712 typed data, the personal_sign texts, digests and the pinned document.
import { fromHex, isHex0x } from './bytes.js';
import { canonicalJson } from './canonical.js';
import { checkEnvelope, encryptedPrivateKeyHash } from './envelopes/check.js';
import { ProtocolError } from './errors.js';
import { parseAddress, personalSignDigest } from './ethsig.js';
import { typedDataDigest } from './eip712.js';
import { KEY_LENGTHS } from './keys.js';
import { pointFromBytes } from './secp256k1-public.js';

export const DOCUMENT_FORMAT = 'dmtp-key-bundle/2';
export const DOMAIN_NAME = 'DMTP Key Registry';
export const DOMAIN_VERSION = '1';
export const SIGNATURE_TYPES = ['eip712', 'eip191'];
export const REGISTRATION_TYPE = 'KeyRegistration';
export const REVOCATION_TYPE = 'KeyRevocation';
export const MAX_SIGNATURE_BYTES = 2048;

export const EIP712_DOMAIN_FIELDS = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'verifyingContract', type: 'address' },
];
export const REGISTRATION_FIELDS = [
  { name: 'wallet', type: 'address' },
  { name: 'publicKey', type: 'bytes' },
  { name: 'keyType', type: 'string' },
  { name: 'encryptedPrivateKeyHash', type: 'bytes32' },
  { name: 'version', type: 'uint64' },
  { name: 'issuedAt', type: 'uint64' },
  { name: 'expiresAt', type: 'uint64' },
];
export const REVOCATION_FIELDS = [
  { name: 'wallet', type: 'address' },
  { name: 'publicKey', type: 'bytes' },
  { name: 'revokedVersion', type: 'uint64' },
  { name: 'version', type: 'uint64' },
  { name: 'issuedAt', type: 'uint64' },
];
const FIELDS = { [REGISTRATION_TYPE]: REGISTRATION_FIELDS, [REVOCATION_TYPE]: REVOCATION_FIELDS };

const REGISTRATION_BODY = ['address', 'keyType', 'DMTPpubKey', 'DMTPpriKey', 'version', 'issuedAt', 'signatureType', 'Signature'];
const REVOCATION_BODY = ['address', 'revokedVersion', 'version', 'issuedAt', 'signatureType', 'Signature'];

/** `{chainId, registry}` checked: a positive safe integer and an address (EIP-55 out). */
export function parseDomain({ chainId, registry }) {
  return { chainId: positiveInt(chainId, 'chainId'), registry: parseAddress(registry, 'registry') };
}

// ---------------------------------------------------------------- field rules

export function positiveInt(value, name, allowZero = false) {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new ProtocolError('invalid-field', `${name} must be an integer from ${allowZero ? 0 : 1} to 2^53-1`, { field: name });
  }
  return value;
}

export function parsePublicKey(keyType, value) {
  const lengths = Object.hasOwn(KEY_LENGTHS, keyType) ? KEY_LENGTHS[keyType] : null;
  if (!lengths) throw new ProtocolError('invalid-field', `keyType must be one of ${Object.keys(KEY_LENGTHS).join(', ')}`, { field: 'keyType' });
  if (!isHex0x(value) || !lengths.includes((value.length - 2) / 2)) {
    const forms = lengths.map((length) => `${length}-byte`).join(' or ');
    throw new ProtocolError('invalid-field', `DMTPpubKey must be a ${forms} ${keyType} key as 0x + hex`, { field: 'DMTPpubKey' });
  }
  const raw = fromHex(value);
  if (keyType === 'x25519') {
    if (isSmallOrderX25519(raw)) throw new ProtocolError('invalid-field', 'DMTPpubKey is a small-order X25519 point', { field: 'DMTPpubKey' });
  } else {
    // kept exactly as submitted (the wallet signs these bytes): 02/03 compressed or 04 uncompressed, on the curve
    if (raw.length === 33 && raw[0] !== 2 && raw[0] !== 3) throw new ProtocolError('invalid-field', 'a 33-byte secp256k1 DMTPpubKey must be compressed (prefix 02 or 03)', { field: 'DMTPpubKey' });
    if (raw.length === 65 && raw[0] !== 4) throw new ProtocolError('invalid-field', 'a 65-byte secp256k1 DMTPpubKey must be uncompressed (prefix 04)', { field: 'DMTPpubKey' });
    try {
      pointFromBytes(raw);
    } catch (error) {
      throw new ProtocolError('invalid-field', 'DMTPpubKey is not a point on secp256k1', { field: 'DMTPpubKey' });
    }
  }
  return value.toLowerCase();
}

const P25519 = 2n ** 255n - 19n;
/**
 * The u-coordinates (mod p) of the small-order points of Curve25519 and its twist (orders 1, 2, 4, 8; libsodium's
 * blocklist, RFC 7748 §6.1): exactly the keys whose X25519 shared secret is all zero for every clamped secret, which
 * the registry (cryptography's exchange) refuses. test/protocol-x25519.test.js checks it against @noble/curves' x25519.
 */
const SMALL_ORDER_U = [
  0n,
  1n,
  P25519 - 1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
];

/** Whether 32 bytes are an X25519 public key of small order: its u (little-endian, top bit ignored: RFC 7748 §5) mod p. */
export function isSmallOrderX25519(raw) {
  let u = 0n;
  for (let i = 31; i >= 0; i--) u = (u << 8n) | BigInt(i === 31 ? raw[i] & 0x7f : raw[i]);
  return SMALL_ORDER_U.includes(u % P25519);
}

function signatureType(value) {
  if (!SIGNATURE_TYPES.includes(value)) throw new ProtocolError('invalid-field', `signatureType must be one of ${SIGNATURE_TYPES.join(', ')}`, { field: 'signatureType' });
  return value;
}

function signatureHex(value) {
  if (!isHex0x(value) || value.length <= 2 || value.length > 2 + 2 * MAX_SIGNATURE_BYTES) {
    throw new ProtocolError('invalid-field', `Signature must be 0x + hex, 1 to ${MAX_SIGNATURE_BYTES} bytes`, { field: 'Signature' });
  }
  return value.toLowerCase();
}

function checkMembers(body, required, optional = []) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ProtocolError('malformed-request', 'body must be a JSON object');
  const missing = required.filter((name) => !(name in body)).sort();
  if (missing.length) throw new ProtocolError('malformed-request', `missing field(s): ${missing.join(', ')}`, { fields: missing });
  const unknown = Object.keys(body).filter((name) => !required.includes(name) && !optional.includes(name)).sort();
  if (unknown.length) throw new ProtocolError('malformed-request', `unknown field(s): ${unknown.join(', ')}`, { fields: unknown });
}

/** A POST /keys body, normalised as the registry normalises it. */
export function parseRegistration(body) {
  checkMembers(body, REGISTRATION_BODY, ['expiresAt']);
  const keyType = body.keyType;
  const publicKey = parsePublicKey(keyType, body.DMTPpubKey);
  let envelope;
  try {
    envelope = checkEnvelope(body.DMTPpriKey);
  } catch (error) {
    throw new ProtocolError('invalid-field', error.problem ? error.problem.detail : String(error), { field: 'DMTPpriKey' });
  }
  return {
    wallet: parseAddress(body.address),
    keyType,
    publicKey,
    envelope,
    version: positiveInt(body.version, 'version'),
    issuedAt: positiveInt(body.issuedAt, 'issuedAt'),
    expiresAt: 'expiresAt' in body ? positiveInt(body.expiresAt, 'expiresAt', true) : 0,
    signatureType: signatureType(body.signatureType),
    signature: signatureHex(body.Signature),
  };
}

/** A POST /keys/{address}/revocation body, normalised. */
export function parseRevocation(body) {
  checkMembers(body, REVOCATION_BODY);
  const revocation = {
    wallet: parseAddress(body.address),
    revokedVersion: positiveInt(body.revokedVersion, 'revokedVersion'),
    version: positiveInt(body.version, 'version'),
    issuedAt: positiveInt(body.issuedAt, 'issuedAt'),
    signatureType: signatureType(body.signatureType),
    signature: signatureHex(body.Signature),
  };
  if (revocation.version !== revocation.revokedVersion + 1) throw new ProtocolError('invalid-field', "a revocation's version must be revokedVersion + 1", { field: 'version' });
  return revocation;
}

// ---------------------------------------------------------------- what is signed

export function registrationMessage(registration) {
  return {
    wallet: registration.wallet,
    publicKey: registration.publicKey,
    keyType: registration.keyType,
    encryptedPrivateKeyHash: encryptedPrivateKeyHash(registration.envelope),
    version: registration.version,
    issuedAt: registration.issuedAt,
    expiresAt: registration.expiresAt,
  };
}

export function revocationMessage(revocation, revokedPublicKey) {
  return {
    wallet: revocation.wallet,
    publicKey: revokedPublicKey.toLowerCase(),
    revokedVersion: revocation.revokedVersion,
    version: revocation.version,
    issuedAt: revocation.issuedAt,
  };
}

/** YYYY-MM-DDTHH:MM:SSZ of unix seconds. */
export function isoTime(seconds) {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function registrationText(m, domain) {
  return [
    'DMTP Key Registry: register this DMTP messaging key for my wallet.',
    '',
    `Wallet: ${m.wallet}`,
    `Public key: ${m.publicKey}`,
    `Key type: ${m.keyType}`,
    `Encrypted private key hash: ${m.encryptedPrivateKeyHash}`,
    `Version: ${m.version}`,
    `Chain ID: ${domain.chainId}`,
    `Registry: ${domain.registry}`,
    `Issued At: ${isoTime(m.issuedAt)}`,
    `Expiration Time: ${m.expiresAt ? isoTime(m.expiresAt) : 'never'}`,
  ].join('\n');
}

function revocationText(m, domain) {
  return [
    'DMTP Key Registry: revoke this DMTP messaging key of my wallet.',
    '',
    `Wallet: ${m.wallet}`,
    `Public key: ${m.publicKey}`,
    `Revoked version: ${m.revokedVersion}`,
    `Version: ${m.version}`,
    `Chain ID: ${domain.chainId}`,
    `Registry: ${domain.registry}`,
    `Issued At: ${isoTime(m.issuedAt)}`,
  ].join('\n');
}

/** The eth_signTypedData_v4 payload of a KeyRegistration or KeyRevocation message for `domain`. */
export function typedData(primaryType, message, domain) {
  return {
    types: { EIP712Domain: EIP712_DOMAIN_FIELDS, [primaryType]: FIELDS[primaryType] },
    primaryType,
    domain: { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId: domain.chainId, verifyingContract: domain.registry },
    message,
  };
}

/** The personal_sign text of a message (eip191). */
export function signedText(primaryType, message, domain) {
  if (primaryType === REGISTRATION_TYPE) return registrationText(message, domain);
  if (primaryType === REVOCATION_TYPE) return revocationText(message, domain);
  throw new TypeError(`unknown primary type ${primaryType}`);
}

/** The 32 bytes the wallet's signature covers, for the declared signature type only. */
export function signingDigest(primaryType, message, domain, type) {
  if (type === 'eip712') return typedDataDigest(typedData(primaryType, message, domain));
  if (type === 'eip191') return personalSignDigest(signedText(primaryType, message, domain));
  throw new ProtocolError('invalid-field', `signatureType must be one of ${SIGNATURE_TYPES.join(', ')}`, { field: 'signatureType' });
}

// ---------------------------------------------------------------- the pinned document

/** The pinned document object (its canonicalJson is what the registry pins; its CID is on chain). */
export function pinnedDocument(registration, domain) {
  return {
    format: DOCUMENT_FORMAT,
    wallet: registration.wallet,
    keyType: registration.keyType,
    DMTPpubKey: registration.publicKey,
    DMTPpriKey: registration.envelope,
    version: registration.version,
    issuedAt: registration.issuedAt,
    expiresAt: registration.expiresAt,
    signatureType: registration.signatureType,
    Signature: registration.signature,
    chainId: domain.chainId,
    registry: domain.registry,
  };
}

/** Reads a pinned document back: `{registration, domain}`; ProtocolError on anything malformed or non-canonical. */
export function registrationFromDocument(document) {
  if (!document || typeof document !== 'object' || Array.isArray(document)) throw new ProtocolError('malformed-request', 'the document is not an object');
  if (document.format !== DOCUMENT_FORMAT) throw new ProtocolError('invalid-field', `document format must be ${DOCUMENT_FORMAT}`, { field: 'format' });
  const { format, wallet, chainId, registry, ...rest } = document;
  const registration = parseRegistration({ ...rest, address: wallet });
  const domain = parseDomain({ chainId, registry });
  if (canonicalJson(pinnedDocument(registration, domain)) !== canonicalJson(document)) {
    throw new ProtocolError('invalid-field', 'the document has members beyond, or in another form than, the protocol’s');
  }
  return { registration, domain };
}
