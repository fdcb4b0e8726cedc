// The wallet a flow signs with: a small Signer object ({address, signMessage({message}), signTypedData(typedData),
// kind?}) or an EIP-1193 provider with `wallet`. Every flow (register, revoke, sealPrivateKey, openPrivateKey) turns
// the caller's options into one resolved signer here, so envelopes and signing never care which kind they got.
// Adapters making a Signer out of viem and ethers objects live in src/adapters/ (their own subpaths).
import { fromHex, utf8 } from './bytes.js';
import { WalletError } from './errors.js';
import { parseAddress, personalSignDigest, recoverAddress } from './ethsig.js';
import * as wallet from './wallet.js';

const RESOLVED = Symbol.for('dmtp.resolvedSigner');
export const VIEM_ADAPTER = "signer: fromViem(walletClient) from '@dmtp/key-registry-client/viem'";
export const ETHERS_ADAPTER = "signer: fromEthers(signer) from '@dmtp/key-registry-client/ethers'";
/** Where a 7702-delegated EOA's code starts (0xef0100 ‖ delegate): it still signs with its own key. */
const DELEGATION_PREFIX = [0xef, 0x01, 0x00];

/** Whether `value` is a resolved signer (what resolveSigner returns). */
export function isResolved(value) {
  return Boolean(value && value[RESOLVED]);
}

/** The wallet kind `code` (eth_getCode's bytes) says: 'eoa' (none, or an EIP-7702 delegation) or 'smart'. */
export function kindOfCode(code) {
  if (code.length === 0) return 'eoa';
  if (code.length === 23 && DELEGATION_PREFIX.every((byte, i) => code[i] === byte)) return 'eoa';
  return 'smart';
}

/** Whether a personal_sign `signature` of `text` recovers to `address` (an EOA's own key made it). */
export function recoversTo(text, signature, address) {
  try {
    const raw = fromHex(signature);
    return raw.length === 65 && recoverAddress(personalSignDigest(utf8(text)), raw) === address;
  } catch (error) {
    return false;
  }
}

function looksLikeViemClient(value) {
  return Boolean(value && typeof value.request === 'function' && value.transport && typeof value.extend === 'function');
}

function looksLikeEthersSigner(value) {
  return Boolean(value && typeof value.getAddress === 'function' && typeof value.signMessage === 'function' && typeof value.request !== 'function');
}

/** The TypeError a wallet object that is not what the option takes gets, naming the adapter it needs. */
function wrongWallet(option, value) {
  if (looksLikeViemClient(value) || (value && typeof value.signMessage === 'function' && value.type)) {
    return new WalletError(option, new TypeError(`a viem client or account is not ${option === 'provider' ? 'an EIP-1193 provider' : 'a Signer'} here: pass ${VIEM_ADAPTER}`));
  }
  if (looksLikeEthersSigner(value) || (value && typeof value.getSigner === 'function')) {
    return new WalletError(option, new TypeError(`an ethers signer or provider is not ${option === 'provider' ? 'an EIP-1193 provider' : 'a Signer'}: pass ${ETHERS_ADAPTER}`));
  }
  return new WalletError(option, new TypeError(option === 'provider'
    ? 'an EIP-1193 provider (an object with request()) is required, or a Signer as `signer`'
    : 'a Signer is {address, signMessage({message}), signTypedData(typedData)}'));
}

/** Typed data as viem and ethers sign it: EIP712Domain left out of `types` (each library derives it from `domain`). */
function withoutDomainType(typedData) {
  const { EIP712Domain, ...types } = typedData.types;
  return { domain: typedData.domain, types, primaryType: typedData.primaryType, message: typedData.message };
}

async function callSigner(method, call) {
  let answer;
  try {
    answer = await call();
  } catch (error) {
    // a JSON-RPC account the node or wallet behind the client does not hold, or a method it does not answer
    const hint = wallet.hintFor(method, error) && 'the wallet behind this signer does not answer it: a JSON-RPC account must be one '
      + 'that wallet or node holds (eth_accounts); an account that signs in the app goes through fromViem(account) or fromEthers(signer)';
    throw new WalletError(method, error, hint || null);
  }
  if (typeof answer !== 'string') throw new WalletError(method, new TypeError('the signer answered something that is not a hex signature'));
  return wallet.normaliseSignature(answer, method);
}

/** eth_getCode of `address` through `request` ({method, params} → result), as bytes; null when it cannot be asked. */
async function codeThrough(request, address) {
  try {
    const code = await request({ method: 'eth_getCode', params: [address, 'latest'] });
    return typeof code === 'string' ? fromHex(code) : null;
  } catch (error) {
    return null;
  }
}

