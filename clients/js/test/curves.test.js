// Where the client does not call @noble/curves' full curve objects (to stay small), checked against them: secp256k1
// public-key recovery, point decoding and the group law (src/secp256k1-public.js), secp256k1 keys of secrets on
// noble's weierstrassPoints (src/secp256k1-keys.js), and the X25519 small-order rule (src/protocol.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { N, P, combine, pointBytes, pointFromBytes, recoverPublicKey } from '../src/secp256k1-public.js';
import { isSmallOrderX25519 } from '../src/protocol.js';
import { isValidSecretKey, publicKeyOf } from '../src/secp256k1-keys.js';
import { randomBytes } from '../src/bytes.js';

const nobleRefuses = (raw) => {
  try {
    x25519.getSharedSecret(x25519.utils.randomPrivateKey(), raw);
    return false;
  } catch (error) {
    return true;
  }
};

function littleEndian(value) {
  return Uint8Array.from({ length: 32 }, (_, i) => Number((value >> BigInt(8 * i)) & 0xffn));
}

test('the recovered public key of 256 random signatures is the one noble recovers and the signer’s', () => {
  for (let i = 0; i < 256; i++) {
    const secret = secp256k1.utils.randomPrivateKey();
    const digest = randomBytes(32);
    const signature = secp256k1.sign(digest, secret, { prehash: false, lowS: true });
    const recovered = pointBytes(recoverPublicKey(digest, signature.r, signature.s, signature.recovery), false);
    assert.deepEqual(recovered, signature.recoverPublicKey(digest).toRawBytes(false));
    assert.deepEqual(recovered, secp256k1.getPublicKey(secret, false));
  }
});

const affineOf = (point) => ({ x: point.x, y: point.y });
const scalar = () => BigInt('0x' + Buffer.from(randomBytes(32)).toString('hex')) % N;

test('a·p + b·q is noble’s, including the group law’s special cases (q = p, q = −p, a zero scalar)', () => {
  const G = secp256k1.ProjectivePoint.BASE;
  for (let i = 0; i < 64; i++) {
    const q = G.multiply(scalar() || 1n);
    const [a, b] = [scalar() || 1n, scalar() || 1n];
    assert.deepEqual(combine(affineOf(G.toAffine()), a, affineOf(q.toAffine()), b), affineOf(G.multiply(a).add(q.multiply(b)).toAffine()));
  }
  const k = scalar() || 1n;
  const g = affineOf(G.toAffine());
  assert.deepEqual(combine(g, k, g, k), affineOf(G.multiply(mod(2n * k)).toAffine())); // p + q with q = p: a doubling
  assert.deepEqual(combine(g, 0n, g, k), affineOf(G.multiply(k).toAffine()));
  assert.deepEqual(combine(g, 1n, g, 1n), affineOf(G.double().toAffine()));
  assert.throws(() => combine(g, k, g, N - k), /infinity/); // kG + (−k)G
  const minusG = affineOf(G.negate().toAffine());
  assert.throws(() => combine(g, 1n, minusG, 1n), /infinity/);
});

function mod(value) {
  return ((value % N) + N) % N;
}

test('a signature whose r is no point’s x, or a recovery id beyond 0 and 1, recovers nothing', () => {
  const hasPoint = (x) => {
    try {
      secp256k1.ProjectivePoint.fromHex(Uint8Array.of(2, ...littleEndian(x).reverse()));
      return true;
    } catch (error) {
      return false;
    }
  };
  let r = 1n;
  while (hasPoint(r)) r += 1n; // x = r has no point on the curve (noble says)
  assert.ok(hasPoint(1n) && !hasPoint(r));
  assert.ok(recoverPublicKey(new Uint8Array(32), 1n, 1n, 0)); // x = 1 has one
  assert.throws(() => recoverPublicKey(new Uint8Array(32), r, 1n, 0), /Point is not on curve|bad point|invalid|not/i);
  assert.throws(() => recoverPublicKey(new Uint8Array(32), 1n, 1n, 2), /recovery id must be 0 or 1/);
});

test('points decode as noble decodes them, and off-curve or out-of-field encodings are refused as noble refuses them', () => {
  const candidates = [];
  for (let i = 0; i < 64; i++) {
    const point = secp256k1.getPublicKey(secp256k1.utils.randomPrivateKey(), i % 2 === 0);
    candidates.push(point);
    const tampered = point.slice();
    tampered[tampered.length - 1] ^= 1;
    candidates.push(tampered);
  }
  candidates.push(Uint8Array.of(2, ...littleEndian(P).reverse()), Uint8Array.of(4, ...new Uint8Array(64)), Uint8Array.of(5, ...new Uint8Array(32)));
  for (const bytes of candidates) {
    let expected;
    try {
      expected = secp256k1.ProjectivePoint.fromHex(bytes).toRawBytes(false);
    } catch (error) {
      expected = null;
    }
    let actual;
    try {
      actual = pointBytes(pointFromBytes(bytes), false);
    } catch (error) {
      actual = null;
    }
    assert.deepEqual(actual, expected);
  }
});

test('the X25519 small-order rule refuses exactly the keys noble finds no shared secret with', () => {
  const p = 2n ** 255n - 19n;
  const smallOrder = [0n, 1n, p - 1n, 325606250916557431795983626356110631294008115727848805560023387167927233504n, 39382357235489614581723060781553021112529911719440698176882885853963445705823n];
  const encodings = [];
  for (const u of smallOrder) {
    for (const value of [u, u + p]) {
      if (value >= 2n ** 255n) continue;
      encodings.push(littleEndian(value), littleEndian(value | (1n << 255n))); // the top bit is ignored
    }
  }
  assert.ok(encodings.length >= 14);
  for (const raw of encodings) {
    assert.equal(nobleRefuses(raw), true);
    assert.equal(isSmallOrderX25519(raw), true);
  }
  for (let i = 0; i < 64; i++) {
    const raw = i % 2 ? x25519.getPublicKey(x25519.utils.randomPrivateKey()) : randomBytes(32);
    assert.equal(isSmallOrderX25519(raw), nobleRefuses(raw));
  }
});

test('the secp256k1 key of a secret is noble’s getPublicKey, compressed and uncompressed', () => {
  for (let i = 0; i < 64; i++) {
    const secret = secp256k1.utils.randomPrivateKey();
    assert.deepEqual(publicKeyOf(secret, true), secp256k1.getPublicKey(secret, true));
    assert.deepEqual(publicKeyOf(secret, false), secp256k1.getPublicKey(secret, false));
  }
});

test('a secret is valid exactly when noble says so: 1 ≤ k < n', () => {
  for (const k of [0n, 1n, 2n, N - 1n, N, N + 1n, 2n ** 256n - 1n]) {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => Number((k >> BigInt(8 * (31 - i))) & 0xffn));
    assert.equal(isValidSecretKey(secret), secp256k1.utils.isValidPrivateKey(secret), String(k));
  }
  assert.equal(isValidSecretKey(new Uint8Array(31).fill(1)), false);
  assert.throws(() => publicKeyOf(new Uint8Array(32)), /not a valid secp256k1 secret key/);
});
