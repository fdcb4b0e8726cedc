// A dapp's Node script in a fresh npm project that installed the packed @dmtp/key-registry-client, viem and ethers
// from the registry (tests/e2e/test_js_fresh_project.py copies it there and runs it on the local stack). It uses only
// the package's public entry points and adapters: no adapter code of its own. For each wallet: register with the
// default envelope, wait until confirmed, verify through viem (http, WebSocket and fallback transports) and a URL,
// open the sealed key again, rotate to a new key, see the old answer is not current. Prints one JSON line.
import { RegistryClient, openPrivateKey, verify, watchKeys } from '@dmtp/key-registry-client';
import { fromViem } from '@dmtp/key-registry-client/viem';
import { fromEthers } from '@dmtp/key-registry-client/ethers';
import { createPublicClient, createWalletClient, fallback, http, webSocket } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { JsonRpcProvider, Wallet } from 'ethers';

const { DMTP_API_URL: apiUrl, DMTP_RPC_URL: rpcUrl, DMTP_CHAIN_ID, DMTP_REGISTRY: registry } = process.env;
const pins = { chainId: Number(DMTP_CHAIN_ID), registry };
const client = new RegistryClient({ apiUrl });
const WAIT = { timeoutMs: 60000, intervalMs: 100 };
const chains = {
  http: createPublicClient({ transport: http(rpcUrl) }),
  webSocket: createPublicClient({ transport: webSocket(rpcUrl.replace(/^http/, 'ws')) }),
  fallback: createPublicClient({ transport: fallback([http('http://127.0.0.1:9/'), http(rpcUrl)]) }),
};

async function timed(timings, step, run) {
  const started = performance.now();
  const result = await run();
  timings[step] = Math.round(performance.now() - started);
  return result;
}

/**
 * verify until the key's log leaf is anchored on chain: `log-not-anchored-yet` is normal until an anchor lands at or
 * after the key's KeyUpdated event (docs/PROTOCOL.md §11), and a dapp retries then. Every 5 s without one, a throwaway
 * wallet registers a key, as any other user's write would: the registry anchors its leaf, after this key's event.
 * (On the local stage an anchor-only transaction can land before the key's own transaction and cover its leaf
 * already; then only a later anchor makes the key verifiable.) `nudges` counts those writes.
 */
async function untilAnchored(answer, wallet, nudges) {
  const deadline = Date.now() + 60000;
  let nextNudge = Date.now() + 5000;
  for (;;) {
    const result = await verify(answer, { ...pins, wallet, log: client, client: chains.http });
    if (result.reason !== 'log-not-anchored-yet' || Date.now() > deadline) return result;
    if (Date.now() > nextNudge) {
      await client.register({ signer: fromViem(privateKeyToAccount(generatePrivateKey())), ...pins });
      nudges.count += 1;
      nextNudge = Date.now() + 5000;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Until the watcher delivered a change at `version` (or 60 s passed). */
async function untilWatched(watched, version) {
  const deadline = Date.now() + 60000;
  while (!watched.some((change) => change.version === version) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every way of reading the chain says the same: `{http, webSocket, fallback, rpcUrl}` → reason (null: usable). */
async function verifyEverywhere(answer, wallet) {
  const trust = { ...pins, wallet, log: client };
  const reasons = {};
  for (const [name, chain] of Object.entries(chains)) reasons[name] = (await verify(answer, { ...trust, client: chain })).reason;
  reasons.rpcUrl = (await verify(answer, { ...trust, rpcUrl })).reason;
  return reasons;
}

async function lifecycle(name, signer) {
  const timings = {};
  const nudges = { count: 0 };
  const first = await timed(timings, 'register', () => client.register({ signer, ...pins }));
  const wallet = first.body.address;
  const confirmed = await timed(timings, 'confirmed', () => client.waitForStatus(wallet, { version: first.answer.version, ...WAIT }));
  await timed(timings, 'anchored', () => untilAnchored(confirmed, wallet, nudges));
  const verified = await timed(timings, 'verify', () => verify(confirmed, { ...pins, wallet, log: client, client: chains.http }));
  const transports = await verifyEverywhere(confirmed, wallet);
  const opened = await timed(timings, 'open', () => openPrivateKey(confirmed, { signer }));
  // A watcher of the wallet's key from here on, through the dapp's viem client as its EIP-1193 provider: the rotation
  // below must reach it once, verified.
  const watched = [];
  const watcher = watchKeys([wallet], (change) => watched.push(change), { ...pins, apiUrl, provider: chains.http, intervalMs: 250 });
  await watcher.ready;
  const rotated = await timed(timings, 'rotate', () => client.register({ signer, ...pins }));
  const current = await timed(timings, 'rotationConfirmed', () => client.waitForStatus(wallet, { version: rotated.answer.version, ...WAIT }));
  await timed(timings, 'rotationAnchored', () => untilAnchored(current, wallet, nudges));
  await timed(timings, 'watched', () => untilWatched(watched, current.version));
  watcher.stop();
  const after = await verifyEverywhere(current, wallet);
  const stale = await verify(confirmed, { ...pins, wallet, log: client, client: chains.http });
  return {
    name,
    wallet,
    envelope: first.body.DMTPpriKey.version,
    versions: [first.answer.version, current.version],
    usable: verified.usable,
    signerMethod: verified.key && verified.key.signerMethod,
    included: verified.log && verified.log.included,
    transports,
    opened: opened === first.key.privateKey,
    rotatedEnvelope: rotated.body.DMTPpriKey.version,
    afterRotation: after,
    rotatedKeyMatches: current.DMTPpubKey === rotated.key.publicKey,
    staleReason: stale.reason,
    watched: watched.map((change) => [change.kind, change.version]),
    timings,
    anchorNudges: nudges.count,
  };
}

const jsonRpcAccounts = await chains.http.request({ method: 'eth_accounts' });
const wallets = {
  'viem local account': fromViem(createWalletClient({ account: privateKeyToAccount(generatePrivateKey()), transport: http(rpcUrl) })),
  'viem JSON-RPC account': fromViem(createWalletClient({ account: jsonRpcAccounts.at(-1), transport: http(rpcUrl) })),
  'ethers signer': fromEthers(Wallet.createRandom(new JsonRpcProvider(rpcUrl, pins.chainId, { staticNetwork: true }))),
};
const results = [];
for (const [name, signer] of Object.entries(wallets)) results.push(await lifecycle(name, signer));
const nobody = await client.lookup(privateKeyToAccount(generatePrivateKey()).address);
const notFound = (await verify(nobody, { ...pins, wallet: nobody.address, client: chains.http })).reason;
process.stdout.write(JSON.stringify({ results, lookupMiss: nobody, notFound }) + '\n');
process.exit(0);
