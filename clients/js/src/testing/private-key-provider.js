// A minimal EIP-1193 provider backed by one private key, for tests and demos only (browser or Node): it answers
// eth_accounts, eth_chainId, eth_signTypedData_v4, personal_sign, eth_getEncryptionPublicKey and eth_decrypt the way
// MetaMask does, and forwards nothing. Never put a real key in a web page.
import { fromHex, to0x } from '../bytes.js';
import { addressOfPrivateKey, personalSignDigest, signDigest } from '../ethsig.js';
import { typedDataDigest } from '../eip712.js';
import { encryptionPublicKeyOf, openWithPrivateKey } from '../envelopes/x25519-xsalsa20-poly1305.js';
import { fromUtf8 } from '../bytes.js';

export class PrivateKeyProvider {
  constructor(privateKey, { chainId = 31337 } = {}) {
    this.secret = fromHex(privateKey);
    this.address = addressOfPrivateKey(this.secret);
    this.chainId = chainId;
  }

  check(address) {
    if (typeof address !== 'string' || address.toLowerCase() !== this.address.toLowerCase()) {
      throw Object.assign(new Error(`unknown account ${address}`), { code: 4100 });
    }
  }

  async request({ method, params = [] }) {
    switch (method) {
      case 'eth_accounts':
      case 'eth_requestAccounts':
        return [this.address];
      case 'eth_chainId':
        return '0x' + this.chainId.toString(16);
      case 'eth_signTypedData_v4':
        this.check(params[0]);
        return to0x(signDigest(typedDataDigest(JSON.parse(params[1])), this.secret));
      case 'personal_sign':
        this.check(params[1]);
        return to0x(signDigest(personalSignDigest(fromHex(params[0])), this.secret));
      case 'eth_getEncryptionPublicKey':
        this.check(params[0]);
        return encryptionPublicKeyOf(this.secret);
      case 'eth_decrypt':
        this.check(params[1]);
        return openWithPrivateKey(JSON.parse(fromUtf8(fromHex(params[0]))), this.secret);
      default:
        throw Object.assign(new Error(`method ${method} not supported`), { code: 4200 });
    }
  }
}
