// @dmtp/key-registry-react: React hooks for the DMTP Key Registry on TanStack Query v5.
import type { ReactNode, ReactElement } from 'react';
import type { QueryKey, UseMutationOptions, UseMutationResult, UseQueryOptions, UseQueryResult } from '@tanstack/react-query';
import type {
  DmtpKey,
  Eip1193Provider,
  Fetch,
  KeyAnswer,
  KeyChange,
  RegisterOptions,
  RegistrationBody,
  RevocationBody,
  RevokeOptions,
  VerifyReason,
  VerifyResult,
} from '@dmtp/key-registry-client';

/** What the hooks trust and where they read. Chain access: `rpcUrl`, or `provider` (wagmi: `usePublicClient()`). */
export interface DmtpConfig {
  apiUrl?: string;
  chainId?: number;
  registry?: string;
  rpcUrl?: string;
  provider?: Eip1193Provider;
  /** verify()'s start block: the block the registry was deployed in. */
  deployBlock?: number;
  fetch?: Fetch;
}

export function DmtpConfigProvider(props: { config: DmtpConfig; children?: ReactNode }): ReactElement;
export function useDmtpConfig(overrides?: DmtpConfig): DmtpConfig;

/** ['dmtp', 'key', chainId, registry (lowercase), address (lowercase)]; without an address, the registry's prefix. */
export function dmtpKeyQueryKey(address: string | undefined, config: { chainId?: number | string; registry?: string }): QueryKey;

export interface DmtpKeyData {
  address: string;
  /** false: the registry has no key for the wallet (reason 'not-found'). */
  found: boolean;
  answer: KeyAnswer | null;
  status: KeyAnswer['status'] | null;
  verification: VerifyResult | null;
  /** verify()'s verdict: encrypt to answer.DMTPpubKey only when true. */
  usable: boolean;
  reason: VerifyReason | 'not-found' | null;
}

export function fetchDmtpKey(address: string, config: DmtpConfig): Promise<DmtpKeyData>;
/** Whether the data may still change without a new write (a pending status, an anchor to come). */
export function isSettling(data: DmtpKeyData | undefined): boolean;
export function dmtpKeyQueryOptions(
  address: string | undefined,
  config: DmtpConfig,
  options?: { pollMs?: number },
): UseQueryOptions<DmtpKeyData, Error, DmtpKeyData, QueryKey> & { queryKey: QueryKey };

export interface UseDmtpKeyOptions extends DmtpConfig {
  /** While settling, read again every pollMs (default 2000). */
  pollMs?: number;
  query?: Partial<UseQueryOptions<DmtpKeyData, Error, DmtpKeyData, QueryKey>>;
}
export function useDmtpKey(address: string | undefined, options?: UseDmtpKeyOptions): UseQueryResult<DmtpKeyData, Error>;

/** wagmi's wallet client (a viem WalletClient): used as the EIP-1193 provider of its account. */
export interface WalletClientLike extends Eip1193Provider {
  account?: { address: string } | undefined;
}
/** A signer with its own address (the client's Signer). */
export interface SignerLike {
  address: string;
  signMessage(...args: any[]): Promise<string>;
  signTypedData(...args: any[]): Promise<string>;
}
export type Signing =
  | { walletClient: WalletClientLike; signer?: undefined; provider?: undefined; wallet?: string }
  | { signer: SignerLike; walletClient?: undefined; provider?: undefined; wallet?: string }
  | { provider: Eip1193Provider; wallet: string; walletClient?: undefined; signer?: undefined };
export function signingOf(signing: Signing): { provider: Eip1193Provider; wallet: string } | { signer: SignerLike; wallet: string };

type Domainless<T> = Omit<T, 'provider' | 'wallet' | 'chainId' | 'registry'>;
export type RegisterVariables = Signing & Domainless<RegisterOptions>;
export type RevokeVariables = Signing & Domainless<RevokeOptions>;
export interface RegisterResult {
  answer: KeyAnswer;
  /** Keep key.privateKey (or open it again later from the registry). */
  key: DmtpKey;
  body: RegistrationBody;
}
export interface RevokeResult {
  answer: KeyAnswer;
  body: RevocationBody;
}

export function useRegisterDmtpKey(
  options?: DmtpConfig & { mutation?: Partial<UseMutationOptions<RegisterResult, Error, RegisterVariables>> },
): UseMutationResult<RegisterResult, Error, RegisterVariables>;
export function useRevokeDmtpKey(
  options?: DmtpConfig & { mutation?: Partial<UseMutationOptions<RevokeResult, Error, RevokeVariables>> },
): UseMutationResult<RevokeResult, Error, RevokeVariables>;

export interface UseWatchDmtpKeyOptions extends DmtpConfig {
  /** 'chain' (default): the contract's events through your rpcUrl/provider; 'log': the registry's log leaves. */
  source?: 'chain' | 'log';
  /** Milliseconds between polls (default 4000). */
  intervalMs?: number;
  enabled?: boolean;
  onChange?: (change: KeyChange) => void;
}
export interface WatchState {
  lastChange: KeyChange | null;
  /** How many verified changes were delivered since mount. */
  changes: number;
  error: Error | null;
}
export function useWatchDmtpKey(address: string | undefined, options?: UseWatchDmtpKeyOptions): WatchState;
