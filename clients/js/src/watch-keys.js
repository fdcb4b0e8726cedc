// watchKeys(wallets, onChange, options): follow the keys of some wallets, as a dapp that encrypts to them does
// (docs/PROTOCOL.md §8, §11, §15). Unlike watchWallet (a wallet watching its OWN key for writes she did not make),
// this reports every change of the wallets' keys, each only once verify() (§11) accepts what it says:
//
// * source 'chain' (the default): the contract's KeyUpdated/KeyRevoked events of the wallets, read with eth_getLogs
//   from a block cursor through the caller's own RPC (`rpcUrl`, or an EIP-1193 `provider`: window.ethereum, a
//   viem client, ...);
// * source 'log': the transparency log's leaves of the wallets, read from a leaf cursor through the registry API
//   (GET /log/head, GET /log/leaves); a leaf names a write the registry accepted, often before it is on chain.
//
// Either way a change (the wallet's newest event or leaf since the last poll) is delivered only when verify(),
// reading the contract through the caller's RPC, says the same thing: a new key is delivered when the registry's
// record of that version verifies usable (on chain, current, latest event, anchored in the log); a revocation when the
// contract says the key with that digest is revoked. Until then the change waits and is tried again at every poll; a
// newer change of the same wallet replaces it. A change that fails a check no later poll can pass (a bad signature, a
// document that is not the one on chain, a rollback) is never delivered: it goes to onProblem, once.
import { EVENT_TOPICS } from './abi.js';
import { fromHex, to0x } from './bytes.js';
import { digestOfCid } from './canonical.js';
import { RegistryError } from './errors.js';
import { parseAddress } from './ethsig.js';
import { LEAF_KIND_KEY, parseLeaf } from './log.js';
import { history, logReader, lookup } from './lookup.js';
import { parseDomain } from './protocol.js';
import { JsonRpc, RpcFailure } from './rpc.js';
import { verify } from './verify.js';
import { WatchError } from './watch.js';

const KEY_UPDATED = EVENT_TOPICS.KeyUpdated;
const KEY_REVOKED = EVENT_TOPICS.KeyRevoked;
const LEAVES_PAGE = 1000;
const BLOCK_CHUNK = 10000;

/**
 * The reasons (verify's, and this watcher's own `registry-behind`) a later poll may clear: the write is not on chain,
 * current, anchored or served yet, or a read failed. Any other reason is final for that change.
 */
export const RETRIED_REASONS = /* @__PURE__ */ Object.freeze([
  'not-found',
  'registry-behind',
  'revoked', // a new key revoked since: its KeyRevoked (the newer change) replaces it
  'not-onchain',
  'not-current',
  'no-event',
  'version-mismatch',
  'log-not-anchored-yet',
  'log-missing',
  'log-index-beyond-anchor',
  'log-unavailable',
  'log-inclusion-failed',
  'rpc-unavailable',
  'rpc-error',
  'verification-error',
]);

/**
 * A fetch that answers JSON-RPC POSTs through an EIP-1193 provider (`request({method, params})`: window.ethereum, a
 * viem PublicClient or WalletClient, ...), so that code reading a chain by URL (verify, JsonRpc) reads it through the
 * dapp's own transport. A provider error with a numeric `code` is the node's JSON-RPC error; any other is "no answer".
 */
export function eip1193Fetch(provider) {
  if (!provider || typeof provider.request !== 'function') throw new TypeError('an EIP-1193 provider (an object with request()) is required');
  return async (url, init) => {
    const call = JSON.parse(init.body);
    let payload;
    try {
      payload = { jsonrpc: '2.0', id: call.id, result: await provider.request({ method: call.method, params: call.params }) };
    } catch (error) {
      if (!error || !Number.isInteger(error.code)) throw error;
      payload = { jsonrpc: '2.0', id: call.id, error: { code: error.code, message: String(error.shortMessage ?? error.message ?? error) } };
    }
    return { ok: true, status: 200, json: async () => payload };
  };
}

/** `{rpcUrl, fetch}` for verify()/JsonRpc: the caller's `rpcUrl`, or her EIP-1193 `provider` behind a fetch. */
export function chainAccessOf({ rpcUrl, provider, fetch: fetchImpl }) {
  if (provider) return { rpcUrl: 'eip1193:provider', fetch: eip1193Fetch(provider) };
  if (typeof rpcUrl === 'string' && rpcUrl) return { rpcUrl, fetch: fetchImpl };
  return null;
}

