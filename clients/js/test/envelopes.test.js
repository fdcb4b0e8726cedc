// sealPrivateKey / openPrivateKey through an EIP-1193 provider (ethers v6 + @metamask/eth-sig-util behind it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EthersProvider } from './ethers-provider.js';
import { OTHER_KEY, WALLET_KEY, sigUtil } from './helpers.js';
import { EnvelopeError, WalletError, dmtpPublicKeyOf, generateDmtpKey, openPrivateKey, sealPrivateKey } from '../src/index.js';

const provider = new EthersProvider(WALLET_KEY);
const wallet = provider.address;
const other = new EthersProvider(OTHER_KEY);
const ENVELOPES = ['x25519-xsalsa20-poly1305', 'dmtp-eip191-aes256gcm-hkdf-v1', 'dmtp-scrypt-aes256gcm-v1'];
const chainId = 31337;
const registry = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const passphrase = 'tulip ladder ochre gravity 42 zeppelin';
const mine = { provider, wallet, chainId, registry, passphrase };
const theirs = { provider: other, wallet: other.address, chainId, registry, passphrase: `${passphrase}!` };

for (const envelope of ENVELOPES) {
  test(`${envelope}: a sealed key opens through the same wallet`, async () => {
    const key = generateDmtpKey();
    const sealed = await sealPrivateKey({ privateKey: key.privateKey, envelope, ...mine });
    assert.equal(sealed.version, envelope);
    assert.equal(await openPrivateKey(sealed, mine), key.privateKey);
  });

  test(`${envelope}: another wallet cannot open it (EnvelopeError)`, async () => {
    const key = generateDmtpKey();
    const sealed = await sealPrivateKey({ privateKey: key.privateKey, envelope, ...mine });
    await assert.rejects(openPrivateKey(sealed, theirs), (error) =>
      envelope.startsWith('x25519') ? error instanceof WalletError : error instanceof EnvelopeError && error.code === 'envelope-error');
  });

  test(`${envelope}: a flipped ciphertext byte is refused`, async () => {
    const key = generateDmtpKey();
    const sealed = await sealPrivateKey({ privateKey: key.privateKey, envelope, ...mine });
    const c = sealed.ciphertext;
    const replacement = c[10] === 'a' ? 'b' : 'a'; // a valid digit in both base64 and hex
    const flipped = { ...sealed, ciphertext: c.slice(0, 10) + replacement + c.slice(11) };
    await assert.rejects(openPrivateKey(flipped, mine));
  });

  test(`${envelope}: opening a document checks the sealed key against its DMTPpubKey`, async () => {
    const key = generateDmtpKey({ keyType: 'secp256k1' });
    const sealed = await sealPrivateKey({ privateKey: key.privateKey, envelope, ...mine });
    const document = { keyType: 'secp256k1', DMTPpubKey: key.publicKey, DMTPpriKey: sealed, wallet, chainId, registry };
    assert.equal(await openPrivateKey({ bundle: document }, mine), key.privateKey);
    const uncompressed = { ...document, DMTPpubKey: dmtpPublicKeyOf(key.privateKey, 'secp256k1', { compressed: false }) };
    assert.equal(await openPrivateKey({ bundle: uncompressed }, mine), key.privateKey);
    const wrong = { ...document, DMTPpubKey: generateDmtpKey({ keyType: 'secp256k1' }).publicKey };
    await assert.rejects(openPrivateKey(wrong, mine), /does not belong to the registered DMTPpubKey/);
  });
}

test('x25519 envelope: sealing asks eth_getEncryptionPublicKey once, and an eth-sig-util envelope opens', async () => {
  const key = generateDmtpKey();
  const counting = new EthersProvider(WALLET_KEY);
  await sealPrivateKey({ privateKey: key.privateKey, envelope: ENVELOPES[0], provider: counting, wallet });
  assert.deepEqual(counting.calls.map((c) => c.method), ['eth_getEncryptionPublicKey']);
  const theirs = sigUtil.encrypt({ publicKey: sigUtil.getEncryptionPublicKey(WALLET_KEY.slice(2)), data: key.privateKey, version: 'x25519-xsalsa20-poly1305' });
  assert.equal(await openPrivateKey(theirs, { provider, wallet }), key.privateKey);
});

