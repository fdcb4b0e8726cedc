// Byte helpers shared by every module: hex, base64, UTF-8, randomness (WebCrypto's CSPRNG in browsers and Node 20).

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Lowercase hex of `bytes`, without 0x. */
export function toHex(bytes) {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** `0x` + lowercase hex. */
export function to0x(bytes) {
  return '0x' + toHex(bytes);
}

/** Bytes of a hex string (0x optional); TypeError on anything else. */
export function fromHex(text, what = 'value') {
  if (typeof text !== 'string') throw new TypeError(`${what} must be a hex string`);
  const digits = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
  if (!HEX.test(digits)) throw new TypeError(`${what} is not an even number of hex digits`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Whether `text` is `0x` + an even number of hex digits. */
export function isHex0x(text) {
  return typeof text === 'string' && text.startsWith('0x') && HEX.test(text.slice(2));
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 with `=` padding. */
export function toBase64(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? B64[n & 63] : '=';
  }
  return out;
}

/** Bytes of strict, padded standard base64; TypeError otherwise (non-canonical trailing bits included). */
export function fromBase64(text, what = 'value') {
  if (typeof text !== 'string' || !B64_STRICT.test(text)) throw new TypeError(`${what} is not padded standard base64`);
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 6) / 8));
  let bits = 0;
  let value = 0;
  let index = 0;
  for (const char of clean) {
    value = (value << 6) | B64.indexOf(char);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (value >> bits) & 0xff;
    }
  }
  if (value & ((1 << bits) - 1)) throw new TypeError(`${what} is not canonical base64 (non-zero padding bits)`);
  return out;
}

const encoder = /* @__PURE__ */ new TextEncoder();
const strictDecoder = /* @__PURE__ */ new TextDecoder('utf-8', { fatal: true });

export function utf8(text) {
  return encoder.encode(text);
}

/** UTF-8 text of `bytes`; TypeError on invalid UTF-8. */
export function fromUtf8(bytes) {
  return strictDecoder.decode(bytes);
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** `length` bytes from the platform CSPRNG (crypto.getRandomValues). */
export function randomBytes(length) {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

/** SHA-256: WebCrypto where the runtime has it, else @noble/hashes (crypto.js). */
export { sha256 } from './crypto.js';
