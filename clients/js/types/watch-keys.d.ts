// watchKeys: follow the keys of some wallets, each change delivered once verify() accepts it (src/watch-keys.js).
import type { Eip1193Provider, Fetch, KeyAnswer, RegistryClient, VerifiedKeyInfo, VerifyOptions, VerifyResult } from './index.js';

/** Where the next poll starts: pass it back as `cursor` to resume. */
export type WatchKeysCursor = { source: 'chain'; block: number | null } | { source: 'log'; leaf: number | null };

export interface KeyChange {
  /** The wallet (checksummed). */
  wallet: string;
  kind: 'key' | 'revocation';
  /** The write's version: the new key's, or the revocation's. */
  version: number;
  source: 'chain' | 'log';
  /** chain: the KeyUpdated/KeyRevoked event's digest; log: the leaf's documentHash (0x + 64 hex). */
  digest: string;
  /** chain: the event; log: null. */
  event: { txHash: string; blockNumber: number; logIndex: number } | null;
  /** log: the leaf's index; chain: null. */
  leafIndex: number | null;
  /** verify()'s view of the key (a revocation: of the key it revoked). */
  key: VerifiedKeyInfo;
  /** true for a new key; false for a revocation (verify's reason is then `revoked`, read from the contract). */
  usable: boolean;
  verification: VerifyResult;
  /** The registry's record that verified (its `revoked`/`revocation` left out). */
  answer: KeyAnswer;
}

export interface KeyProblem {
  wallet: string;
  kind: 'key' | 'revocation';
  version: number;
  reason: string;
  detail: string | null;
  verification: VerifyResult | null;
}

interface WatchKeysBase {
  chainId: number;
  registry: string;
  /** 'chain' (default): KeyUpdated/KeyRevoked events by eth_getLogs; 'log': the log's leaves from the registry. */
  source?: 'chain' | 'log';
  cursor?: { block?: number | null; leaf?: number | null };
  deployBlock?: number;
  confirmations?: number;
  /** Milliseconds between polls (default 4000; 0: only when poll() is called). */
  intervalMs?: number;
  onProblem?: (problem: KeyProblem) => void | Promise<void>;
  onError?: (error: Error) => void;
  fetch?: Fetch;
  timeoutMs?: number;
  blockChunk?: number;
  /** verify() itself, for tests. */
  verify?: (answer: unknown, options: VerifyOptions) => Promise<VerifyResult>;
}

type WithChainAccess = { rpcUrl: string; provider?: undefined } | { provider: Eip1193Provider; rpcUrl?: undefined };
type WithRegistry = { apiUrl: string; log?: undefined } | { log: RegistryClient; apiUrl?: undefined };

export type WatchKeysOptions = WatchKeysBase & WithChainAccess & WithRegistry;

export interface KeyWatcher {
  /** Settles after the first poll (rejects with a WatchError when it could not run). */
  ready: Promise<void>;
  /** One more poll now. */
  poll(): Promise<void>;
  cursor(): WatchKeysCursor;
  stop(): void;
}

export function watchKeys(wallets: Iterable<string>, onChange: (change: KeyChange) => void | Promise<void>, options: WatchKeysOptions): KeyWatcher;

/** A fetch answering JSON-RPC POSTs through an EIP-1193 provider (a viem client, window.ethereum, ...). */
export function eip1193Fetch(provider: Eip1193Provider): Fetch;
