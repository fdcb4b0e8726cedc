// secp256k1 for what verify() needs, on public data only: a point read from its bytes (checked on the curve) and the
// public key an ECDSA signature recovers to (SEC 1 v2 §4.1.6, recovery ids 0 and 1: the registry refuses others).
// Plain BigInt arithmetic in Jacobian coordinates, about 1 KB gzipped where @noble/curves' secp256k1 (its ECDSA signer,
// RFC 6979 nonces, HMAC, DER, precomputed tables) costs verify() about 6: the /verify entry's size target holds
// because of it. Nothing secret ever passes through here, so nothing needs to be constant-time; signing and key
// generation stay with noble (ethsig.js signDigest, keys.js). test/curves.test.js checks every result against noble's
// secp256k1: random signatures, the group law's special cases, and valid and invalid encodings.

/** The field prime, group order and generator of secp256k1 (SEC 2 v2 §2.4.1): y² = x³ + 7 over F_P. */
export const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
export const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
export const GX = 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n;
export const GY = 0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n;

/** a mod m, in [0, m). */
const mod = (a, m = P) => ((a % m) + m) % m;

/** base^exponent mod m (square and multiply). */
function pow(base, exponent, m) {
  let result = 1n;
  base = mod(base, m);
  for (; exponent > 0n; exponent >>= 1n) {
    if (exponent & 1n) result = (result * base) % m;
    base = (base * base) % m;
  }
  return result;
}

/** a⁻¹ mod a prime m (Fermat); a must not be 0 mod m. */
const invert = (a, m) => pow(a, m - 2n, m);

// Jacobian points [X, Y, Z] stand for the affine (X/Z², Y/Z³); Z = 0 is the point at infinity.
const INFINITY = [0n, 1n, 0n];

/** 2·p (dbl-2009-l, a = 0). */
function double([X, Y, Z]) {
  if (Z === 0n || Y === 0n) return INFINITY;
  const A = (X * X) % P;
  const B = (Y * Y) % P;
  const C = (B * B) % P;
  const D = mod(2n * ((X + B) ** 2n - A - C));
  const E = 3n * A;
  const X3 = mod(E * E - 2n * D);
  return [X3, mod(E * (D - X3) - 8n * C), (2n * Y * Z) % P];
}

/** p + q (add-2007-bl), with the group law's special cases: either at infinity, q = p (doubling), q = −p (infinity). */
function add(p, q) {
  if (p[2] === 0n) return q;
  if (q[2] === 0n) return p;
  const [X1, Y1, Z1] = p;
  const [X2, Y2, Z2] = q;
  const Z1Z1 = (Z1 * Z1) % P;
  const Z2Z2 = (Z2 * Z2) % P;
  const U1 = (X1 * Z2Z2) % P;
  const U2 = (X2 * Z1Z1) % P;
  const S1 = (Y1 * Z2 * Z2Z2) % P;
  const S2 = (Y2 * Z1 * Z1Z1) % P;
  const H = mod(U2 - U1);
  const r = mod(2n * (S2 - S1));
  if (H === 0n) return r === 0n ? double(p) : INFINITY;
  const I = (4n * H * H) % P;
  const J = (H * I) % P;
  const V = (U1 * I) % P;
  const X3 = mod(r * r - J - 2n * V);
  return [X3, mod(r * (V - X3) - 2n * S1 * J), mod(((Z1 + Z2) ** 2n - Z1Z1 - Z2Z2) * H)];
}

/** a·p + b·q (Shamir's trick: one pass of doublings over both scalars' bits). */
function mulAdd(p, a, q, b) {
  const both = add(p, q);
  let acc = INFINITY;
  for (let bit = 255n; bit >= 0n; bit--) {
    acc = double(acc);
    const takeA = (a >> bit) & 1n;
    const takeB = (b >> bit) & 1n;
    if (takeA && takeB) acc = add(acc, both);
    else if (takeA) acc = add(acc, p);
    else if (takeB) acc = add(acc, q);
  }
  return acc;
}

