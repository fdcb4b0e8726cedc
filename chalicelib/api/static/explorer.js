// The key explorer: look keys up, verify them in this browser, register a key with the injected wallet, and watch
// the connected wallet's own key. Everything it calls is the JS client (./dmtp-client.js, the browser build of
// clients/js); nothing is loaded from anywhere else, and the registry API it talks to is this page's own origin,
// never one named in its address.
// What verification trusts (RPC URL, chain id, registry) is the user's: what she saved or typed herself is
// confirmed; values from the page's own address (?rpc=&chainId=&registry=) are shown unconfirmed until she accepts
// them, and nothing is verified with them (nor saved) before. The registry's /config is shown for comparison only.
// Log heads are saved only under confirmed values, per (chain id, registry, RPC URL).
import { RegistryClient, RegistryError, generateDmtpKey, verify, watchWallet } from './dmtp-client.js';

const params = new URLSearchParams(location.search);
const client = new RegistryClient({ apiUrl: new URL('.', location.href).href.replace(/\/$/, '') });
const $ = (id) => document.getElementById(id);
const HISTORY_PAGE = 10;
const CONFIRM_TIMEOUT_MS = 180_000;

// ------------------------------------------------------------------ small DOM helpers

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function say(id, text, { error = false } = {}) {
  const node = $(id);
  node.textContent = text;
  node.classList.toggle('error', error);
}

function describeError(error) {
  if (error && (error.code === 'wallet-rejected' || error.code === 4001)) return 'You declined the request in your wallet.';
  if (error instanceof RegistryError) {
    const detail = (error.problem && error.problem.detail) || error.message;
    return error.status
      ? `${(error.problem && error.problem.title) || 'Registry error'} (HTTP ${error.status}, ${error.code}): ${detail}`
      : `${error.code}: ${detail}`;
  }
  return (error && error.message) || String(error);
}

function when(seconds) {
  return seconds ? new Date(seconds * 1000).toISOString().replace('.000Z', 'Z') : '—';
}

function mono(text) {
  return el('span', { class: 'mono', text: text ?? '—' });
}

// A long hash in a table cell: its ends, with the whole value as the cell's title and accessible name.
function shortCell(text) {
  if (!text) return el('td', { text: '—' });
  const short = text.length > 20 ? `${text.slice(0, 10)}…${text.slice(-6)}` : text;
  return el('td', { class: 'mono', title: text, 'aria-label': text, text: short });
}

// ------------------------------------------------------------------ what verification trusts

// Each value: its input, where the page's address may name it, and where the user's own choice is saved.
const TRUST_FIELDS = [
  { id: 'rpc-url', param: 'rpc', saved: 'dmtp.rpcUrl', name: 'chain RPC URL', same: (a, b) => a === b },
  { id: 'chain-id', param: 'chainId', saved: 'dmtp.chainId', name: 'chain id', same: (a, b) => a === b },
  { id: 'registry', param: 'registry', saved: 'dmtp.registry', name: 'registry contract', same: (a, b) => a.toLowerCase() === b.toLowerCase() },
];
const HEAD_PREFIX = 'dmtp.logHead.';

class UnconfirmedTrust extends Error {}

function confirmed(field) {
  return $(field.id).dataset.confirmed !== 'false';
}

function setConfirmed(field, on) {
  $(field.id).dataset.confirmed = String(on);
  $(field.id).setAttribute('aria-invalid', String(!on));
}

/** Shows which values still wait for the user's confirmation, and the box to accept or discard them. */
function showPending() {
  const pending = TRUST_FIELDS.filter((field) => !confirmed(field));
  $('trust-pending').hidden = pending.length === 0;
  $('trust-pending-values').replaceChildren(...pending.map((field) => el('li', {}, `${field.name}: `, mono($(field.id).value))));
}

function saveTrust(field) {
  localStorage.setItem(field.saved, $(field.id).value.trim());
}

function trust() {
  const pending = TRUST_FIELDS.filter((field) => !confirmed(field));
  if (pending.length) {
    throw new UnconfirmedTrust(`The ${pending.map((field) => field.name).join(', ')} came from this page's address and you have not confirmed them: check them, then choose "Use these values".`);
  }
  const rpcUrl = $('rpc-url').value.trim();
  const chainId = Number($('chain-id').value.trim());
  const registry = $('registry').value.trim();
  if (!rpcUrl) throw new Error('Enter the chain RPC URL to verify against.');
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new Error('Enter the chain id to verify against.');
  if (!/^0x[0-9a-fA-F]{40}$/.test(registry)) throw new Error('Enter the registry contract address to verify against.');
  return { rpcUrl, chainId, registry };
}

