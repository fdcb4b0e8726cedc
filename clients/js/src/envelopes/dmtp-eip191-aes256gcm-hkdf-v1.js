// `dmtp-eip191-aes256gcm-hkdf-v1` (docs/PROTOCOL.md §3): the AES-256-GCM key is HKDF-SHA256 (salt, info = the
// version string, 32 bytes) of the wallet's personal_sign signature of the unlock text naming the wallet, the chain id,
// the registry and a random preKey, so a signature made for another deployment or wallet does not open it. EOAs only:
// it relies on RFC 6979 deterministic signatures (the same text gives the same signature again). WebCrypto, or @noble
// where crypto.subtle is missing (crypto.js).
import { fromHex, randomBytes, toHex, utf8 } from '../bytes.js';
import { aesGcmDecrypt, aesGcmEncrypt, hkdfSha256 } from '../crypto.js';
import { EnvelopeError } from '../errors.js';
import { parseAddress } from '../ethsig.js';
import { recoversTo } from '../signers.js';
import { EIP191_VERSION as VERSION, parseEip191 as parse } from './check.js';
import { openedText } from './text.js';

export { EIP191_VERSION as VERSION, EIP191_FIELDS as FIELDS, parseEip191 as parse } from './check.js';
export const UNLOCK_TEXT_HEAD = 'DMTP Key Registry: unlock my DMTP private key.\n\n'
  + 'Sign this only in a DMTP app: this signature opens your DMTP private key.\n\n';
const SIZES = { salt: 32, nonce: 12, preKey: 32 };

/**
 * The text the wallet personal_signs to seal or open an envelope with this preKey (hex without 0x, or bytes), for the
 * registration of `wallet` at `registry` on `chainId` (addresses written EIP-55).
 */
export function unlockText(preKey, { chainId, registry, wallet }) {
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId < 1) throw new EnvelopeError(`${VERSION} needs the registry's chainId`);
  let names;
  try {
    names = { wallet: parseAddress(wallet, 'wallet'), registry: parseAddress(registry, 'registry') };
  } catch (error) {
    throw new EnvelopeError(`${VERSION} needs the wallet and registry addresses (${error.message})`);
  }
  const key = typeof preKey === 'string' ? preKey.toLowerCase() : toHex(preKey);
  return `${UNLOCK_TEXT_HEAD}Wallet: ${names.wallet}\nChain ID: ${chainId}\nRegistry: ${names.registry}\nKey: 0x${key}`;
}

function signatureBytes(signature) {
  let raw;
  try {
    raw = fromHex(signature, 'signature');
  } catch (error) {
    throw new EnvelopeError('the wallet signature is not hex');
  }
  if (raw.length !== 65) throw new EnvelopeError(`${VERSION} needs a 65-byte EOA signature, got ${raw.length} bytes (smart-contract wallets cannot use it)`);
  if (raw[64] === 0 || raw[64] === 1) raw[64] += 27;
  if (raw[64] !== 27 && raw[64] !== 28) throw new EnvelopeError('signature v must be 27, 28, 0 or 1');
  return raw;
}

/** HKDF-SHA256(ikm = signature, salt, info = the version string, 32 bytes): the raw AES-256-GCM key. */
export async function deriveKeyBytes(signature, salt) {
  return hkdfSha256(signatureBytes(signature), salt, utf8(VERSION), 32);
}

/** Seal `plaintext` with `signMessage(text) → signature hex` (the wallet's personal_sign); `domain`: {chainId, registry, wallet}. */
export async function sealWithSigner(signMessage, plaintext, domain, { preKey, salt, nonce } = {}) {
  const pre = preKey ? fromHex(preKey) : randomBytes(SIZES.preKey);
  const saltBytes = salt ? fromHex(salt) : randomBytes(SIZES.salt);
  const nonceBytes = nonce ? fromHex(nonce) : randomBytes(SIZES.nonce);
  const key = await deriveKeyBytes(await signMessage(unlockText(pre, domain)), saltBytes);
  const sealed = await aesGcmEncrypt(key, nonceBytes, utf8(plaintext));
  return { version: VERSION, salt: toHex(saltBytes), nonce: toHex(nonceBytes), preKey: toHex(pre), ciphertext: toHex(sealed) };
}

/** Open by having the wallet sign the unlock text again, for the registration's {chainId, registry, wallet}. */
export async function openWithSigner(signMessage, envelope, domain) {
  const { salt, nonce, preKey, ciphertext } = parse(envelope);
  const key = await deriveKeyBytes(await signMessage(unlockText(preKey, domain)), salt);
  let opened;
  try {
    opened = await aesGcmDecrypt(key, nonce, ciphertext);
  } catch (error) {
    if (error && error.noAesGcm) throw error; // the runtime lacks AES-GCM: not a wrong key
    throw new EnvelopeError('decryption failed: wrong wallet, another registry or chain, or a tampered envelope');
  }
  return openedText(opened);
}

/**
 * The resolved signer's personal_sign (signers.js). `requireRecovery` (the default envelope's choice, not a named one):
 * a signature that does not recover to the wallet is an error with `notEoa` (a smart or passkey wallet: nothing says it
 * signs the same text the same way again), before anything is sealed with it.
 */
const signerOf = ({ signer, requireRecovery }) => async (text) => {
  if (!signer) throw new EnvelopeError(`${VERSION} needs a wallet: \`signer\`, or \`provider\` with \`wallet\``);
  const signature = await signer.signText(text);
  if (requireRecovery && !recoversTo(text, signature, signer.address)) {
    throw Object.assign(new EnvelopeError(`${signer.address}'s unlock signature does not recover to it`), { notEoa: true });
  }
  return signature;
};

const domainOf = ({ chainId, registry, signer, unlockWallet }) => ({ chainId, registry, wallet: unlockWallet ?? (signer && signer.address) });

/** Seal through the wallet's personal_sign (or its Signer's signMessage). */
export async function sealFor(options, plaintext) {
  return sealWithSigner(signerOf(options), plaintext, domainOf(options));
}

/** Open through the wallet's personal_sign (or its Signer's signMessage). */
export async function openWith(options, envelope) {
  return openWithSigner(signerOf(options), envelope, domainOf(options));
}
