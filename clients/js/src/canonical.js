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

/** The sha2-256 digest inside a CIDv1 (raw codec, base32) as cidOfDigest writes it; TypeError for any other form. */
export function digestOfCid(cid) {
  if (typeof cid !== 'string' || !/^b[a-z2-7]+$/.test(cid)) throw new TypeError('a CID is "b" + base32 (CIDv1, raw, sha2-256)');
  const bytes = [];
  let bits = 0;
  let value = 0;
  for (const char of cid.slice(1)) {
    value = (value << 5) | BASE32.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >>> bits) & 255);
    }
    value &= (1 << bits) - 1;
  }
  const raw = Uint8Array.from(bytes);
  if (raw.length !== 36 || raw[0] !== 0x01 || raw[1] !== 0x55 || raw[2] !== 0x12 || raw[3] !== 0x20 || cidOfDigest(raw.subarray(4)) !== cid) {
    throw new TypeError(`${cid} is not a CIDv1 of a raw sha2-256 digest`);
  }
  return raw.slice(4);
}

/** The CID of some bytes (or a string's UTF-8). */
export async function cidForBytes(bytes) {
  return cidOfDigest(await sha256(typeof bytes === 'string' ? utf8(bytes) : bytes));
}
