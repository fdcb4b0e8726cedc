// `dmtp-scrypt-aes256gcm-v1` (docs/PROTOCOL.md §3): the AES-256-GCM key is scrypt(UTF-8 of the NFKC passphrase,
// salt, n, r, p, 32 bytes). For any wallet: smart wallets and passkey wallets sign neither deterministically nor with
// a key eth_decrypt could use. n = 2^17, r = 8, p = 1 by default (Web3 Secret Storage's); an envelope may carry n up to
// 2^20 and p up to 4, checked before any work so a hostile envelope cannot make us spend more. scrypt: @noble/hashes.
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { fromHex, randomBytes, toHex, utf8 } from '../bytes.js';
import { aesGcmDecrypt, aesGcmEncrypt } from '../crypto.js';
import { EnvelopeError } from '../errors.js';
import { hexMember } from './hex-member.js';
import { openedText } from './text.js';

export const VERSION = 'dmtp-scrypt-aes256gcm-v1';
export const FIELDS = ['version', 'n', 'r', 'p', 'salt', 'nonce', 'ciphertext'];
export const DEFAULT_COST = { n: 2 ** 17, r: 8, p: 1 };
export const MIN_PASSPHRASE_CHARS = 8;
const ALLOWED_N = [2 ** 17, 2 ** 18, 2 ** 19, 2 ** 20];
const SIZES = { salt: 32, nonce: 12 };
const TAG_BYTES = 16;

function checkCost(n, r, p) {
  if (!ALLOWED_N.includes(n)) throw new EnvelopeError('scrypt n must be a power of two from 2^17 to 2^20');
  if (r !== 8) throw new EnvelopeError('scrypt r must be 8');
  if (!Number.isInteger(p) || p < 1 || p > 4) throw new EnvelopeError('scrypt p must be from 1 to 4');
  return { n, r, p };
}

export function parse(envelope, plaintextBytes = null) {
  if (!envelope || typeof envelope !== 'object' || Array.isArray(envelope)) throw new EnvelopeError('the envelope must be an object');
  const keys = Object.keys(envelope).sort();
  if (keys.join() !== [...FIELDS].sort().join()) throw new EnvelopeError(`a ${VERSION} envelope has exactly ${FIELDS.join(', ')}`);
  if (envelope.version !== VERSION) throw new EnvelopeError(`envelope version must be ${VERSION}`);
  const cost = checkCost(envelope.n, envelope.r, envelope.p);
  const decode = (name, length) => hexMember(envelope, name, length);
  const parsed = {
    ...cost,
    salt: decode('salt', SIZES.salt),
    nonce: decode('nonce', SIZES.nonce),
    ciphertext: decode('ciphertext', plaintextBytes === null ? null : plaintextBytes + TAG_BYTES),
  };
  if (parsed.ciphertext.length < TAG_BYTES) throw new EnvelopeError('ciphertext is shorter than its 16-byte tag');
  return parsed;
}

/** The scrypt password: UTF-8 of the passphrase in Unicode NFKC, so the same typed text gives the same key anywhere. */
export function passphraseBytes(passphrase) {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new EnvelopeError(`${VERSION} needs a passphrase`);
  return utf8(passphrase.normalize('NFKC'));
}

/** scrypt(NFKC passphrase, salt, n, r, p, 32 bytes): the raw AES-256 key. */
export async function deriveKeyBytes(passphrase, salt, { n, r, p }) {
  checkCost(n, r, p);
  return scryptAsync(passphraseBytes(passphrase), salt, { N: n, r, p, dkLen: 32, maxmem: 256 * n * r });
}

/** Seal `plaintext` under `passphrase` (at least 8 characters). */
export async function sealWithPassphrase(passphrase, plaintext, { n = DEFAULT_COST.n, p = DEFAULT_COST.p, salt, nonce } = {}) {
  if (typeof passphrase !== 'string' || passphrase.length < MIN_PASSPHRASE_CHARS) {
    throw new EnvelopeError(`the passphrase must have at least ${MIN_PASSPHRASE_CHARS} characters`);
  }
  const cost = checkCost(n, DEFAULT_COST.r, p);
  const saltBytes = salt ? fromHex(salt) : randomBytes(SIZES.salt);
  const nonceBytes = nonce ? fromHex(nonce) : randomBytes(SIZES.nonce);
  const key = await deriveKeyBytes(passphrase, saltBytes, cost);
  const sealed = await aesGcmEncrypt(key, nonceBytes, utf8(plaintext));
  return { version: VERSION, n: cost.n, r: cost.r, p: cost.p, salt: toHex(saltBytes), nonce: toHex(nonceBytes), ciphertext: toHex(sealed) };
}

/** Open with the passphrase; EnvelopeError on the wrong one. */
export async function openWithPassphrase(passphrase, envelope) {
  const { n, r, p, salt, nonce, ciphertext } = parse(envelope);
  const key = await deriveKeyBytes(passphrase, salt, { n, r, p });
  let opened;
  try {
    opened = await aesGcmDecrypt(key, nonce, ciphertext);
  } catch (error) {
    throw new EnvelopeError('decryption failed: wrong passphrase or tampered envelope');
  }
  return openedText(opened);
}

export async function sealFor({ passphrase }, plaintext) {
  return sealWithPassphrase(passphrase, plaintext);
}

export async function openWith({ passphrase }, envelope) {
  return openWithPassphrase(passphrase, envelope);
}
