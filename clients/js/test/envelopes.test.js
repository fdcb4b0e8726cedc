// sealPrivateKey / openPrivateKey through an EIP-1193 provider (ethers v6 + @metamask/eth-sig-util behind it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EthersProvider } from './ethers-provider.js';
import { OTHER_KEY, WALLET_KEY, sigUtil } from './helpers.js';
import { EnvelopeError, WalletError, generateDmtpKey, openPrivateKey, sealPrivateKey } from '../src/index.js';

const provider = new EthersProvider(WALLET_KEY);
const wallet = provider.address;
const other = new EthersProvider(OTHER_KEY);
const ENVELOPES = ['x25519-xsalsa20-poly1305', 'eip191-aes256-gcm-hkdf-sha256'];

for (const envelope of ENVELOPES) {
  test(`${envelope}: a sealed key opens through the same wallet`, async () => {
    const key = generateDmtpKey();
    const sealed = await sealPrivateKey({ privateKey: key.privateKey, envelope, provider, wallet });
    assert.equal(sealed.version, envelope);
    assert.equal(await openPrivateKey(sealed, { provider, wallet }), key.privateKey);
  });

  test(`${envelope}: another wallet cannot open it (EnvelopeError)`, async () => {
    const key = generateDmtpKey();
    const sealed = await sealPrivateKey({ privateKey: key.privateKey, envelope, provider, wallet });
    await assert.rejects(openPrivateKey(sealed, { provider: other, wallet: other.address }), (error) =>
      envelope.startsWith('x25519') ? error instanceof WalletError : error instanceof EnvelopeError && error.code === 'envelope-error');
  });

  test(`${envelope}: a flipped ciphertext byte is refused`, async () => {
    const key = generateDmtpKey();
    const sealed = await sealPrivateKey({ privateKey: key.privateKey, envelope, provider, wallet });
    const c = sealed.ciphertext;
    const replacement = c[10] === 'a' ? 'b' : 'a'; // a valid digit in both base64 and hex
    const flipped = { ...sealed, ciphertext: c.slice(0, 10) + replacement + c.slice(11) };
    await assert.rejects(openPrivateKey(flipped, { provider, wallet }));
  });

  test(`${envelope}: opening a document checks the sealed key against its DMTPpubKey`, async () => {
    const key = generateDmtpKey({ keyType: 'secp256k1' });
    const sealed = await sealPrivateKey({ privateKey: key.privateKey, envelope, provider, wallet });
    const document = { keyType: 'secp256k1', DMTPpubKey: key.publicKey, DMTPpriKey: sealed };
    assert.equal(await openPrivateKey({ bundle: document }, { provider, wallet }), key.privateKey);
    const wrong = { ...document, DMTPpubKey: generateDmtpKey({ keyType: 'secp256k1' }).publicKey };
    await assert.rejects(openPrivateKey(wrong, { provider, wallet }), /does not belong to the registered DMTPpubKey/);
  });
}

test('x25519 envelope: sealing asks eth_getEncryptionPublicKey once, and an eth-sig-util envelope opens', async () => {
  const key = generateDmtpKey();
  const counting = new EthersProvider(WALLET_KEY);
  await sealPrivateKey({ privateKey: key.privateKey, provider: counting, wallet });
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
  const sealed = await sealPrivateKey({ privateKey: key.privateKey, envelope: ENVELOPES[1], provider, wallet });
  const lowV = {
    async request(args) {
      const signature = await provider.request(args);
      return args.method === 'personal_sign' ? signature.slice(0, 130) + (parseInt(signature.slice(130), 16) - 27).toString(16).padStart(2, '0') : signature;
    },
  };
  assert.equal(await openPrivateKey(sealed, { provider: lowV, wallet }), key.privateKey);
});

test('a wallet refusing the request is a WalletError with code wallet-rejected', async () => {
  const refusing = new EthersProvider(WALLET_KEY);
  refusing.refuse.add('personal_sign');
  await assert.rejects(
    sealPrivateKey({ privateKey: generateDmtpKey().privateKey, envelope: ENVELOPES[1], provider: refusing, wallet }),
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
  assert.match(a.privateKey, /^0x[0-9a-f]{64}$/);
  assert.notEqual(a.privateKey, generateDmtpKey().privateKey);
  assert.throws(() => generateDmtpKey({ keyType: 'rsa' }), (error) => error.code === 'invalid-field');
});
