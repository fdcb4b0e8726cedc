// Types of @dmtp/key-registry-client/lookup (src/lookup.js): the registry's HTTP API over fetch, no crypto.
import type {
  BatchAnswer, Domain, Fetch, HistoryAnswer, Hex, KeyAnswer, LogConsistencyAnswer, LogInclusionAnswer, LogLeavesAnswer,
  LogSource, NotFound, RegistrationBody, RevocationBody, WaitOptions,
} from './index.js';

export { FINAL_STATUSES, RegistryError, StatusError, TransportError } from './index.js';
export type { BatchAnswer, HistoryAnswer, KeyAnswer, NotFound, RecordStatus, WaitOptions } from './index.js';

/** Where the API is: its base URL, a fetch (default globalThis.fetch) and a per-request timeout (default 15 s). */
export interface ApiOptions {
  apiUrl: string;
  fetch?: Fetch;
  timeoutMs?: number;
}

export interface LogHeadAnswer {
  size: number;
  root: Hex;
  anchored: { size: number; root: Hex; txHash: Hex; blockNumber: number } | null;
}

/** The log reads verify() and watchWallet() take as `log`. */
export interface LogReader extends LogSource {
  logHead(): Promise<LogHeadAnswer>;
  logLeaves(start: number, end: number): Promise<LogLeavesAnswer>;
}

/** GET /keys/{address}; RegistryError 404 when the wallet has no key. */
/** A wallet with no key (then) is `{found: false, address}`, not an error. */
export function lookup(address: string, options: ApiOptions & { asOf?: number }): Promise<KeyAnswer | NotFound>;
export function batchLookup(addresses: Iterable<string>, options: ApiOptions): Promise<BatchAnswer>;
export function history(address: string, options: ApiOptions & { limit?: number; cursor?: string }): Promise<HistoryAnswer>;
/** Polls lookup until the write reaches `until`; `timeoutMs` here is the whole wait (default 60 s). */
export function waitForStatus(address: string, options: { apiUrl: string; fetch?: Fetch } & WaitOptions): Promise<KeyAnswer>;
/** GET /config: the registry's word on its domain (pin your own). */
export function config(options: ApiOptions): Promise<Domain>;
export function submitRegistration(body: RegistrationBody, options: ApiOptions): Promise<KeyAnswer>;
export function submitRevocation(body: RevocationBody, options: ApiOptions): Promise<KeyAnswer>;
export function logHead(options: ApiOptions): Promise<LogHeadAnswer>;
export function logInclusion(wallet: string, version: number, treeSize: number | undefined, options: ApiOptions): Promise<LogInclusionAnswer>;
export function logConsistency(fromSize: number, toSize: number, options: ApiOptions): Promise<LogConsistencyAnswer>;
export function logLeaves(start: number, end: number, options: ApiOptions): Promise<LogLeavesAnswer>;
export function logReader(options: ApiOptions): LogReader;
