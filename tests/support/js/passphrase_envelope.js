'use strict';
// The `dmtp-scrypt-aes256gcm-v1` envelope written from its specification alone (Node crypto only), to check the
// Python client against:
//   salt: 32 random bytes; nonce: 12 random bytes;
//   key = scrypt(UTF-8 of passphrase.normalize('NFKC'), salt, N = n, r, p, dkLen = 32);
//   ciphertext = AES-256-GCM(key, nonce, plaintext, no AAD) || 16-byte tag; salt, nonce, ciphertext lowercase hex;
//   n, r, p JSON integers (n = 2^17, r = 8, p = 1 by default).
//   {"op": "seal", "passphrase", "plaintext", "n"?, "p"?} -> {"envelope"}
//   {"op": "open", "passphrase", "envelope"}             -> {"plaintext"}
const crypto = require('crypto');
const { run } = require('./_stdio');

const VERSION = 'dmtp-scrypt-aes256gcm-v1';

function deriveKey(passphrase, salt, n, r, p) {
  if (!Number.isInteger(n) || n < 2 ** 17 || n > 2 ** 20 || (n & (n - 1)) !== 0) throw new Error('n out of bounds');
  if (r !== 8 || !Number.isInteger(p) || p < 1 || p > 4) throw new Error('r or p out of bounds');
  const password = Buffer.from(passphrase.normalize('NFKC'), 'utf8');
  return crypto.scryptSync(password, salt, 32, { N: n, r, p, maxmem: 256 * n * r });
}

const ops = {
  seal: async ({ passphrase, plaintext, n = 2 ** 17, p = 1 }) => {
    const salt = crypto.randomBytes(32);
    const nonce = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', deriveKey(passphrase, salt, n, 8, p), nonce);
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return {
      envelope: { version: VERSION, n, r: 8, p, salt: salt.toString('hex'), nonce: nonce.toString('hex'), ciphertext: sealed.toString('hex') },
    };
  },
  open: async ({ passphrase, envelope }) => {
    if (envelope.version !== VERSION) throw new Error(`not a ${VERSION} envelope`);
    const key = deriveKey(passphrase, Buffer.from(envelope.salt, 'hex'), envelope.n, envelope.r, envelope.p);
    const sealed = Buffer.from(envelope.ciphertext, 'hex');
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
