// The key explorer: look keys up, verify them in this browser, register a key with the injected wallet.
// Everything it calls is the JS client (./dmtp-client.js, the browser build of clients/js); nothing is
// loaded from anywhere else. What verification trusts (RPC URL, chain id, registry) is the user's: from the page's
// own address (?rpc=&chainId=&registry=), else what the user entered before (localStorage), never from the
// registry's answers. The registry's /config is shown beside it for comparison only.
import { RegistryClient, RegistryError, generateDmtpKey, verify } from './dmtp-client.js';

const params = new URLSearchParams(location.search);
const apiUrl = params.get('api') || new URL('.', location.href).href.replace(/\/$/, '');
const client = new RegistryClient({ apiUrl });
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

function trust() {
  const rpcUrl = $('rpc-url').value.trim();
  const chainId = Number($('chain-id').value.trim());
  const registry = $('registry').value.trim();
  if (!rpcUrl) throw new Error('Enter the chain RPC URL to verify against.');
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new Error('Enter the chain id to verify against.');
  if (!/^0x[0-9a-fA-F]{40}$/.test(registry)) throw new Error('Enter the registry contract address to verify against.');
  return { rpcUrl, chainId, registry };
}

const PINNED = { 'rpc-url': ['rpc', 'dmtp.rpcUrl'], 'chain-id': ['chainId', 'dmtp.chainId'], registry: ['registry', 'dmtp.registry'] };

async function prefillTrust() {
  for (const [id, [param, stored]] of Object.entries(PINNED)) {
    $(id).value = params.get(param) || localStorage.getItem(stored) || '';
    $(id).addEventListener('change', () => localStorage.setItem(stored, $(id).value.trim()));
  }
  const fromPage = params.get('chainId') && params.get('registry');
  const source = fromPage ? 'this page\'s address' : $('registry').value ? 'what you entered before' : null;
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
  verdict.className = 'verdict ' + (result === null ? 'pending' : result.usable ? 'good' : 'bad');
  verdict.dataset.usable = result === null ? '' : String(result.usable);
  verdict.dataset.reason = (result && result.reason) || '';
  if (result === null) {
    verdict.textContent = 'Verifying in this browser…';
  } else if (result.usable) {
    verdict.append('✔ Verified in this browser: the key is usable',
      el('span', { class: 'reason', text: 'Every check passed against your RPC, chain id and registry.' }));
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
  $('checks-details').open = Boolean(result && !result.usable);  // a red verdict shows which check failed
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
  ];
  if (answer.error) rows.push(['Error', answer.error]);
  for (const [name, value] of rows) facts.append(el('dt', { text: name }), el('dd', {}, value));
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

async function lookUp(address) {
  $('lookup-result').hidden = true;
  say('lookup-status', `Looking up ${address}…`);
  let answer;
  try {
    answer = await client.lookup(address);
  } catch (error) {
    const notFound = error && error.status === 404;
    say('lookup-status', notFound ? `No DMTP key is registered for ${address}.` : describeError(error), { error: !notFound });
    return null;
  }
  say('lookup-status', '');
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
  try {
    const pinned = trust();
    const headKey = `dmtp.logHead.${pinned.chainId}.${pinned.registry.toLowerCase()}`;
    const previousHead = JSON.parse(localStorage.getItem(headKey) || 'null') || undefined;
    result = await verify(answer, { ...pinned, wallet: address, log: client, previousHead });
    if (result.usable && result.log && result.log.head.size > 0) localStorage.setItem(headKey, JSON.stringify(result.log.head));
  } catch (error) {
    result = { usable: false, reason: 'not-verified', detail: describeError(error), checks: null };
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
  const { answer } = await client.register({
    provider: ethereum, wallet, chainId, registry, key, envelope, signatureType: 'eip712',
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

prefillTrust().then(() => {
  document.body.dataset.ready = 'true';
  const address = params.get('address');
  if (address) {
    $('lookup-address').value = address;
    $('lookup-form').requestSubmit();
  }
});
