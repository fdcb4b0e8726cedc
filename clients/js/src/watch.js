// watchWallet(wallet, {rpcUrl | client | provider, chainId, registry, onChange, store}): a wallet watches its own key
// (docs/PROTOCOL.md §16). Each check reads, through the caller's own RPC, the wallet's KeyUpdated/KeyRevoked events
// since the last block read, and from the registry the log's leaves since the last leaf checked, and compares them
// with the owner's own record of the writes she made from this device (ownwrites.js: `register`/`revoke` add to it
// when given the same store). Anything of her wallet she did not make is a change, reported with its transaction and
// leaf index; so is a version that is not above the wallet's previous one (a rollback). The leaves are trusted only
// as far as they hash, with the frontier kept in the cursor, to the root the contract anchors: a registry that
// showed this wallet a log without a leaf the chain anchors is a problem, reported too.
import { EVENT_TOPICS } from './abi.js';
import { equalBytes, fromHex, to0x } from './bytes.js';
import { RegistryError } from './errors.js';
import { parseAddress } from './ethsig.js';
import { LEAF_KIND_KEY, TreeBuilder, hash32, leafHash, parseLeaf } from './log.js';
import { logReader } from './lookup.js';
import { loadWatch, saveWatch, storeOf } from './ownwrites.js';
import { parseDomain } from './protocol.js';
import { RpcFailure, selector } from './rpc.js';
import { hasTransport, rpcFor } from './transport.js';

const KEY_UPDATED = EVENT_TOPICS.KeyUpdated;
const KEY_REVOKED = EVENT_TOPICS.KeyRevoked;
const LEAVES_PAGE = 1000;
const BLOCK_CHUNK = 10000;

/** A check that could not run (`missing-pin`, `chain-mismatch`, `rpc-unavailable`, `rpc-error`, `log-unavailable`). */
export class WatchError extends RegistryError {
  constructor(code, detail) {
    super({ type: `urn:dmtp:problem:${code}`, title: code, status: 0, detail, code }, 0);
    this.name = 'WatchError';
  }
}

async function rpcRead(call) {
  try {
    return await call();
  } catch (error) {
    if (error instanceof RpcFailure) throw new WatchError(error.unavailable ? 'rpc-unavailable' : 'rpc-error', error.message);
    throw error;
  }
}

async function logRead(what, call) {
  try {
    return await call();
  } catch (error) {
    throw new WatchError('log-unavailable', `${what}: ${error && error.message ? error.message : error}`);
  }
}

/** The wallet's KeyUpdated/KeyRevoked events in [fromBlock, toBlock], in chain order; smaller ranges when the node refuses one. */
async function readEvents(rpc, registry, wallet, fromBlock, toBlock, chunk) {
  const topic = '0x' + '00'.repeat(12) + wallet.slice(2).toLowerCase();
  const found = [];
  let start = fromBlock;
  let size = chunk;
  while (start <= toBlock) {
    const end = Math.min(toBlock, start + size - 1);
    let logs;
    try {
      logs = await rpc.logs({ address: registry, fromBlock: '0x' + start.toString(16), toBlock: '0x' + end.toString(16), topics: [[KEY_UPDATED, KEY_REVOKED], topic] });
    } catch (error) {
      if (error instanceof RpcFailure && !error.unavailable && size > 1) {
        size = Math.max(1, Math.floor(size / 4)); // a provider's range or result limit
        continue;
      }
      throw error instanceof RpcFailure ? new WatchError(error.unavailable ? 'rpc-unavailable' : 'rpc-error', error.message) : error;
    }
    for (const log of Array.isArray(logs) ? logs : []) {
      if (log.removed) continue;
      const data = fromHex(log.data);
      if (data.length !== 64 || !Array.isArray(log.topics) || log.topics.length < 2) continue;
      const logIndex = Number(BigInt(log.logIndex));
      found.push({
        kind: log.topics[0].toLowerCase() === KEY_UPDATED ? 'key' : 'revocation',
        version: Number(BigInt(to0x(data.subarray(32)))),
        digest: to0x(data.subarray(0, 32)),
        txHash: log.transactionHash,
        blockNumber: Number(BigInt(log.blockNumber)),
        logIndex,
        id: `event:${String(log.transactionHash).toLowerCase()}:${logIndex}`,
      });
    }
    start = end + 1;
  }
  return found.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
}

