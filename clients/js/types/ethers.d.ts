// @dmtp/key-registry-client/ethers: a Signer of an ethers v6 signer. Structural types: ethers is not a dependency.
import type { Signer } from './index.js';

/** An ethers v6 Signer: a Wallet, an HDNodeWallet, await browserProvider.getSigner(), any AbstractSigner. */
export interface EthersSignerLike {
  getAddress(): Promise<string>;
  signMessage(message: string | Uint8Array): Promise<string>;
  signTypedData(domain: any, types: Record<string, Array<{ name: string; type: string }>>, value: Record<string, any>): Promise<string>;
  provider?: unknown;
}

/** A Signer: kind 'eoa' for a signer holding its key (a Wallet); otherwise the code at the address decides. */
export function fromEthers(signer: EthersSignerLike): Signer;
