// Shared by the node tests: the protocol vectors, and ethers v6 from the repository root (an outside implementation).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const VECTORS = JSON.parse(readFileSync(fileURLToPath(new URL('../../../docs/protocol-vectors.json', import.meta.url)), 'utf8'));
const require = createRequire(fileURLToPath(new URL('../../../package.json', import.meta.url)));
export const ethers = require('ethers');
export const sigUtil = require('@metamask/eth-sig-util');

// Anvil's first two dev accounts: well-known test keys.
export const WALLET_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
export const OTHER_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
