// SHA-256, HKDF-SHA256 and AES-256-GCM for the envelopes and verify(): WebCrypto (crypto.subtle) where the runtime has
// it, else the audited @noble implementations (React Native, old runtimes, a page served over plain http). Both give
// the same bytes (docs/protocol-vectors.json; test/no-webcrypto.test.js runs the vectors with crypto.subtle removed).
// SHA-256 and HKDF fall back by themselves (noble's SHA-256 is in every bundle already); AES-GCM's fallback is
// installed by `installNobleAesGcm()` of `@dmtp/key-registry-client/no-webcrypto`, so browser bundles, which always
// have WebCrypto, do not carry a second AES. Randomness stays crypto.getRandomValues (bytes.js): React Native needs
// react-native-get-random-values for it.
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** `(key, nonce) → {encrypt, decrypt}` (@noble/ciphers' gcm) for runtimes without crypto.subtle; null until installed. */
let fallbackGcm = null;

/** Installs the AES-256-GCM used where crypto.subtle is missing (no-webcrypto.js installs @noble/ciphers' gcm). */
export function setAesGcmFallback(gcm) {
  fallbackGcm = gcm;
}

/** WebCrypto's SubtleCrypto, or null where the runtime has none. */
export function webCrypto() {
  const api = globalThis.crypto && globalThis.crypto.subtle;
  return api || null;
}

function gcmFallback() {
  if (fallbackGcm) return fallbackGcm;
  throw Object.assign(new Error('this runtime has no WebCrypto (crypto.subtle) for AES-GCM: call installNobleAesGcm() from '
    + "'@dmtp/key-registry-client/no-webcrypto' once at startup (React Native, old runtimes)"), { noAesGcm: true });
}

/** SHA-256 of `bytes`. */
export async function sha256(bytes) {
  const subtle = webCrypto();
  if (!subtle) return nobleSha256(bytes);
  return new Uint8Array(await subtle.digest('SHA-256', bytes));
}

/** HKDF-SHA256 (RFC 5869) of `ikm` with `salt` and `info`: `length` bytes. */
export async function hkdfSha256(ikm, salt, info, length = 32) {
  const subtle = webCrypto();
  if (!subtle) return hkdf(nobleSha256, ikm, salt, info, length);
  const key = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, length * 8));
}

/** AES-256-GCM encryption with a 12-byte nonce, no associated data: ciphertext ‖ 16-byte tag. */
export async function aesGcmEncrypt(key, nonce, plaintext) {
  const subtle = webCrypto();
  if (!subtle) return gcmFallback()(key, nonce).encrypt(plaintext);
  const cryptoKey = await subtle.importKey('raw', key, { name: 'AES-GCM' }, false, ['encrypt']);
  return new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: nonce }, cryptoKey, plaintext));
}

/** AES-256-GCM decryption of ciphertext ‖ tag; throws when the tag does not check (wrong key, tampered bytes). */
export async function aesGcmDecrypt(key, nonce, sealed) {
  const subtle = webCrypto();
  if (!subtle) return gcmFallback()(key, nonce).decrypt(sealed);
  const cryptoKey = await subtle.importKey('raw', key, { name: 'AES-GCM' }, false, ['decrypt']);
  return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: nonce }, cryptoKey, sealed));
}