/** `{x, y}` of a Jacobian point; Error at infinity. */
function affine([X, Y, Z]) {
  if (Z === 0n) throw new Error('the point at infinity');
  const zInverse = invert(Z, P);
  const zz = (zInverse * zInverse) % P;
  return { x: (X * zz) % P, y: (Y * zz * zInverse) % P };
}

const onCurve = (x, y) => x < P && y < P && mod(y * y - x * x * x - 7n) === 0n;

function bigintOf(bytes) {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function bytes32(value) {
  return Uint8Array.from({ length: 32 }, (_, i) => Number((value >> BigInt(8 * (31 - i))) & 0xffn));
}

/**
 * The point `{x, y}` of a 33-byte compressed (02/03 ‖ x) or 65-byte uncompressed (04 ‖ x ‖ y) encoding, with x and y
 * below P and on the curve (the rules of noble's secp256k1 Point.fromHex); Error otherwise.
 */
export function pointFromBytes(bytes) {
  const head = bytes[0];
  if (bytes.length === 33 && (head === 2 || head === 3)) {
    const x = bigintOf(bytes.subarray(1));
    if (x < 1n || x >= P) throw new Error('Point is not on curve: x is not a field element');
    const square = mod(x * x * x + 7n);
    let y = pow(square, (P + 1n) / 4n, P); // P ≡ 3 (mod 4): the square root, when there is one
    if ((y * y) % P !== square) throw new Error('Point is not on curve: no y for this x');
    if ((y & 1n) !== BigInt(head & 1)) y = P - y;
    return { x, y };
  }
  if (bytes.length === 65 && head === 4) {
    const point = { x: bigintOf(bytes.subarray(1, 33)), y: bigintOf(bytes.subarray(33)) };
    if (!onCurve(point.x, point.y)) throw new Error('Point is not on curve');
    return point;
  }
  throw new Error(`invalid point encoding: 33 bytes (02/03) or 65 bytes (04), not ${bytes.length} bytes starting ${head}`);
}

/** The 65-byte uncompressed (04 ‖ x ‖ y) or 33-byte compressed (02/03 ‖ x) encoding of a point `{x, y}`. */
export function pointBytes({ x, y }, compressed) {
  if (compressed) return Uint8Array.of(2 + Number(y & 1n), ...bytes32(x));
  return Uint8Array.of(4, ...bytes32(x), ...bytes32(y));
}

/**
 * The public key `{x, y}` that signed the 32-byte `digest` with (r, s) and recovery id 0 or 1: Q = r⁻¹(sR − eG), R the
 * point of x = r whose y has the recovery id's parity, e the digest as an integer mod N. Error when 0 < r, s < N does
 * not hold, when no point has x = r, or when Q is the point at infinity. (The caller applies its own rules: low s.)
 */
export function recoverPublicKey(digest, r, s, recovery) {
  if (digest.length !== 32) throw new Error('the digest must be 32 bytes');
  if (recovery !== 0 && recovery !== 1) throw new Error('the recovery id must be 0 or 1');
  if (r <= 0n || r >= N || s <= 0n || s >= N) throw new Error('r and s must be in [1, N)');
  const R = pointFromBytes(Uint8Array.of(2 + recovery, ...bytes32(r)));
  const e = mod(bigintOf(digest), N);
  const rInverse = invert(r, N);
  const Q = affine(mulAdd([GX, GY, 1n], mod(-e * rInverse, N), [R.x, R.y, 1n], mod(s * rInverse, N)));
  if (!onCurve(Q.x, Q.y)) throw new Error('the recovered point is not on the curve');
  return Q;
}

/** a·p + b·q of affine points (for tests of the group law against noble). */
export function combine(p, a, q, b) {
  return affine(mulAdd([p.x, p.y, 1n], a, [q.x, q.y, 1n], b));
}
