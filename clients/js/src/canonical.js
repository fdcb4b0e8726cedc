// Canonical JSON (docs/PROTOCOL.md §7) and the CIDv1 of a document.
import { concat, sha256, utf8 } from './bytes.js';

/** Keys sorted by code point at every level, no whitespace: the bytes the registry pins and hashes. */
export function canonicalJson(value) {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value).sort(compareCodePoints)) out[key] = sortKeys(value[key]);
    return out;
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new TypeError('only safe integers are canonical');
  return value;
}

function compareCodePoints(a, b) {
  // Code point order; equal to UTF-16 order for the ASCII keys of the protocol, and correct beyond it.
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d) return d;
  }
  return x.length - y.length;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes) {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(value >>> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  if (bits) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** CIDv1, raw codec, sha2-256, base32: "b" + base32(01 55 12 20 ‖ digest). */
export function cidOfDigest(digest) {
  return 'b' + base32(concat(Uint8Array.of(0x01, 0x55, 0x12, 0x20), digest));
}

/** The CID of some bytes (or a string's UTF-8). */
export async function cidForBytes(bytes) {
  return cidOfDigest(await sha256(typeof bytes === 'string' ? utf8(bytes) : bytes));
}
