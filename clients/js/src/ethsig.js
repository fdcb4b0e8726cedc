// Ethereum signatures: keccak256, EIP-55 addresses, EIP-191 personal_sign digests and ecrecover with the
// registry's rules (docs/PROTOCOL.md §5: 65 bytes r‖s‖v, v ∈ {27, 28, 0, 1}, 0 < r, s < n, low s).
import { keccak_256 } from '@noble/hashes/sha3.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { concat, fromHex, to0x, toHex, utf8 } from './bytes.js';
import { ProtocolError } from './errors.js';
import { N, pointBytes, pointFromBytes, recoverPublicKey } from './secp256k1-public.js';

export function keccak256(bytes) {
  return keccak_256(bytes);
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** EIP-55 form of a 20-byte address (given as 0x + 40 hex digits, any case). */
export function checksumAddress(hex) {
  const lower = hex.slice(2).toLowerCase();
  const hash = toHex(keccak_256(utf8(lower)));
  let out = '0x';
  for (let i = 0; i < 40; i++) out += parseInt(hash[i], 16) >= 8 ? lower[i].toUpperCase() : lower[i];
  return out;
}

/** The registry's address rule: 0x + 40 hex digits, all lower, all upper, or a valid EIP-55 checksum → EIP-55;
 * anything else → ProtocolError `invalid-address`. */
export function parseAddress(value, what = 'address') {
  if (typeof value !== 'string' || !ADDRESS.test(value)) {
    throw new ProtocolError('invalid-address', `${what} must be 0x + 40 hex digits`, { field: what });
  }
  const digits = value.slice(2);
  const checksummed = checksumAddress(value);
  if (digits !== digits.toLowerCase() && digits !== digits.toUpperCase() && checksummed !== value) {
    throw new ProtocolError('invalid-address', `${what} has an invalid EIP-55 checksum`, { field: what });
  }
  return checksummed;
}

/** The address of an uncompressed (65-byte) or compressed (33-byte) secp256k1 public key. */
export function addressOfPublicKey(publicKey) {
  const point = pointBytes(pointFromBytes(publicKey), false);
  return checksumAddress(to0x(keccak_256(point.subarray(1)).subarray(12)));
}

/** The address of a wallet's 32-byte private key. */
export function addressOfPrivateKey(privateKey) {
  return addressOfPublicKey(secp256k1.getPublicKey(privateKey, false));
}

/** keccak256("\x19Ethereum Signed Message:\n" + byte length + message): what personal_sign signs. */
export function personalSignDigest(message) {
  const bytes = typeof message === 'string' ? utf8(message) : message;
  return keccak_256(concat(utf8(`\x19Ethereum Signed Message:\n${bytes.length}`), bytes));
}

/** The signer of a 65-byte r‖s‖v signature over a 32-byte digest, EIP-55; Error on anything the registry
 * would refuse (length, v, r or s out of range, high s, no point). */
export function recoverAddress(digest, signature) {
  const raw = typeof signature === 'string' ? fromHex(signature, 'signature') : signature;
  if (raw.length !== 65) throw new Error(`an EOA signature is 65 bytes, not ${raw.length}`);
  const v = raw[64];
  if (![0, 1, 27, 28].includes(v)) throw new Error(`signature v must be 27, 28, 0 or 1, not ${v}`);
  const r = BigInt(to0x(raw.subarray(0, 32)));
  const s = BigInt(to0x(raw.subarray(32, 64)));
  if (r === 0n || r >= N || s === 0n || s >= N) throw new Error('signature r or s is out of range');
  if (s > N / 2n) throw new Error('signature s is high (EIP-2): the malleable twin is refused');
  return addressOfPublicKey(pointBytes(recoverPublicKey(digest, r, s, v >= 27 ? v - 27 : v), false));
}

/** Sign a 32-byte digest with a private key: 65 bytes r‖s‖v, v ∈ {27, 28}, low s, RFC 6979 (what wallets return). */
export function signDigest(digest, privateKey) {
  const signature = secp256k1.sign(digest, privateKey, { prehash: false, lowS: true });
  return concat(signature.toCompactRawBytes(), Uint8Array.of(signature.recovery + 27));
}