async function readAnchoredHead(rpc, registry) {
  const raw = await rpcRead(() => rpc.call(registry, selector('logHead()')));
  if (raw.length < 64) throw new WatchError('rpc-error', `logHead on ${registry} did not answer as DMTPKeys`);
  return { size: Number(BigInt(to0x(raw.subarray(0, 32)))), root: raw.slice(32, 64) };
}

/**
 * Leaves [start, end) as `{index, bytes}`, stopping at the first one the registry does not serve in place or
 * that is not a leaf (a problem then, with its index). `served`: the size the registry says its log has.
 */
async function readLeaves(log, start, end, served, anchored, problems) {
  const leaves = [];
  let next = start;
  while (next < end) {
    const stop = Math.min(end, next + LEAVES_PAGE);
    let page;
    try {
      page = await log.logLeaves(next, stop);
    } catch (error) {
      if (error instanceof RegistryError && error.status === 400 && served < anchored && next < anchored) {
        problems.push({ code: 'log-behind-anchor', detail: `the registry serves ${served} leaves, but the contract anchors a log of ${anchored}`, leafIndex: served });
        return leaves;
      }
      throw new WatchError('log-unavailable', `GET /log/leaves?start=${next}&end=${stop}: ${error && error.message ? error.message : error}`);
    }
    const entries = page && Array.isArray(page.leaves) ? page.leaves : [];
    if (entries.length === 0) throw new WatchError('log-unavailable', `GET /log/leaves?start=${next}&end=${stop} served no leaves`);
    for (const entry of entries) {
      let bytes = null;
      try {
        if (entry && entry.index === next && typeof entry.leaf === 'string') bytes = fromHex(entry.leaf);
        if (bytes) parseLeaf(bytes);
      } catch (error) {
        bytes = null;
      }
      if (!bytes) {
        problems.push({ code: 'leaf-malformed', detail: `the registry serves no well-formed leaf ${next} in its place`, leafIndex: next });
        return leaves;
      }
      leaves.push({ index: next, bytes });
      next += 1;
      if (next >= end) break;
    }
  }
  return leaves;
}

const lower = (value) => (typeof value === 'string' ? value.toLowerCase() : value);

function isOwnEvent(own, event) {
  if (event.kind === 'key') return own.some((o) => o.kind === 'key' && o.version === event.version && lower(o.documentHash) === event.digest);
  return own.some((o) => o.kind === 'revocation' && o.version === event.version && (o.revokedDigest == null || lower(o.revokedDigest) === event.digest));
}

function isOwnLeaf(own, leaf) {
  return own.some((o) => o.kind === leaf.kind && o.version === leaf.version && (o.documentHash == null ? leaf.kind === 'revocation' : lower(o.documentHash) === leaf.documentHash));
}

/** The report's changes: the foreign halves (events, leaves) grouped by what they write, each group with a new half. */
function changesOf(foreign, fresh, reported) {
  const groups = new Map();
  const add = (half, side) => {
    const key = half.reason === 'version-regression' ? half.id : half.kind === 'key' ? `key:${half.version}:${side === 'event' ? half.digest : half.documentHash}` : `revocation:${half.version}`;
    const group = groups.get(key) ?? { events: [], leaves: [] };
    group[side === 'event' ? 'events' : 'leaves'].push(half);
    groups.set(key, group);
  };
  for (const event of foreign.events) add(event, 'event');
  for (const leaf of foreign.leaves) add(leaf, 'leaf');
  const changes = [];
  for (const { events, leaves } of groups.values()) {
    const halves = [...events, ...leaves];
    if (!halves.some((half) => fresh.has(half.id) && !reported.has(half.id))) continue;
    const event = events.at(-1) ?? null;
    const leaf = leaves.at(-1) ?? null;
    const first = event ?? leaf;
    changes.push({
      kind: first.kind,
      version: first.version,
      reason: halves.some((half) => half.reason === 'version-regression') ? 'version-regression' : 'not-recorded',
      digest: event ? event.digest : null,
      documentHash: leaf ? leaf.documentHash : null,
      txHash: event ? event.txHash : null,
      blockNumber: event ? event.blockNumber : null,
      leafIndex: leaf ? leaf.index : null,
      onChain: Boolean(event),
      inLog: Boolean(leaf),
    });
  }
  return changes.sort((a, b) => a.version - b.version);
}

