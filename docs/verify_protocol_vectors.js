'use strict';
// Recomputes docs/protocol-vectors.json with JavaScript libraries only (ethers v6, @metamask/eth-sig-util,
// node:crypto), as a client author would: `node docs/verify_protocol_vectors.js` prints {"ok": true, "checked": n}
// or exits 1 naming the first mismatch. tests/test_protocol_vectors.py runs it when node_modules is installed.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { TypedDataEncoder, Wallet, hashMessage, keccak256, toUtf8Bytes, verifyMessage, verifyTypedData } = require('ethers');
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

  const a = vectors.envelopes['eip191-aes256-gcm-hkdf-sha256'];
  same('unlock text', a.unlockText, `DMTP Key Registry: unlock my DMTP private key.\n\nKey: 0x${a.envelope.preKey}`);
  same('unlock signature', await wallet.signMessage(a.unlockText), a.unlockSignature);
  const aesKey = Buffer.from(crypto.hkdfSync('sha256', Buffer.from(a.unlockSignature.slice(2), 'hex'), Buffer.from(a.envelope.salt, 'hex'), Buffer.alloc(0), 32));
  same('HKDF-SHA256 key', `0x${aesKey.toString('hex')}`, a.aesKey);
  const sealed = Buffer.from(a.envelope.ciphertext, 'hex');
  const decipher = crypto.createDecipheriv('aes-256-gcm', aesKey, Buffer.from(a.envelope.nonce, 'hex'));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  const opened = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString('utf8');
  same('AES-256-GCM open', opened, inputs.dmtpPrivateKey);

  for (const envelope of [x, a]) {
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

  for (const [type, v] of Object.entries(vectors.registrations)) {
    if (type === 'eip712') await checkTyped('registration eip712', v);
    else await checkText('registration eip191', v);
    const document = JSON.parse(v.document);
    same(`${type} document bytes`, canonical(document), v.document);
    same(`${type} document sha256`, `0x${crypto.createHash('sha256').update(v.document, 'utf8').digest('hex')}`, v.documentSha256);
    same(`${type} CID`, cidOf(Buffer.from(v.document, 'utf8')), v.cid);
    same(`${type} envelope hash`, keccak256(toUtf8Bytes(canonical(document.DMTPpriKey))), v.message.encryptedPrivateKeyHash);
  }
  await checkTyped('revocation eip712', vectors.revocation);
  await checkText('revocation eip191', vectors.revocation.eip191);
  process.stdout.write(JSON.stringify({ ok: true, checked }));
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ ok: false, error: String((err && err.message) || err) }));
  process.exitCode = 1;
});