/** Where the last on-chain log head seen through these confirmed values is kept. */
function headKey({ rpcUrl, chainId, registry }) {
  return `${HEAD_PREFIX}${chainId}.${registry.toLowerCase()}.${rpcUrl}`;
}

function forgetUnkeyedHeads() {
  // Earlier versions of this page saved heads per (chain id, registry) alone, whoever named the RPC: not trusted.
  for (const key of Object.keys(localStorage)) {
    if (/^dmtp\.logHead\.\d+\.0x[0-9a-f]{40}$/.test(key)) localStorage.removeItem(key);
  }
}

async function prefillTrust() {
  forgetUnkeyedHeads();
  for (const field of TRUST_FIELDS) {
    const saved = localStorage.getItem(field.saved) || '';
    const linked = (params.get(field.param) || '').trim();
    const fromLink = linked !== '' && !field.same(linked, saved);
    $(field.id).value = fromLink ? linked : saved;
    setConfirmed(field, !fromLink);
    // Typed by hand: the user's own value, confirmed and saved.
    $(field.id).addEventListener('input', () => {
      setConfirmed(field, true);
      showPending();
    });
    $(field.id).addEventListener('change', () => {
      if (confirmed(field)) saveTrust(field);
    });
  }
  showPending();
  const fromPage = TRUST_FIELDS.some((field) => !confirmed(field));
  const source = fromPage ? 'this page\'s address (not confirmed yet)' : $('registry').value ? 'what you entered before' : null;
  let served = '';
  try {
    const config = await client.config();
    served = ` The registry says it is chain ${config.chainId}, contract ${config.registry}: compare, never copy blindly.`;
  } catch (error) {
    served = ` (Could not read the registry's /config: ${describeError(error)})`;
  }
  say('trust-source', source
    ? `Chain id and registry come from ${source}.${served}`
    : `Enter the chain id and registry contract you trust, from a source other than this registry.${served}`);
}

$('trust-confirm').addEventListener('click', async () => {
  for (const field of TRUST_FIELDS) {
    setConfirmed(field, true);
    saveTrust(field);
  }
  showPending();
  say('trust-source', 'You confirmed these values; they are saved in this browser.');
  if (lastShown) await verifyAnswer(lastShown.answer, lastShown.address);
});

$('trust-discard').addEventListener('click', async () => {
  for (const field of TRUST_FIELDS) {
    if (confirmed(field)) continue;
    $(field.id).value = localStorage.getItem(field.saved) || '';
    setConfirmed(field, true);
  }
  showPending();
  say('trust-source', 'The values from the page\'s address were discarded.');
  if (lastShown) await verifyAnswer(lastShown.answer, lastShown.address);
});

// ------------------------------------------------------------------ lookup, verification, history

// What each of verify's checks establishes (clients/js/src/verify.js), in the order they run.
const CHECK_NAMES = {
  pinned: 'You named the wallet, chain id and registry',
  document: 'The bundle is a valid key document',
  cid: 'The CID is the hash of the bundle\'s bytes',
  wallet: 'The document is this wallet\'s',
  domain: 'It is signed for your chain id and registry',
  answer: 'The answer\'s fields say what the document says',
  rpc: 'Your RPC serves your chain',
  signature: 'The wallet signed it',
  onchain: 'The contract holds this document',
  notRevoked: 'Not revoked',
  notExpired: 'Not expired',
  latestVersion: 'The latest on-chain event is this version',
  log: 'The on-chain log head includes it (or it is newer than the head)',
};

