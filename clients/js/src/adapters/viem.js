// @dmtp/key-registry-client/viem: fromViem(walletClientOrAccount) → a Signer. Duck-typed: this module imports nothing
// from viem, so viem is no dependency of the package (the app brings its own).
//   - a WalletClient with a local account (privateKeyToAccount, mnemonicToAccount, an embedded wallet's account), a
//     JSON-RPC account (a browser wallet, or a node's unlocked account) or a smart account: it signs through the
//     client's signMessage/signTypedData, which use the account's own methods where it has them;
//   - a bare viem Account (local or smart): its own signMessage/signTypedData.
// `kind`: 'eoa' for local accounts, 'smart' for smart accounts (so the default envelope is the passphrase one), and
// for JSON-RPC accounts the code at the address decides (eth_getCode through the client).
import { WalletError } from '../errors.js';

const KINDS = { local: 'eoa', smart: 'smart' };

function isClient(value) {
  return Boolean(value && typeof value.request === 'function' && typeof value.signMessage === 'function' && 'account' in value);
}

/** A Signer ({address, kind?, signMessage({message}), signTypedData(typedData), getCode?, request?}) of a viem WalletClient or Account. */
export function fromViem(walletClientOrAccount) {
  const source = walletClientOrAccount;
  if (!source || typeof source !== 'object') throw new WalletError('fromViem', new TypeError('fromViem takes a viem WalletClient or Account'));
  if (isClient(source)) {
    const account = source.account;
    if (!account || typeof account.address !== 'string') {
      throw new WalletError('fromViem', new TypeError('the WalletClient has no account: createWalletClient({ account, ... }), or a client from wagmi\'s useWalletClient()'));
    }
    const signer = {
      address: account.address,
      signMessage: ({ message }) => source.signMessage({ account, message }),
      signTypedData: (typedData) => source.signTypedData({ account, ...typedData }),
      getCode: (address) => source.request({ method: 'eth_getCode', params: [address, 'latest'] }),
    };
    if (KINDS[account.type]) signer.kind = KINDS[account.type];
    // a JSON-RPC account's wallet may answer eth_getEncryptionPublicKey/eth_decrypt (the x25519 envelope, when named)
    if (account.type === 'json-rpc') signer.request = (args) => source.request(args);
    return signer;
  }
  if (typeof source.address === 'string') {
    if (typeof source.signMessage !== 'function' || typeof source.signTypedData !== 'function') {
      throw new WalletError('fromViem', new TypeError(`a ${source.type || 'viem'} account without signMessage/signTypedData signs through its wallet: pass fromViem(walletClient) (createWalletClient({ account, transport }))`));
    }
    const signer = {
      address: source.address,
      signMessage: ({ message }) => source.signMessage({ message }),
      signTypedData: (typedData) => source.signTypedData(typedData),
    };
    if (KINDS[source.type]) signer.kind = KINDS[source.type];
    return signer;
  }
  throw new WalletError('fromViem', new TypeError('fromViem takes a viem WalletClient (with an account) or a viem Account'));
}
