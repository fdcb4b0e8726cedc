// DMTP key pairs: X25519 (32-byte public key) or secp256k1 (33-byte compressed point, or the 65-byte uncompressed
// point DMTP's SDK makes, with `compressed: false`). The private key is 32 bytes written "0x" + 64 lowercase hex: that
// exact string is the plaintext sealed into DMTPpriKey.
import { x25519 } from '@noble/curves/ed25519.js';
import { fromHex, randomBytes, to0x } from './bytes.js';
import { ProtocolError } from './errors.js';
import { isValidSecretKey, publicKeyOf } from './secp256k1-keys.js';

export const KEY_TYPES = ['x25519', 'secp256k1'];
export const KEY_LENGTHS = { x25519: [32], secp256k1: [33, 65] };
const PRIVATE_KEY = /^0x[0-9a-f]{64}$/;

function checkKeyType(keyType) {
  if (!KEY_TYPES.includes(keyType)) throw new ProtocolError('invalid-field', `keyType must be one of ${KEY_TYPES.join(', ')}`, { field: 'keyType' });
  return keyType;
}

/** The public key (0x + lowercase hex) of a DMTP private key (0x + 64 hex digits). */
export function dmtpPublicKeyOf(privateKey, keyType = 'x25519', { compressed = true } = {}) {
  checkKeyType(keyType);
  if (typeof privateKey !== 'string' || !PRIVATE_KEY.test(privateKey.toLowerCase())) {
    throw new ProtocolError('invalid-field', 'a DMTP private key is 0x + 64 hex digits', { field: 'DMTPpriKey' });
  }
  const secret = fromHex(privateKey);
  if (keyType === 'secp256k1') {
    if (!isValidSecretKey(secret)) throw new ProtocolError('invalid-field', 'not a valid secp256k1 private key', { field: 'DMTPpriKey' });
    return to0x(publicKeyOf(secret, compressed));
  }
  return to0x(x25519.getPublicKey(secret));
}

/** A fresh random DMTP key pair: `{keyType, publicKey, privateKey}` (hex strings). Keep `privateKey` secret. */
export function generateDmtpKey({ keyType = 'x25519', compressed = true } = {}) {
  checkKeyType(keyType);
  let secret;
  do secret = randomBytes(32);
  while (keyType === 'secp256k1' && !isValidSecretKey(secret));
  const privateKey = to0x(secret);
  return { keyType, publicKey: dmtpPublicKeyOf(privateKey, keyType, { compressed }), privateKey };
}

/** Whether `publicKey` (0x hex) is the public key of `privateKey`, in either secp256k1 point form. */
export function isPublicKeyOf(privateKey, keyType, publicKey) {
  const wanted = String(publicKey).toLowerCase();
  if (keyType === 'secp256k1') return [true, false].some((compressed) => dmtpPublicKeyOf(privateKey, keyType, { compressed }) === wanted);
  return dmtpPublicKeyOf(privateKey, keyType) === wanted;
}
