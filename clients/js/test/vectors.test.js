// Every value of docs/protocol-vectors.json, recomputed by this package (and the EIP-712 hashes by ethers v6 too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VECTORS, ethers } from './helpers.js';
import { fromBase64, fromHex, sha256, to0x, toHex } from '../src/bytes.js';
import { canonicalJson, cidForBytes } from '../src/canonical.js';
import { encryptedPrivateKeyHash, checkEnvelope } from '../src/envelopes/index.js';
import * as x25519Envelope from '../src/envelopes/x25519-xsalsa20-poly1305.js';
import * as eip191Envelope from '../src/envelopes/dmtp-eip191-aes256gcm-hkdf-v1.js';
import * as passphraseEnvelope from '../src/envelopes/dmtp-scrypt-aes256gcm-v1.js';
import { ERC6492_SUFFIX, VALIDATOR_BYTECODE, erc6492InnerSignature, isErc6492, validatorCallData, wrapErc6492 } from '../src/erc6492.js';
import { checkKeyHistory, coveringAnchor } from '../src/verify.js';
import { keccak256 } from '../src/ethsig.js';
import { addressOfPrivateKey, personalSignDigest, recoverAddress, signDigest } from '../src/ethsig.js';
import { domainSeparator, encodeType, hashStruct, typeHash, typedDataDigest } from '../src/eip712.js';
import { dmtpPublicKeyOf } from '../src/keys.js';
import {
  parseRegistration,
  parseRevocation,
  pinnedDocument,
  registrationMessage,
  revocationMessage,
  signedText,
  signingDigest,
  typedData,
} from '../src/protocol.js';

const { inputs } = VECTORS;
const walletKey = fromHex(inputs.walletPrivateKey);
const domain = { chainId: inputs.chainId, registry: inputs.registry };
const X = VECTORS.envelopes['x25519-xsalsa20-poly1305'];
const A = VECTORS.envelopes['dmtp-eip191-aes256gcm-hkdf-v1'];
const P = VECTORS.envelopes['dmtp-scrypt-aes256gcm-v1'];
const S = VECTORS.secp256k1Uncompressed;
const W = VECTORS.erc6492;
const unlockDomain = { chainId: inputs.chainId, registry: inputs.registry, wallet: inputs.wallet };
const walletSigner = async (text) => to0x(signDigest(personalSignDigest(text), walletKey));

test('the wallet and the DMTP public key derive from their private keys', () => {
  assert.equal(addressOfPrivateKey(walletKey), inputs.wallet);
  assert.equal(dmtpPublicKeyOf(inputs.dmtpPrivateKey, 'x25519'), inputs.dmtpPublicKey);
});

test('x25519 envelope: the wallet encryption public key is eth_getEncryptionPublicKey of the wallet key', () => {
  assert.equal(x25519Envelope.encryptionPublicKeyOf(walletKey), X.walletEncryptionPublicKey);
});

test('x25519 envelope: sealing with the vector randomness reproduces the envelope byte for byte', () => {
  const sealed = x25519Envelope.seal(X.walletEncryptionPublicKey, X.plaintext, {
    ephemeralSecret: X.ephemeralPrivateKey,
    nonce: toHex(fromBase64(X.envelope.nonce)),
  });
  assert.deepEqual(sealed, X.envelope);
});

test('x25519 envelope: the wallet key opens it to the plaintext', () => {
  assert.equal(x25519Envelope.openWithPrivateKey(X.envelope, walletKey), X.plaintext);
});

test('eip191 envelope: the unlock text, its signature and the HKDF output are the vector values', async () => {
  assert.equal(eip191Envelope.unlockText(A.envelope.preKey, unlockDomain), A.unlockText);
  assert.equal(await walletSigner(A.unlockText), A.unlockSignature);
  assert.equal(A.hkdfInfo, eip191Envelope.VERSION);
  assert.equal(to0x(await eip191Envelope.deriveKeyBytes(A.unlockSignature, fromHex(A.envelope.salt))), A.aesKey);
});

