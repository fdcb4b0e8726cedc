import { fromHex } from '../bytes.js';
import { EnvelopeError } from '../errors.js';

const LOWER_HEX = /^(?:[0-9a-f]{2})*$/;

/** A hex envelope's member as bytes: lowercase hex without 0x, exactly `length` bytes unless length is null. */
export function hexMember(envelope, name, length) {
  const value = envelope[name];
  if (typeof value !== 'string' || !LOWER_HEX.test(value)) throw new EnvelopeError(`${name} must be lowercase hex without 0x`);
  const raw = fromHex(value);
  if (length !== null && raw.length !== length) throw new EnvelopeError(`${name} must decode to ${length} bytes, not ${raw.length}`);
  return raw;
}