function parsedEvent(log) {
  const data = fromHex(log.data);
  if (data.length !== 64 || !Array.isArray(log.topics) || log.topics.length < 2) return null;
  return {
    kind: String(log.topics[0]).toLowerCase() === KEY_UPDATED ? 'key' : 'revocation',
    wallet: parseAddress('0x' + String(log.topics[1]).slice(-40), 'wallet'),
    digest: to0x(data.subarray(0, 32)),
    version: Number(BigInt(to0x(data.subarray(32)))),
    event: { txHash: log.transactionHash, blockNumber: Number(BigInt(log.blockNumber)), logIndex: Number(BigInt(log.logIndex)) },
    leafIndex: null,
  };
}

/** The wallets' KeyUpdated/KeyRevoked events in [fromBlock, toBlock], in chain order; smaller ranges when refused. */
async function readEvents(rpc, registry, walletTopics, fromBlock, toBlock, chunk) {
  const found = [];
  let start = fromBlock;
  let size = chunk;
  while (start <= toBlock) {
    const end = Math.min(toBlock, start + size - 1);
    let logs;
    try {
      logs = await rpc.logs({ address: registry, fromBlock: '0x' + start.toString(16), toBlock: '0x' + end.toString(16), topics: [[KEY_UPDATED, KEY_REVOKED], walletTopics] });
    } catch (error) {
      if (error instanceof RpcFailure && !error.unavailable && size > 1) {
        size = Math.max(1, Math.floor(size / 4)); // a provider's range or result limit
        continue;
      }
      throw error instanceof RpcFailure ? new WatchError(error.unavailable ? 'rpc-unavailable' : 'rpc-error', error.message) : error;
    }
    for (const log of Array.isArray(logs) ? logs : []) {
      if (log && !log.removed) {
        const event = parsedEvent(log);
        if (event) found.push(event);
      }
    }
    start = end + 1;
  }
  return found.sort((a, b) => a.event.blockNumber - b.event.blockNumber || a.event.logIndex - b.event.logIndex);
}

/** The wallets' leaves in [start, end), in log order (`digest`: the leaf's documentHash). */
async function readLeaves(log, wanted, start, end) {
  const found = [];
  let next = start;
  while (next < end) {
    const stop = Math.min(end, next + LEAVES_PAGE);
    let page;
    try {
      page = await log.logLeaves(next, stop);
    } catch (error) {
      throw new WatchError('log-unavailable', `GET /log/leaves?start=${next}&end=${stop}: ${error && error.message ? error.message : error}`);
    }
    const entries = page && Array.isArray(page.leaves) ? page.leaves : [];
    if (entries.length === 0) throw new WatchError('log-unavailable', `GET /log/leaves?start=${next}&end=${stop} served no leaves`);
    for (const entry of entries) {
      if (!entry || entry.index !== next || typeof entry.leaf !== 'string') throw new WatchError('log-unavailable', `the registry serves no leaf ${next} in its place`);
      const leaf = parseLeaf(fromHex(entry.leaf));
      if (wanted.has(leaf.wallet)) {
        found.push({
          kind: leaf.kind === LEAF_KIND_KEY ? 'key' : 'revocation',
          wallet: parseAddress(leaf.wallet, 'wallet'),
          digest: to0x(leaf.documentHash),
          version: leaf.version,
          event: null,
          leafIndex: next,
        });
      }
      next += 1;
      if (next >= stop) break;
    }
  }
  return found;
}

const cidDigest = (cid) => {
  try {
    return to0x(digestOfCid(cid));
  } catch (error) {
    return null;
  }
};

/** The registry's record of key `version` of `wallet` as a lookup-like answer (from /history when it is not current). */
async function keyAnswerOf(log, wallet, version, current) {
  if (current && current.version === version) return current;
  const page = await log.history(wallet, { limit: 1, cursor: version + 1 });
  const item = page && Array.isArray(page.items) ? page.items[0] : null;
  if (!item || item.version !== version || item.kind !== 'key') return null;
  return { wallet, version, cid: item.cid, status: item.status, txHash: item.txHash, bundle: item.document, log: item.log };
}

/**
 * Whether the registry's records and the chain, read through verify(), say what `change` says. Returns
 * `{verified, reason, detail, verification, answer}`.
 */
