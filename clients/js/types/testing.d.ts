import type { Eip1193Provider } from './index.js';

/** A MetaMask-like EIP-1193 provider backed by one private key: for tests and demos only. */
export class PrivateKeyProvider implements Eip1193Provider {
  constructor(privateKey: string, options?: { chainId?: number });
  address: string;
  chainId: number;
  request(args: { method: string; params?: unknown[] | object }): Promise<unknown>;
}
