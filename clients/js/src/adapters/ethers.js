// @dmtp/key-registry-client/ethers: fromEthers(signer) → a Signer, for ethers v6 (a Wallet, an HDNodeWallet, a
// BrowserProvider's or JsonRpcProvider's JsonRpcSigner, any AbstractSigner). Duck-typed: this module imports nothing
// from ethers, so ethers is no dependency of the package.
// `kind`: 'eoa' for a signer holding its key (a Wallet: it has a signingKey); otherwise the code at the address decides
// (provider.getCode).
import { WalletError } from '../errors.js';

/** A Signer ({address, kind?, signMessage({message}), signTypedData(typedData), getCode?, request?}) of an ethers v6 signer. */
export function fromEthers(signer) {
  if (!signer || typeof signer.signMessage !== 'function' || typeof signer.signTypedData !== 'function' || typeof signer.getAddress !== 'function') {
    throw new WalletError('fromEthers', new TypeError('fromEthers takes an ethers v6 Signer (a Wallet, or await provider.getSigner())'));
  }
  const provider = signer.provider ?? null;
  const adapted = {
    // ethers signMessage(string) is personal_sign of the text's UTF-8 bytes, as the protocol signs it
    signMessage: ({ message }) => signer.signMessage(message),
    signTypedData: ({ domain, types, message }) => signer.signTypedData(domain, types, message),
    getAddress: () => signer.getAddress(),
  };
  if (typeof signer.address === 'string') adapted.address = signer.address;
  if (signer.signingKey) adapted.kind = 'eoa';
  if (provider && typeof provider.getCode === 'function') adapted.getCode = (address) => provider.getCode(address);
  // a JSON-RPC signer's wallet may answer eth_getEncryptionPublicKey/eth_decrypt (the x25519 envelope, when named)
  if (provider && typeof provider.send === 'function' && !signer.signingKey) adapted.request = ({ method, params }) => provider.send(method, params ?? []);
  return adapted;
}
