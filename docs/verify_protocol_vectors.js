'use strict';
// Recomputes docs/protocol-vectors.json with JavaScript libraries only (ethers v6, @metamask/eth-sig-util,
// node:crypto: HKDF, scrypt, AES-256-GCM), as a client author would: `node docs/verify_protocol_vectors.js` prints {"ok": true, "checked": n}
// or exits 1 naming the first mismatch. tests/unit/test_protocol_vectors.py runs it when node_modules is installed.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const {
  AbiCoder, SigningKey, TypedDataEncoder, Wallet, concat, hashMessage, id, keccak256, recoverAddress, toUtf8Bytes, verifyMessage,
  verifyTypedData,
} = require('ethers');
const sigUtil = require('@metamask/eth-sig-util');

const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, 'protocol-vectors.json'), 'utf8'));
let checked = 0;

function same(what, got, want) {
  const a = JSON.stringify(got);
  const b = JSON.stringify(want);
  if (a !== b) throw new Error(`${what}: got ${a}, want ${b}`);
  checked += 1;
}

// Canonical JSON: keys sorted by code point (every key and value here is ASCII), no whitespace, integers only.
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

// CIDv1 (0x01), raw (0x55), sha2-256 (0x12, 32 bytes), multibase base32 lowercase without padding ("b").
function cidOf(bytes) {
  const data = Buffer.concat([Buffer.from([0x01, 0x55, 0x12, 0x20]), crypto.createHash('sha256').update(bytes).digest()]);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = 'b';
  let buffer = 0;
  let bits = 0;
  for (const byte of data) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += alphabet[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

const withoutDomainType = (types) => Object.fromEntries(Object.entries(types).filter(([name]) => name !== 'EIP712Domain'));

async function main() {
  const inputs = vectors.inputs;
  const wallet = new Wallet(inputs.walletPrivateKey);
  same('wallet', wallet.address, inputs.wallet);
  const bareKey = inputs.walletPrivateKey.slice(2);

  const x = vectors.envelopes['x25519-xsalsa20-poly1305'];
  same('eth_getEncryptionPublicKey', sigUtil.getEncryptionPublicKey(bareKey), x.walletEncryptionPublicKey);
  same('eth-sig-util decrypt', sigUtil.decrypt({ encryptedData: x.envelope, privateKey: bareKey }), inputs.dmtpPrivateKey);

  const openGcm = (key, nonceHex, ciphertextHex) => {
    const sealed = Buffer.from(ciphertextHex, 'hex');
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(nonceHex, 'hex'));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString('utf8');
  };

  // dmtp-eip191-aes256gcm-hkdf-v1: the unlock text names the wallet, chain and registry; HKDF info is the version.
  const a = vectors.envelopes['dmtp-eip191-aes256gcm-hkdf-v1'];
  const unlockText = (chainId) => 'DMTP Key Registry: unlock my DMTP private key.\n\n'
    + 'Sign this only in a DMTP app: this signature opens your DMTP private key.\n\n'
    + `Wallet: ${inputs.wallet}\nChain ID: ${chainId}\nRegistry: ${inputs.registry}\nKey: 0x${a.envelope.preKey}`;
  same('unlock text', a.unlockText, unlockText(inputs.chainId));
  same('unlock signature', await wallet.signMessage(a.unlockText), a.unlockSignature);
  same('HKDF info', a.hkdfInfo, a.envelope.version);
  const hkdf = (signature) => Buffer.from(crypto.hkdfSync('sha256', Buffer.from(signature.slice(2), 'hex'), Buffer.from(a.envelope.salt, 'hex'), Buffer.from(a.hkdfInfo, 'utf8'), 32));
  const aesKey = hkdf(a.unlockSignature);
  same('HKDF-SHA256 key', `0x${aesKey.toString('hex')}`, a.aesKey);
  same('AES-256-GCM open', openGcm(aesKey, a.envelope.nonce, a.envelope.ciphertext), inputs.dmtpPrivateKey);
  same('other chain unlock text', a.otherChain.unlockText, unlockText(a.otherChain.chainId));
  same('other chain unlock signature', await wallet.signMessage(a.otherChain.unlockText), a.otherChain.unlockSignature);
  const otherKey = hkdf(a.otherChain.unlockSignature);
  same('other chain HKDF key', `0x${otherKey.toString('hex')}`, a.otherChain.aesKey);
  let opensElsewhere = true;
  try { openGcm(otherKey, a.envelope.nonce, a.envelope.ciphertext); } catch (err) { opensElsewhere = false; }
  same('a signature for another chain does not open the envelope', opensElsewhere, a.otherChain.opens);

  // dmtp-scrypt-aes256gcm-v1: scrypt(NFKC UTF-8 passphrase, salt, n, r, p, 32) is the AES-256-GCM key.
  const pw = vectors.envelopes['dmtp-scrypt-aes256gcm-v1'];
  const password = Buffer.from(pw.passphrase.normalize('NFKC'), 'utf8');
  same('NFKC passphrase bytes', `0x${password.toString('hex')}`, pw.passphraseUtf8Hex);
  const { n, r, p } = pw.envelope;
  same('scrypt cost', [n, r, p], [131072, 8, 1]);
  const scryptKey = crypto.scryptSync(password, Buffer.from(pw.envelope.salt, 'hex'), 32, { N: n, r, p, maxmem: 256 * n * r });
  same('scrypt key', `0x${scryptKey.toString('hex')}`, pw.scryptKey);
  same('passphrase envelope open', openGcm(scryptKey, pw.envelope.nonce, pw.envelope.ciphertext), pw.plaintext);
  const cipher = crypto.createCipheriv('aes-256-gcm', scryptKey, Buffer.from(pw.envelope.nonce, 'hex'));
  const resealed = Buffer.concat([cipher.update(pw.plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('hex');
  same('passphrase envelope seal', resealed, pw.envelope.ciphertext);

  for (const envelope of [x, a, pw]) {
    same('envelope canonical JSON', canonical(envelope.envelope), envelope.canonicalJson);
    same('encryptedPrivateKeyHash', keccak256(toUtf8Bytes(envelope.canonicalJson)), envelope.encryptedPrivateKeyHash);
  }

  const checkTyped = async (name, v) => {
    const { domain, types, message } = v.typedData;
    const fields = withoutDomainType(types);
    const encoder = TypedDataEncoder.from(fields);
    same(`${name} encodeType`, encoder.encodeType(v.typedData.primaryType), v.eip712.encodedType);
    same(`${name} typeHash`, keccak256(toUtf8Bytes(v.eip712.encodedType)), v.eip712.typeHash);
    same(`${name} domainSeparator`, TypedDataEncoder.hashDomain(domain), v.eip712.domainSeparator);
    same(`${name} structHash`, encoder.hashStruct(v.typedData.primaryType, message), v.eip712.structHash);
    same(`${name} digest`, TypedDataEncoder.hash(domain, fields, message), v.digest);
    same(`${name} signature`, await wallet.signTypedData(domain, fields, message), v.signature);
    same(`${name} recovers`, verifyTypedData(domain, fields, message, v.signature), inputs.wallet);
  };
  const checkText = async (name, v) => {
    same(`${name} digest`, hashMessage(v.text), v.digest);
    same(`${name} signature`, await wallet.signMessage(v.text), v.signature);
    same(`${name} recovers`, verifyMessage(v.text, v.signature), inputs.wallet);
  };

  const secp = vectors.secp256k1Uncompressed;
  const registrations = { ...vectors.registrations, 'secp256k1 uncompressed': secp.registration };
  for (const [type, v] of Object.entries(registrations)) {
    if (v.typedData) await checkTyped(`registration ${type}`, v);
    else await checkText(`registration ${type}`, v);
    const document = JSON.parse(v.document);
    same(`${type} document bytes`, canonical(document), v.document);
    same(`${type} document sha256`, `0x${crypto.createHash('sha256').update(v.document, 'utf8').digest('hex')}`, v.documentSha256);
    same(`${type} CID`, cidOf(Buffer.from(v.document, 'utf8')), v.cid);
    same(`${type} envelope hash`, keccak256(toUtf8Bytes(canonical(document.DMTPpriKey))), v.message.encryptedPrivateKeyHash);
  }
  // secp256k1 keys as dmtp-sdk-react makes them: 65 bytes, 04 || x || y, registered and signed exactly so.
  const signingKey = new SigningKey(secp.privateKey);
  same('uncompressed public key', signingKey.publicKey, secp.publicKeyUncompressed);
  same('compressed public key', signingKey.compressedPublicKey, secp.publicKeyCompressed);
  same('uncompressed key is what is signed', secp.registration.typedData.message.publicKey, secp.publicKeyUncompressed);
  same('uncompressed key is what is pinned', JSON.parse(secp.registration.document).DMTPpubKey, secp.publicKeyUncompressed);

  // ERC-6492: abi.encode(address factory, bytes factoryCalldata, bytes signature) ++ 0x6492...6492.
  const w = vectors.erc6492;
  const abi = AbiCoder.defaultAbiCoder();
  same('magic suffix', w.magicSuffix, `0x${'6492'.repeat(16)}`);
  same('factory calldata', w.factoryCalldata, concat([id('createAccount(address,uint256)').slice(0, 10), abi.encode(['address', 'uint256'], [w.owner, 0])]));
  const wrapped = concat([abi.encode(['address', 'bytes', 'bytes'], [w.factory, w.factoryCalldata, w.innerSignature]), w.magicSuffix]);
  same('wrapped signature', wrapped, w.wrappedSignature);
  same('wrapped signature in the body', w.body.Signature, wrapped);
  const message = { ...w.body, DMTPpriKey: undefined };
  const regDomain = vectors.registrations.eip712.typedData.domain;
  const regTypes = withoutDomainType(vectors.registrations.eip712.typedData.types);
  const digest = TypedDataEncoder.hash(regDomain, regTypes, {
    wallet: message.address, publicKey: message.DMTPpubKey, keyType: message.keyType,
    encryptedPrivateKeyHash: keccak256(toUtf8Bytes(canonical(w.body.DMTPpriKey))), version: message.version,
    issuedAt: message.issuedAt, expiresAt: message.expiresAt,
  });
  same('ERC-6492 digest', digest, w.digest);
  same('inner signature is the owner\'s', recoverAddress(digest, w.innerSignature), w.owner);
  same('validator arguments', abi.encode(['address', 'bytes32', 'bytes'], [w.wallet, digest, wrapped]), w.validatorArguments);
  const validator = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'packages', 'dmtp-protocol', 'src', 'dmtp_protocol', 'contracts', 'ValidateSigOffchain.json'), 'utf8'));
  same('validator creation code', keccak256(validator.bytecode), w.validatorBytecodeKeccak256);

  await checkTyped('revocation eip712', vectors.revocation);
  await checkText('revocation eip191', vectors.revocation.eip191);
  process.stdout.write(JSON.stringify({ ok: true, checked }));
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ ok: false, error: String((err && err.message) || err) }));
  process.exitCode = 1;
});
