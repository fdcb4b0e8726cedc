'use strict';
// ethers v6 as a wallet, one op per call:
//   {"op": "signTypedData", "privateKey", "typedData": {types, primaryType, domain, message}}
//       -> {"address", "signature", "hash"}   (Wallet.signTypedData; hash = TypedDataEncoder.hash)
//   {"op": "hashTypedData", "typedData"}  -> {"hash"}
//   {"op": "signMessage", "privateKey", "message": text} -> {"address", "signature"}   (personal_sign)
// The typed data is the eth_signTypedData_v4 JSON the registry publishes; ethers wants the types without
// EIP712Domain (it derives the domain type from the domain object) and refuses an unused type.
const { TypedDataEncoder, Wallet } = require('ethers');
const { run } = require('./_stdio');

function parts(typedData) {
  const types = { ...typedData.types };
  delete types.EIP712Domain;
  return [typedData.domain, types, typedData.message];
}

const ops = {
  signTypedData: async ({ privateKey, typedData }) => {
    const wallet = new Wallet(privateKey);
    return {
      address: wallet.address,
      signature: await wallet.signTypedData(...parts(typedData)),
      hash: TypedDataEncoder.hash(...parts(typedData)),
    };
  },
  hashTypedData: async ({ typedData }) => ({ hash: TypedDataEncoder.hash(...parts(typedData)) }),
  signMessage: async ({ privateKey, message }) => {
    const wallet = new Wallet(privateKey);
    return { address: wallet.address, signature: await wallet.signMessage(message) };
  },
};

run(async (request) => {
  const op = ops[request.op];
  if (!op) throw new Error(`unknown op ${request.op}`);
  return op(request);
});
