// verify(answer, {rpcUrl | client | provider, wallet, chainId, registry}): may the caller encrypt to the key in a registry answer?
// docs/PROTOCOL.md §11, failing closed: the answer is usable only when every check passed, including the
// contract at `registry`, read through the caller's own RPC, holding this document's digest, unrevoked. The wallet,
// chain and registry are the caller's; the server's word (status, revoked flag, proof) can only make an answer
// unusable, never usable. verify never throws for a bad answer: it returns {usable: false, reason, detail, checks}.
import { equalBytes, fromHex, sha256, to0x, utf8 } from './bytes.js';
import { canonicalJson, cidOfDigest } from './canonical.js';
import { parseAddress, recoverAddress } from './ethsig.js';
import {
  REGISTRATION_TYPE,
  parseDomain,
  registrationFromDocument,
  registrationMessage,
  signedText,
  signingDigest,
  typedData,
} from './protocol.js';
import { RpcFailure, callWithAddress, isValidSignatureCall, selector } from './rpc.js';
import { rpcFor } from './transport.js';
import { LEAF_KIND_KEY, hash32, leafBytes, leafHash, verifyConsistency, verifyInclusion } from './log.js';
import { ERC6492_GAS_LIMIT, erc6492InnerSignature, isErc6492, validatorCallData } from './erc6492.js';
import { EVENT_TOPICS } from './abi.js';
import { logReader } from './lookup.js';

const ERC1271_MAGIC = /* @__PURE__ */ fromHex('0x1626ba7e' + '00'.repeat(28));
const KEY_UPDATED = 'KeyUpdated';
const KEY_REVOKED = 'KeyRevoked';
const LOG_ANCHORED = 'LogAnchored';
/** Each event's name by its topic0. */
const TOPICS = {
  [EVENT_TOPICS.KeyUpdated]: KEY_UPDATED,
  [EVENT_TOPICS.KeyRevoked]: KEY_REVOKED,
  [EVENT_TOPICS.LogAnchored]: LOG_ANCHORED,
};
const TOPIC_OF = EVENT_TOPICS;
/** Blocks per eth_getLogs when a node refuses the whole range at once (it shrinks further, to one block). */
const LOGS_CHUNK = 100_000;

class Failure extends Error {
  constructor(reason, detail) {
    super(detail);
    this.reason = reason;
  }
}

/** The checks, in the order they run; each is true (passed), false (failed) or null (not reached). */
function emptyChecks() {
  return {
    pinned: null, // the caller named a wallet, chainId and registry
    document: null, // the bundle is a canonical, valid dmtp-key-bundle/2 document
    cid: null, // the answer's cid (when given) is the CID of the document's bytes
    wallet: null, // the document is the caller's wallet's
    domain: null, // the document is signed for the caller's chainId and registry
    answer: null, // the answer's own fields and proof say what the document says
    rpc: null, // an RPC was given and serves the caller's chain
    signature: null, // the wallet signed it (ecdsa, or ERC-1271 through the RPC)
    onchain: null, // the contract holds this document's digest for the wallet
    notRevoked: null, // neither the contract nor the answer says revoked
    notExpired: null, // expiresAt is 0 or in the future
    history: null, // the wallet's KeyUpdated/KeyRevoked events, from the start block, never go back in version
    latestVersion: null, // the wallet's latest KeyUpdated event carries this digest and version
    anchored: null, // a LogAnchored event at or after that KeyUpdated covers the record's leaf index
    log: null, // the record's leaf is proven under the contract's log head, against the on-chain root
  };
}

/**
 * @param answer a GET /keys/{address} answer (or a batch-lookup entry: `bundle` + `cid`)
 * @param options `{rpcUrl | client | provider, wallet, chainId, registry, deployBlock?, fromBlock?, log?, previousHead?,
 *   fetch?, now?, timeoutMs?}`; the caller's own chain: `client` (a viem PublicClient, any transport), `provider` (an
 *   EIP-1193 provider) or `rpcUrl` (JSON-RPC over fetch); `deployBlock`: the block the registry was deployed in, pinned with it (or any earlier block);
 *   `fromBlock`: the caller's own start block, which wins over `deployBlock`; the wallet's events are searched from
 *   there (0 when neither is given), never from a block the answer names. `log`: where log proofs come from (a
 *   RegistryClient, or logReader of /lookup); without it, the registry API at `apiUrl`. `previousHead`: an on-chain head seen before (`result.log.head` of an earlier verify): the
 *   registry must prove the current one extends it.
 * @returns `{usable, reason, detail, checks, key, log}`; `key` (from the document) is null until the document parsed;
 *   `log` is `{leafIndex, head: {size, root}, included}` once the contract's log head was read
 */
