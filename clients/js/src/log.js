// The registry's transparency log, checked by the client itself (RFC 9162 section 2.1; docs/PROTOCOL.md, the log).
// leaf (61 bytes) = kind (0x01 key, 0x02 revocation) || wallet (20) || version (uint64 BE) || documentHash (32);
// leaf hash = SHA-256(0x00 || leaf); node = SHA-256(0x01 || left || right); empty root = SHA-256("").
// The verifiers return false for any bad proof and never throw on what a registry sent.
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, equalBytes, fromHex, to0x } from './bytes.js';

export const LEAF_KIND_KEY = 1;
export const LEAF_KIND_REVOCATION = 2;
export const LEAF_LENGTH = 61;
export const EMPTY_ROOT = /* @__PURE__ */ sha256(new Uint8Array(0));
const MAX_UINT64 = (1n << 64n) - 1n;

/** The 61 leaf bytes of a record; TypeError when a part is out of range. */
export function leafBytes(kind, wallet, version, documentHash) {
  if (kind !== LEAF_KIND_KEY && kind !== LEAF_KIND_REVOCATION) throw new TypeError('leaf kind must be 1 (key) or 2 (revocation)');
  const address = fromHex(wallet, 'wallet');
  if (address.length !== 20) throw new TypeError('wallet must be 20 bytes');
  const big = BigInt(version);
  if (big < 0n || big > MAX_UINT64) throw new TypeError('version must be a uint64');
  if (!(documentHash instanceof Uint8Array) || documentHash.length !== 32) throw new TypeError('documentHash must be 32 bytes');
  const versionBytes = new Uint8Array(8);
  new DataView(versionBytes.buffer).setBigUint64(0, big);
  return concat(Uint8Array.of(kind), address, versionBytes, documentHash);
}

/** `{kind, wallet (0x lowercase), version (number), documentHash}` of 61 leaf bytes; TypeError otherwise. */
export function parseLeaf(leaf) {
  if (!(leaf instanceof Uint8Array) || leaf.length !== LEAF_LENGTH) throw new TypeError(`a leaf is ${LEAF_LENGTH} bytes`);
  if (leaf[0] !== LEAF_KIND_KEY && leaf[0] !== LEAF_KIND_REVOCATION) throw new TypeError(`unknown leaf kind ${leaf[0]}`);
  const version = new DataView(leaf.buffer, leaf.byteOffset + 21, 8).getBigUint64(0);
  return { kind: leaf[0], wallet: to0x(leaf.subarray(1, 21)), version: Number(version), documentHash: leaf.slice(29) };
}

export function leafHash(leaf) {
  return sha256(concat(Uint8Array.of(0), leaf));
}

export function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

/** Appends leaf hashes and gives the root of everything so far; O(log n) state (perfect-subtree roots). */
export class TreeBuilder {
  constructor() {
    this.size = 0;
    this.peaks = [];
  }

  append(hash) {
    let node = hash;
    let size = this.size;
    while (size % 2 === 1) {
      node = nodeHash(this.peaks.pop(), node);
      size = Math.floor(size / 2);
    }
    this.peaks.push(node);
    this.size += 1;
  }

  root() {
    if (this.peaks.length === 0) return EMPTY_ROOT;
    let node = this.peaks[this.peaks.length - 1];
    for (let i = this.peaks.length - 2; i >= 0; i--) node = nodeHash(this.peaks[i], node);
    return node;
  }
}

export function merkleRoot(leafHashes) {
  const builder = new TreeBuilder();
  for (const hash of leafHashes) builder.append(hash);
  return builder.root();
}

const isHash = (value) => value instanceof Uint8Array && value.length === 32;
const isSize = (value) => Number.isSafeInteger(value) && value >= 0;

/** The root an RFC 9162 inclusion proof leads to, or null when it cannot be one for leaf `index` of `size`. */
export function rootFromInclusion(hash, index, size, path) {
  if (!isSize(index) || !isSize(size) || index >= size || !Array.isArray(path)) return null;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let node = hash;
  for (const sibling of path) {
    if (!isHash(sibling) || sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      node = nodeHash(sibling, node);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      node = nodeHash(node, sibling);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? node : null;
}

export function verifyInclusion(hash, index, size, path, expectedRoot) {
  const root = rootFromInclusion(hash, index, size, path);
  return root !== null && isHash(expectedRoot) && equalBytes(root, expectedRoot);
}

/** RFC 9162 section 2.1.4.2: the tree (oldSize, oldRoot) is a prefix of the tree (newSize, newRoot). */
export function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  if (!isSize(oldSize) || !isSize(newSize) || oldSize > newSize || !Array.isArray(proof) || !proof.every(isHash)) return false;
  if (!isHash(oldRoot) || !isHash(newRoot)) return false;
  if (oldSize === newSize) return proof.length === 0 && equalBytes(oldRoot, newRoot);
  if (oldSize === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = [...proof];
  if ((oldSize & (oldSize - 1)) === 0) path.unshift(oldRoot);
  let fn = BigInt(oldSize - 1);
  let sn = BigInt(newSize - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let oldNode = path[0];
  let newNode = path[0];
  for (const item of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      oldNode = nodeHash(item, oldNode);
      newNode = nodeHash(item, newNode);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      newNode = nodeHash(newNode, item);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equalBytes(oldNode, oldRoot) && equalBytes(newNode, newRoot);
}

/** `0x` + 64 hex digits as 32 bytes, else null (a hash field of a log answer). */
export function hash32(value) {
  if (typeof value !== 'string' || !/^0x[0-9a-f]{64}$/i.test(value)) return null;
  return fromHex(value);
}
