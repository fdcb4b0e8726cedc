// The EIP-1193 provider calls the client makes (window.ethereum, a WalletConnect/wagmi connector's provider, ...).
// Failures become WalletError (`wallet-rejected` when the user said no, EIP-1193 code 4001).
import { fromHex, to0x, toHex, utf8 } from './bytes.js';
import { WalletError } from './errors.js';

const UNSUPPORTED = /method not found|not supported|unsupported|does not exist|not available|no signer|unknown account|not implemented/i;
const ADAPTERS = "if the account signs in the app (a viem local or smart account, an ethers Wallet), pass it as `signer`: "
  + "fromViem(walletClient) from '@dmtp/key-registry-client/viem' or fromEthers(signer) from '@dmtp/key-registry-client/ethers'";

/** What to do when `method` is one the wallet does not answer (JSON-RPC -32601, EIP-1193 4200, or such a message). */
export function hintFor(method, error) {
  const code = error && typeof error.code === 'number' ? error.code : null;
  const message = String((error && (error.details || error.shortMessage || error.message)) || error);
  if (code !== -32601 && code !== 4200 && !UNSUPPORTED.test(message)) return null;
  if (method === 'eth_getEncryptionPublicKey' || method === 'eth_decrypt') {
    return `this wallet does not answer ${method}: leave \`envelope\` unset (the default needs only signatures), or ${ADAPTERS}`;
  }
  return ADAPTERS;
}

async function call(provider, method, params) {
  if (!provider || typeof provider.request !== 'function') {
    throw new WalletError(method, new TypeError('an EIP-1193 provider (an object with request()) is required'));
  }
  try {
    return await provider.request({ method, params });
  } catch (error) {
    throw new WalletError(method, error, hintFor(method, error));
  }
}

/** A 65-byte r‖s‖v signature as 0x + lowercase hex, v normalised from 0/1 to 27/28 (some signers answer 0/1).
 * Longer answers (ERC-1271 smart wallets) are returned as they are, lowercased. */
export function normaliseSignature(signature, method) {
  let raw;
  try {
    raw = fromHex(signature, 'signature');
  } catch (error) {
    throw new WalletError(method, new TypeError('the wallet answered something that is not a hex signature'));
  }
  if (raw.length === 0) throw new WalletError(method, new TypeError('the wallet answered an empty signature'));
  if (raw.length === 65 && (raw[64] === 0 || raw[64] === 1)) raw[64] += 27;
  return to0x(raw);
}

/** eth_signTypedData_v4 of `typedData` by `wallet`. */
export async function signTypedData(provider, wallet, typedData) {
  const method = 'eth_signTypedData_v4';
  return normaliseSignature(await call(provider, method, [wallet, JSON.stringify(typedData)]), method);
}

/** personal_sign of a UTF-8 text by `wallet` (the message goes as 0x-hex of its UTF-8 bytes, as MetaMask wants). */
export async function personalSign(provider, wallet, text) {
  const method = 'personal_sign';
  return normaliseSignature(await call(provider, method, ['0x' + toHex(utf8(text)), wallet]), method);
}

/** eth_getEncryptionPublicKey: the wallet's X25519 encryption public key, base64. */
export async function getEncryptionPublicKey(provider, wallet) {
  const key = await call(provider, 'eth_getEncryptionPublicKey', [wallet]);
  if (typeof key !== 'string') throw new WalletError('eth_getEncryptionPublicKey', new TypeError('no key string answered'));
  return key;
}

/** eth_decrypt of an x25519-xsalsa20-poly1305 envelope (sent as 0x-hex of its JSON, as MetaMask expects). */
export async function decrypt(provider, wallet, envelope) {
  const payload = '0x' + toHex(utf8(JSON.stringify(envelope)));
  const plaintext = await call(provider, 'eth_decrypt', [payload, wallet]);
  if (typeof plaintext !== 'string') throw new WalletError('eth_decrypt', new TypeError('no plaintext string answered'));
  return plaintext;
}

/** eth_chainId as a number. */
export async function chainIdOf(provider) {
  return Number(BigInt(await call(provider, 'eth_chainId', [])));
}

/** The wallet's first account (eth_accounts, else eth_requestAccounts). */
export async function firstAccount(provider) {
  let accounts = await call(provider, 'eth_accounts', []);
  if (!Array.isArray(accounts) || accounts.length === 0) accounts = await call(provider, 'eth_requestAccounts', []);
  if (!Array.isArray(accounts) || accounts.length === 0) throw new WalletError('eth_requestAccounts', new Error('no account'));
  return accounts[0];
}
