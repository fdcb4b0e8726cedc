// EIP-712 hashing of the typed data a wallet gets in eth_signTypedData_v4, for the atomic types the protocol uses
// (address, bool, string, bytes, bytesN, uintN, intN): encodeType, hashStruct, domain separator and digest.
import { keccak_256 } from '@noble/hashes/sha3.js';
import { concat, fromHex, utf8 } from './bytes.js';

/** `Name(type name,...)`; the protocol's structs reference no other struct. */
export function encodeType(primaryType, types) {
  const fields = types[primaryType];
  if (!Array.isArray(fields)) throw new TypeError(`no type ${primaryType}`);
  return `${primaryType}(${fields.map((f) => `${f.type} ${f.name}`).join(',')})`;
}

export function typeHash(primaryType, types) {
  return keccak_256(utf8(encodeType(primaryType, types)));
}

function word(value) {
  if (value < 0n) value = (1n << 256n) + value;
  if (value < 0n || value >= 1n << 256n) throw new RangeError('value does not fit 256 bits');
  return fromHex(value.toString(16).padStart(64, '0'));
}

function toBigInt(value, type) {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^(0x[0-9a-fA-F]+|-?[0-9]+)$/.test(value)) return BigInt(value);
  throw new TypeError(`${type} value ${String(value)} is not an integer`);
}

function encodeValue(type, value) {
  if (type === 'string') {
    if (typeof value !== 'string') throw new TypeError('string value expected');
    return keccak_256(utf8(value));
  }
  if (type === 'bytes') return keccak_256(fromHex(value, 'bytes value'));
  if (type === 'address') {
    const raw = fromHex(value, 'address value');
    if (raw.length !== 20) throw new TypeError('address value must be 20 bytes');
    return concat(new Uint8Array(12), raw);
  }
  if (type === 'bool') return word(value ? 1n : 0n);
  let match = /^bytes([0-9]+)$/.exec(type);
  if (match) {
    const size = Number(match[1]);
    const raw = fromHex(value, `${type} value`);
    if (size < 1 || size > 32 || raw.length !== size) throw new TypeError(`${type} value must be ${size} bytes`);
    return concat(raw, new Uint8Array(32 - size));
  }
  match = /^(u?)int([0-9]+)$/.exec(type);
  if (match) {
    const bits = Number(match[2]);
    const n = toBigInt(value, type);
    const unsigned = match[1] === 'u';
    const min = unsigned ? 0n : -(1n << BigInt(bits - 1));
    const max = unsigned ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n;
    if (n < min || n > max) throw new RangeError(`${type} value out of range`);
    return word(n);
  }
  throw new TypeError(`type ${type} is not supported here`);
}

export function hashStruct(primaryType, types, message) {
  const fields = types[primaryType];
  if (!Array.isArray(fields)) throw new TypeError(`no type ${primaryType}`);
  const encoded = fields.map((f) => {
    if (!(f.name in message)) throw new TypeError(`message has no ${f.name}`);
    return encodeValue(f.type, message[f.name]);
  });
  return keccak_256(concat(typeHash(primaryType, types), ...encoded));
}

export function domainSeparator(typedData) {
  return hashStruct('EIP712Domain', typedData.types, typedData.domain);
}

/** keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message)). */
export function typedDataDigest(typedData) {
  return keccak_256(
    concat(Uint8Array.of(0x19, 0x01), domainSeparator(typedData), hashStruct(typedData.primaryType, typedData.types, typedData.message)),
  );
}
