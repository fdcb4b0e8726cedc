// An EIP-1193 provider for Node tests that behaves like MetaMask with one account, built on implementations this
// package does not share code with: ethers v6 (eth_signTypedData_v4, personal_sign) and @metamask/eth-sig-util
// (eth_getEncryptionPublicKey, eth_decrypt), from the repository root's node_modules.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(fileURLToPath(new URL('../../../package.json', import.meta.url)));
const { Wallet, getBytes, hexlify, toUtf8String } = require('ethers');
const sigUtil = require('@metamask/eth-sig-util');

export class EthersProvider {
  /** `privateKey`: the wallet (0x hex); `chainId`; `calls`: every request made, for assertions. */
  /** `actAs`: a smart-contract (ERC-1271) wallet this key signs for, as a smart wallet's owner key does. */
  constructor(privateKey, { chainId = 31337, actAs } = {}) {
    this.wallet = new Wallet(privateKey);
    this.address = actAs ?? this.wallet.address;
    this.privateKeyHex = privateKey.replace(/^0x/, '');
    this.chainId = chainId;
    this.calls = [];
    this.refuse = new Set(); // methods answered with EIP-1193 4001 (user rejected)
  }

  requireAccount(address) {
    const mine = [this.address, this.wallet.address].map((a) => a.toLowerCase());
    if (typeof address !== 'string' || !mine.includes(address.toLowerCase())) {
      throw Object.assign(new Error(`unknown account ${address}`), { code: 4100 });
    }
  }

  async request({ method, params = [] }) {
    this.calls.push({ method, params });
    if (this.refuse.has(method)) throw Object.assign(new Error('User rejected the request.'), { code: 4001 });
    switch (method) {
      case 'eth_accounts':
      case 'eth_requestAccounts':
        return [this.address];
      case 'eth_chainId':
        return '0x' + this.chainId.toString(16);
      case 'eth_signTypedData_v4': {
        const [address, json] = params;
        this.requireAccount(address);
        const { domain, types, message } = JSON.parse(json);
        const { EIP712Domain, ...rest } = types;
        return this.wallet.signTypedData(domain, rest, message);
      }
      case 'personal_sign': {
        const [data, address] = params;
        this.requireAccount(address);
        return this.wallet.signMessage(getBytes(data));
      }
      case 'eth_getEncryptionPublicKey': {
        this.requireAccount(params[0]);
        return sigUtil.getEncryptionPublicKey(this.privateKeyHex);
      }
      case 'eth_decrypt': {
        const [payload, address] = params;
        this.requireAccount(address);
        const envelope = JSON.parse(toUtf8String(payload));
        return sigUtil.decrypt({ encryptedData: envelope, privateKey: this.privateKeyHex });
      }
      default:
        throw Object.assign(new Error(`method ${method} not supported`), { code: 4200 });
    }
  }
}

export { hexlify };