export async function verify(answer, options = {}) {
  const checks = emptyChecks();
  const state = { key: null, log: null };
  try {
    await runChecks(answer, options, checks, state);
    return { usable: true, reason: null, detail: null, checks, key: state.key, log: state.log };
  } catch (error) {
    const reason = error instanceof Failure ? error.reason : 'verification-error';
    let detail = error instanceof Failure ? error.message : `unexpected: ${error && error.message ? error.message : error}`;
    const index = answer && answer.log && Number.isSafeInteger(answer.log.leafIndex) ? answer.log.leafIndex : null;
    if (state.key) detail += ` [wallet ${state.key.wallet}, version ${state.key.version}${index === null ? '' : `, log leaf ${index}`}]`;
    markFailed(checks);
    return { usable: false, reason, detail, checks, key: state.key, log: state.log };
  }
}

function markFailed(checks) {
  // The first check still null when a Failure was thrown is the one that failed, unless a check already said false.
  if (Object.values(checks).includes(false)) return;
  const first = Object.keys(checks).find((name) => checks[name] === null);
  if (first) checks[first] = false;
}

function fail(checks, name, reason, detail) {
  checks[name] = false;
  throw new Failure(reason, detail);
}

async function runChecks(answer, options, checks, state) {
  const { wallet, chainId, registry } = options;
  const log = options.log ?? (options.apiUrl ? logReader(options) : undefined);
  const now = options.now ?? Math.floor(Date.now() / 1000);

  // The caller's pins.
  let pinned;
  try {
    pinned = { wallet: parseAddress(wallet, 'wallet'), ...parseDomain({ chainId, registry }) };
  } catch (error) {
    fail(checks, 'pinned', 'missing-pin', `name the wallet, chainId and registry you trust: ${error.problem ? error.problem.detail : error.message}`);
  }
  const startBlock = options.fromBlock ?? options.deployBlock ?? 0;
  if (!Number.isSafeInteger(startBlock) || startBlock < 0) fail(checks, 'pinned', 'missing-pin', `the start block must be a block number, not ${startBlock}`);
  checks.pinned = true;

  // 1-3: the document, offline.
  if (answer && typeof answer === 'object' && answer.found === false) fail(checks, 'document', 'not-found', 'the registry has no key for this wallet');
  if (!answer || typeof answer !== 'object' || !answer.bundle || typeof answer.bundle !== 'object') {
    fail(checks, 'document', 'malformed-answer', 'the answer has no bundle object');
  }
  let parsed;
  try {
    parsed = registrationFromDocument(answer.bundle);
  } catch (error) {
    fail(checks, 'document', 'malformed-document', `the bundle is not a valid key document: ${error.problem ? error.problem.detail : error.message}`);
  }
  const { registration, domain } = parsed;
  const documentBytes = utf8(canonicalJson(answer.bundle));
  const digest = await sha256(documentBytes);
  const cid = cidOfDigest(digest);
  state.key = {
    wallet: registration.wallet,
    keyType: registration.keyType,
    publicKey: registration.publicKey,
    version: registration.version,
    issuedAt: registration.issuedAt,
    expiresAt: registration.expiresAt,
    signatureType: registration.signatureType,
    signerMethod: null,
    cid,
    chainId: domain.chainId,
    registry: domain.registry,
  };
  checks.document = true;
  if (answer.cid !== undefined && answer.cid !== cid) fail(checks, 'cid', 'cid-mismatch', `the bundle's bytes hash to ${cid}, not ${answer.cid}`);
  checks.cid = true;
  if (registration.wallet !== pinned.wallet) fail(checks, 'wallet', 'wallet-mismatch', `the document is for ${registration.wallet}, not ${pinned.wallet}`);
  checks.wallet = true;
  if (domain.chainId !== pinned.chainId || domain.registry !== pinned.registry) {
    fail(checks, 'domain', 'domain-mismatch', `the document is signed for chain ${domain.chainId} registry ${domain.registry}, not ${pinned.chainId} ${pinned.registry}`);
  }
  checks.domain = true;
  const message = registrationMessage(registration);
  const signed = signingDigest(REGISTRATION_TYPE, message, domain, registration.signatureType);
  checkAnswerFields(answer, registration, domain, message, signed, checks);
  checks.answer = true;

  // Without the caller's own RPC nothing proves the key is the wallet's current one: never usable.
  let rpc;
  try {
    rpc = rpcFor(options);
  } catch (error) {
    fail(checks, 'rpc', 'no-rpc', error.message);
  }
  if (!rpc) fail(checks, 'rpc', 'no-rpc', 'without your own chain (client, provider or rpcUrl) the contract cannot be read: the answer is never usable');
  const served = await read(checks, 'rpc', () => rpc.chainId());
  if (served !== pinned.chainId) fail(checks, 'rpc', 'chain-mismatch', `the RPC serves chain ${served}, not ${pinned.chainId}`);
  // Every later read is made at one block, the latest now: the contract, its events and its log head agree.
  const block = await read(checks, 'rpc', () => rpc.blockNumber());
  const at = '0x' + block.toString(16);
  checks.rpc = true;

  // 4: the signature.
  state.key.signerMethod = await checkSignature(rpc, registration, signed, checks, at);
  checks.signature = true;

  // 5: the contract.
  const keyOf = await read(checks, 'onchain', () => rpc.call(pinned.registry, callWithAddress('keyOf(address)', pinned.wallet), at));
  if (keyOf.length < 64) fail(checks, 'onchain', 'contract-unreadable', `keyOf on ${pinned.registry} did not answer as DMTPKeys`);
  const onchainDigest = keyOf.subarray(0, 32);
  if (!equalBytes(onchainDigest, digest)) {
    const empty = onchainDigest.every((byte) => byte === 0);
    fail(checks, 'onchain', empty ? 'not-onchain' : 'not-current', empty
      ? `the contract ${pinned.registry} holds no key for ${pinned.wallet} (not confirmed yet?)`
      : `the contract holds ${cidOfDigest(onchainDigest)} for ${pinned.wallet}, not ${cid}`);
  }
  checks.onchain = true;
  const revokedOnChain = keyOf[63] !== 0;
  if (revokedOnChain) fail(checks, 'notRevoked', 'revoked', 'the contract says this key is revoked');
  if (answer.revoked === true) fail(checks, 'notRevoked', 'revoked', 'the registry says this key is revoked (the revocation may not be on chain yet)');
  checks.notRevoked = true;
  if (registration.expiresAt !== 0 && registration.expiresAt <= now) fail(checks, 'notExpired', 'expired', `the key expired at ${registration.expiresAt}`);
  checks.notExpired = true;

  // The events rule: the wallet's events, from the caller's start block (never the answer's word), never go back in
  // version, and the latest KeyUpdated is this digest and version.
  const walletTopic = '0x' + '00'.repeat(12) + pinned.wallet.slice(2).toLowerCase();
  const history = await eventsOf(rpc, pinned.registry, [[TOPIC_OF[KEY_UPDATED], TOPIC_OF[KEY_REVOKED]], walletTopic], startBlock, block, checks, 'history');
  guarded(checks, 'history', () => checkNoRollback(history));
  checks.history = true;
  const keyEvent = guarded(checks, 'latestVersion', () => checkKeyHistory(history, digest, registration.version, startBlock));
  checks.latestVersion = true;

  // The transparency log: the head the contract holds; an anchor at or after the key's KeyUpdated covering its leaf;
  // the leaf proven under the head.
  const head = await readLogHeadFrom(rpc, pinned.registry, checks, at);
  const leafIndex = logIndexOf(answer, checks);
  state.log = { leafIndex, head: { size: head.size, root: to0x(head.root) }, included: null };
  if (options.previousHead) await checkConsistency(log, options.previousHead, head, checks);
  const anchors = await eventsOf(rpc, pinned.registry, [TOPIC_OF[LOG_ANCHORED]], keyEvent.block, block, checks, 'anchored');
  guarded(checks, 'anchored', () => coveringAnchor(keyEvent, anchors, leafIndex, head));
  checks.anchored = true;
  const leaf = leafBytes(LEAF_KIND_KEY, pinned.wallet, registration.version, digest);
  state.log.included = await checkInclusion(log, head, leafIndex, pinned.wallet, registration.version, leaf, checks);
  checks.log = true;
}

