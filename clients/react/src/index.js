// @dmtp/key-registry-react: React hooks for the DMTP Key Registry on TanStack Query (v5), so a wagmi app's one
// QueryClient caches DMTP keys beside its chain reads. Safe under server-side rendering: nothing here touches
// `window` at import or during render; lookups, verification and watching start only in the browser (TanStack Query
// does not fetch on the server; watching starts in an effect).
//
// Query keys (stable, for invalidateQueries / prefetchQuery):
//   ['dmtp', 'key', chainId, registry (lowercase), address (lowercase)]  → the data of useDmtpKey
//   ['dmtp', 'key', chainId, registry (lowercase)]                       → every key of that registry
//   ['dmtp']                                                             → everything of this package
import { createContext, createElement, useContext, useEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { RegistryClient, RegistryError, eip1193Fetch, register, revoke, verify, watchKeys } from '@dmtp/key-registry-client';
import { fromViem } from '@dmtp/key-registry-client/viem';

const DmtpConfigContext = createContext(null);

/**
 * Gives the hooks below what they trust and where they read: `{apiUrl, chainId, registry}` and the caller's own chain
 * access, `rpcUrl` or `provider` (an EIP-1193 provider: wagmi's `usePublicClient()` works), plus optional
 * `deployBlock` (verify's start block) and `fetch`. Each hook's options override it.
 */
export function DmtpConfigProvider({ config, children }) {
  return createElement(DmtpConfigContext.Provider, { value: config }, children);
}

const CONFIG_FIELDS = ['apiUrl', 'chainId', 'registry', 'rpcUrl', 'provider', 'deployBlock', 'fetch'];

/** The DmtpConfigProvider's config with the defined fields of `overrides` over it. */
export function useDmtpConfig(overrides = {}) {
  const base = useContext(DmtpConfigContext) ?? {};
  const config = {};
  for (const field of CONFIG_FIELDS) config[field] = overrides[field] !== undefined ? overrides[field] : base[field];
  return config;
}

/** ['dmtp', 'key', chainId, registry] or, with an address, the query key of that wallet's key. */
export function dmtpKeyQueryKey(address, { chainId, registry }) {
  const prefix = ['dmtp', 'key', Number(chainId), String(registry ?? '').toLowerCase()];
  return address === undefined ? prefix : [...prefix, String(address ?? '').toLowerCase()];
}

/** A fetch that revalidates with the registry (the API's GET answers may be cached for up to 15 s). */
function freshFetch(fetchImpl) {
  return (url, init) => (fetchImpl ?? globalThis.fetch)(url, { ...init, cache: 'no-cache' });
}

function registryOf(config) {
  return new RegistryClient({ apiUrl: config.apiUrl, fetch: freshFetch(config.fetch) });
}

/** verify()'s chain access: the caller's provider (through a fetch) or her rpcUrl. */
function chainAccessOf(config) {
  if (config.provider) return { rpcUrl: 'eip1193:provider', fetch: eip1193Fetch(config.provider) };
  return { rpcUrl: config.rpcUrl, fetch: config.fetch };
}

function configured(config) {
  return Boolean(config.apiUrl && config.chainId && config.registry && (config.rpcUrl || config.provider));
}

/**
 * The lookup and its verification, as useDmtpKey's query function: `{address, found, answer, status, verification,
 * usable, reason}`. A wallet with no key is `{found: false, usable: false, reason: 'not-found'}`, not an error.
 * `usable` is verify()'s verdict alone (docs/PROTOCOL.md §11): encrypt to `answer.DMTPpubKey` only when it is true.
 */
export async function fetchDmtpKey(address, config) {
  const registry = registryOf(config);
  let answer;
  try {
    answer = await registry.lookup(address); // a wallet with no key: {found: false}
  } catch (error) {
    if (!(error instanceof RegistryError) || error.status !== 404) throw error;
    answer = { found: false };
  }
  if (answer.found === false) {
    return { address, found: false, answer: null, status: null, verification: null, usable: false, reason: 'not-found' };
  }
  const verification = await verify(answer, {
    ...chainAccessOf(config),
    wallet: address,
    chainId: config.chainId,
    registry: config.registry,
    deployBlock: config.deployBlock,
    log: registry,
  });
  return { address, found: true, answer, status: answer.status, verification, usable: verification.usable, reason: verification.reason };
}

/** Reasons that a write moving along (queued → confirmed → anchored) clears by itself: useDmtpKey polls through them. */
const PASSING_REASONS = ['not-onchain', 'not-current', 'no-event', 'version-mismatch', 'log-not-anchored-yet', 'log-missing', 'log-index-beyond-anchor', 'rpc-unavailable', 'log-unavailable'];
const FINAL_STATUSES = ['confirmed', 'failed', 'superseded'];

/** Whether a useDmtpKey result may still change without a new write (a pending status, an anchor to come). */
export function isSettling(data) {
  if (!data || !data.found) return false;
  if (!FINAL_STATUSES.includes(data.status)) return true;
  if (data.answer && data.answer.revoked && data.answer.revocation && !FINAL_STATUSES.includes(data.answer.revocation.status)) return true;
  return !data.usable && data.status === 'confirmed' && PASSING_REASONS.includes(data.reason);
}

/**
 * TanStack Query options of a wallet's key (queryKey, queryFn, enabled, refetchInterval): for useQuery, prefetchQuery
 * or useQueries. While the key is settling (see isSettling) it is read again every `pollMs` (default 2000).
 */
export function dmtpKeyQueryOptions(address, config, { pollMs = 2000 } = {}) {
  return {
    queryKey: dmtpKeyQueryKey(address, config),
    queryFn: () => fetchDmtpKey(address, config),
    enabled: Boolean(address) && configured(config),
    refetchInterval: (query) => (isSettling(query.state.data) ? pollMs : false),
  };
}

/**
 * A wallet's DMTP key, looked up and verified against the chain, cached under dmtpKeyQueryKey(address, config).
 * `options`: config fields (over DmtpConfigProvider's), `pollMs`, and `query` (more useQuery options).
 * Returns useQuery's result; `data` is fetchDmtpKey's.
 */
export function useDmtpKey(address, options = {}) {
  const config = useDmtpConfig(options);
  return useQuery({ ...dmtpKeyQueryOptions(address, config, options), ...options.query });
}

/**
 * What register/revoke sign with: `{walletClient}` (wagmi's useWalletClient().data: a viem WalletClient signs through
 * fromViem, so local, embedded and smart accounts work as JSON-RPC ones do; a bare EIP-1193 object with an account is
 * used as the provider of it), `{signer}` (the client's Signer, passed on as it is), or `{provider, wallet}`.
 */
export function signingOf({ walletClient, signer, provider, wallet }) {
  if (signer) return { signer, wallet: wallet ?? signer.address };
  if (walletClient) {
    const address = wallet ?? walletClient.account?.address;
    if (!address) throw new TypeError('the wallet client has no account: connect first');
    if (typeof walletClient.signMessage === 'function') return { signer: fromViem(walletClient), wallet: address };
    return { provider: walletClient, wallet: address };
  }
  if (provider && wallet) return { provider, wallet };
  throw new TypeError('pass walletClient (wagmi: useWalletClient().data), signer, or provider and wallet');
}

function withoutSigning({ walletClient, signer, provider, wallet, ...rest }) {
  return rest;
}

function domainOf(config) {
  return { apiUrl: config.apiUrl, fetch: freshFetch(config.fetch), chainId: config.chainId, registry: config.registry }; // nextVersion reads GET /keys
}

/**
 * A mutation registering a DMTP key: `mutate({walletClient | signer | provider + wallet, ...register options})`
 * (envelope, signatureType, keyType, key, passphrase, ...). Resolves with register()'s `{answer, key, body}` once the
 * registry accepted it (keep `key.privateKey`, or open it again later) and invalidates the wallet's key query, which
 * then follows the write to confirmed and verified.
 */
export function useRegisterDmtpKey(options = {}) {
  const config = useDmtpConfig(options);
  const queryClient = useQueryClient();
  return useMutation({
    mutationKey: ['dmtp', 'register', Number(config.chainId), String(config.registry ?? '').toLowerCase()],
    mutationFn: (variables) => register({ ...withoutSigning(variables), ...domainOf(config), ...signingOf(variables) }),
    onSuccess: (result) => queryClient.invalidateQueries({ queryKey: dmtpKeyQueryKey(result.body.address, config) }),
    ...options.mutation,
  });
}

/** A mutation revoking the wallet's current key: `mutate({walletClient | signer | provider + wallet, ...revoke options})`. */
export function useRevokeDmtpKey(options = {}) {
  const config = useDmtpConfig(options);
  const queryClient = useQueryClient();
  return useMutation({
    mutationKey: ['dmtp', 'revoke', Number(config.chainId), String(config.registry ?? '').toLowerCase()],
    mutationFn: (variables) => revoke({ ...withoutSigning(variables), ...domainOf(config), ...signingOf(variables) }),
    onSuccess: (result) => queryClient.invalidateQueries({ queryKey: dmtpKeyQueryKey(result.body.address, config) }),
    ...options.mutation,
  });
}

/**
 * Follows a wallet's key with watchKeys while mounted (from now on; in the browser only) and invalidates its
 * useDmtpKey query on each verified change, so every component showing it updates. `options`: config fields,
 * `source` ('chain', default: the contract's events through your rpcUrl/provider; or 'log'), `intervalMs` (default
 * 4000), `enabled`, `onChange(change)`. Returns `{lastChange, changes, error}` (`changes`: how many were delivered).
 */
export function useWatchDmtpKey(address, options = {}) {
  const config = useDmtpConfig(options);
  const queryClient = useQueryClient();
  const [state, setState] = useState({ lastChange: null, changes: 0, error: null });
  const onChange = useRef(options.onChange);
  onChange.current = options.onChange;
  const { apiUrl, chainId, registry, rpcUrl, provider, deployBlock, fetch: fetchImpl } = config;
  const { source, intervalMs } = options;
  const enabled = options.enabled !== false && Boolean(address) && configured(config);

  useEffect(() => {
    if (!enabled) return undefined;
    const current = { apiUrl, chainId, registry, rpcUrl, provider, deployBlock, fetch: fetchImpl };
    const queryKey = dmtpKeyQueryKey(address, current);
    let active = true;
    const watcher = watchKeys(
      [address],
      async (change) => {
        if (!active) return;
        setState((previous) => ({ lastChange: change, changes: previous.changes + 1, error: null }));
        if (typeof onChange.current === 'function') onChange.current(change);
        await queryClient.invalidateQueries({ queryKey });
      },
      {
        chainId,
        registry,
        deployBlock,
        source,
        intervalMs,
        log: registryOf(current),
        ...(provider ? { provider } : { rpcUrl, fetch: fetchImpl }),
        onError: (error) => {
          if (active) setState((previous) => ({ ...previous, error }));
        },
      },
    );
    return () => {
      active = false;
      watcher.stop();
    };
  }, [enabled, address, apiUrl, chainId, registry, rpcUrl, provider, deployBlock, fetchImpl, source, intervalMs, queryClient]);

  return state;
}
