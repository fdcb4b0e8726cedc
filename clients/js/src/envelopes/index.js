// The three DMTPpriKey envelopes by version (docs/PROTOCOL.md §3 says which suits which wallet).
import { canonicalJson } from '../canonical.js';
import { to0x, utf8 } from '../bytes.js';
import { keccak256 } from '../ethsig.js';
import { EnvelopeError } from '../errors.js';
import { isPublicKeyOf } from '../keys.js';
import * as x25519Envelope from './x25519-xsalsa20-poly1305.js';
import * as eip191Envelope from './dmtp-eip191-aes256gcm-hkdf-v1.js';
import * as passphraseEnvelope from './dmtp-scrypt-aes256gcm-v1.js';

export const ENVELOPES = {
  [x25519Envelope.VERSION]: x25519Envelope,
  [eip191Envelope.VERSION]: eip191Envelope,
  [passphraseEnvelope.VERSION]: passphraseEnvelope,
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
 * `envelope`: 'x25519-xsalsa20-poly1305' (eth_getEncryptionPublicKey, or `encryptionPublicKey` given),
 * 'dmtp-eip191-aes256gcm-hkdf-v1' (one personal_sign of a text naming `wallet`, `chainId` and `registry`; EOAs) or
 * 'dmtp-scrypt-aes256gcm-v1' (`passphrase`; any wallet). Returns the DMTPpriKey object.
 */
export async function sealPrivateKey({ privateKey, envelope = x25519Envelope.VERSION, provider, wallet, encryptionPublicKey, passphrase, chainId, registry }) {
  const plaintext = String(privateKey).toLowerCase();
  if (!/^0x[0-9a-f]{64}$/.test(plaintext)) throw new EnvelopeError('privateKey must be 0x + 64 hex digits');
  const sealed = await moduleOf(envelope).sealFor({ provider, wallet, encryptionPublicKey, passphrase, chainId, registry }, plaintext);
  return checkEnvelope(sealed);
}

/**
 * Open a DMTPpriKey through the wallet (eth_decrypt or personal_sign, by envelope version) or with `passphrase`.
 * `source` is an envelope, a pinned document / registration body (`DMTPpriKey`), or a lookup answer
 * (`bundle.DMTPpriKey`). The signature-derived envelope is opened for the document's chainId, registry and wallet
 * (pass `chainId`/`registry` for a bare envelope or a POST body). When the source names its DMTPpubKey, the opened key
 * must be its private key (EnvelopeError otherwise). Returns the DMTP private key, 0x + 64 lowercase hex.
 */
export async function openPrivateKey(source, { provider, wallet, passphrase, chainId, registry } = {}) {
  const document = source && typeof source === 'object' && source.bundle && typeof source.bundle === 'object' ? source.bundle : source;
  const envelope = document && typeof document === 'object' && 'DMTPpriKey' in document ? document.DMTPpriKey : document;
  const named = document !== envelope ? document : {};
  const options = {
    provider,
    wallet,
    passphrase,
    chainId: named.chainId ?? chainId,
    registry: named.registry ?? registry,
    unlockWallet: named.wallet ?? named.address ?? wallet,
  };
  const plaintext = await moduleOf(envelope).openWith(options, envelope);
  if (!/^0x[0-9a-f]{64}$/.test(plaintext)) throw new EnvelopeError('the envelope does not hold a DMTP private key');
  if (document !== envelope && typeof document.DMTPpubKey === 'string') {
    let matches;
    try {
      matches = isPublicKeyOf(plaintext, document.keyType ?? 'x25519', document.DMTPpubKey);
    } catch (error) {
      throw new EnvelopeError(`the sealed key is not a ${document.keyType} private key`);
    }
    if (!matches) throw new EnvelopeError('the sealed DMTP private key does not belong to the registered DMTPpubKey');
  }
  return plaintext;
}