async function check(change, context) {
  const { log, verifyOptions, verifyImpl } = context;
  let current = null;
  try {
    current = await log.lookup(change.wallet);
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) current = { found: false }; // a lookup of another kind that throws
    else return { verified: false, reason: 'log-unavailable', detail: `GET /keys/${change.wallet}: ${error && error.message ? error.message : error}` };
  }
  if (current.found === false) return { verified: false, reason: 'not-found', detail: `the registry has no key for ${change.wallet}` };
  let answer = null;
  if (change.kind === 'key') {
    try {
      answer = await keyAnswerOf(log, change.wallet, change.version, current);
    } catch (error) {
      return { verified: false, reason: 'log-unavailable', detail: `GET /keys/${change.wallet}/history: ${error && error.message ? error.message : error}` };
    }
  } else if (change.event) {
    answer = cidDigest(current.cid) === change.digest ? current : null; // KeyRevoked names the revoked key's digest
  } else {
    answer = current.revocation && current.revocation.version === change.version ? current : null; // the revocation's own leaf
  }
  if (!answer) return { verified: false, reason: 'registry-behind', detail: `the registry serves no record of ${change.wallet}'s ${change.kind} version ${change.version} yet` };
  // The registry's word on revocation (which may be ahead of the chain) is left out: only the contract's counts here.
  const verification = await verifyImpl({ ...answer, revoked: false, revocation: null }, { ...verifyOptions, wallet: change.wallet });
  const digest = verification.key ? cidDigest(verification.key.cid) : null;
  if (change.kind === 'key') {
    if (!verification.usable) return { verified: false, reason: verification.reason, detail: verification.detail, verification, answer };
    if (verification.key.version !== change.version || digest !== change.digest) {
      return { verified: false, reason: 'version-mismatch', detail: `the verified key is version ${verification.key.version}, not the change's ${change.version}`, verification, answer };
    }
    return { verified: true, reason: null, detail: null, verification, answer };
  }
  if (verification.reason === 'revoked' && verification.checks.onchain === true) return { verified: true, reason: null, detail: null, verification, answer };
  if (verification.usable) return { verified: false, reason: 'not-onchain', detail: `the contract does not say ${change.wallet}'s key version ${answer.version} is revoked yet`, verification, answer };
  return { verified: false, reason: verification.reason, detail: verification.detail, verification, answer };
}

/**
 * Follow the keys of `wallets` until stop(), calling `onChange(change)` for each verified change:
 * `{wallet, kind: 'key'|'revocation', version, source, event: {txHash, blockNumber, logIndex} | null, leafIndex,
 * key, usable, verification, answer}` (`key`, `usable`, `verification`: verify()'s result for the record; `answer`:
 * the registry's record it verified). Changes are delivered in the order they are verified, one at a time.
 *
 * Options: `chainId`, `registry` (the caller's pins), `apiUrl` or `log` (a RegistryClient: lookups and log proofs),
 * `rpcUrl` or `provider` (an EIP-1193 provider: the caller's own chain access; both sources verify through it),
 * `source` ('chain', default, or 'log'), `cursor` (`{block}`: first block to read, or `{leaf}`: first leaf; default:
 * from now on), `deployBlock` (verify()'s start block), `confirmations` (blocks to stay behind the head, default 0),
 * `intervalMs` (between polls, default 4000), `onProblem({wallet, kind, version, reason, detail, verification})`
 * (a change that can never verify), `onError(error)` (a poll that could not run: WatchError), `fetch`, `timeoutMs`,
 * `blockChunk`, `verify` (the verify function, for tests).
 *
 * Returns `{ready, poll, cursor, stop}`: `ready` settles after the first poll; `poll()` runs one more now; `cursor()`
 * is where the next poll starts (`{source, block | leaf}`: pass it back as `cursor` to resume).
 */
