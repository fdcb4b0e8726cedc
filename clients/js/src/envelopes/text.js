import { fromUtf8 } from '../bytes.js';
import { EnvelopeError } from '../errors.js';

/** The opened envelope's bytes as text: every envelope's plaintext is UTF-8 ("0x" + 64 hex digits). */
export function openedText(opened) {
  try {
    return fromUtf8(opened);
  } catch (error) {
    throw new EnvelopeError('the opened envelope is not UTF-8 text');
  }
}