test('eip191 envelope: sealing with the vector randomness reproduces it, and it opens to the plaintext', async () => {
  const { salt, nonce, preKey } = A.envelope;
  assert.deepEqual(await eip191Envelope.sealWithSigner(walletSigner, A.plaintext, unlockDomain, { salt, nonce, preKey }), A.envelope);
  assert.equal(await eip191Envelope.openWithSigner(walletSigner, A.envelope, unlockDomain), A.plaintext);
});

test('eip191 envelope: the unlock signature made for another chain derives the vector\'s other key and does not open it', async () => {
  const O = A.otherChain;
  const otherDomain = { ...unlockDomain, chainId: O.chainId };
  assert.equal(eip191Envelope.unlockText(A.envelope.preKey, otherDomain), O.unlockText);
  assert.equal(await walletSigner(O.unlockText), O.unlockSignature);
  assert.equal(to0x(await eip191Envelope.deriveKeyBytes(O.unlockSignature, fromHex(A.envelope.salt))), O.aesKey);
  await assert.rejects(eip191Envelope.openWithSigner(walletSigner, A.envelope, otherDomain), /decryption failed/);
  assert.equal(O.opens, false);
});

test('passphrase envelope: the NFKC bytes, the scrypt key and the envelope are the vector values', async () => {
  assert.equal(to0x(passphraseEnvelope.passphraseBytes(P.passphrase)), P.passphraseUtf8Hex);
  const { n, r, p, salt, nonce } = P.envelope;
  assert.equal(to0x(await passphraseEnvelope.deriveKeyBytes(P.passphrase, fromHex(salt), { n, r, p })), P.scryptKey);
  assert.deepEqual(await passphraseEnvelope.sealWithPassphrase(P.passphrase, P.plaintext, { n, p, salt, nonce }), P.envelope);
  assert.equal(await passphraseEnvelope.openWithPassphrase(P.passphrase, P.envelope), P.plaintext);
});

test('uncompressed secp256k1 key: the vector registration parses, signs and pins the 65-byte form as is', async () => {
  assert.equal(dmtpPublicKeyOf(S.privateKey, 'secp256k1', { compressed: false }), S.publicKeyUncompressed);
  assert.equal(dmtpPublicKeyOf(S.privateKey, 'secp256k1'), S.publicKeyCompressed);
  const R = S.registration;
  const registration = parseRegistration(R.body);
  assert.equal(registration.publicKey, S.publicKeyUncompressed);
  assert.deepEqual(registrationMessage(registration), R.message);
  assert.equal(to0x(signingDigest('KeyRegistration', R.message, domain, 'eip712')), R.digest);
  const document = canonicalJson(pinnedDocument(registration, domain));
  assert.equal(document, R.document);
  assert.equal(await cidForBytes(document), R.cid);
});

test('ERC-6492: the wrapped signature, its detection and the validator call are the vector values', () => {
  assert.equal(to0x(ERC6492_SUFFIX), W.magicSuffix);
  const wrapped = wrapErc6492(W.factory, fromHex(W.factoryCalldata), fromHex(W.innerSignature));
  assert.equal(to0x(wrapped), W.wrappedSignature);
  assert.ok(isErc6492(wrapped) && !isErc6492(fromHex(W.innerSignature)));
  const registration = parseRegistration(W.body);
  const digest = signingDigest('KeyRegistration', registrationMessage(registration), domain, 'eip712');
  assert.equal(to0x(digest), W.digest);
  assert.equal(recoverAddress(digest, W.innerSignature), W.owner);
  assert.equal(to0x(keccak256(VALIDATOR_BYTECODE)), W.validatorBytecodeKeccak256);
  assert.equal(to0x(validatorCallData(W.wallet, digest, wrapped).subarray(VALIDATOR_BYTECODE.length)), W.validatorArguments);
  assert.equal(to0x(erc6492InnerSignature(wrapped)), W.innerSignature); // what a wallet with code is asked alone
});

