// The transparency-log verifiers (src/log.js). The reference vectors (pymerkle roots and inclusion paths, RFC 9162
// consistency proofs over pymerkle subtree hashes, trees of 1 to 2,000 leaves) are written by
// tests/unit/test_client_translog.py and passed in $DMTP_LOG_VECTORS; without it that test is skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fromHex, toHex, utf8 } from '../src/bytes.js';
import {
  EMPTY_ROOT, TreeBuilder, leafBytes, leafHash, merkleRoot, nodeHash, parseLeaf, verifyConsistency, verifyInclusion,
} from '../src/log.js';

const sha = (bytes) => new Uint8Array(createHash('sha256').update(bytes).digest());
const flip = (hash) => sha(hash);

test('a leaf is kind, wallet, version and document hash in 61 bytes', () => {
  const digest = sha(utf8('document'));
  const leaf = leafBytes(2, '0x' + 'Ab'.repeat(20), 258, digest);
  assert.equal(toHex(leaf), '02' + 'ab'.repeat(20) + '0000000000000102' + toHex(digest));
  assert.deepEqual(parseLeaf(leaf), { kind: 2, wallet: '0x' + 'ab'.repeat(20), version: 258, documentHash: digest });
  assert.throws(() => leafBytes(3, '0x' + '11'.repeat(20), 1, digest));
  assert.throws(() => leafBytes(1, '0x' + '11'.repeat(20), -1, digest));
  assert.throws(() => leafBytes(1, '0x' + '11'.repeat(20), 2n ** 64n, digest));
  assert.throws(() => leafBytes(1, '0x1234', 1, digest));
  assert.throws(() => parseLeaf(leaf.subarray(1)));
});

test('hashing uses the RFC 9162 prefixes and the empty root', () => {
  assert.deepEqual(leafHash(utf8('x')), sha(utf8('\x00x')));
  assert.deepEqual(nodeHash(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)), sha(new Uint8Array([1, ...new Uint8Array(32).fill(1), ...new Uint8Array(32).fill(2)])));
  assert.deepEqual(merkleRoot([]), EMPTY_ROOT);
  assert.deepEqual(EMPTY_ROOT, sha(new Uint8Array(0)));
});

test('garbage proofs are false, never an exception', () => {
  const h = new Uint8Array(32);
  assert.equal(verifyInclusion(h, 0, 1, 'nope', h), false);
  assert.equal(verifyInclusion(h, 2, 1, [], h), false);
  assert.equal(verifyInclusion(h, 0, 2, [new Uint8Array(3)], h), false);
  assert.equal(verifyConsistency(3, 2, h, h, []), false);
  assert.equal(verifyConsistency(1, 2, h, h, [null]), false);
  assert.equal(verifyConsistency(0, 5, EMPTY_ROOT, h, []), true);
});

const vectorsPath = process.env.DMTP_LOG_VECTORS;

test('reference vectors: roots, inclusion and consistency agree with pymerkle', { skip: vectorsPath ? false : 'no $DMTP_LOG_VECTORS' }, () => {
  const vectors = JSON.parse(readFileSync(vectorsPath, 'utf8'));
  assert.ok(vectors.length > 0);
  for (const vector of vectors) {
    const hashes = vector.leaves.map((leaf) => leafHash(fromHex(leaf)));
    const builder = new TreeBuilder();
    hashes.forEach((hash, i) => {
      builder.append(hash);
      const expected = vector.roots[String(i + 1)];
      if (expected) assert.equal(toHex(builder.root()), expected, `root at ${i + 1} of ${vector.size}`);
    });
    const root = fromHex(vector.roots[String(vector.size)]);
    const { index } = vector.inclusion;
    const path = vector.inclusion.path.map((h) => fromHex(h));
    assert.ok(verifyInclusion(hashes[index], index, vector.size, path, root), `inclusion ${index} of ${vector.size}`);
    assert.equal(verifyInclusion(leafHash(fromHex(vector.leaves[index] + '00')), index, vector.size, path, root), false);
    if (path.length > 0) {
      const tampered = [...path];
      tampered[tampered.length - 1] = flip(tampered[tampered.length - 1]);
      assert.equal(verifyInclusion(hashes[index], index, vector.size, tampered, root), false);
      assert.equal(verifyInclusion(hashes[index], (index + 1) % vector.size, vector.size, path, root), false);
    }
    const { old } = vector.consistency;
    const proof = vector.consistency.proof.map((h) => fromHex(h));
    const oldRoot = fromHex(vector.roots[String(old)]);
    assert.ok(verifyConsistency(old, vector.size, oldRoot, root, proof), `consistency ${old} -> ${vector.size}`);
    if (old < vector.size) {
      const tampered = [...proof];
      tampered[0] = flip(tampered[0]);
      assert.equal(verifyConsistency(old, vector.size, oldRoot, root, tampered), false);
      assert.equal(verifyConsistency(old, vector.size, flip(oldRoot), root, proof), false);
      assert.equal(verifyConsistency(old, vector.size, oldRoot, root, proof.slice(0, -1)), false);
    }
  }
});

test('the documented log vectors (docs/protocol-vectors.json transparencyLog) are reproduced', () => {
  const vectors = JSON.parse(readFileSync(new URL('../../../docs/protocol-vectors.json', import.meta.url), 'utf8')).transparencyLog;
  const builder = new TreeBuilder();
  for (const entry of vectors.leaves) {
    const leaf = leafBytes(entry.kind === 'key' ? 1 : 2, entry.wallet, entry.version, fromHex(entry.documentHash));
    assert.equal('0x' + toHex(leaf), entry.leaf);
    assert.equal('0x' + toHex(leafHash(leaf)), entry.leafHash);
    builder.append(leafHash(leaf));
    assert.equal('0x' + toHex(builder.root()), vectors.roots[String(builder.size)]);
  }
  const { inclusion, consistency } = vectors;
  assert.ok(verifyInclusion(fromHex(vectors.leaves[inclusion.leafIndex].leafHash), inclusion.leafIndex, inclusion.treeSize, inclusion.auditPath.map((h) => fromHex(h)), fromHex(inclusion.root)));
  assert.ok(verifyConsistency(consistency.from, consistency.to, fromHex(consistency.fromRoot), fromHex(consistency.toRoot), consistency.proof.map((h) => fromHex(h))));
});