export function watchKeys(wallets, onChange, options = {}) {
  const source = options.source ?? 'chain';
  if (source !== 'chain' && source !== 'log') throw new WatchError('missing-pin', `source is 'chain' or 'log', not ${source}`);
  if (typeof onChange !== 'function') throw new TypeError('onChange(change) is required');
  let pinned;
  let addresses;
  try {
    pinned = parseDomain({ chainId: options.chainId, registry: options.registry });
    addresses = Array.from(wallets ?? [], (wallet) => parseAddress(wallet, 'wallet'));
  } catch (error) {
    throw new WatchError('missing-pin', `name the wallets, chainId and registry you trust: ${error.problem ? error.problem.detail : error.message}`);
  }
  if (addresses.length === 0) throw new WatchError('missing-pin', 'name at least one wallet to watch');
  const access = chainAccessOf(options);
  if (!access) throw new WatchError('missing-pin', 'name your own chain access (rpcUrl, or an EIP-1193 provider): every change is verified through it');
  const log = options.log ?? (options.apiUrl ? registryReads({ apiUrl: options.apiUrl, fetch: options.fetch }) : null);
  if (!log || typeof log.lookup !== 'function' || typeof log.logLeaves !== 'function') throw new WatchError('missing-pin', 'name the registry API (apiUrl, or log: a RegistryClient)');

  const rpc = new JsonRpc(access.rpcUrl, { fetch: access.fetch, timeoutMs: options.timeoutMs });
  const context = {
    log,
    verifyImpl: options.verify ?? verify,
    verifyOptions: { ...access, chainId: pinned.chainId, registry: pinned.registry, deployBlock: options.deployBlock, log, timeoutMs: options.timeoutMs },
  };
  const wanted = new Set(addresses.map((address) => address.toLowerCase()));
  const walletTopics = addresses.map((address) => '0x' + '00'.repeat(12) + address.slice(2).toLowerCase());
  const intervalMs = options.intervalMs ?? 4000;
  const position = { block: options.cursor?.block ?? null, leaf: options.cursor?.leaf ?? null };
  const pending = new Map(); // wallet (lowercase) → the newest change not verified yet
  const reported = new Set(); // `${wallet}:${kind}:${version}:${reason}` sent to onProblem
  let chainChecked = false;
  let stopped = false;
  let timer = null;
  let queue = Promise.resolve();

  const readRpc = async (call) => {
    try {
      return await call();
    } catch (error) {
      if (error instanceof RpcFailure) throw new WatchError(error.unavailable ? 'rpc-unavailable' : 'rpc-error', error.message);
      throw error;
    }
  };

  async function newChanges() {
    if (source === 'chain') {
      if (!chainChecked) {
        const served = await readRpc(() => rpc.chainId());
        if (served !== pinned.chainId) throw new WatchError('chain-mismatch', `the RPC serves chain ${served}, not ${pinned.chainId}`);
        chainChecked = true;
      }
      const head = (await readRpc(() => rpc.blockNumber())) - (options.confirmations ?? 0);
      if (position.block === null) position.block = head + 1; // from now on
      if (position.block > head) return [];
      const events = await readEvents(rpc, pinned.registry, walletTopics, position.block, head, options.blockChunk ?? BLOCK_CHUNK);
      position.block = head + 1;
      return events;
    }
    let head;
    try {
      head = await log.logHead();
    } catch (error) {
      throw new WatchError('log-unavailable', `GET /log/head: ${error && error.message ? error.message : error}`);
    }
    const size = Number(head && head.size);
    if (!Number.isSafeInteger(size) || size < 0) throw new WatchError('log-unavailable', 'GET /log/head answered no size');
    if (position.leaf === null) position.leaf = size; // from now on
    if (position.leaf >= size) return [];
    const leaves = await readLeaves(log, wanted, position.leaf, size);
    position.leaf = size;
    return leaves;
  }

  async function pollOnce() {
    for (const change of await newChanges()) pending.set(change.wallet.toLowerCase(), { ...change, source });
    for (const [key, change] of [...pending]) {
      if (stopped) return;
      const result = await check(change, context);
      if (result.verified) {
        pending.delete(key);
        const { verification, answer } = result;
        await onChange({ ...change, key: verification.key, usable: verification.usable, verification, answer });
      } else if (!RETRIED_REASONS.includes(result.reason)) {
        pending.delete(key);
        const id = `${key}:${change.kind}:${change.version}:${result.reason}`;
        if (!reported.has(id) && typeof options.onProblem === 'function') {
          reported.add(id);
          await options.onProblem({ wallet: change.wallet, kind: change.kind, version: change.version, reason: result.reason, detail: result.detail, verification: result.verification ?? null });
        }
      }
    }
  }

  const poll = () => {
    const run = queue.then(() => (stopped ? undefined : pollOnce()));
    queue = run.catch(() => undefined);
    return run;
  };
  const schedule = () => {
    if (stopped || !(intervalMs > 0)) return;
    timer = setTimeout(async () => {
      timer = null;
      try {
        await poll();
      } catch (error) {
        if (typeof options.onError === 'function') options.onError(error);
      }
      schedule();
    }, intervalMs);
  };
  const ready = poll();
  ready.then(schedule, (error) => {
    if (typeof options.onError === 'function') options.onError(error);
    schedule();
  });
  ready.catch(() => undefined); // reported through onError; `ready` still rejects for those who await it
  return {
    ready,
    poll,
    cursor: () => (source === 'chain' ? { source, block: position.block } : { source, leaf: position.leaf }),
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}

/** The reads of the API at `apiUrl` watchKeys makes (a RegistryClient has them all), without the class. */
function registryReads(api) {
  return { ...logReader(api), lookup: (wallet) => lookup(wallet, api), history: (wallet, page) => history(wallet, { ...api, ...page }) };
}