test('ERC-6492: a wrapping that does not decode has no inner signature', () => {
  const wrapped = wrapErc6492(W.factory, fromHex(W.factoryCalldata), fromHex(W.innerSignature));
  assert.equal(erc6492InnerSignature(fromHex(W.innerSignature)), null); // not wrapped
  const dirty = wrapped.slice();
  dirty[0] = 1; // the address word's high bytes set
  assert.equal(erc6492InnerSignature(dirty), null);
  const farOffset = wrapped.slice();
  farOffset[95] = 0xff; // the inner signature's offset points past the end
  assert.equal(erc6492InnerSignature(farOffset), null);
  const longLength = wrapped.slice();
  const inner = Number(BigInt(to0x(wrapped.subarray(64, 96))));
  longLength[inner + 30] = 1; // 256 bytes more than the wrapping holds (its padding holds 31)
  assert.equal(erc6492InnerSignature(longLength), null);
});

// The verification rules of docs/PROTOCOL.md §11: the same reason codes as the Python client (tests/unit/test_rule_vectors.py).
const RULES = VECTORS.verificationRules;
const reasonOf = (rule) => {
  try {
    rule();
    return null;
  } catch (error) {
    if (typeof error.reason !== 'string') throw error;
    return error.reason;
  }
};

for (const c of RULES.history) {
  test(`the events rule: ${c.case} → ${c.reason ?? 'holds'}`, () => {
    const events = c.events.map((e, i) => ({ kind: e.kind, block: c.firstBlock + i, logIndex: 2, txHash: '', digest: fromHex(RULES.documents[e.document]), version: e.version }));
    assert.equal(reasonOf(() => checkKeyHistory(events, fromHex(RULES.documents[c.document.document]), c.document.version)), c.reason);
  });
}

for (const c of RULES.anchors) {
  test(`the anchor rule: ${c.case} → ${c.reason ?? 'holds'}`, () => {
    const key = { kind: 'KeyUpdated', ...c.keyEvent, txHash: '' };
    const anchors = c.anchors.map((a) => ({ kind: 'LogAnchored', ...a, txHash: '' }));
    assert.equal(reasonOf(() => coveringAnchor(key, anchors, c.leafIndex, c.logHead)), c.reason);
  });
}

for (const [name, E] of Object.entries(VECTORS.envelopes)) {
  test(`${name}: canonical JSON and encryptedPrivateKeyHash are the vector values, and the registry's checks pass`, () => {
    assert.equal(canonicalJson(E.envelope), E.canonicalJson);
    assert.equal(encryptedPrivateKeyHash(E.envelope), E.encryptedPrivateKeyHash);
    assert.equal(checkEnvelope(E.envelope), E.envelope);
  });
}

for (const [type, R] of Object.entries(VECTORS.registrations)) {
  test(`registration ${type}: the message rebuilt from the request body is the vector message`, () => {
    assert.deepEqual(registrationMessage(parseRegistration(R.body)), R.message);
  });

  test(`registration ${type}: digest, RFC 6979 signature and recovery are the vector values`, () => {
    const digest = signingDigest('KeyRegistration', R.message, domain, type);
    assert.equal(to0x(digest), R.digest);
    assert.equal(to0x(signDigest(digest, walletKey)), R.signature);
    assert.equal(recoverAddress(digest, R.signature), inputs.wallet);
  });

  test(`registration ${type}: the pinned document, its sha256 and its CID are the vector values`, async () => {
    const document = canonicalJson(pinnedDocument(parseRegistration(R.body), domain));
    assert.equal(document, R.document);
    assert.equal(to0x(await sha256(new TextEncoder().encode(document))), R.documentSha256);
    assert.equal(await cidForBytes(document), R.cid);
  });
}