test('x25519 envelope: a given encryptionPublicKey seals without asking the wallet', async () => {
  const key = generateDmtpKey();
  const counting = new EthersProvider(WALLET_KEY);
  const encryptionPublicKey = sigUtil.getEncryptionPublicKey(WALLET_KEY.slice(2));
  const sealed = await sealPrivateKey({ privateKey: key.privateKey, provider: counting, wallet, encryptionPublicKey });
  assert.equal(counting.calls.length, 0);
  assert.equal(sigUtil.decrypt({ encryptedData: sealed, privateKey: WALLET_KEY.slice(2) }), key.privateKey);
});

test('eip191 envelope: a signer answering v as 0/1 opens what a 27/28 signer sealed', async () => {
  const key = generateDmtpKey();
  const sealed = await sealPrivateKey({ privateKey: key.privateKey, envelope: ENVELOPES[1], ...mine });
  const lowV = {
    async request(args) {
      const signature = await provider.request(args);
      return args.method === 'personal_sign' ? signature.slice(0, 130) + (parseInt(signature.slice(130), 16) - 27).toString(16).padStart(2, '0') : signature;
    },
  };
  assert.equal(await openPrivateKey(sealed, { ...mine, provider: lowV }), key.privateKey);
});

test('eip191 envelope: a signature made for another chain, registry or wallet does not open it', async () => {
  const key = generateDmtpKey();
  const sealed = await sealPrivateKey({ privateKey: key.privateKey, envelope: ENVELOPES[1], ...mine });
  const document = { DMTPpriKey: sealed, wallet, chainId, registry };
  assert.equal(await openPrivateKey(document, mine), key.privateKey);
  for (const change of [{ chainId: 1 }, { chainId: chainId + 1 }, { registry: `0x${'11'.repeat(20)}` }, { wallet: `0x${'22'.repeat(20)}` }]) {
    await assert.rejects(openPrivateKey({ ...document, ...change }, mine), /decryption failed/);
  }
});

test('passphrase envelope: the same text typed composed or decomposed opens it; a short passphrase is refused', async () => {
  const key = generateDmtpKey();
  const sealed = await sealPrivateKey({ privateKey: key.privateKey, envelope: ENVELOPES[2], passphrase: 'caf\u00e9 au lait, bitte' });
  assert.deepEqual([sealed.n, sealed.r, sealed.p], [131072, 8, 1]);
  assert.equal(await openPrivateKey(sealed, { passphrase: 'cafe\u0301 au lait, bitte' }), key.privateKey);
  await assert.rejects(sealPrivateKey({ privateKey: key.privateKey, envelope: ENVELOPES[2], passphrase: 'hunter2' }), /at least 8/);
  await assert.rejects(openPrivateKey({ ...sealed, n: 2 ** 21 }, { passphrase: 'cafe\u0301 au lait, bitte' }), /scrypt n/);
});

test('a wallet refusing the request is a WalletError with code wallet-rejected', async () => {
  const refusing = new EthersProvider(WALLET_KEY);
  refusing.refuse.add('personal_sign');
  await assert.rejects(
    sealPrivateKey({ privateKey: generateDmtpKey().privateKey, envelope: ENVELOPES[1], provider: refusing, wallet, chainId, registry }),
    (error) => error instanceof WalletError && error.code === 'wallet-rejected' && error.problem.providerCode === 4001,
  );
});

test('an unknown envelope version is an EnvelopeError', async () => {
  await assert.rejects(sealPrivateKey({ privateKey: generateDmtpKey().privateKey, envelope: 'rot13', provider, wallet }), EnvelopeError);
  await assert.rejects(openPrivateKey({ version: 'rot13' }, { provider, wallet }), EnvelopeError);
});

test('generateDmtpKey makes fresh keys of both types whose public keys have the registered lengths', () => {
  const a = generateDmtpKey();
  const b = generateDmtpKey({ keyType: 'secp256k1' });
  assert.equal(a.keyType, 'x25519');
  assert.match(a.publicKey, /^0x[0-9a-f]{64}$/);
  assert.match(b.publicKey, /^0x0[23][0-9a-f]{64}$/);
  const c = generateDmtpKey({ keyType: 'secp256k1', compressed: false });
  assert.match(c.publicKey, /^0x04[0-9a-f]{128}$/);
  assert.match(a.privateKey, /^0x[0-9a-f]{64}$/);
  assert.notEqual(a.privateKey, generateDmtpKey().privateKey);
  assert.throws(() => generateDmtpKey({ keyType: 'rsa' }), (error) => error.code === 'invalid-field');
});
