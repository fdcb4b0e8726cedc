// `@dmtp/key-registry-client/envelopes`: seal and open DMTPpriKey envelopes (docs/PROTOCOL.md §3 says which suits
// which wallet). Each envelope's cipher code is imported on first use of its version, so a bundler that splits
// chunks loads only the envelope a dapp seals or opens with; the format checks (check.js) carry no cipher.
import { EnvelopeError } from '../errors.js';
import { isPublicKeyOf } from '../keys.js';
import { resolveSignerIfAny } from '../signers.js';
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
 * The envelope a wallet gets when the caller names none (docs/PROTOCOL.md §3): the signature-derived one for an EOA,
 * the passphrase one for a smart or passkey wallet (the signer's `kind`, else code at its address), and with no
 * wallet at all the passphrase one. x25519-xsalsa20-poly1305 (eth_getEncryptionPublicKey) only when named.
 * A smart wallet without `passphrase` is an EnvelopeError naming the option.
 */
export async function defaultEnvelopeFor(signer, passphrase) {
  if (!signer) {
    if (passphrase === undefined || passphrase === null) throw new EnvelopeError('sealing needs a wallet (`signer`, or `provider` with `wallet`) or a `passphrase`');
    return PASSPHRASE_VERSION;
  }
  if ((await signer.kind()) === 'smart') {
    if (passphrase === undefined || passphrase === null) throw smartWalletNeedsPassphrase(signer.address, 'has contract code (a smart or passkey wallet)');
    return PASSPHRASE_VERSION;
  }
  return EIP191_VERSION;
}

function smartWalletNeedsPassphrase(address, why) {
  return Object.assign(new EnvelopeError(`${address} ${why}: its signatures cannot derive a key that opens again, so its `
    + `DMTP key is sealed under a passphrase: pass \`passphrase\` (at least 8 characters; `
    + `envelope ${PASSPHRASE_VERSION}), or name another \`envelope\``), { notEoa: true });
}

/**
 * Seal a DMTP private key for the wallet. The wallet: `signer` (a Signer: {address, signMessage, signTypedData}; see
 * fromViem, fromEthers) or `provider` (EIP-1193) with `wallet`.
 * `envelope` (default: defaultEnvelopeFor the wallet): 'dmtp-eip191-aes256gcm-hkdf-v1' (one personal_sign of a text
 * naming `wallet`, `chainId` and `registry`; EOAs), 'dmtp-scrypt-aes256gcm-v1' (`passphrase`; any wallet) or
 * 'x25519-xsalsa20-poly1305' (eth_getEncryptionPublicKey, or `encryptionPublicKey` given, which names it). With the
 * default, an unlock signature that does not recover to the wallet (a smart wallet's) seals under `passphrase`
 * instead, or is an EnvelopeError naming it. Returns the DMTPpriKey object.
 */
export async function sealPrivateKey({ privateKey, envelope, signer, provider, wallet, encryptionPublicKey, passphrase, chainId, registry }) {
  const plaintext = String(privateKey).toLowerCase();
  if (!/^0x[0-9a-f]{64}$/.test(plaintext)) throw new EnvelopeError('privateKey must be 0x + 64 hex digits');
  // a given encryptionPublicKey names the x25519 envelope: nothing else could use it
  if ((envelope === undefined || envelope === null) && encryptionPublicKey) envelope = X25519_VERSION;
  const named = envelope !== undefined && envelope !== null;
  if (named) versionOf(envelope);
  const resolved = named && envelope === PASSPHRASE_VERSION ? null : await resolveSignerIfAny({ signer, provider, wallet });
  if (named && envelope === X25519_VERSION && !resolved && !encryptionPublicKey) {
    throw new EnvelopeError(`${X25519_VERSION} needs \`encryptionPublicKey\` or a wallet that answers eth_getEncryptionPublicKey`);
  }
  if (named && envelope === EIP191_VERSION && !resolved) throw new EnvelopeError(`${EIP191_VERSION} needs a wallet: \`signer\`, or \`provider\` with \`wallet\``);
  const version = named ? envelope : await defaultEnvelopeFor(resolved, passphrase);
  const options = { signer: resolved, encryptionPublicKey, passphrase, chainId, registry, requireRecovery: !named };
  let sealed;
  try {
    sealed = await (await moduleOf(version)).sealFor(options, plaintext);
  } catch (error) {
    if (!(error && error.notEoa) || named) throw error;
    if (passphrase === undefined || passphrase === null) throw smartWalletNeedsPassphrase(resolved.address, 'signed its unlock text with a signature that does not recover to it (a smart or passkey wallet)');
    sealed = await (await moduleOf(PASSPHRASE_VERSION)).sealFor(options, plaintext);
  }
  return checkEnvelope(sealed);
}

/**
 * Open a DMTPpriKey through the wallet (`signer`, or `provider` with `wallet`: a signature of the unlock text, or
 * eth_decrypt, by envelope version) or with `passphrase`.
 * `source` is an envelope, a pinned document / registration body (`DMTPpriKey`), or a lookup answer
 * (`bundle.DMTPpriKey`). The signature-derived envelope is opened for the document's chainId, registry and wallet
 * (pass `chainId`/`registry` for a bare envelope or a POST body). When the source names its DMTPpubKey, the opened key
 * must be its private key (EnvelopeError otherwise). Returns the DMTP private key, 0x + 64 lowercase hex.
 */
export async function openPrivateKey(source, { signer, provider, wallet, passphrase, chainId, registry } = {}) {
  const document = source && typeof source === 'object' && source.bundle && typeof source.bundle === 'object' ? source.bundle : source;
  const envelope = document && typeof document === 'object' && 'DMTPpriKey' in document ? document.DMTPpriKey : document;
  const named = document !== envelope ? document : {};
  const version = envelope && typeof envelope === 'object' ? envelope.version : envelope;
  const resolved = version === PASSPHRASE_VERSION ? null : await resolveSignerIfAny({ signer, provider, wallet });
  if (!resolved && version !== PASSPHRASE_VERSION) versionOf(envelope); // an unknown version says so first
  if (!resolved && version !== PASSPHRASE_VERSION) throw new EnvelopeError(`${version} opens through the wallet: pass \`signer\`, or \`provider\` with \`wallet\``);
  const options = {
    signer: resolved,
    passphrase,
    chainId: named.chainId ?? chainId,
    registry: named.registry ?? registry,
    unlockWallet: named.wallet ?? named.address ?? resolved?.address,
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