test('registration eip712: typed data, encoded type, type hash, domain separator and struct hash are the vector values', () => {
  const R = VECTORS.registrations.eip712;
  const typed = typedData('KeyRegistration', R.message, domain);
  assert.deepEqual(typed, R.typedData);
  assert.equal(encodeType('KeyRegistration', typed.types), R.eip712.encodedType);
  assert.equal(to0x(typeHash('KeyRegistration', typed.types)), R.eip712.typeHash);
  assert.equal(to0x(domainSeparator(typed)), R.eip712.domainSeparator);
  assert.equal(to0x(hashStruct('KeyRegistration', typed.types, typed.message)), R.eip712.structHash);
  assert.equal(to0x(typedDataDigest(typed)), R.digest);
});

test('registration eip191: the personal_sign text is the vector text', () => {
  const R = VECTORS.registrations.eip191;
  assert.equal(signedText('KeyRegistration', R.message, domain), R.text);
});

test('revocation: message, typed data, hashes and both signatures are the vector values', () => {
  const V = VECTORS.revocation;
  const message = revocationMessage(parseRevocation(V.body), inputs.dmtpPublicKey);
  assert.deepEqual(message, V.message);
  const typed = typedData('KeyRevocation', message, domain);
  assert.deepEqual(typed, V.typedData);
  assert.equal(encodeType('KeyRevocation', typed.types), V.eip712.encodedType);
  assert.equal(to0x(typeHash('KeyRevocation', typed.types)), V.eip712.typeHash);
  assert.equal(to0x(domainSeparator(typed)), V.eip712.domainSeparator);
  assert.equal(to0x(hashStruct('KeyRevocation', typed.types, message)), V.eip712.structHash);
  assert.equal(to0x(typedDataDigest(typed)), V.digest);
  assert.equal(to0x(signDigest(fromHex(V.digest), walletKey)), V.signature);
  assert.equal(signedText('KeyRevocation', message, domain), V.eip191.text);
  assert.equal(to0x(signingDigest('KeyRevocation', message, domain, 'eip191')), V.eip191.digest);
  assert.equal(to0x(signDigest(fromHex(V.eip191.digest), walletKey)), V.eip191.signature);
  assert.equal(recoverAddress(fromHex(V.eip191.digest), V.eip191.signature), inputs.wallet);
});

test('ethers v6 TypedDataEncoder computes the same digests as this package for both typed-data vectors', () => {
  for (const typed of [VECTORS.registrations.eip712.typedData, VECTORS.revocation.typedData]) {
    const { EIP712Domain, ...types } = typed.types;
    assert.equal(ethers.TypedDataEncoder.hash(typed.domain, types, typed.message), to0x(typedDataDigest(typed)));
  }
});

test('ethers v6 hashMessage equals the personal_sign digest of the registration text', () => {
  const R = VECTORS.registrations.eip191;
  assert.equal(ethers.hashMessage(R.text), to0x(personalSignDigest(R.text)));
});

test('verify gives exactly the reason codes of the shared vectors (verificationRules.reasons), and its declarations name them all', async () => {
  const { readFileSync } = await import('node:fs');
  const read = (path) => readFileSync(new URL(path, import.meta.url), 'utf8');
  const source = read('../src/verify.js');
  const given = new Set([
    ...[...source.matchAll(/fail\(checks, [^,]+, '([a-z-]+)'/g)].map((m) => m[1]),
    ...[...source.matchAll(/new Failure\('([a-z-]+)'/g)].map((m) => m[1]),
    ...[...source.matchAll(/\? '([a-z-]+)' : '([a-z-]+)'/g)].flatMap((m) => [m[1], m[2]]),
    ...[...source.matchAll(/: '(verification-error)'/g)].map((m) => m[1]),
  ]);
  const shared = VECTORS.verificationRules.reasons.map((r) => r.code);
  assert.deepEqual([...given].sort(), [...shared].sort());
  const declared = read('../types/index.d.ts').match(/export type VerifyReason =([^;]+);/)[1].match(/'([a-z-]+)'/g).map((q) => q.slice(1, -1));
  assert.deepEqual(declared.sort(), [...shared].sort());
});
