// verify(answer, {rpcUrl, wallet, chainId, registry}): may the caller encrypt to the key in a registry answer?
// docs/PROTOCOL.md §11, failing closed: the answer is usable only when every check passed, including the
// contract at `registry`, read through the caller's own RPC, holding this document's digest, unrevoked. The wallet,
// chain and registry are the caller's; the server's word (status, revoked flag, proof) can only make an answer
// unusable, never usable. verify never throws for a bad answer: it returns {usable: false, reason, detail, checks}.
import { equalBytes, fromHex, sha256, to0x, utf8 } from './bytes.js';
import { canonicalJson, cidOfDigest } from './canonical.js';
import { keccak256, parseAddress, recoverAddress } from './ethsig.js';
import {
  REGISTRATION_TYPE,
  parseDomain,
  registrationFromDocument,
  registrationMessage,
  signedText,
  signingDigest,
  typedData,
} from './protocol.js';
import { JsonRpc, RpcFailure, callWithAddress, isValidSignatureCall, selector } from './rpc.js';
import { LEAF_KIND_KEY, hash32, leafBytes, leafHash, verifyConsistency, verifyInclusion } from './log.js';
import { ERC6492_GAS_LIMIT, isErc6492, validatorCallData } from './erc6492.js';

const ERC1271_MAGIC = fromHex('0x1626ba7e' + '00'.repeat(28));
const KEY_UPDATED = to0x(keccak256(utf8('KeyUpdated(address,bytes32,uint64)')));

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
    latestVersion: null, // the wallet's latest KeyUpdated event carries this digest and version
    log: null, // the record's leaf is under the contract's log head (proven against the on-chain root), or newer
  };
}

