// Without WebCrypto (React Native, old runtimes): crypto.subtle is removed before anything runs, only
// crypto.getRandomValues stays. SHA-256 and HKDF fall back to @noble by themselves (verify needs nothing more); the
// envelopes' AES-GCM once installNobleAesGcm() of /no-webcrypto is called. They give the vectors' bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';

const platform = globalThis.crypto;
Object.defineProperty(globalThis, 'crypto', { value: { getRandomValues: (array) => platform.getRandomValues(array) }, configurable: true, writable: true });

const { VECTORS } = await import('./helpers.js');
const { webCrypto, sha256, hkdfSha256 } = await import('../src/crypto.js');
const { fromHex, to0x, utf8 } = await import('../src/bytes.js');
const eip191Envelope = await import('../src/envelopes/dmtp-eip191-aes256gcm-hkdf-v1.js');
const passphraseEnvelope = await import('../src/envelopes/dmtp-scrypt-aes256gcm-v1.js');
const { personalSignDigest, signDigest } = await import('../src/ethsig.js');
const { buildRegistration, openPrivateKey, verify } = await import('../src/index.js');
const { PrivateKeyProvider } = await import('../src/testing/private-key-provider.js');
const { installNobleAesGcm } = await import('../src/no-webcrypto.js');

const { inputs } = VECTORS;
const A = VECTORS.envelopes['dmtp-eip191-aes256gcm-hkdf-v1'];
const P = VECTORS.envelopes['dmtp-scrypt-aes256gcm-v1'];
const R = VECTORS.registrations.eip712;
const unlockDomain = { chainId: inputs.chainId, registry: inputs.registry, wallet: inputs.wallet };
const walletSigner = async (text) => to0x(signDigest(personalSignDigest(text), fromHex(inputs.walletPrivateKey)));

test('crypto.subtle is really gone', () => {
  assert.equal(globalThis.crypto.subtle, undefined);
  assert.equal(webCrypto(), null);
});

test('SHA-256 and HKDF give the vectors\' bytes through @noble', async () => {
  assert.equal(to0x(await sha256(utf8(R.document))), R.documentSha256);
  assert.equal(to0x(await hkdfSha256(fromHex(A.unlockSignature), fromHex(A.envelope.salt), utf8(eip191Envelope.VERSION))), A.aesKey);
});

test('before installNobleAesGcm, sealing says which import brings AES-GCM; verify needs nothing', async () => {
  await assert.rejects(eip191Envelope.openWithSigner(walletSigner, A.envelope, unlockDomain), /installNobleAesGcm\(\) from '@dmtp\/key-registry-client\/no-webcrypto'/);
  const result = await verify({ cid: R.cid, bundle: JSON.parse(R.document) }, { wallet: inputs.wallet, chainId: inputs.chainId, registry: inputs.registry });
  assert.equal(result.reason, 'no-rpc'); // every offline check passed, the CID one (SHA-256) included
  assert.equal(result.checks.cid, true);
  installNobleAesGcm();
});

test('the signature-derived envelope: sealing with the vector randomness reproduces it, and it opens', async () => {
  const { salt, nonce, preKey } = A.envelope;
  assert.deepEqual(await eip191Envelope.sealWithSigner(walletSigner, A.plaintext, unlockDomain, { salt, nonce, preKey }), A.envelope);
  assert.equal(await eip191Envelope.openWithSigner(walletSigner, A.envelope, unlockDomain), A.plaintext);
  const tampered = { ...A.envelope, ciphertext: (A.envelope.ciphertext[0] === '0' ? '1' : '0') + A.envelope.ciphertext.slice(1) };
  await assert.rejects(eip191Envelope.openWithSigner(walletSigner, tampered, unlockDomain), /decryption failed/);
});

test('the passphrase envelope: the vector seals and opens byte for byte', async () => {
  const { n, p, salt, nonce } = P.envelope;
  assert.deepEqual(await passphraseEnvelope.sealWithPassphrase(P.passphrase, P.plaintext, { n, p, salt, nonce }), P.envelope);
  assert.equal(await passphraseEnvelope.openWithPassphrase(P.passphrase, P.envelope), P.plaintext);
});

test('a registration is built with the default envelope and opens again', async () => {
  const provider = new PrivateKeyProvider(inputs.walletPrivateKey, { chainId: inputs.chainId });
  const { body, key } = await buildRegistration({ provider, chainId: inputs.chainId, registry: inputs.registry, version: 1 });
  assert.equal(body.DMTPpriKey.version, eip191Envelope.VERSION);
  assert.equal(await openPrivateKey(body, { provider, chainId: inputs.chainId, registry: inputs.registry }), key.privateKey);

});