/** Runs a rule that throws a Failure, marking `name` failed when it does. */
function guarded(checks, name, rule) {
  try {
    return rule();
  } catch (error) {
    if (error instanceof Failure) fail(checks, name, error.reason, error.message);
    throw error;
  }
}

function where(event) {
  return `block ${event.block}${event.txHash ? ` (tx ${event.txHash})` : ''}`;
}

/**
 * Where one wallet's KeyUpdated/KeyRevoked events (`{kind, version, digest}`, in chain order) first go back in version:
 * `[the earlier event of the highest version so far, the later event not above it]`, or null. Each event must be
 * higher than every earlier one, or repeat the highest one exactly (same kind, digest and version).
 */
export function firstRollback(events) {
  let highest = null;
  for (const event of events) {
    if (highest === null || event.version > highest.version) highest = event;
    else if (event.kind !== highest.kind || event.version !== highest.version || !equalBytes(event.digest, highest.digest)) return [highest, event];
  }
  return null;
}

function checkNoRollback(events) {
  const rollback = firstRollback(events);
  if (!rollback) return;
  const [higher, lower] = rollback;
  throw new Failure('version-rollback', `${lower.kind} of version ${lower.version} at ${where(lower)} comes after ${higher.kind} of version ${higher.version} at ${where(higher)}: the wallet's key history goes back from version ${higher.version} to ${lower.version}`);
}

