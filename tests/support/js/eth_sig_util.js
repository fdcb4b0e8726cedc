'use strict';
// @metamask/eth-sig-util encryption, one op per call:
//   {"op": "getEncryptionPublicKey", "privateKey": hex}        -> {"publicKey": base64}
//   {"op": "encrypt", "publicKey": base64, "data": string}     -> {"envelope": {...}}
//   {"op": "decrypt", "envelope": {...}, "privateKey": hex}    -> {"data": string}
// eth-sig-util reads private keys with Buffer.from(key, 'hex'), which silently yields an empty buffer for a
// 0x-prefixed string; the prefix is stripped here so callers may pass either form.
const sigUtil = require('@metamask/eth-sig-util');
const { run } = require('./_stdio');

const bareHex = (key) => (key.startsWith('0x') ? key.slice(2) : key);

const ops = {
  getEncryptionPublicKey: ({ privateKey }) => ({ publicKey: sigUtil.getEncryptionPublicKey(bareHex(privateKey)) }),
  encrypt: ({ publicKey, data }) => ({
    envelope: sigUtil.encrypt({ publicKey, data, version: 'x25519-xsalsa20-poly1305' }),
  }),
  decrypt: ({ envelope, privateKey }) => ({
    data: sigUtil.decrypt({ encryptedData: envelope, privateKey: bareHex(privateKey) }),
  }),
};

run(async (request) => {
  const op = ops[request.op];
  if (!op) throw new Error(`unknown op ${request.op}`);
  return op(request);
});
