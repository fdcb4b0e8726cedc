// The two DMTPpriKey envelopes by version. A new envelope (e.g. a passphrase one) is one more module in ENVELOPES.
import { canonicalJson } from '../canonical.js';
import { to0x, utf8 } from '../bytes.js';
import { keccak256 } from '../ethsig.js';
import { EnvelopeError } from '../errors.js';
import { dmtpPublicKeyOf } from '../keys.js';
import * as x25519Envelope from './x25519-xsalsa20-poly1305.js';
import * as eip191Envelope from './eip191-aes256-gcm-hkdf-sha256.js';

export const ENVELOPES = {
  [x25519Envelope.VERSION]: x25519Envelope,
  [eip191Envelope.VERSION]: eip191Envelope,
};
export const ENVELOPE_VERSIONS = Object.keys(ENVELOPES);
/** The plaintext is "0x" + 64 hex digits: 66 bytes, so each ciphertext is 82. */
export const PLAINTEXT_BYTES = 66;

function moduleOf(envelope) {
  const version = envelope && typeof envelope === 'object' ? envelope.version : envelope;
  const found = Object.hasOwn(ENVELOPES, version) ? ENVELOPES[version] : null;
  if (!found) throw new EnvelopeError(`unknown envelope version ${JSON.stringify(version)}; expected one of ${ENVELOPE_VERSIONS.join(', ')}`);
  return found;
}

/** The registry's check of a DMTPpriKey: known version, exact members, exact decoded lengths. */
export function checkEnvelope(envelope) {
  moduleOf(envelope).parse(envelope, PLAINTEXT_BYTES);
  return envelope;
}

/** keccak256 of the envelope's canonical JSON, 0x + 64 hex: the `encryptedPrivateKeyHash` the wallet signs. */
export function encryptedPrivateKeyHash(envelope) {
  return to0x(keccak256(utf8(canonicalJson(envelope))));
}

/**
 * Seal a DMTP private key for the wallet.
 * `envelope`: 'x25519-xsalsa20-poly1305' (eth_getEncryptionPublicKey, or `encryptionPublicKey` given) or
 * 'eip191-aes256-gcm-hkdf-sha256' (one personal_sign). Returns the DMTPpriKey object.
 */
export async function sealPrivateKey({ privateKey, envelope = x25519Envelope.VERSION, provider, wallet, encryptionPublicKey }) {
  const plaintext = String(privateKey).toLowerCase();
  if (!/^0x[0-9a-f]{64}$/.test(plaintext)) throw new EnvelopeError('privateKey must be 0x + 64 hex digits');
  const sealed = await moduleOf(envelope).sealFor({ provider, wallet, encryptionPublicKey }, plaintext);
  return checkEnvelope(sealed);
}

/**
 * Open a DMTPpriKey through the wallet (eth_decrypt or personal_sign, by envelope version). `source` is an
 * envelope, a pinned document / registration body (`DMTPpriKey`), or a lookup answer (`bundle.DMTPpriKey`).
 * When the source names its DMTPpubKey, the opened key must be its private key (EnvelopeError otherwise).
 * Returns the DMTP private key, 0x + 64 lowercase hex.
 */
export async function openPrivateKey(source, { provider, wallet }) {
  const document = source && typeof source === 'object' && source.bundle && typeof source.bundle === 'object' ? source.bundle : source;
  const envelope = document && typeof document === 'object' && 'DMTPpriKey' in document ? document.DMTPpriKey : document;
  const plaintext = await moduleOf(envelope).openWith({ provider, wallet }, envelope);
  if (!/^0x[0-9a-f]{64}$/.test(plaintext)) throw new EnvelopeError('the envelope does not hold a DMTP private key');
  if (document !== envelope && typeof document.DMTPpubKey === 'string') {
    let publicKey;
    try {
      publicKey = dmtpPublicKeyOf(plaintext, document.keyType ?? 'x25519');
    } catch (error) {
      throw new EnvelopeError(`the sealed key is not a ${document.keyType} private key`);
    }
    if (publicKey !== document.DMTPpubKey.toLowerCase()) throw new EnvelopeError('the sealed DMTP private key does not belong to the registered DMTPpubKey');
  }
  return plaintext;
}
