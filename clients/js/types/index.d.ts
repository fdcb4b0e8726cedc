// Types of @dmtp/key-registry-client (src/index.js). Checked by `npm run typecheck` (tsc --noEmit).

/** An EIP-1193 provider: window.ethereum, a wagmi connector's provider, WalletConnect, ... */
export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] | object }): Promise<unknown>;
}

/**
 * An EIP-1193 provider that is not a viem WalletClient or an ethers signer: those sign in the app (local, smart and
 * embedded accounts), not through request(), so they go in `signer` through fromViem / fromEthers.
 */
export type Eip1193Only = Eip1193Provider & { signMessage?: never; signTypedData?: never; account?: never };

/** Typed data as a Signer signs it (viem's and ethers' form): EIP712Domain is not in `types`. */
export interface SignerTypedData {
  domain: { name: string; version: string; chainId: number; verifyingContract: `0x${string}` };
  types: Record<string, Array<{ name: string; type: string }>>;
  primaryType: string;
  message: Record<string, unknown>;
}

/**
 * A wallet that signs in the app: fromViem(walletClientOrAccount) (`@dmtp/key-registry-client/viem`),
 * fromEthers(signer) (`@dmtp/key-registry-client/ethers`), a viem local account as it is, or your own.
 */
export interface Signer {
  address: string;
  /** personal_sign (EIP-191) of the UTF-8 text; the 0x-hex signature. */
  signMessage(args: { message: string }): Promise<string>;
  /** EIP-712 signature of the typed data; the 0x-hex signature. */
  signTypedData(typedData: SignerTypedData): Promise<string>;
  /** 'eoa' or 'smart' (smart and passkey wallets): picks the default envelope. Unset: the code at the address decides. */
  kind?: 'eoa' | 'smart';
  /** eth_getCode of the address (0x-hex), when `kind` is unset. */
  getCode?(address: string): Promise<string | undefined>;
  /** The wallet's EIP-1193 request, for the x25519 envelope (eth_getEncryptionPublicKey, eth_decrypt) when named. */
  request?(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

/** The wallet a flow signs with: a Signer, or an EIP-1193 provider and its account (default: its first). */
export type WalletOptions =
  | { signer: Signer; provider?: undefined; /** Default: the signer's address. */ wallet?: string }
  | { provider: Eip1193Only; signer?: undefined; /** Default: the provider's first account (eth_accounts). */ wallet?: string };

export type KeyType = 'x25519' | 'secp256k1';
export type SignatureType = 'eip712' | 'eip191';
export type EnvelopeVersion = 'x25519-xsalsa20-poly1305' | 'dmtp-eip191-aes256gcm-hkdf-v1' | 'dmtp-scrypt-aes256gcm-v1';
export type Hex = `0x${string}`;
export type RecordStatus = 'pinned' | 'queued' | 'submitted' | 'confirmed' | 'failed' | 'superseded';

export interface DmtpKey {
  keyType: KeyType;
  /** 0x + lowercase hex: 32 bytes (x25519) or a 33-byte compressed point (secp256k1). */
  publicKey: Hex;
  /** 0x + 64 lowercase hex. Secret. */
  privateKey: Hex;
}

export interface X25519Envelope {
  version: 'x25519-xsalsa20-poly1305';
  nonce: string;
  ephemPublicKey: string;
  ciphertext: string;
}
export interface Eip191Envelope {
  version: 'dmtp-eip191-aes256gcm-hkdf-v1';
  salt: string;
  nonce: string;
  preKey: string;
  ciphertext: string;
}
/** scrypt(NFKC passphrase, salt, n, r, p) + AES-256-GCM: for any wallet (smart and passkey wallets included). */
export interface PassphraseEnvelope {
  version: 'dmtp-scrypt-aes256gcm-v1';
  /** 2^17 to 2^20, a power of two. */
  n: number;
  r: 8;
  /** 1 to 4. */
  p: number;
  salt: string;
  nonce: string;
  ciphertext: string;
}
export type Envelope = X25519Envelope | Eip191Envelope | PassphraseEnvelope;

/** The registry's signing domain, pinned by the caller (GET /config must agree). */
export interface Domain {
  chainId: number;
  registry: string;
}

export interface KeyDocument {
  format: 'dmtp-key-bundle/2';
  wallet: string;
  keyType: KeyType;
  DMTPpubKey: Hex;
  DMTPpriKey: Envelope;
  version: number;
  issuedAt: number;
  expiresAt: number;
  signatureType: SignatureType;
  Signature: Hex;
  chainId: number;
  registry: string;
}

export interface RegistrationBody {
  address: string;
  keyType: KeyType;
  DMTPpubKey: Hex;
  DMTPpriKey: Envelope;
  version: number;
  issuedAt: number;
  expiresAt?: number;
  signatureType: SignatureType;
  Signature: Hex;
}

export interface RevocationBody {
  address: string;
  revokedVersion: number;
  version: number;
  issuedAt: number;
  signatureType: SignatureType;
  Signature: Hex;
}

export interface Revocation {
  version: number;
  status: RecordStatus;
  txHash: string | null;
  createdAt: number;
  document: Record<string, unknown>;
}

/** lookup's answer for a wallet with no key (then): the shape of a batch-lookup miss; verify says `not-found`. */
export interface NotFound {
  found: false;
  address: string;
}

/** GET /keys/{address} (docs/PROTOCOL.md §10). */
export interface KeyAnswer {
  found?: true;
  wallet: string;
  version: number;
  keyType: KeyType;
  DMTPpubKey: Hex;
  cid: string;
  status: RecordStatus;
  txHash: string | null;
  blockNumber: number | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  expiresAt: number | null;
  revoked: boolean;
  revocation: Revocation | null;
  signerCheck: Record<string, unknown> | null;
  bundle: KeyDocument;
  proof: Record<string, unknown>;
}

export type BatchEntry =
  | { address: string; found: false }
  | { address: string; found: true; version: number; keyType: KeyType; DMTPpubKey: Hex; cid: string; revoked: boolean; bundle: KeyDocument };

export interface BatchAnswer {
  results: BatchEntry[];
  countFound: number;
  countNotFound: number;
}

export interface HistoryAnswer {
  wallet: string;
  items: Array<{ version: number; kind: 'key' | 'revocation'; cid: string | null; status: RecordStatus; txHash: string | null; createdAt: number; document?: KeyDocument; revocation?: Record<string, unknown> }>;
  nextCursor: string | null;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code: string;
  [member: string]: unknown;
}

// ---------------------------------------------------------------- errors

/** Every error of the client: `code` is the problem+json code (the server's, or a client-side one). */
export class RegistryError extends Error {
  constructor(problem: Problem | string, status?: number);
  /** HTTP status; 0 when no HTTP answer is involved. */
  status: number;
  code: string;
  problem: Problem;
  /** Seconds, from a Retry-After header (429). */
  retryAfter?: number;
}
/** A request breaking a protocol rule before it is sent (`invalid-field`, `invalid-address`, `malformed-request`, `version-conflict`). */
export class ProtocolError extends RegistryError {
  constructor(code: string, detail: string, extra?: Record<string, unknown>, status?: number);
}
/** `domain-mismatch`: GET /config differs from the caller's pinned {chainId, registry}. */
export class DomainMismatchError extends RegistryError {}
/** `wallet-rejected` (EIP-1193 4001) or `wallet-error`. */
export class WalletError extends RegistryError {}
/** `envelope-error`. */
export class EnvelopeError extends RegistryError {}
/** `timeout` or `unexpected-status` from waitForStatus; `last` is the last lookup answer. */
export class StatusError extends RegistryError {
  last: KeyAnswer | null;
}
/** `network-error` or `bad-response`. */
export class TransportError extends RegistryError {}

// ---------------------------------------------------------------- keys and envelopes

export const KEY_TYPES: KeyType[];
export const ENVELOPE_VERSIONS: EnvelopeVersion[];
/** `compressed: false` (secp256k1 only): the 65-byte uncompressed public key, as DMTP's SDK makes it. */
export function generateDmtpKey(options?: { keyType?: KeyType; compressed?: boolean }): DmtpKey;
export function dmtpPublicKeyOf(privateKey: string, keyType?: KeyType, options?: { compressed?: boolean }): Hex;

export interface SealOptions {
  privateKey: string;
  /** Default: the signature-derived envelope for an EOA, the passphrase one for a smart wallet (or no wallet). */
  envelope?: EnvelopeVersion;
  /** The wallet that seals (and later opens): a Signer, or an EIP-1193 provider with `wallet`. */
  signer?: Signer;
  provider?: Eip1193Only;
  wallet?: string;
  /** x25519 envelope: the wallet's eth_getEncryptionPublicKey answer, to avoid asking again. */
  encryptionPublicKey?: string;
  /** Signature-derived envelope: the registry it is sealed for (its unlock text names them). */
  chainId?: number;
  registry?: string;
  /** Passphrase envelope: at least 8 characters. */
  passphrase?: string;
}
export function sealPrivateKey(options: SealOptions): Promise<Envelope>;
type SealedIn = { DMTPpriKey: Envelope; DMTPpubKey?: string; keyType?: KeyType; wallet?: string; chainId?: number; registry?: string };
/** `source`: an envelope, a document/body with DMTPpriKey, or a lookup answer with bundle. */
export function openPrivateKey(
  source: Envelope | SealedIn | { bundle: SealedIn },
  options: { signer?: Signer; provider?: Eip1193Only; wallet?: string; passphrase?: string; chainId?: number; registry?: string },
): Promise<Hex>;
export function checkEnvelope<T extends Envelope>(envelope: T): T;
export function encryptedPrivateKeyHash(envelope: Envelope): Hex;

// ---------------------------------------------------------------- registry client

export type RegisterOptions = Domain & WalletOptions & RegisterChoices;
export interface RegisterChoices {
  /** Default: the wallet's current version + 1, from the registry. */
  version?: number;
  /** The key to register; default a fresh one of `keyType`. */
  key?: { keyType?: KeyType; privateKey: string; compressed?: boolean };
  keyType?: KeyType;
  /** secp256k1: register the 65-byte uncompressed point (default: compressed). */
  compressed?: boolean;
  /** Default: by the wallet's kind (sealPrivateKey): signature-derived for an EOA, passphrase for a smart wallet. */
  envelope?: EnvelopeVersion;
  signatureType?: SignatureType;
  issuedAt?: number;
  expiresAt?: number;
  /** Names the x25519 envelope, sealed to this key without asking the wallet. */
  encryptionPublicKey?: string;
  /** For the passphrase envelope: needed by smart and passkey wallets. */
  passphrase?: string;
  /** Record the signed registration here as the owner's own before sending it (the store watchWallet reads). */
  store?: WatchStore;
}

export type RevokeOptions = Domain & WalletOptions & RevokeChoices;
export interface RevokeChoices {
  revokedVersion?: number;
  signatureType?: SignatureType;
  issuedAt?: number;
  /** Record the signed revocation here as the owner's own before sending it (the store watchWallet reads). */
  store?: WatchStore;
}

export interface WaitOptions {
  /** The write to wait for: a registration's version or a revocation's. Default: the current key. */
  version?: number;
  until?: RecordStatus[];
  timeoutMs?: number;
  intervalMs?: number;
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export class RegistryClient {
  constructor(options: { apiUrl: string; fetch?: Fetch; timeoutMs?: number });
  apiUrl: string;
  config(): Promise<Domain>;
  checkDomain(pinned: Domain): Promise<Domain>;
  /** A wallet with no key (then) is `{found: false, address}`, not an error. */
  lookup(address: string, options?: { asOf?: number }): Promise<KeyAnswer | NotFound>;
  batchLookup(addresses: Iterable<string>): Promise<BatchAnswer>;
  history(address: string, options?: { limit?: number; cursor?: string }): Promise<HistoryAnswer>;
  nextVersion(address: string): Promise<number>;
  logHead(): Promise<{ size: number; root: Hex; anchored: { size: number; root: Hex; txHash: Hex; blockNumber: number } | null }>;
  logInclusion(wallet: string, version: number, treeSize?: number): Promise<LogInclusionAnswer>;
  logConsistency(fromSize: number, toSize: number): Promise<LogConsistencyAnswer>;
  logLeaves(start: number, end: number): Promise<LogLeavesAnswer>;
  submitRegistration(body: RegistrationBody): Promise<KeyAnswer>;
  submitRevocation(body: RevocationBody): Promise<KeyAnswer>;
  register(options: RegisterOptions): Promise<{ answer: KeyAnswer; key: DmtpKey; body: RegistrationBody }>;
  revoke(options: RevokeOptions): Promise<{ answer: KeyAnswer; body: RevocationBody }>;
  waitForStatus(address: string, options?: WaitOptions): Promise<KeyAnswer>;
}

export const FINAL_STATUSES: RecordStatus[];
export function buildRegistration(options: RegisterOptions & { version: number }): Promise<{ body: RegistrationBody; key: DmtpKey }>;
export function buildRevocation(options: RevokeOptions & { revokedVersion: number; revokedPublicKey: string }): Promise<RevocationBody>;

type WithApi = { apiUrl: string; fetch?: Fetch };
export function register(options: RegisterOptions & WithApi): Promise<{ answer: KeyAnswer; key: DmtpKey; body: RegistrationBody }>;
export function revoke(options: RevokeOptions & WithApi): Promise<{ answer: KeyAnswer; body: RevocationBody }>;
export function lookup(address: string, options: WithApi & { asOf?: number }): Promise<KeyAnswer | NotFound>;
export function batchLookup(addresses: Iterable<string>, options: WithApi): Promise<BatchAnswer>;
export function history(address: string, options: WithApi & { limit?: number; cursor?: string }): Promise<HistoryAnswer>;
export function waitForStatus(address: string, options: WithApi & WaitOptions): Promise<KeyAnswer>;

// ---------------------------------------------------------------- verification

export type VerifyReason =
  | 'missing-pin' | 'malformed-answer' | 'not-found' | 'malformed-document' | 'cid-mismatch' | 'wallet-mismatch'
  | 'domain-mismatch' | 'answer-mismatch' | 'proof-mismatch' | 'no-rpc' | 'rpc-unavailable' | 'rpc-error'
  | 'chain-mismatch' | 'bad-signature' | 'contract-unreadable' | 'not-onchain' | 'not-current' | 'revoked'
  | 'expired' | 'no-event' | 'version-rollback' | 'version-mismatch' | 'log-not-anchored-yet'
  | 'log-index-beyond-anchor' | 'log-missing' | 'log-unavailable' | 'log-leaf-mismatch'
  | 'log-inclusion-failed' | 'log-inconsistent' | 'malformed-request' | 'verification-error';

/** Each check: true passed, false failed, null not reached. */
export interface VerifyChecks {
  pinned: boolean | null;
  document: boolean | null;
  cid: boolean | null;
  wallet: boolean | null;
  domain: boolean | null;
  answer: boolean | null;
  rpc: boolean | null;
  signature: boolean | null;
  onchain: boolean | null;
  notRevoked: boolean | null;
  notExpired: boolean | null;
  /** The wallet's KeyUpdated/KeyRevoked events, from the start block, never go back in version. */
  history: boolean | null;
  /** The wallet's last KeyUpdated event carries this document's digest and version. */
  latestVersion: boolean | null;
  /** A LogAnchored event at or after that KeyUpdated covers the record's leaf index. */
  anchored: boolean | null;
  /** The record's leaf is proven under the contract's log head, against the on-chain root. */
  log: boolean | null;
}

/** A transparency-log head as the contract's logHead() holds it. */
export interface LogHead {
  size: number;
  root: Hex;
}

/** Where verify gets log proofs: a RegistryClient does, and so does logReader({apiUrl}) of /lookup. */
export interface LogSource {
  logInclusion(wallet: string, version: number, treeSize?: number): Promise<LogInclusionAnswer>;
  logConsistency(fromSize: number, toSize: number): Promise<LogConsistencyAnswer>;
}

export interface LogInclusionAnswer {
  leafIndex: number;
  treeSize: number;
  root: Hex;
  leaf: Hex;
  auditPath: Hex[];
}

export interface LogConsistencyAnswer {
  from: number;
  to: number;
  fromRoot: Hex;
  toRoot: Hex;
  proof: Hex[];
}

export interface LogLeavesAnswer {
  start: number;
  end: number;
  leaves: { index: number; kind: 'key' | 'revocation'; wallet: string; version: number; documentHash: Hex; leaf: Hex }[];
}

export interface VerifiedKeyInfo {
  wallet: string;
  keyType: KeyType;
  publicKey: Hex;
  version: number;
  issuedAt: number;
  expiresAt: number;
  signatureType: SignatureType;
  signerMethod: 'ecdsa' | 'erc1271' | 'erc6492' | null;
  cid: string;
  chainId: number;
  registry: string;
}

export interface VerifyResult {
  /** Encrypt to `key.publicKey` only when true. */
  usable: boolean;
  reason: VerifyReason | null;
  detail: string | null;
  checks: VerifyChecks;
  /** What the document says (null when it did not parse); trust it only when `usable`. */
  key: VerifiedKeyInfo | null;
  /** Once the contract's log head was read: the answer's leaf index, that head (remember it: pass it as
   * `previousHead` next time), and whether the leaf is proven under it (true once verify got that far). */
  log: { leafIndex: number | null; head: LogHead; included: boolean | null } | null;
}

/** Anything with an EIP-1193 request(): a viem PublicClient (any transport: http, fallback, webSocket), a provider. */
export interface ChainRequest {
  request(args: { method: any; params?: any }): Promise<any>;
}

export interface VerifyOptions {
  /** Your own chain, one of: a viem PublicClient (wagmi's usePublicClient()), an EIP-1193 provider, or a JSON-RPC URL.
   * Without one nothing is usable. */
  client?: ChainRequest;
  provider?: ChainRequest;
  rpcUrl?: string;
  wallet: string;
  chainId: number;
  registry: string;
  fetch?: Fetch;
  /** Unix seconds (default: now). */
  now?: number;
  /** The block the registry was deployed in, pinned with `registry` (or any earlier block): the wallet's events are
   * searched from it (default 0). Never taken from the answer. */
  deployBlock?: number;
  /** Your own start block for the event search, instead of `deployBlock`; a block after the registry's deployment
   * can hide the history a rollback shows in. */
  fromBlock?: number;
  timeoutMs?: number;
  /** The registry, asked for log proofs once the record is under the on-chain log head (needed then). */
  log?: LogSource;
  /** The registry API to ask for log proofs when `log` is not given. */
  apiUrl?: string;
  /** An on-chain head seen before: the registry must prove the current one extends it. */
  previousHead?: LogHead;
}

/** Never throws for a bad answer: fails closed with a reason. */
export function verify(answer: unknown, options: VerifyOptions): Promise<VerifyResult>;

/** The contract's latest anchored log head, read through your RPC (which must serve `chainId`). */
export function readLogHead(options: { client?: ChainRequest; provider?: ChainRequest; rpcUrl?: string; chainId: number; registry: string; fetch?: Fetch; timeoutMs?: number }): Promise<LogHead>;
/** Throws (with `reason` 'log-inconsistent' or 'log-unavailable') unless the registry proves `current` extends `previous`. */
export function checkLogConsistency(log: LogSource, previous: LogHead, current: LogHead): Promise<void>;

// ---------------------------------------------------------------- a wallet watches its own key

/** Where the owner's record and the watch cursor are kept: localStorage, or anything with the same two calls. */
export interface WatchStore {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
}

/** A write the owner made from this device. */
export type OwnWrite =
  | { kind: 'key'; version: number; documentHash: Hex; recordedAt: number }
  | { kind: 'revocation'; version: number; documentHash: Hex | null; revokedDigest: Hex | null; recordedAt: number };

export const WATCH_FORMAT: 'dmtp-watch/1';

/** What the store holds per (chainId, registry, wallet) (docs/PROTOCOL.md §16). */
export interface WatchState {
  format: 'dmtp-watch/1';
  wallet: string;
  chainId: number;
  registry: string;
  own: OwnWrite[];
  /** block: the last block whose events were read (null before the first check); leaf: the leaves below it hash to an anchored root; peaks: their frontier. */
  cursor: { block: number | null; leaf: number; peaks: Hex[] };
  foreign: { events: unknown[]; leaves: unknown[] };
  reported: string[];
}

/** A write of her wallet she did not make (or a version that went back), with where it was seen. */
export interface WatchChange {
  kind: 'key' | 'revocation';
  version: number;
  /** not-recorded: not in her record of writes from this device; version-regression: not above the wallet's previous version. */
  reason: 'not-recorded' | 'version-regression';
  /** The event's digest (a key's document hash; for a revocation, the revoked key's). */
  digest: Hex | null;
  /** The leaf's documentHash. */
  documentHash: Hex | null;
  txHash: Hex | null;
  blockNumber: number | null;
  leafIndex: number | null;
  onChain: boolean;
  inLog: boolean;
}

/** The log the registry serves does not match the chain (log-root-mismatch, log-behind-anchor, leaf-malformed). */
export interface WatchProblem {
  code: 'log-root-mismatch' | 'log-behind-anchor' | 'leaf-malformed';
  detail: string;
  leafIndex?: number;
}

export interface WatchReport {
  wallet: string;
  chainId: number;
  registry: string;
  /** No change and no problem. */
  clean: boolean;
  /** Found by this check (each change is reported once). */
  changes: WatchChange[];
  /** Every change found for the wallet so far, by this check and earlier ones. */
  allChanges: WatchChange[];
  problems: WatchProblem[];
  checked: { fromBlock: number; toBlock: number; fromLeaf: number; toLeaf: number; anchoredSize: number };
  cursor: { block: number | null; leaf: number };
}

export interface WatchOptions extends Domain {
  /** Your own chain, one of: a viem PublicClient, an EIP-1193 provider, or a JSON-RPC URL. */
  client?: ChainRequest;
  provider?: ChainRequest;
  rpcUrl?: string;
  /** The registry API (or `log`). */
  apiUrl?: string;
  log?: { logHead(): Promise<{ size: number }>; logLeaves(start: number, end: number): Promise<LogLeavesAnswer> };
  /** Called with the report when a check finds a change she did not make, or a log that does not match the chain. */
  onChange?: (report: WatchReport) => void | Promise<void>;
  /** Called with every check's report. */
  onCheck?: (report: WatchReport) => void | Promise<void>;
  /** watchWallet: a scheduled check that could not run. */
  onError?: (error: unknown) => void;
  /** Default: globalThis.localStorage. */
  store?: WatchStore;
  /** First block of the first check (the registry's deployment block; default 0). */
  fromBlock?: number;
  /** Blocks to stay behind the chain's head (default 0). */
  confirmations?: number;
  /** watchWallet: milliseconds between checks (default 60,000). */
  intervalMs?: number;
  blockChunk?: number;
  fetch?: Fetch;
  timeoutMs?: number;
}

/** A check that could not run: `missing-pin`, `chain-mismatch`, `rpc-unavailable`, `rpc-error`, `log-unavailable`. */
export class WatchError extends RegistryError {}

/** One check now; throws a WatchError when it could not run. */
export function checkWallet(wallet: string, options: WatchOptions): Promise<WatchReport>;
/** A check now, then one every `intervalMs` until stop(). */
export function watchWallet(wallet: string, options: WatchOptions): { ready: Promise<WatchReport>; check(): Promise<WatchReport>; stop(): void };

export function watchKey(domain: Domain, wallet: string): string;
export function loadWatch(store: WatchStore | undefined, domain: Domain, wallet: string): Promise<WatchState>;
export function recordRegistration(store: WatchStore | undefined, domain: Domain, body: RegistrationBody): Promise<OwnWrite>;
export function recordRevocation(
  store: WatchStore | undefined,
  domain: Domain,
  body: RevocationBody,
  revoked?: { revokedPublicKey?: string; revokedCid?: string },
): Promise<OwnWrite>;
/** SHA-256 of the document the registry pins for a registration body: the digest KeyUpdated emits. */
export function registrationDocumentHash(domain: Domain, body: RegistrationBody): Promise<Hex>;
/** SHA-256 of a revocation's document (docs/PROTOCOL.md §9): its leaf's documentHash. */
export function revocationDocumentHash(domain: Domain, body: RevocationBody, revokedPublicKey: string): Promise<Hex>;

// ---------------------------------------------------------------- transparency log (RFC 9162)

export const LEAF_KIND_KEY: 1;
export const LEAF_KIND_REVOCATION: 2;
export const EMPTY_ROOT: Uint8Array;
export function leafBytes(kind: 1 | 2, wallet: string, version: number | bigint, documentHash: Uint8Array): Uint8Array;
export function parseLeaf(leaf: Uint8Array): { kind: 1 | 2; wallet: string; version: number; documentHash: Uint8Array };
export function leafHash(leaf: Uint8Array): Uint8Array;
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array;
export function merkleRoot(leafHashes: Iterable<Uint8Array>): Uint8Array;
export class TreeBuilder {
  size: number;
  append(leafHash: Uint8Array): void;
  root(): Uint8Array;
}
export function rootFromInclusion(leafHash: Uint8Array, index: number, size: number, path: Uint8Array[]): Uint8Array | null;
export function verifyInclusion(leafHash: Uint8Array, index: number, size: number, path: Uint8Array[], root: Uint8Array): boolean;
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: Uint8Array[]): boolean;

// ---------------------------------------------------------------- protocol helpers

export const DOCUMENT_FORMAT: 'dmtp-key-bundle/2';
export const REGISTRATION_TYPE: 'KeyRegistration';
export const REVOCATION_TYPE: 'KeyRevocation';
export const SIGNATURE_TYPES: SignatureType[];

export interface TypedData {
  types: Record<string, Array<{ name: string; type: string }>>;
  primaryType: string;
  domain: { name: string; version: string; chainId: number; verifyingContract: string };
  message: Record<string, unknown>;
}

export interface Registration {
  wallet: string;
  keyType: KeyType;
  publicKey: Hex;
  envelope: Envelope;
  version: number;
  issuedAt: number;
  expiresAt: number;
  signatureType: SignatureType;
  signature: Hex;
}

export function parseRegistration(body: unknown): Registration;
export function parseRevocation(body: unknown): { wallet: string; revokedVersion: number; version: number; issuedAt: number; signatureType: SignatureType; signature: Hex };
export function registrationMessage(registration: Registration): Record<string, unknown>;
export function revocationMessage(revocation: ReturnType<typeof parseRevocation>, revokedPublicKey: string): Record<string, unknown>;
export function typedData(primaryType: 'KeyRegistration' | 'KeyRevocation', message: Record<string, unknown>, domain: Domain): TypedData;
export function signedText(primaryType: 'KeyRegistration' | 'KeyRevocation', message: Record<string, unknown>, domain: Domain): string;
export function signingDigest(primaryType: 'KeyRegistration' | 'KeyRevocation', message: Record<string, unknown>, domain: Domain, signatureType: SignatureType): Uint8Array;
export function pinnedDocument(registration: Registration, domain: Domain): KeyDocument;
export function registrationFromDocument(document: unknown): { registration: Registration; domain: Domain };
export function canonicalJson(value: unknown): string;
export function cidForBytes(bytes: Uint8Array | string): Promise<string>;
export function cidOfDigest(digest: Uint8Array): string;
/** The digest inside a CIDv1 (raw codec, sha2-256, base32); TypeError for any other form. */
export function digestOfCid(cid: string): Uint8Array;
export function parseAddress(value: unknown, what?: string): string;
export function checksumAddress(hex: string): string;
export function recoverAddress(digest: Uint8Array, signature: string | Uint8Array): string;
export function personalSignDigest(message: string | Uint8Array): Uint8Array;
export function keccak256(bytes: Uint8Array): Uint8Array;
export function typedDataDigest(typedData: TypedData): Uint8Array;

// ---------------------------------------------------------------- ERC-6492

export const ERC6492_SUFFIX: Uint8Array;
export const ERC6492_GAS_LIMIT: number;
export function isErc6492(signature: Uint8Array): boolean;
/** abi.encode(address factory, bytes factoryCalldata, bytes signature) ++ 0x6492…6492. */
export function wrapErc6492(factory: string, factoryCalldata: Uint8Array, signature: Uint8Array): Uint8Array;
/** The deployless validator's eth_call data: its creation code ++ abi.encode(signer, digest, signature). */
export function validatorCallData(signer: string, digest: Uint8Array, signature: Uint8Array): Uint8Array;

export * from './watch-keys.js';

// ---------------------------------------------------------------- added with the subpath entries (every name above stays)

export { logReader } from './lookup.js';
export type { ApiOptions, LogReader, LogHeadAnswer } from './lookup.js';
export * from './abi.js';