/**
 * The events rule (docs/PROTOCOL.md §11): `events` are the wallet's KeyUpdated/KeyRevoked events in chain order
 * (`{kind, block, logIndex, txHash, digest, version}`). Throws a Failure `version-rollback` (naming both versions)
 * when they go back, `no-event` when there is no KeyUpdated, `version-mismatch` when the last one is not this
 * digest and version; returns that last KeyUpdated event.
 */
export function checkKeyHistory(events, digest, version, startBlock = 0) {
  checkNoRollback(events);
  const current = events.filter((event) => event.kind === KEY_UPDATED).at(-1);
  if (!current) throw new Failure('no-event', `no KeyUpdated event for the wallet from block ${startBlock}`);
  if (!equalBytes(current.digest, digest) || current.version !== version) {
    throw new Failure('version-mismatch', `the wallet's last KeyUpdated event (version ${current.version} at ${where(current)}) is not this document's digest and version ${version}`);
  }
  return current;
}

/**
 * The anchor rule (docs/PROTOCOL.md §11, §15): the first LogAnchored event (`{block, logIndex, txHash, size}`) at or
 * after the key's KeyUpdated event must exist (else `log-not-anchored-yet`: normal for a few minutes, retry after the
 * registry's LOG_ANCHOR_SINGLE_AFTER_S) and cover `leafIndex` (else `log-index-beyond-anchor`; none: `log-missing`).
 * With none, the rule holds (null) when `head`, the contract's logHead() (so anchored before the key), covers it.
 */
export function coveringAnchor(keyEvent, anchors, leafIndex, head) {
  const anchor = anchors.find((a) => a.block > keyEvent.block || (a.block === keyEvent.block && a.logIndex >= keyEvent.logIndex));
  if (!anchor && head && leafIndex !== null && leafIndex < head.size) return null;
  if (!anchor) throw new Failure('log-not-anchored-yet', `no LogAnchored event at or after the key's KeyUpdated at ${where(keyEvent)}: its log leaf is not anchored yet (retry after the registry's LOG_ANCHOR_SINGLE_AFTER_S)`);
  if (leafIndex === null) throw new Failure('log-missing', `the head of size ${anchor.size} anchored at ${where(anchor)} covers the key, but the answer names no leaf index`);
  if (leafIndex >= anchor.size) {
    throw new Failure('log-index-beyond-anchor', `the answer puts the key at leaf ${leafIndex}, at or beyond the size ${anchor.size} of the head anchored at ${where(anchor)}, the first after its KeyUpdated at ${where(keyEvent)}`);
  }
  return anchor;
}