function showVerdict(result) {
  const verdict = $('verdict');
  verdict.replaceChildren();
  verdict.className = 'verdict ' + (result === null ? 'pending' : result.usable ? 'good' : result.reason === 'unconfirmed' ? 'unconfirmed' : 'bad');
  verdict.dataset.usable = result === null ? '' : String(result.usable);
  verdict.dataset.reason = (result && result.reason) || '';
  if (result === null) {
    verdict.textContent = 'Verifying in this browser…';
  } else if (result.usable) {
    verdict.append('✔ Verified in this browser: the key is usable',
      el('span', { class: 'reason', text: 'Every check passed against your RPC, chain id and registry.' }));
  } else if (result.reason === 'unconfirmed') {
    verdict.append('Not verified: confirm what verification trusts first',
      el('span', { class: 'reason', id: 'verdict-reason', text: result.detail || '' }));
  } else {
    verdict.append(`✘ Not usable: ${result.reason || 'verification failed'}`,
      el('span', { class: 'reason', id: 'verdict-reason', text: result.detail || '' }));
  }
  const list = $('checks');
  list.replaceChildren();
  for (const [name, state] of Object.entries((result && result.checks) || {})) {
    const label = CHECK_NAMES[name] || name;
    const outcome = state === true ? 'passed' : state === false ? 'failed' : 'not reached';
    list.append(el('li', { class: state === true ? 'pass' : state === false ? 'fail' : 'skip', text: `${label}: ${outcome}` }));
  }
  $('checks-details').open = Boolean(result && !result.usable && result.checks);  // a red verdict shows which check failed
  if ($('signer-method')) $('signer-method').textContent = result && result.key && result.key.signerMethod
    ? `${result.key.signerMethod} (checked in this browser)`
    : result === null ? 'checking…' : 'not checked in this browser';
}

function showFacts(answer) {
  const facts = $('key-facts');
  facts.replaceChildren();
  const revoked = answer.revoked
    ? el('span', { class: 'badge revoked', text: `revoked${answer.revocation ? ` (version ${answer.revocation.version}, ${answer.revocation.status})` : ''}` })
    : el('span', { class: 'badge', text: 'not revoked' });
  const rows = [
    ['Wallet', mono(answer.wallet)],
    ['DMTP public key', mono(answer.DMTPpubKey)],
    ['Key type', answer.keyType],
    ['Version', String(answer.version)],
    ['Status', el('span', { class: 'badge', id: 'key-status', text: answer.status })],
    ['Transaction', mono(answer.txHash)],
    ['CID', mono(answer.cid)],
    ['Revoked', revoked],
    ['Registered', when(answer.createdAt)],
    ['Signature checked by', el('span', { id: 'signer-check', text: signerCheckText(answer.signerCheck) })],
    ['Signature checked here', el('span', { id: 'signer-method', text: 'checking…' })],
  ];
  if (answer.error) rows.push(['Error', answer.error]);
  for (const [name, value] of rows) facts.append(el('dt', { text: name }), el('dd', {}, value));
}

/** The registry's signerCheck: how it checked the signature when it accepted the key (ecdsa, erc1271, erc6492). */
function signerCheckText(check) {
  if (!check || typeof check !== 'object' || !check.method) return '—';
  const at = check.blockNumber ? ` at block ${check.blockNumber}` : '';
  return `${check.method} (the registry's check${at})`;
}

let historyCursor = null;
let historyAddress = null;

async function showHistory(address, cursor) {
  const page = await client.history(address, { limit: HISTORY_PAGE, cursor: cursor || undefined });
  const body = $('history').tBodies[0];
  if (!cursor) body.replaceChildren();
  for (const item of page.items) {
    body.append(el('tr', {},
      el('td', { text: String(item.version) }),
      el('td', { text: item.kind }),
      el('td', { text: item.status }),
      shortCell(item.cid),
      shortCell(item.txHash),
      el('td', { text: when(item.createdAt) })));
  }
  historyAddress = address;
  historyCursor = page.nextCursor || null;
  $('history-more').hidden = historyCursor === null;
}

let lastShown = null; // the answer on screen, verified again when what verification trusts changes

async function lookUp(address) {
  $('lookup-result').hidden = true;
  lastShown = null;
  say('lookup-status', `Looking up ${address}…`);
  let answer;
  try {
    answer = await client.lookup(address);
  } catch (error) {
    say('lookup-status', describeError(error), { error: true });
    return null;
  }
  if (answer.found === false) { // lookup answers a wallet without a key as a value
    say('lookup-status', `No DMTP key is registered for ${address}.`);
    return null;
  }
  say('lookup-status', '');
  lastShown = { answer, address };
  showFacts(answer);
  $('lookup-result').hidden = false;
  showVerdict(null);
  await Promise.all([
    verifyAnswer(answer, address),
    showHistory(address, null).catch((error) => say('lookup-status', `History: ${describeError(error)}`, { error: true })),
  ]);
  return answer;
}

