// `x25519-xsalsa20-poly1305` (docs/PROTOCOL.md §3): MetaMask eth_getEncryptionPublicKey / eth_decrypt,
// @metamask/eth-sig-util `encrypt`. A NaCl box (crypto_box_easy) from a fresh ephemeral X25519 key to the
// wallet's encryption key: key = HSalsa20(X25519(ephemeral, receiver), 0), then XSalsa20-Poly1305; the
// ciphertext member is the 16-byte tag followed by the encrypted bytes, as tweetnacl's nacl.box returns it.
import { x25519 } from '@noble/curves/ed25519.js';
import { hsalsa, xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { u32, u8 } from '@noble/ciphers/utils.js';
import { fromBase64, fromHex, randomBytes, toBase64, utf8 } from '../bytes.js';
import { EnvelopeError } from '../errors.js';
import { X25519_VERSION as VERSION, parseX25519 as parse } from './check.js';
import { openedText } from './text.js';

export { X25519_VERSION as VERSION, X25519_FIELDS as FIELDS, parseX25519 as parse } from './check.js';
const NONCE_BYTES = 24;
const KEY_BYTES = 32;
const SIGMA = /* @__PURE__ */ utf8('expand 32-byte k');

/** NaCl crypto_box_beforenm: HSalsa20 of the X25519 shared secret with a zero nonce. */
function boxKey(secretKey, publicKey) {
  const shared = x25519.getSharedSecret(secretKey, publicKey);
  const out = new Uint32Array(8);
  hsalsa(u32(SIGMA.slice()), u32(shared), new Uint32Array(4), out);
  return u8(out);
}

/** The wallet's encryption public key (what eth_getEncryptionPublicKey answers) from its 32-byte private key. */
export function encryptionPublicKeyOf(walletPrivateKey) {
  return toBase64(x25519.getPublicKey(walletPrivateKey));
}

/** Seal a UTF-8 plaintext to a wallet's encryption public key (base64). `ephemeralSecret`/`nonce`: for test
 * vectors only; by default both are fresh random bytes. */
export function seal(encryptionPublicKey, plaintext, { ephemeralSecret, nonce } = {}) {
  let receiver;
  try {
    receiver = fromBase64(encryptionPublicKey, 'encryption public key');
  } catch (error) {
    throw new EnvelopeError(error.message);
  }
  if (receiver.length !== KEY_BYTES) throw new EnvelopeError('the encryption public key must be 32 bytes');
  const secret = ephemeralSecret ? fromHex(ephemeralSecret) : randomBytes(KEY_BYTES);
  const nonceBytes = nonce ? fromHex(nonce) : randomBytes(NONCE_BYTES);
  let ciphertext;
  try {
    ciphertext = xsalsa20poly1305(boxKey(secret, receiver), nonceBytes).encrypt(utf8(plaintext));
  } catch (error) {
    throw new EnvelopeError(`cannot seal to this encryption key: ${error.message}`);
  }
  return {
    version: VERSION,
    nonce: toBase64(nonceBytes),
    ephemPublicKey: toBase64(x25519.getPublicKey(secret)),
    ciphertext: toBase64(ciphertext),
  };
}

/** Open with the wallet's 32-byte private key (what eth_decrypt does inside the wallet). */
export function openWithPrivateKey(envelope, walletPrivateKey) {
  const { nonce, ephemPublicKey, ciphertext } = parse(envelope);
  let opened;
  try {
    opened = xsalsa20poly1305(boxKey(walletPrivateKey, ephemPublicKey), nonce).decrypt(ciphertext);
  } catch (error) {
    throw new EnvelopeError('decryption failed: wrong wallet key or tampered envelope');
  }
  return openedText(opened);
}

/** Seal through the wallet: asks eth_getEncryptionPublicKey (the resolved signer's) unless `encryptionPublicKey` is given. */
export async function sealFor({ signer, encryptionPublicKey }, plaintext) {
  const key = encryptionPublicKey ?? (await signer.encryptionPublicKey());
  return seal(key, plaintext);
}

/** Open through the wallet's eth_decrypt. */
export async function openWith({ signer }, envelope) {
  parse(envelope);
  return signer.decrypt(envelope);
}
