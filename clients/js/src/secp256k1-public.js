// secp256k1 for what verify() needs, on public data only: a point read from its bytes (checked on the curve) and the
// public key an ECDSA signature recovers to (SEC 1 v2 §4.1.6, recovery ids 0 and 1: the registry refuses others).
// Built on @noble/curves' point arithmetic (weierstrassPoints) without its ECDSA signer, whose RFC 6979 nonces, HMAC
// and DER coding verify() never uses: the /verify entry stays about half the size. Signing stays with noble's
// secp256k1 (ethsig.js signDigest, keys.js); test/secp256k1-public.test.js checks both agree.
import { weierstrassPoints } from '@noble/curves/abstract/weierstrass.js';
import { Field, invert, mod } from '@noble/curves/abstract/modular.js';

/** The field prime, group order and generator of secp256k1 (SEC 2 v2 §2.4.1). */
export const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
export const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const GX = 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n;
const GY = 0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n;

let points = null;

/**
 * `{x, y}` of a point's bytes, as noble's secp256k1 reads them (weierstrass(): compressed 02/03 ‖ x with 1 ≤ x < p and
 * y = √(x³ + 7) of the head's parity; uncompressed 04 ‖ x ‖ y); fromHex then checks the point is on the curve.
 */
function affineOf(Fp, bytes) {
  const head = bytes[0];
  const tail = bytes.subarray(1);
  if (bytes.length === 33 && (head === 2 || head === 3)) {
    const x = bigintOf(tail);
    if (x < 1n || x >= P) throw new Error('Point is not on curve');
    let y;
    try {
      y = Fp.sqrt(Fp.add(Fp.mul(Fp.sqr(x), x), 7n));
    } catch (error) {
      throw new Error('Point is not on curve: no y for this x');
    }
    if ((y & 1n) !== BigInt(head & 1)) y = Fp.neg(y);
    return { x, y };
  }
  if (bytes.length === 65 && head === 4) return { x: Fp.fromBytes(tail.subarray(0, 32)), y: Fp.fromBytes(tail.subarray(32)) };
  throw new Error(`invalid point encoding: 33 bytes (02/03) or 65 bytes (04), not ${bytes.length} bytes starting ${head}`);
}

/** The curve's point class, built on first use (loading this module runs no curve code). */
function Point() {
  if (!points) {
    const Fp = Field(P);
    points = weierstrassPoints({ Fp, a: 0n, b: 7n, n: N, h: 1n, Gx: GX, Gy: GY, fromBytes: (bytes) => affineOf(Fp, bytes) }).ProjectivePoint;
  }
  return points;
}

/** The point of a 33-byte compressed (02/03) or 65-byte uncompressed (04) encoding; Error when it is not on the curve. */
export function pointFromBytes(bytes) {
  return Point().fromHex(bytes);
}

/** The uncompressed (65-byte) or compressed (33-byte) encoding of a point. */
export function pointBytes(point, compressed) {
  return point.toRawBytes(compressed);
}

function bigintOf(bytes) {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/**
 * The public key (a point) that signed the 32-byte `digest` with (r, s) and recovery id 0 or 1: Q = r⁻¹(sR − eG),
 * R the point of x = r whose y has the recovery id's parity. The caller checks 0 < r, s < n (and low s). Error when
 * no key recovers (no point at x = r, or Q at infinity).
 */
export function recoverPublicKey(digest, r, s, recovery) {
  if (digest.length !== 32) throw new Error('the digest must be 32 bytes');
  if (recovery !== 0 && recovery !== 1) throw new Error('the recovery id must be 0 or 1');
  const x = Uint8Array.from({ length: 32 }, (_, i) => Number((r >> BigInt(8 * (31 - i))) & 0xffn));
  const R = pointFromBytes(Uint8Array.of(2 + recovery, ...x));
  const e = mod(bigintOf(digest), N);
  const rInverse = invert(r, N);
  const Q = Point().BASE.multiplyAndAddUnsafe(R, mod(-e * rInverse, N), mod(s * rInverse, N));
  if (!Q) throw new Error('the signature recovers to the point at infinity');
  Q.assertValidity();
  return Q;
}