/**
 * The resolved signer of a flow's options: `{address, signText(text), signTypedData(typedData), kind(), encryptionPublicKey(),
 * decrypt(envelope), source}`. `signer` wins over `provider`; `wallet` (default: the signer's address) is the account
 * signed for (a smart wallet's owner key may sign for it through a provider). `kind()` is 'eoa', 'smart' or null
 * (unknown): the signer's own word, else the code at the address (asked once, only when needed). No wallet call is
 * made here. Throws WalletError when neither is given or one is not what its option takes (naming the adapter).
 */
export async function resolveSigner({ signer, provider, wallet: account } = {}) {
  if (isResolved(signer)) return signer;
  if (signer !== undefined && signer !== null) return fromSigner(signer, account);
  if (provider !== undefined && provider !== null) return fromProvider(provider, account);
  throw new WalletError('signer', new TypeError('a wallet is required: `signer` (a Signer, see fromViem/fromEthers) or `provider` (EIP-1193) with `wallet`'));
}

/** resolveSigner, or null when the options name no wallet at all. */
export async function resolveSignerIfAny(options) {
  const { signer, provider } = options;
  if ((signer === undefined || signer === null) && (provider === undefined || provider === null)) return null;
  return resolveSigner(options);
}

function memoisedKind(ask) {
  let kind;
  return () => (kind ??= ask());
}

async function fromSigner(signer, account) {
  if (typeof signer.signMessage !== 'function' || typeof signer.signTypedData !== 'function') throw wrongWallet('signer', signer);
  let own = signer.address;
  if (typeof own !== 'string' && typeof signer.getAddress === 'function') own = await signer.getAddress();
  if (typeof own !== 'string') throw wrongWallet('signer', signer);
  const address = parseAddress(account ?? own, 'wallet');
  const request = typeof signer.request === 'function' ? (args) => signer.request(args) : null;
  const said = signer.kind === 'eoa' || signer.kind === 'smart' ? signer.kind : null;
  return {
    [RESOLVED]: true,
    source: 'signer',
    address,
    signText: (text) => callSigner('signMessage', () => signer.signMessage({ message: text })),
    signTypedData: (typedData) => callSigner('signTypedData', () => signer.signTypedData(withoutDomainType(typedData))),
    kind: memoisedKind(async () => {
      if (said) return said;
      let code = null;
      if (typeof signer.getCode === 'function') {
        try {
          const answered = await signer.getCode(address);
          code = typeof answered === 'string' ? fromHex(answered) : null;
        } catch (error) {
          code = null;
        }
      } else if (request) {
        code = await codeThrough(request, address);
      }
      return code === null ? null : kindOfCode(code);
    }),
    async encryptionPublicKey() {
      if (!request) throw noEncryptionKey();
      return wallet.getEncryptionPublicKey({ request }, address);
    },
    async decrypt(envelope) {
      if (!request) throw noEncryptionKey();
      return wallet.decrypt({ request }, address, envelope);
    },
  };
}

function noEncryptionKey() {
  return new WalletError('eth_getEncryptionPublicKey', new TypeError('this signer cannot answer eth_getEncryptionPublicKey or eth_decrypt (x25519-xsalsa20-poly1305 needs a wallet that does, such as MetaMask, as `provider`): leave `envelope` unset for the default, which needs only signatures'));
}

async function fromProvider(provider, account) {
  if (typeof provider.request !== 'function') throw wrongWallet('provider', provider);
  const kind = provider.account && provider.account.type;
  if (looksLikeViemClient(provider) && (kind === 'local' || kind === 'smart')) {
    // its request() goes to the node, which holds no key of this account: every signature would fail
    throw new WalletError('provider', new TypeError(`this viem WalletClient's ${kind} account signs in the app, not in the node: pass ${VIEM_ADAPTER}`));
  }
  if (account === undefined || account === null) {
    if (provider.account && typeof provider.account.address === 'string') account = provider.account.address;
    else account = await wallet.firstAccount(provider);
  }
  const address = parseAddress(account, 'wallet');
  return {
    [RESOLVED]: true,
    source: 'provider',
    address,
    signText: (text) => wallet.personalSign(provider, address, text),
    signTypedData: (typedData) => wallet.signTypedData(provider, address, typedData),
    kind: memoisedKind(async () => {
      const code = await codeThrough((args) => provider.request(args), address);
      return code === null ? null : kindOfCode(code);
    }),
    encryptionPublicKey: () => wallet.getEncryptionPublicKey(provider, address),
    decrypt: (envelope) => wallet.decrypt(provider, address, envelope),
  };
}
