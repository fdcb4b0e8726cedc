// `dmtp-scrypt-aes256gcm-v1` (docs/PROTOCOL.md §3): the AES-256-GCM key is scrypt(UTF-8 of the NFKC passphrase,
// salt, n, r, p, 32 bytes). For any wallet: smart wallets and passkey wallets sign neither deterministically nor with
// a key eth_decrypt could use. n = 2^17, r = 8, p = 1 by default (Web3 Secret Storage's); an envelope may carry n up to
// 2^20 and p up to 4, checked before any work so a hostile envelope cannot make us spend more. scrypt: @noble/hashes.
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { fromHex, randomBytes, toHex, utf8 } from '../bytes.js';
import { aesGcmDecrypt, aesGcmEncrypt } from '../crypto.js';
import { EnvelopeError } from '../errors.js';
import { PASSPHRASE_VERSION as VERSION, checkCost, parsePassphrase as parse } from './check.js';
import { openedText } from './text.js';

export { PASSPHRASE_VERSION as VERSION, PASSPHRASE_FIELDS as FIELDS, parsePassphrase as parse } from './check.js';
export const DEFAULT_COST = { n: 2 ** 17, r: 8, p: 1 };
export const MIN_PASSPHRASE_CHARS = 8;
const SIZES = { salt: 32, nonce: 12 };

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
    if (error && error.noAesGcm) throw error; // the runtime lacks AES-GCM: not a wrong key
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