/**
 * @param answer a GET /keys/{address} answer (or a batch-lookup entry: `bundle` + `cid`)
 * @param options `{rpcUrl, wallet, chainId, registry, log?, previousHead?, fetch?, now?, fromBlock?, timeoutMs?}`;
 *   `log`: where log proofs come from (a RegistryClient); needed once the record is under the on-chain log head.
 *   `previousHead`: an on-chain head seen before (`result.log.head` of an earlier verify): the registry must prove
 *   the current one extends it.
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
  const { rpcUrl, wallet, chainId, registry } = options;
  const now = options.now ?? Math.floor(Date.now() / 1000);

  // The caller's pins.
  let pinned;
  try {
    pinned = { wallet: parseAddress(wallet, 'wallet'), ...parseDomain({ chainId, registry }) };
  } catch (error) {
    fail(checks, 'pinned', 'missing-pin', `name the wallet, chainId and registry you trust: ${error.problem ? error.problem.detail : error.message}`);
  }
  checks.pinned = true;

  // 1-3: the document, offline.
  if (!answer || typeof answer !== 'object' || !answer.bundle || typeof answer.bundle !== 'object') {
    fail(checks, 'document', 'malformed-answer', 'the answer has no bundle object');
  }
  if (answer.found === false) fail(checks, 'document', 'not-found', 'the registry has no key for this wallet');
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
  if (!rpcUrl) fail(checks, 'rpc', 'no-rpc', 'without an RPC URL the contract cannot be read: the answer is never usable');
  const rpc = new JsonRpc(rpcUrl, { fetch: options.fetch, timeoutMs: options.timeoutMs });
  const served = await read(checks, 'rpc', () => rpc.chainId());
  if (served !== pinned.chainId) fail(checks, 'rpc', 'chain-mismatch', `the RPC serves chain ${served}, not ${pinned.chainId}`);
  checks.rpc = true;

  // 4: the signature.
  state.key.signerMethod = await checkSignature(rpc, registration, signed, checks);
  checks.signature = true;

  // 5: the contract.
  const keyOf = await read(checks, 'onchain', () => rpc.call(pinned.registry, callWithAddress('keyOf(address)', pinned.wallet)));
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

  // The wallet's latest KeyUpdated event: this digest, this version. `fromBlock` (the caller's, else the answer's
  // blockNumber as a hint) only narrows the search: a wrong hint finds no event and fails closed.
  const hint = Number.isSafeInteger(options.fromBlock) ? options.fromBlock : Number.isSafeInteger(answer.blockNumber) ? answer.blockNumber : 0;
  const logs = await read(checks, 'latestVersion', () =>
    rpc.logs({ address: pinned.registry, fromBlock: '0x' + hint.toString(16), toBlock: 'latest', topics: [KEY_UPDATED, '0x' + '00'.repeat(12) + pinned.wallet.slice(2).toLowerCase()] }),
  );
  const latest = (Array.isArray(logs) ? logs : []).filter((log) => !log.removed).sort(byPosition).at(-1);
  if (!latest) fail(checks, 'latestVersion', 'no-event', `no KeyUpdated event for ${pinned.wallet} from block ${hint}`);
  const data = fromHex(latest.data);
  if (data.length !== 64 || !equalBytes(data.subarray(0, 32), digest) || BigInt(to0x(data.subarray(32))) !== BigInt(registration.version)) {
    fail(checks, 'latestVersion', 'version-mismatch', `the latest KeyUpdated event of ${pinned.wallet} is not this document's digest and version ${registration.version}`);
  }
  checks.latestVersion = true;

  // The transparency log: the head the contract holds, and this record's leaf under it.
  const head = await readLogHeadFrom(rpc, pinned.registry, checks);
  const leafIndex = logIndexOf(answer, checks);
  state.log = { leafIndex, head: { size: head.size, root: to0x(head.root) }, included: null };
  if (options.previousHead) await checkConsistency(options.log, options.previousHead, head, checks);
  const leaf = leafBytes(LEAF_KIND_KEY, pinned.wallet, registration.version, digest);
  state.log.included = await checkInclusion(options.log, head, leafIndex, pinned.wallet, registration.version, leaf, checks);
  checks.log = true;
}

async function readLogHeadFrom(rpc, registry, checks) {
  const raw = await read(checks, 'log', () => rpc.call(registry, selector('logHead()')));
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
  if (head.size === 0) return null; // the contract anchors nothing yet
  if (index === null) fail(checks, 'log', 'log-missing', `the contract anchors a log of ${head.size} leaves, but the answer names no leaf index`);
  if (index >= head.size) return false; // accepted after the latest anchored head
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
 * caller's RPC, which must serve `chainId`: `{size, root}` (root as 0x hex). Throws an Error with `reason` otherwise.
 */
export async function readLogHead({ rpcUrl, chainId, registry, fetch: fetchImpl, timeoutMs }) {
  const rpc = new JsonRpc(rpcUrl, { fetch: fetchImpl, timeoutMs });
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

function byPosition(a, b) {
  return Number(BigInt(a.blockNumber) - BigInt(b.blockNumber)) || Number(BigInt(a.logIndex) - BigInt(b.logIndex));
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

async function checkSignature(rpc, registration, digest, checks) {
  const signature = fromHex(registration.signature);
  if (isErc6492(signature)) {
    // a smart wallet that was not deployed when it signed: the deployless validator deploys it inside eth_call
    let answer;
    try {
      answer = await rpc.callCode(validatorCallData(registration.wallet, digest, signature), 'latest', ERC6492_GAS_LIMIT);
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
  const code = await read(checks, 'signature', () => rpc.code(registration.wallet));
  if (code.length === 0) fail(checks, 'signature', 'bad-signature', `${problem}, and the wallet has no contract code for ERC-1271`);
  let returned;
  try {
    returned = await rpc.call(registration.wallet, isValidSignatureCall(digest, signature));
  } catch (error) {
    if (error instanceof RpcFailure && error.unavailable) fail(checks, 'signature', 'rpc-unavailable', error.message);
    returned = new Uint8Array(0); // the wallet reverted: a refusal
  }
  if (returned.length < 32 || !equalBytes(returned.subarray(0, 32), ERC1271_MAGIC)) {
    fail(checks, 'signature', 'bad-signature', 'the smart-contract wallet does not accept the signature (ERC-1271)');
  }
  return 'erc1271';
}
