// `@dmtp/key-registry-client/envelopes`: seal and open DMTPpriKey envelopes (docs/PROTOCOL.md §3 says which suits
// which wallet). Each envelope's cipher code is imported on first use of its version, so a bundler that splits
// chunks loads only the envelope a dapp seals or opens with; the format checks (check.js) carry no cipher.
import { EnvelopeError } from '../errors.js';
import { isPublicKeyOf } from '../keys.js';
import { EIP191_VERSION, PASSPHRASE_VERSION, X25519_VERSION, checkEnvelope, versionOf } from './check.js';

export { ENVELOPE_VERSIONS, PLAINTEXT_BYTES, checkEnvelope, encryptedPrivateKeyHash } from './check.js';

/** Each envelope version's module, imported when first asked for. */
const LOADERS = {
  [X25519_VERSION]: () => import('./x25519-xsalsa20-poly1305.js'),
  [EIP191_VERSION]: () => import('./dmtp-eip191-aes256gcm-hkdf-v1.js'),
  [PASSPHRASE_VERSION]: () => import('./dmtp-scrypt-aes256gcm-v1.js'),
};

/** The module sealing and opening `envelope` (an envelope or its version); EnvelopeError for an unknown version. */
function moduleOf(envelope) {
  return LOADERS[versionOf(envelope)]();
}

/**
 * Seal a DMTP private key for the wallet.
 * `envelope`: 'x25519-xsalsa20-poly1305' (eth_getEncryptionPublicKey, or `encryptionPublicKey` given),
 * 'dmtp-eip191-aes256gcm-hkdf-v1' (one personal_sign of a text naming `wallet`, `chainId` and `registry`; EOAs) or
 * 'dmtp-scrypt-aes256gcm-v1' (`passphrase`; any wallet). Returns the DMTPpriKey object.
 */
export async function sealPrivateKey({ privateKey, envelope = X25519_VERSION, provider, wallet, encryptionPublicKey, passphrase, chainId, registry }) {
  const plaintext = String(privateKey).toLowerCase();
  if (!/^0x[0-9a-f]{64}$/.test(plaintext)) throw new EnvelopeError('privateKey must be 0x + 64 hex digits');
  const sealed = await (await moduleOf(envelope)).sealFor({ provider, wallet, encryptionPublicKey, passphrase, chainId, registry }, plaintext);
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
  const plaintext = await (await moduleOf(envelope)).openWith(options, envelope);
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
