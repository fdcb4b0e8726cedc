'use strict';
// ethers v6 personal_sign: {"privateKey": "0x...", "message": "text"} -> {"address", "signature"}
const { Wallet } = require('ethers');
const { run } = require('./_stdio');

run(async ({ privateKey, message }) => {
  const wallet = new Wallet(privateKey);
  return { address: wallet.address, signature: await wallet.signMessage(message) };
});