/**
 * One check of `wallet` (see watchWallet for the options). Returns the report
 * `{wallet, chainId, registry, clean, changes, allChanges, problems, checked, cursor}` (`changes`: found by this
 * check, each reported once; `allChanges`: every change found for the wallet so far, as a page lists them) and calls
 * `onChange(report)` when it is not clean. Throws a WatchError when the check could not run (nothing is saved then).
 */
export async function checkWallet(wallet, options = {}) {
  let pinned;
  let address;
  try {
    pinned = parseDomain({ chainId: options.chainId, registry: options.registry });
    address = parseAddress(wallet, 'wallet');
  } catch (error) {
    throw new WatchError('missing-pin', `name the wallet, chainId and registry you trust: ${error.problem ? error.problem.detail : error.message}`);
  }
  if (!hasTransport(options)) throw new WatchError('missing-pin', 'name your own chain (client, provider or rpcUrl): the events are read through it');
  const store = storeOf(options.store);
  const log = options.log ?? (options.apiUrl ? logReader({ apiUrl: options.apiUrl, fetch: options.fetch }) : null);
  if (!log || typeof log.logLeaves !== 'function' || typeof log.logHead !== 'function') throw new WatchError('missing-pin', 'name the registry API (apiUrl, or log: a RegistryClient)');
  let rpc;
  try {
    rpc = rpcFor(options);
  } catch (error) {
    throw new WatchError('missing-pin', error.message);
  }
  const served = await rpcRead(() => rpc.chainId());
  if (served !== pinned.chainId) throw new WatchError('chain-mismatch', `the RPC serves chain ${served}, not ${pinned.chainId}`);

  const watch = await loadWatch(store, pinned, address);
  const problems = [];

  // The chain: the wallet's events since the last block read.
  const latest = await rpcRead(() => rpc.blockNumber());
  const toBlock = latest - (options.confirmations ?? 0);
  const fromBlock = watch.cursor.block === null ? (options.fromBlock ?? 0) : watch.cursor.block + 1;
  const events = fromBlock <= toBlock ? await readEvents(rpc, pinned.registry, address, fromBlock, toBlock, options.blockChunk ?? BLOCK_CHUNK) : [];

  // The log: every leaf since the cursor, checked against the root the contract anchors.
  const head = await readAnchoredHead(rpc, pinned.registry);
  const fromLeaf = watch.cursor.leaf;
  const servedSize = Number((await logRead('GET /log/head', () => log.logHead())).size);
  const end = Math.max(Number.isSafeInteger(servedSize) ? servedSize : 0, head.size);
  const leaves = fromLeaf < end ? await readLeaves(log, fromLeaf, end, servedSize, head.size, problems) : [];
  const cursor = { block: fromBlock <= toBlock ? toBlock : watch.cursor.block, leaf: fromLeaf, peaks: watch.cursor.peaks };
  if (head.size > fromLeaf && leaves.length >= head.size - fromLeaf) {
    const builder = new TreeBuilder();
    builder.size = fromLeaf;
    builder.peaks = watch.cursor.peaks.map(hash32);
    for (const leaf of leaves.slice(0, head.size - fromLeaf)) builder.append(leafHash(leaf.bytes));
    if (equalBytes(builder.root(), head.root)) {
      cursor.leaf = head.size;
      cursor.peaks = builder.peaks.map(to0x);
    } else {
      problems.push({ code: 'log-root-mismatch', detail: `the leaves the registry serves from ${fromLeaf} to ${head.size} do not hash to the root the contract anchors (${to0x(head.root)})`, leafIndex: fromLeaf });
    }
  }

  // Compare with her record: what of her wallet did she not make, and does every version move forward?
  const fresh = new Set();
  const known = new Set([...watch.foreign.events, ...watch.foreign.leaves].map((half) => half.id));
  let lastEventVersion = watch.lastEventVersion ?? 0;
  for (const event of events) {
    const regression = event.version <= lastEventVersion;
    lastEventVersion = Math.max(lastEventVersion, event.version);
    if (!regression && isOwnEvent(watch.own, event)) continue;
    fresh.add(event.id);
    if (!known.has(event.id)) watch.foreign.events.push({ ...event, reason: regression ? 'version-regression' : 'not-recorded' });
  }
  let lastLeafVersion = watch.lastLeafVersion ?? 0;
  for (const { index, bytes } of leaves) {
    const parsed = parseLeaf(bytes);
    if (parsed.wallet !== address.toLowerCase()) continue;
    const leaf = { kind: parsed.kind === LEAF_KIND_KEY ? 'key' : 'revocation', version: parsed.version, documentHash: to0x(parsed.documentHash), index, id: `leaf:${index}` };
    const anchored = index < cursor.leaf; // below the checked cursor: it stays; above it, it is read again next time
    const regression = leaf.version <= lastLeafVersion;
    if (anchored) lastLeafVersion = Math.max(lastLeafVersion, leaf.version);
    if (!regression && isOwnLeaf(watch.own, leaf)) continue;
    fresh.add(leaf.id);
    if (!known.has(leaf.id)) watch.foreign.leaves.push({ ...leaf, reason: regression ? 'version-regression' : 'not-recorded' });
  }

  const reported = new Set(watch.reported);
  const changes = changesOf(watch.foreign, fresh, reported);
  const everything = new Set([...watch.foreign.events, ...watch.foreign.leaves].map((half) => half.id));
  const allChanges = changesOf(watch.foreign, everything, new Set());
  for (const id of fresh) reported.add(id);
  watch.reported = [...reported];
  watch.cursor = cursor;
  watch.lastEventVersion = lastEventVersion;
  watch.lastLeafVersion = lastLeafVersion;
  await saveWatch(store, watch);

  const report = {
    wallet: address,
    chainId: pinned.chainId,
    registry: pinned.registry,
    clean: changes.length === 0 && problems.length === 0,
    changes,
    allChanges,
    problems,
    checked: { fromBlock, toBlock, fromLeaf, toLeaf: fromLeaf + leaves.length, anchoredSize: head.size },
    cursor: { block: cursor.block, leaf: cursor.leaf },
  };
  if (!report.clean && typeof options.onChange === 'function') await options.onChange(report);
  return report;
}

