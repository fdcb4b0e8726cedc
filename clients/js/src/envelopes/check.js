// The three DMTPpriKey envelope formats (docs/PROTOCOL.md §3) checked as the registry checks them: known version,
// exact members, exact decoded lengths. No cipher here: verify() and the registration rules need only the format,
// and the sealing code of each envelope (its own module) is loaded only when a key is sealed or opened with it.
import { canonicalJson } from '../canonical.js';
import { fromBase64, to0x, utf8 } from '../bytes.js';
import { keccak256 } from '../ethsig.js';
import { EnvelopeError } from '../errors.js';
import { hexMember } from './hex-member.js';

export const X25519_VERSION = 'x25519-xsalsa20-poly1305';
export const EIP191_VERSION = 'dmtp-eip191-aes256gcm-hkdf-v1';
export const PASSPHRASE_VERSION = 'dmtp-scrypt-aes256gcm-v1';
export const ENVELOPE_VERSIONS = [X25519_VERSION, EIP191_VERSION, PASSPHRASE_VERSION];
/** The plaintext is "0x" + 64 hex digits: 66 bytes, so each ciphertext is 82. */
export const PLAINTEXT_BYTES = 66;
const TAG_BYTES = 16;

export const X25519_FIELDS = ['version', 'nonce', 'ephemPublicKey', 'ciphertext'];
export const EIP191_FIELDS = ['version', 'salt', 'nonce', 'preKey', 'ciphertext'];
export const PASSPHRASE_FIELDS = ['version', 'n', 'r', 'p', 'salt', 'nonce', 'ciphertext'];
const X25519_SIZES = { nonce: 24, ephemPublicKey: 32 };
const EIP191_SIZES = { salt: 32, nonce: 12, preKey: 32 };
const PASSPHRASE_SIZES = { salt: 32, nonce: 12 };
const ALLOWED_N = [2 ** 17, 2 ** 18, 2 ** 19, 2 ** 20];

function checkMembers(envelope, version, fields) {
  if (!envelope || typeof envelope !== 'object' || Array.isArray(envelope)) throw new EnvelopeError('the envelope must be an object');
  const keys = Object.keys(envelope).sort();
  if (keys.join() !== [...fields].sort().join()) throw new EnvelopeError(`a ${version} envelope has exactly ${fields.join(', ')}`);
  if (envelope.version !== version) throw new EnvelopeError(`envelope version must be ${version}`);
}

function withTag(parsed) {
  if (parsed.ciphertext.length < TAG_BYTES) throw new EnvelopeError('ciphertext is shorter than its 16-byte tag');
  return parsed;
}

const ciphertextBytes = (plaintextBytes) => (plaintextBytes === null ? null : plaintextBytes + TAG_BYTES);

/** An x25519-xsalsa20-poly1305 envelope's decoded `{nonce, ephemPublicKey, ciphertext}` (base64 members). */
export function parseX25519(envelope, plaintextBytes = null) {
  checkMembers(envelope, X25519_VERSION, X25519_FIELDS);
  const decode = (name, length) => {
    let raw;
    try {
      raw = fromBase64(envelope[name], name);
    } catch (error) {
      throw new EnvelopeError(`${name}: ${error.message}`);
    }
    if (length !== null && raw.length !== length) throw new EnvelopeError(`${name} must decode to ${length} bytes, not ${raw.length}`);
    return raw;
  };
  const nonce = decode('nonce', X25519_SIZES.nonce);
  const ephemPublicKey = decode('ephemPublicKey', X25519_SIZES.ephemPublicKey);
  return withTag({ nonce, ephemPublicKey, ciphertext: decode('ciphertext', ciphertextBytes(plaintextBytes)) });
}

/** A dmtp-eip191-aes256gcm-hkdf-v1 envelope's decoded `{salt, nonce, preKey, ciphertext}` (lowercase hex members). */
export function parseEip191(envelope, plaintextBytes = null) {
  checkMembers(envelope, EIP191_VERSION, EIP191_FIELDS);
  return withTag({
    salt: hexMember(envelope, 'salt', EIP191_SIZES.salt),
    nonce: hexMember(envelope, 'nonce', EIP191_SIZES.nonce),
    preKey: hexMember(envelope, 'preKey', EIP191_SIZES.preKey),
    ciphertext: hexMember(envelope, 'ciphertext', ciphertextBytes(plaintextBytes)),
  });
}

/** scrypt's cost as an envelope may carry it: n from 2^17 to 2^20, r = 8, p from 1 to 4 (checked before any work). */
export function checkCost(n, r, p) {
  if (!ALLOWED_N.includes(n)) throw new EnvelopeError('scrypt n must be a power of two from 2^17 to 2^20');
  if (r !== 8) throw new EnvelopeError('scrypt r must be 8');
  if (!Number.isInteger(p) || p < 1 || p > 4) throw new EnvelopeError('scrypt p must be from 1 to 4');
  return { n, r, p };
}

/** A dmtp-scrypt-aes256gcm-v1 envelope's `{n, r, p, salt, nonce, ciphertext}` (cost checked, hex members decoded). */
export function parsePassphrase(envelope, plaintextBytes = null) {
  checkMembers(envelope, PASSPHRASE_VERSION, PASSPHRASE_FIELDS);
  return withTag({
    ...checkCost(envelope.n, envelope.r, envelope.p),
    salt: hexMember(envelope, 'salt', PASSPHRASE_SIZES.salt),
    nonce: hexMember(envelope, 'nonce', PASSPHRASE_SIZES.nonce),
    ciphertext: hexMember(envelope, 'ciphertext', ciphertextBytes(plaintextBytes)),
  });
}

const PARSERS = { [X25519_VERSION]: parseX25519, [EIP191_VERSION]: parseEip191, [PASSPHRASE_VERSION]: parsePassphrase };

/** The envelope's version (an envelope object or a version string), checked to be one of ENVELOPE_VERSIONS. */
export function versionOf(envelope) {
  const version = envelope && typeof envelope === 'object' ? envelope.version : envelope;
  if (!Object.hasOwn(PARSERS, version)) throw new EnvelopeError(`unknown envelope version ${JSON.stringify(version)}; expected one of ${ENVELOPE_VERSIONS.join(', ')}`);
  return version;
}

/** The registry's check of a DMTPpriKey: known version, exact members, exact decoded lengths. */
export function checkEnvelope(envelope) {
  PARSERS[versionOf(envelope)](envelope, PLAINTEXT_BYTES);
  return envelope;
}

/** keccak256 of the envelope's canonical JSON, 0x + 64 hex: the `encryptedPrivateKeyHash` the wallet signs. */
export function encryptedPrivateKeyHash(envelope) {
  return to0x(keccak256(utf8(canonicalJson(envelope))));
}