/**
 * The registry's events matching `topics` in blocks [start, end], in chain order (removed ones left out). One
 * eth_getLogs for the range; a node refusing it is asked in chunks of at most LOGS_CHUNK blocks, shrinking to one.
 */
async function eventsOf(rpc, registry, topics, start, end, checks, name) {
  const found = [];
  let from = start;
  let chunk = end - start + 1;
  while (from <= end) {
    const to = Math.min(end, from + chunk - 1);
    let part;
    try {
      part = await rpc.logs({ address: registry, fromBlock: '0x' + from.toString(16), toBlock: '0x' + to.toString(16), topics });
    } catch (error) {
      if (!(error instanceof RpcFailure)) throw error;
      if (error.unavailable) fail(checks, name, 'rpc-unavailable', error.message);
      if (chunk === 1) fail(checks, name, 'rpc-error', `eth_getLogs of block ${from}: ${error.message}`);
      chunk = Math.max(1, Math.min(Math.floor(chunk / 4), LOGS_CHUNK));
      continue;
    }
    if (!Array.isArray(part)) fail(checks, name, 'rpc-error', 'eth_getLogs did not answer a list');
    found.push(...part);
    from = to + 1;
  }
  return found.filter((entry) => entry && !entry.removed).map((entry) => parseEvent(entry, checks, name)).sort((a, b) => a.block - b.block || a.logIndex - b.logIndex);
}

function parseEvent(entry, checks, name) {
  let parsed;
  try {
    const kind = TOPICS[String(entry.topics[0]).toLowerCase()];
    const data = fromHex(entry.data);
    if (!kind || data.length !== 64) throw new TypeError(`not a DMTPKeys event (${data.length} bytes of data)`);
    const number = Number(BigInt(to0x(data.subarray(32))));
    parsed = { kind, block: Number(BigInt(entry.blockNumber)), logIndex: Number(BigInt(entry.logIndex)), txHash: typeof entry.transactionHash === 'string' ? entry.transactionHash : '' };
    if (kind === LOG_ANCHORED) Object.assign(parsed, { size: Number(BigInt(to0x(data.subarray(0, 32)))), root: data.slice(32) });
    else Object.assign(parsed, { digest: data.slice(0, 32), version: number });
  } catch (error) {
    fail(checks, name, 'rpc-error', `eth_getLogs answered an entry that is not a DMTPKeys event: ${error.message}`);
  }
  return parsed;
}

async function readLogHeadFrom(rpc, registry, checks, at = 'latest') {
  const raw = await read(checks, 'log', () => rpc.call(registry, selector('logHead()'), at));
  if (raw.length < 64) fail(checks, 'log', 'contract-unreadable', `logHead on ${registry} did not answer as DMTPKeys`);
  return { size: Number(BigInt(to0x(raw.subarray(0, 32)))), root: raw.slice(32, 64) };
}

function logIndexOf(answer, checks) {
  if (answer.log === undefined || answer.log === null) return null;
  const index = answer.log.leafIndex;
  if (!Number.isSafeInteger(index) || index < 0) fail(checks, 'log', 'malformed-answer', 'the answer\'s log.leafIndex is not a leaf index');
  return index;
}

async function checkInclusion(log, head, index, wallet, version, leaf, checks) {
  // coveringAnchor held: an anchored head of at least this size covers `index`, so it is below head.size
  const where = `${wallet} v${version} (leaf ${index}, on-chain tree size ${head.size})`;
  if (!log || typeof log.logInclusion !== 'function') fail(checks, 'log', 'log-unavailable', `${where} is under the on-chain log head: checking it needs the registry (options.log)`);
  let proof;
  try {
    proof = await log.logInclusion(wallet, version, head.size);
  } catch (error) {
    fail(checks, 'log', 'log-inclusion-failed', `no inclusion proof for ${where}: ${error && error.message ? error.message : error}`);
  }
  if (!proof || typeof proof !== 'object' || typeof proof.leaf !== 'string' || proof.leaf.toLowerCase() !== to0x(leaf)) {
    fail(checks, 'log', 'log-leaf-mismatch', `the log's leaf for ${where} is not the one built from the document`);
  }
  const path = Array.isArray(proof.auditPath) ? proof.auditPath.map(hash32) : null;
  if (proof.leafIndex !== index || proof.treeSize !== head.size || !path || path.includes(null)) {
    fail(checks, 'log', 'log-inclusion-failed', `the inclusion proof for ${where} is for another leaf index or tree size`);
  }
  if (!verifyInclusion(leafHash(leaf), index, head.size, path, head.root)) {
    fail(checks, 'log', 'log-inclusion-failed', `the audit path of ${where} does not lead to the on-chain root ${to0x(head.root)}`);
  }
  return true;
}