/**
 * Watch `wallet` until stop(): a check now, then one every `intervalMs` (default 60 s). Options: `rpcUrl` (or `client`,
 * `provider`: the caller's chain as for verify), `chainId`,
 * `registry` (the caller's pins), `apiUrl` or `log` (a RegistryClient), `onChange(report)` (a change she did not make,
 * or a log that does not match the chain), `onCheck(report)` (every check), `onError(error)` (a check that could not
 * run), `store` (default localStorage), `fromBlock` (first block of the first check: the registry's deployment block),
 * `confirmations` (blocks to stay behind the head, default 0), `fetch`, `timeoutMs`.
 * Returns `{ready, check, stop}`: `ready` is the first check's report, `check()` runs one more now.
 */
export function watchWallet(wallet, options = {}) {
  const intervalMs = options.intervalMs ?? 60000;
  let stopped = false;
  let timer = null;
  let queue = Promise.resolve();
  const check = () => {
    const run = queue.then(() => checkWallet(wallet, options)).then(async (report) => {
      if (typeof options.onCheck === 'function') await options.onCheck(report);
      return report;
    });
    queue = run.catch(() => undefined);
    return run;
  };
  const schedule = () => {
    if (stopped || !(intervalMs > 0)) return;
    timer = setTimeout(async () => {
      try {
        await check();
      } catch (error) {
        if (typeof options.onError === 'function') options.onError(error);
      }
      schedule();
    }, intervalMs);
  };
  const ready = check();
  ready.then(schedule, (error) => {
    if (typeof options.onError === 'function') options.onError(error);
    schedule();
  });
  return {
    ready,
    check,
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
}