async function verifyAnswer(answer, address) {
  let result;
  showVerdict(null);
  try {
    const pinned = trust(); // only confirmed values: never what a link alone named
    const key = headKey(pinned);
    const previousHead = JSON.parse(localStorage.getItem(key) || 'null') || undefined;
    result = await verify(answer, { ...pinned, wallet: address, log: client, previousHead });
    if (result.usable && result.log && result.log.head.size > 0) localStorage.setItem(key, JSON.stringify(result.log.head));
  } catch (error) {
    result = error instanceof UnconfirmedTrust
      ? { usable: false, reason: 'unconfirmed', detail: error.message, checks: null }
      : { usable: false, reason: 'not-verified', detail: describeError(error), checks: null };
  }
  showVerdict(result);
  return result;
}

// ------------------------------------------------------------------ batch lookup

async function batchLookUp(text) {
  const addresses = [...new Set(text.split(/[\s,;]+/).map((part) => part.trim()).filter(Boolean))];
  if (addresses.length === 0) {
    say('batch-status', 'Enter at least one address.', { error: true });
    return;
  }
  say('batch-status', `Looking up ${addresses.length} address${addresses.length === 1 ? '' : 'es'}…`);
  try {
    const answer = await client.batchLookup(addresses);
    const body = $('batch-results').tBodies[0];
    body.replaceChildren();
    for (const entry of answer.results) {
      body.append(el('tr', {},
        shortCell(entry.address),
        el('td', { text: entry.found ? 'yes' : 'no' }),
        el('td', { text: entry.found ? String(entry.version) : '—' }),
        entry.found ? shortCell(entry.DMTPpubKey) : el('td', { text: '—' }),
        el('td', { text: entry.found ? (entry.revoked ? 'revoked' : 'no') : '—' })));
    }
    $('batch-wrap').hidden = false;
    say('batch-status', `${answer.countFound} found, ${answer.countNotFound} not found.`);
  } catch (error) {
    say('batch-status', describeError(error), { error: true });
  }
}

// ------------------------------------------------------------------ registration with the injected wallet

function step(text) {
  const item = el('li', { text });
  $('register-steps').append(item);
  return {
    done(suffix = '') { item.classList.add('done'); item.textContent = `${text} ✔${suffix ? ` ${suffix}` : ''}`; },
    failed(reason) { item.classList.add('failed'); item.textContent = `${text} ✘ ${reason}`; },
  };
}

async function registerKey(keyType, envelope) {
  const ethereum = window.ethereum;
  if (!ethereum || typeof ethereum.request !== 'function') {
    throw new Error('No wallet found in this browser (an EIP-1193 provider such as MetaMask).');
  }
  const { chainId, registry } = trust();
  let current = step('Connect the wallet');
  const [wallet] = await ethereum.request({ method: 'eth_requestAccounts' });
  const walletChain = Number(await ethereum.request({ method: 'eth_chainId' }));
  if (walletChain !== chainId) {
    current.failed(`the wallet is on chain ${walletChain}`);
    throw new Error(`Switch your wallet to chain ${chainId} (it is on ${walletChain}), then try again.`);
  }
  current.done(wallet);

  current = step(`Generate a ${keyType} DMTP key in this browser`);
  const key = generateDmtpKey({ keyType });
  current.done(key.publicKey);

  current = step(`Seal the private key (${envelope}), sign the registration (EIP-712) and submit it`);
  // store: the signed registration is recorded in this browser as the wallet's own, so "Watch my key" knows it
  const { answer } = await client.register({
    provider: ethereum, wallet, chainId, registry, key, envelope, signatureType: 'eip712', store: localStorage,
  });
  current.done(`version ${answer.version}: ${answer.status}`);

  current = step('Follow the status until the key is confirmed on chain');
  const confirmed = await client.waitForStatus(wallet, {
    version: answer.version,
    until: ['confirmed'],
    timeoutMs: CONFIRM_TIMEOUT_MS,
    intervalMs: 1000,
  });
  current.done(`transaction ${confirmed.txHash}`);
  return wallet;
}

// ------------------------------------------------------------------ watch my key

const WATCH_INTERVAL_MS = 60_000;
let watcher = null;
let watched = null;