async function checkConsistency(log, previous, current, checks) {
  const old = { size: previous.size, root: previous.root instanceof Uint8Array ? previous.root : hash32(previous.root) };
  if (!Number.isSafeInteger(old.size) || old.size < 0 || !old.root) fail(checks, 'log', 'malformed-request', 'previousHead must be {size, root}');
  try {
    await checkLogConsistency(log, old, current);
  } catch (error) {
    if (error instanceof Failure) fail(checks, 'log', error.reason, error.message);
    throw error;
  }
}

/**
 * The latest log head anchored in the DMTPKeys contract `registry` (pinned by the caller), read through the
 * caller's chain (`client`, `provider` or `rpcUrl`, as for verify), which must serve `chainId`: `{size, root}` (root as 0x hex). Throws an Error with `reason` otherwise.
 */
export async function readLogHead(options) {
  const { chainId, registry } = options;
  const rpc = rpcFor(options);
  if (!rpc) throw new Failure('no-rpc', 'name your own chain: client, provider or rpcUrl');
  const pinned = parseDomain({ chainId, registry });
  const checks = emptyChecks();
  const served = await read(checks, 'rpc', () => rpc.chainId());
  if (served !== pinned.chainId) throw new Failure('chain-mismatch', `the RPC serves chain ${served}, not ${pinned.chainId}`);
  const head = await readLogHeadFrom(rpc, pinned.registry, checks);
  return { size: head.size, root: to0x(head.root) };
}

/**
 * Both heads read from the chain (`{size, root}`, root as 0x hex or bytes): the registry (`log`, a RegistryClient)
 * must prove `current` extends `previous` (RFC 9162). Throws an Error with `reason` `log-inconsistent` otherwise.
 */
export async function checkLogConsistency(log, previous, current) {
  const oldRoot = previous.root instanceof Uint8Array ? previous.root : hash32(previous.root);
  const newRoot = current.root instanceof Uint8Array ? current.root : hash32(current.root);
  if (current.size < previous.size) throw new Failure('log-inconsistent', `the on-chain log head went back from size ${previous.size} to ${current.size}`);
  if (previous.size === current.size) {
    if (!oldRoot || !newRoot || to0x(oldRoot) !== to0x(newRoot)) throw new Failure('log-inconsistent', `two different on-chain roots for log size ${current.size}`);
    return;
  }
  if (previous.size === 0) return;
  let answer;
  try {
    answer = await log.logConsistency(previous.size, current.size);
  } catch (error) {
    throw new Failure('log-unavailable', `no consistency proof from ${previous.size} to ${current.size}: ${error && error.message ? error.message : error}`);
  }
  const proof = answer && Array.isArray(answer.proof) ? answer.proof.map(hash32) : null;
  if (!proof || proof.includes(null) || !verifyConsistency(previous.size, current.size, oldRoot, newRoot, proof)) {
    throw new Failure('log-inconsistent', `the registry cannot prove the on-chain log head of size ${current.size} extends the one of size ${previous.size}`);
  }
}

async function read(checks, name, call) {
  try {
    return await call();
  } catch (error) {
    if (error instanceof RpcFailure) fail(checks, name, error.unavailable ? 'rpc-unavailable' : 'rpc-error', error.message);
    throw error;
  }
}

function sameAddress(a, b) {
  return typeof a === 'string' && a.toLowerCase() === b.toLowerCase();
}

