'use strict';
// The `eip191-aes256-gcm-hkdf-sha256` envelope written from its specification alone (ethers v6 + Node crypto),
// to check the Python client against:
//   preKey, salt: 32 random bytes; nonce: 12 random bytes;
//   the wallet personal_signs "DMTP Key Registry: unlock my DMTP private key.\n\nKey: 0x" + hex(preKey);
//   AES-256-GCM key = HKDF-SHA256(ikm = the 65 signature bytes, salt, info = "", 32 bytes);
//   ciphertext = AES-256-GCM(key, nonce, plaintext, no AAD) || 16-byte tag; every field lowercase hex, no 0x.
//   {"op": "seal", "privateKey", "plaintext"} -> {"envelope"}
//   {"op": "open", "privateKey", "envelope"}  -> {"plaintext"}
const crypto = require('crypto');
const { Wallet, getBytes } = require('ethers');
const { run } = require('./_stdio');

const VERSION = 'eip191-aes256-gcm-hkdf-sha256';

async function aesKey(wallet, preKey, salt) {
  const text = 'DMTP Key Registry: unlock my DMTP private key.\n\nKey: 0x' + preKey.toString('hex');
  const signature = Buffer.from(getBytes(await wallet.signMessage(text)));
  if (signature.length !== 65) throw new Error('expected a 65-byte signature');
  return Buffer.from(crypto.hkdfSync('sha256', signature, salt, Buffer.alloc(0), 32));
}

const ops = {
  seal: async ({ privateKey, plaintext }) => {
    const wallet = new Wallet(privateKey);
    const preKey = crypto.randomBytes(32);
    const salt = crypto.randomBytes(32);
    const nonce = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', await aesKey(wallet, preKey, salt), nonce);
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return {
      envelope: {
        version: VERSION,
        salt: salt.toString('hex'),
        nonce: nonce.toString('hex'),
        preKey: preKey.toString('hex'),
        ciphertext: sealed.toString('hex'),
      },
    };
  },
  open: async ({ privateKey, envelope }) => {
    if (envelope.version !== VERSION) throw new Error(`not a ${VERSION} envelope`);
    const sealed = Buffer.from(envelope.ciphertext, 'hex');
    const key = await aesKey(new Wallet(privateKey), Buffer.from(envelope.preKey, 'hex'), Buffer.from(envelope.salt, 'hex'));
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.nonce, 'hex'));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const opened = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
    return { plaintext: opened.toString('utf8') };
  },
};

run(async (request) => {
  const op = ops[request.op];
  if (!op) throw new Error(`unknown op ${request.op}`);
  return op(request);
});
