// @dmtp/key-registry-client/viem: a Signer of a viem WalletClient or Account. Structural types: viem is not a dependency.
import type { Signer } from './index.js';

/** A viem WalletClient (createWalletClient, wagmi's useWalletClient().data) with an account: local, JSON-RPC or smart. */
export interface ViemWalletClientLike {
  account: { address: `0x${string}`; type: string } | undefined;
  request(args: any): Promise<any>;
  signMessage(args: any): Promise<`0x${string}`>;
  signTypedData(args: any): Promise<`0x${string}`>;
}

/** A viem Account that signs in the app: privateKeyToAccount, mnemonicToAccount, toSmartAccount, toCoinbaseSmartAccount, ... */
export interface ViemAccountLike {
  address: `0x${string}`;
  type: 'local' | 'smart';
  signMessage(args: { message: any }): Promise<`0x${string}`>;
  signTypedData(args: any): Promise<`0x${string}`>;
}

/** A Signer: kind 'eoa' for local accounts, 'smart' for smart accounts; JSON-RPC accounts by the code at the address. */
export function fromViem(walletClientOrAccount: ViemWalletClientLike | ViemAccountLike): Signer;