function showWatch(report) {
  const state = report.allChanges.length || report.problems.length ? 'changed' : 'clean';
  const status = $('watch-status');
  status.dataset.state = state;
  status.classList.toggle('error', state === 'changed');
  const checked = `blocks ${report.checked.fromBlock}–${report.checked.toBlock}, log leaves ${report.checked.fromLeaf}–${report.checked.toLeaf} (the chain anchors ${report.checked.anchoredSize}), at ${new Date().toISOString().slice(11, 19)} UTC`;
  const problems = report.problems.map((problem) => ` The log does not match the chain: ${problem.code}: ${problem.detail}.`).join('');
  status.textContent = state === 'clean'
    ? `${report.wallet}: no change you did not make (${checked}). Checked again every minute while this page is open.`
    : `${report.wallet}: ${report.allChanges.length} change${report.allChanges.length === 1 ? '' : 's'} you did not make from this browser.${problems} Last check: ${checked}.`;
  const body = $('watch-changes').tBodies[0];
  body.replaceChildren();
  for (const change of report.allChanges) {
    body.append(el('tr', {},
      el('td', { text: String(change.version) }),
      el('td', { text: change.kind }),
      el('td', { text: change.reason === 'version-regression' ? 'an older version again' : 'not made from this browser' }),
      shortCell(change.txHash),
      el('td', { text: change.blockNumber === null ? '—' : String(change.blockNumber) }),
      el('td', { text: change.leafIndex === null ? '—' : String(change.leafIndex) })));
  }
  $('watch-wrap').hidden = report.allChanges.length === 0;
}

async function watchMyKey() {
  const ethereum = window.ethereum;
  if (!ethereum || typeof ethereum.request !== 'function') {
    throw new Error('No wallet found in this browser (an EIP-1193 provider such as MetaMask).');
  }
  const pinned = trust();
  const [wallet] = await ethereum.request({ method: 'eth_requestAccounts' });
  const same = watched && watched.wallet.toLowerCase() === wallet.toLowerCase() && watched.rpcUrl === pinned.rpcUrl
    && watched.chainId === pinned.chainId && watched.registry.toLowerCase() === pinned.registry.toLowerCase();
  if (watcher && same) return watcher.check(); // the same wallet and pins: check again now
  if (watcher) watcher.stop();
  say('watch-status', `Reading ${wallet}'s events and the registry's log…`);
  watched = { wallet, ...pinned };
  watcher = watchWallet(wallet, {
    ...pinned,
    log: client,
    store: localStorage,
    intervalMs: WATCH_INTERVAL_MS,
    onCheck: showWatch,
    onError: (error) => say('watch-status', `Could not check: ${describeError(error)}`, { error: true }),
  });
  return watcher.ready;
}

// ------------------------------------------------------------------ wiring

function busy(form, on) {
  for (const button of form.querySelectorAll('button')) button.disabled = on;
  form.setAttribute('aria-busy', String(on));
}

$('lookup-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  busy(form, true);
  try {
    await lookUp($('lookup-address').value.trim());
  } finally {
    busy(form, false);
  }
});

$('history-more').addEventListener('click', async () => {
  try {
    await showHistory(historyAddress, historyCursor);
  } catch (error) {
    say('lookup-status', `History: ${describeError(error)}`, { error: true });
  }
});

$('batch-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  busy(form, true);
  try {
    await batchLookUp($('batch-addresses').value);
  } finally {
    busy(form, false);
  }
});

$('register-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  busy(form, true);
  $('register-steps').replaceChildren();
  say('register-status', '');
  try {
    const address = await registerKey($('key-type').value, $('envelope').value);
    say('register-status', `Registered and confirmed. Verifying ${address} in this browser…`);
    $('lookup-address').value = address;
    const answer = await lookUp(address);
    say('register-status', answer ? 'Registered, confirmed, and looked up below.' : 'Registered and confirmed.');
    $('verdict').focus?.();
  } catch (error) {
    const failed = $('register-steps').lastElementChild;
    if (failed && !failed.classList.contains('done')) failed.classList.add('failed');
    say('register-status', describeError(error), { error: true });
  } finally {
    busy(form, false);
  }
});

$('watch-button').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    await watchMyKey();
  } catch (error) {
    $('watch-status').dataset.state = 'error';
    say('watch-status', error instanceof UnconfirmedTrust ? error.message : `Could not check: ${describeError(error)}`, { error: true });
  } finally {
    button.disabled = false;
  }
});

prefillTrust().then(() => {
  document.body.dataset.ready = 'true';
  const address = params.get('address');
  if (address) {
    $('lookup-address').value = address;
    $('lookup-form').requestSubmit();
  }
});