function checkAnswerFields(answer, registration, domain, message, signed, checks) {
  const expected = { wallet: registration.wallet, address: registration.wallet, version: registration.version, keyType: registration.keyType, DMTPpubKey: registration.publicKey };
  for (const [name, value] of Object.entries(expected)) {
    const same = name === 'wallet' || name === 'address' ? sameAddress(answer[name], value) : answer[name] === value;
    if (name in answer && !same) fail(checks, 'answer', 'answer-mismatch', `the answer's ${name} is not the document's`);
  }
  const proof = answer.proof;
  if (proof === undefined || proof === null) return;
  const rebuilt = {
    chainId: domain.chainId,
    registry: domain.registry,
    signatureType: registration.signatureType,
    signature: registration.signature,
    typedData: typedData(REGISTRATION_TYPE, message, domain),
    digest: to0x(signed),
  };
  if (registration.signatureType === 'eip191') rebuilt.personalSignText = signedText(REGISTRATION_TYPE, message, domain);
  for (const [name, value] of Object.entries(rebuilt)) {
    if (typeof proof !== 'object' || !(name in proof) || canonicalJson(proof[name]) !== canonicalJson(value)) {
      fail(checks, 'answer', 'proof-mismatch', `the proof's ${name} is not the one rebuilt from the document`);
    }
  }
}

async function checkSignature(rpc, registration, digest, checks, at) {
  const signature = fromHex(registration.signature);
  if (isErc6492(signature)) {
    // a smart wallet that was not deployed when it signed
    const inner = erc6492InnerSignature(signature);
    if (!inner) fail(checks, 'signature', 'bad-signature', 'the ERC-6492 wrapper is malformed');
    const code = await read(checks, 'signature', () => rpc.code(registration.wallet, at));
    if (code.length > 0) {
      // it has code now: ERC-1271 with the inner signature, never the factory call the signer chose
      if (!(await erc1271Accepts(rpc, registration.wallet, digest, inner, checks, at))) {
        fail(checks, 'signature', 'bad-signature', 'the smart wallet has code and does not accept the wrapped signature (ERC-1271; the factory call is never made on a wallet with code)');
      }
      return 'erc6492';
    }
    // no code: the deployless validator deploys it inside eth_call, then asks ERC-1271
    let answer;
    try {
      answer = await rpc.callCode(validatorCallData(registration.wallet, digest, signature), at, ERC6492_GAS_LIMIT);
    } catch (error) {
      if (error instanceof RpcFailure && error.unavailable) fail(checks, 'signature', 'rpc-unavailable', error.message);
      answer = new Uint8Array(0); // reverted or out of gas: a refusal
    }
    if (answer.length !== 1 || answer[0] !== 1) fail(checks, 'signature', 'bad-signature', 'the smart wallet does not accept the signature (ERC-6492)');
    return 'erc6492';
  }
  let problem = 'the signature does not recover to the wallet';
  if (signature.length === 65) {
    try {
      if (recoverAddress(digest, signature) === registration.wallet) return 'ecdsa';
    } catch (error) {
      problem = `the signature is not a valid EOA signature (${error.message})`;
    }
  }
  const code = await read(checks, 'signature', () => rpc.code(registration.wallet, at));
  if (code.length === 0) fail(checks, 'signature', 'bad-signature', `${problem}, and the wallet has no contract code for ERC-1271`);
  if (!(await erc1271Accepts(rpc, registration.wallet, digest, signature, checks, at))) {
    fail(checks, 'signature', 'bad-signature', 'the smart-contract wallet does not accept the signature (ERC-1271)');
  }
  return 'erc1271';
}

/** `isValidSignature(digest, signature)` of `wallet` at block `at` answers the ABI-encoded magic value (a revert: no). */
async function erc1271Accepts(rpc, wallet, digest, signature, checks, at) {
  let returned;
  try {
    returned = await rpc.call(wallet, isValidSignatureCall(digest, signature), at);
  } catch (error) {
    if (error instanceof RpcFailure && error.unavailable) fail(checks, 'signature', 'rpc-unavailable', error.message);
    returned = new Uint8Array(0); // the wallet reverted: a refusal
  }
  return returned.length >= 32 && equalBytes(returned.subarray(0, 32), ERC1271_MAGIC);
}
