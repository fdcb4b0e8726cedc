// secp256k1 public keys of secret scalars (DMTP keys of keyType secp256k1), on @noble/curves' point arithmetic:
// weierstrassPoints' Point.multiply is the constant-time multiplication noble's secp256k1.getPublicKey runs, without
// the ECDSA signer, HMAC and DER the full curve object brings (about 4 KB gzipped of /register and of everything).
// test/curves.test.js checks the keys against noble's secp256k1.getPublicKey.
import { weierstrassPoints } from '@noble/curves/abstract/weierstrass.js';
import { Field } from '@noble/curves/abstract/modular.js';
import { GX, GY, N, P } from './secp256k1-public.js';

let points = null;

/** The curve's point class (no compressed decoding: only the generator is ever multiplied), built on first use. */
function Point() {
  points ??= weierstrassPoints({ Fp: Field(P), a: 0n, b: 7n, n: N, h: 1n, Gx: GX, Gy: GY }).ProjectivePoint;
  return points;
}

function scalarOf(secret) {
  let value = 0n;
  for (const byte of secret) value = (value << 8n) | BigInt(byte);
  return value;
}

/** Whether 32 bytes are a valid secp256k1 secret key: 1 ≤ k < n. */
export function isValidSecretKey(secret) {
  if (!(secret instanceof Uint8Array) || secret.length !== 32) return false;
  const k = scalarOf(secret);
  return k > 0n && k < N;
}

/** The public key k·G of a 32-byte secret: 33 bytes compressed (02/03 ‖ x) or 65 uncompressed (04 ‖ x ‖ y). */
export function publicKeyOf(secret, compressed = true) {
  if (!isValidSecretKey(secret)) throw new Error('not a valid secp256k1 secret key');
  const point = Point().BASE.multiply(scalarOf(secret));
  const bytes = point.toRawBytes(false);
  if (!compressed) return bytes;
  return Uint8Array.of(2 + (bytes[64] & 1), ...bytes.subarray(1, 33));
}
