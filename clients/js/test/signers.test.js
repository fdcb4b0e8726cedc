// Signers of every kind (src/signers.js, src/adapters/): a viem local account, a viem WalletClient over a JSON-RPC
// account, a viem smart account, an ethers v6 Wallet, a bare Signer and EIP-1193 providers sign the same bodies and
// seal the default envelope their wallet's kind calls for; the wrong object gets an error naming the adapter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicClient, createWalletClient, custom } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { toCoinbaseSmartAccount } from 'viem/account-abstraction';
import { foundry } from 'viem/chains';
import { EthersProvider } from './ethers-provider.js';
import { OTHER_KEY, WALLET_KEY, ethers } from './helpers.js';
import { fromViem } from '../src/adapters/viem.js';
import { fromEthers } from '../src/adapters/ethers.js';
import {
  EnvelopeError,
  WalletError,
  buildRegistration,
  buildRevocation,
  generateDmtpKey,
  openPrivateKey,
  parseRegistration,
  recoverAddress,
  registrationMessage,
  sealPrivateKey,
  signingDigest,
} from '../src/index.js';

const PINS = { chainId: 31337, registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
const PASSPHRASE = 'tulip ladder ochre gravity 42 zeppelin';
const EIP191 = 'dmtp-eip191-aes256gcm-hkdf-v1';
const SCRYPT = 'dmtp-scrypt-aes256gcm-v1';
const ADDRESS = new ethers.Wallet(WALLET_KEY).address;
const FIXED = { ...PINS, version: 1, issuedAt: 1760000000, key: { keyType: 'x25519', privateKey: '0x' + '42'.repeat(32) } };

/** The wallet that signed a registration body, recovered from the digest the registry rebuilds. */
function signerOf(body) {
  const digest = signingDigest('KeyRegistration', registrationMessage(parseRegistration(body)), PINS, body.signatureType);
  return recoverAddress(digest, body.Signature);
}

/** An EIP-1193 provider answering eth_getCode with `code` (and every MetaMask method through EthersProvider). */
function providerWithCode(privateKey, code, options = {}) {
  const provider = new EthersProvider(privateKey, options);
  const answer = provider.request.bind(provider);
  provider.request = async (args) => (args.method === 'eth_getCode' ? (provider.calls.push(args), code) : answer(args));
  return provider;
}

const kinds = {
  'a viem local account': () => fromViem(privateKeyToAccount(WALLET_KEY)),
  'a viem WalletClient with a local account': () => fromViem(createWalletClient({ account: privateKeyToAccount(WALLET_KEY), chain: foundry, transport: custom(new EthersProvider(OTHER_KEY)) })),
  'a viem WalletClient with a JSON-RPC account': () => fromViem(createWalletClient({ account: ADDRESS, chain: foundry, transport: custom(new EthersProvider(WALLET_KEY)) })),
  'an ethers v6 Wallet': () => fromEthers(new ethers.Wallet(WALLET_KEY)),
  'a bare viem local account as the Signer itself': () => privateKeyToAccount(WALLET_KEY),
  'an EIP-1193 provider': null,
};

for (const [name, make] of Object.entries(kinds)) {
  test(`${name}: signs registrations that recover to the wallet and revocations byte for byte as the wallet's EIP-1193 provider does; the default envelope is the signature-derived one and opens again`, async () => {
    const wallet = make ? { signer: make() } : { provider: new EthersProvider(WALLET_KEY), wallet: ADDRESS };
    const reference = { provider: new EthersProvider(WALLET_KEY), wallet: ADDRESS, envelope: EIP191 };
    for (const signatureType of ['eip712', 'eip191']) {
      const { body } = await buildRegistration({ ...FIXED, ...wallet, signatureType });
      assert.equal(body.address, ADDRESS);
      assert.equal(signerOf(body), ADDRESS);
      assert.equal(body.DMTPpriKey.version, EIP191);
      assert.equal(await openPrivateKey(body, { ...wallet, ...PINS }), FIXED.key.privateKey);
    }
    for (const signatureType of ['eip712', 'eip191']) { // no randomness in a revocation: ECDSA (RFC 6979) signs the same bytes alike
      const revoking = { ...PINS, revokedVersion: 1, revokedPublicKey: '0x' + '11'.repeat(32), issuedAt: FIXED.issuedAt, signatureType };
      assert.equal((await buildRevocation({ ...revoking, ...wallet })).Signature, (await buildRevocation({ ...revoking, ...reference })).Signature);
    }
  });
}

test('a viem smart account is a smart wallet: the default envelope asks for the passphrase option, then seals under it', async () => {
  const chain = createPublicClient({ chain: foundry, transport: custom({ async request({ method }) {
    if (method === 'eth_getCode') return '0x';
    if (method === 'eth_chainId') return '0x7a69';
    throw Object.assign(new Error(`method ${method} not found`), { code: -32601 });
  } }) });
  const account = await toCoinbaseSmartAccount({ client: chain, owners: [privateKeyToAccount(WALLET_KEY)], address: '0x1111111111111111111111111111111111111111', version: '1.1' });
  const signer = fromViem(account);
  assert.equal(signer.kind, 'smart');
  await assert.rejects(buildRegistration({ ...FIXED, signer }), (error) => error instanceof EnvelopeError && /`passphrase`/.test(error.message) && error.message.includes(SCRYPT));
  const { body } = await buildRegistration({ ...FIXED, signer, passphrase: PASSPHRASE });
  assert.equal(body.DMTPpriKey.version, SCRYPT);
  assert.equal(body.address, '0x1111111111111111111111111111111111111111');
  assert.ok(body.Signature.length > 2 + 130, 'an ERC-6492-wrapped smart-account signature');
  assert.equal(await openPrivateKey(body, { passphrase: PASSPHRASE }), FIXED.key.privateKey);
});

test('a wallet with contract code at its address gets the passphrase envelope, and is never asked to sign an unlock text', async () => {
  const provider = providerWithCode(WALLET_KEY, '0x6080604052');
  const key = generateDmtpKey();
  await assert.rejects(sealPrivateKey({ privateKey: key.privateKey, provider, wallet: ADDRESS, ...PINS }), /pass `passphrase`/);
  const sealed = await sealPrivateKey({ privateKey: key.privateKey, provider, wallet: ADDRESS, ...PINS, passphrase: PASSPHRASE });
  assert.equal(sealed.version, SCRYPT);
  assert.deepEqual([...new Set(provider.calls.map((call) => call.method))], ['eth_getCode']);
});

test('an EOA with an EIP-7702 delegation still gets the signature-derived envelope', async () => {
  const provider = providerWithCode(WALLET_KEY, '0xef0100' + 'ab'.repeat(20));
  const sealed = await sealPrivateKey({ privateKey: generateDmtpKey().privateKey, provider, wallet: ADDRESS, ...PINS });
  assert.equal(sealed.version, EIP191);
});

test('a wallet whose unlock signature does not recover to it (a smart wallet\'s owner key, no code answer) gets the passphrase envelope', async () => {
  const contractWallet = '0x2222222222222222222222222222222222222222';
  const owner = new EthersProvider(WALLET_KEY, { actAs: contractWallet });
  const privateKey = generateDmtpKey().privateKey;
  await assert.rejects(sealPrivateKey({ privateKey, provider: owner, wallet: contractWallet, ...PINS }),
    (error) => error instanceof EnvelopeError && /does not recover to it/.test(error.message) && /pass `passphrase`/.test(error.message));
  const sealed = await sealPrivateKey({ privateKey, provider: owner, wallet: contractWallet, ...PINS, passphrase: PASSPHRASE });
  assert.equal(sealed.version, SCRYPT);
  // named, the signature-derived envelope is the caller's choice: sealed as asked
  assert.equal((await sealPrivateKey({ privateKey, provider: owner, wallet: contractWallet, ...PINS, envelope: EIP191 })).version, EIP191);
});

test('a Signer saying kind smart gets the passphrase envelope; no wallet at all with a passphrase too', async () => {
  const account = privateKeyToAccount(WALLET_KEY);
  const privateKey = generateDmtpKey().privateKey;
  const smart = { address: account.address, kind: 'smart', signMessage: account.signMessage, signTypedData: account.signTypedData };
  assert.equal((await sealPrivateKey({ privateKey, signer: smart, ...PINS, passphrase: PASSPHRASE })).version, SCRYPT);
  assert.equal((await sealPrivateKey({ privateKey, passphrase: PASSPHRASE })).version, SCRYPT);
  await assert.rejects(sealPrivateKey({ privateKey }), /needs a wallet .* or a `passphrase`/);
});

test('the x25519 envelope is used only when named, and a Signer that cannot answer eth_getEncryptionPublicKey says to leave envelope unset', async () => {
  const signer = fromViem(privateKeyToAccount(WALLET_KEY));
  await assert.rejects(sealPrivateKey({ privateKey: generateDmtpKey().privateKey, signer, ...PINS, envelope: 'x25519-xsalsa20-poly1305' }),
    (error) => error instanceof WalletError && /leave `envelope` unset/.test(error.message));
  const provider = new EthersProvider(WALLET_KEY);
  const sealed = await sealPrivateKey({ privateKey: generateDmtpKey().privateKey, provider, wallet: ADDRESS, ...PINS, envelope: 'x25519-xsalsa20-poly1305' });
  assert.equal(sealed.version, 'x25519-xsalsa20-poly1305');
  assert.ok(provider.calls.some((call) => call.method === 'eth_getEncryptionPublicKey'));
});

test('a viem WalletClient whose account signs in the app, passed as provider, is refused before anything is signed, naming fromViem', async () => {
  const node = new EthersProvider(OTHER_KEY);
  const client = createWalletClient({ account: privateKeyToAccount(WALLET_KEY), chain: foundry, transport: custom(node) });
  await assert.rejects(buildRegistration({ ...FIXED, provider: client }),
    (error) => error instanceof WalletError && error.message.includes("fromViem(walletClient) from '@dmtp/key-registry-client/viem'"));
  assert.deepEqual(node.calls, []);
});

test('an ethers signer passed as provider is refused naming fromEthers', async () => {
  await assert.rejects(buildRegistration({ ...FIXED, provider: new ethers.Wallet(WALLET_KEY) }),
    (error) => error instanceof WalletError && error.message.includes("fromEthers(signer) from '@dmtp/key-registry-client/ethers'"));
});

test('a wallet answering "Method not found" / "No Signer available" gets an error naming both adapters', async () => {
  for (const failure of [{ code: -32601, message: 'Method not found' }, { code: -32000, message: 'No Signer available' }]) {
    const provider = { request: async ({ method }) => { if (method === 'eth_getCode') return '0x'; throw Object.assign(new Error(failure.message), { code: failure.code }); } };
    await assert.rejects(buildRegistration({ ...FIXED, provider, wallet: ADDRESS }), (error) => error instanceof WalletError
      && error.code === 'wallet-error' && error.message.includes('fromViem(walletClient)') && error.message.includes('fromEthers(signer)') && error.problem.method === 'personal_sign');
  }
});

test('a user who rejects in the wallet gets wallet-rejected, from viem (4001) and ethers (ACTION_REJECTED) alike', async () => {
  const rejecting = (code) => ({ address: ADDRESS, signMessage: async () => { throw Object.assign(new Error('User rejected the request.'), { code }); }, signTypedData: async () => '0x' });
  for (const code of [4001, 'ACTION_REJECTED']) {
    await assert.rejects(buildRegistration({ ...FIXED, signer: rejecting(code) }), (error) => error instanceof WalletError && error.code === 'wallet-rejected');
  }
});

test('fromViem refuses a client without an account and a JSON-RPC account on its own, saying what to pass', () => {
  assert.throws(() => fromViem(createWalletClient({ chain: foundry, transport: custom(new EthersProvider(WALLET_KEY)) })), /has no account/);
  assert.throws(() => fromViem({ address: ADDRESS, type: 'json-rpc' }), /fromViem\(walletClient\)/);
  assert.throws(() => fromEthers({ request() {} }), /ethers v6 Signer/);
});

test('a viem JSON-RPC account its node does not hold fails with an error saying what the account must be', async () => {
  const node = { async request({ method }) {
    if (method === 'eth_getCode') return '0x';
    throw Object.assign(new Error('Method not found'), { code: -32601 });
  } };
  const signer = fromViem(createWalletClient({ account: ADDRESS, chain: foundry, transport: custom(node) }));
  await assert.rejects(buildRegistration({ ...FIXED, signer }), (error) => error instanceof WalletError
    && error.problem.method === 'signMessage' && /must be one that wallet or node holds/.test(error.message));
});
