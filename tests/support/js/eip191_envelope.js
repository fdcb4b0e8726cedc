'use strict';
// The `dmtp-eip191-aes256gcm-hkdf-v1` envelope written from its specification alone (ethers v6 + Node crypto),
// to check the Python client against:
//   preKey, salt: 32 random bytes; nonce: 12 random bytes;
//   the wallet personal_signs the unlock text naming the wallet, chain id and registry (docs/PROTOCOL.md section 3);
//   AES-256-GCM key = HKDF-SHA256(ikm = the 65 signature bytes, salt, info = the version string, 32 bytes);
//   ciphertext = AES-256-GCM(key, nonce, plaintext, no AAD) || 16-byte tag; every field lowercase hex, no 0x.
//   {"op": "seal", "privateKey", "plaintext", "chainId", "registry", "wallet"?} -> {"envelope"}
//   {"op": "open", "privateKey", "envelope", "chainId", "registry", "wallet"?}  -> {"plaintext"}
const crypto = require('crypto');
const { Wallet, getAddress, getBytes } = require('ethers');
const { run } = require('./_stdio');

const VERSION = 'dmtp-eip191-aes256gcm-hkdf-v1';

function unlockText(preKey, chainId, registry, wallet) {
  return 'DMTP Key Registry: unlock my DMTP private key.\n\n'
    + 'Sign this only in a DMTP app: this signature opens your DMTP private key.\n\n'
    + `Wallet: ${getAddress(wallet)}\nChain ID: ${chainId}\nRegistry: ${getAddress(registry)}\nKey: 0x${preKey.toString('hex')}`;
}

async function aesKey(signer, preKey, salt, { chainId, registry, wallet }) {
  const signature = Buffer.from(getBytes(await signer.signMessage(unlockText(preKey, chainId, registry, wallet || signer.address))));
  if (signature.length !== 65) throw new Error('expected a 65-byte signature');
  return Buffer.from(crypto.hkdfSync('sha256', signature, salt, Buffer.from(VERSION, 'utf8'), 32));
}

const ops = {
  seal: async (request) => {
    const signer = new Wallet(request.privateKey);
    const preKey = crypto.randomBytes(32);
    const salt = crypto.randomBytes(32);
    const nonce = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', await aesKey(signer, preKey, salt, request), nonce);
    const sealed = Buffer.concat([cipher.update(request.plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
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
  open: async (request) => {
    const { envelope } = request;
    if (envelope.version !== VERSION) throw new Error(`not a ${VERSION} envelope`);
    const sealed = Buffer.from(envelope.ciphertext, 'hex');
    const key = await aesKey(new Wallet(request.privateKey), Buffer.from(envelope.preKey, 'hex'), Buffer.from(envelope.salt, 'hex'), request);
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.nonce, 'hex'));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const opened = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
    return { plaintext: opened.toString('utf8') };
  },
  unlockText: async ({ preKey, chainId, registry, wallet }) => ({ text: unlockText(Buffer.from(preKey, 'hex'), chainId, registry, wallet) }),
};

run(async (request) => {
  const op = ops[request.op];
  if (!op) throw new Error(`unknown op ${request.op}`);
  return op(request);
});
