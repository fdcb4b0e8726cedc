// node clients/js/test/interop-cli.js < request.json: one operation of this package for tests/e2e/test_js_client.py
// (Python ↔ JS interop), the wallet being this package's PrivateKeyProvider of `walletPrivateKey` (so every byte on the
// JS side comes from this package: its EIP-712 hashing, signing, NaCl box and AES envelopes, scrypt).
//   {"op": "seal", "walletPrivateKey"?, "privateKey", "envelope", "chainId"?, "registry"?, "passphrase"?} -> {"envelope"}
//   {"op": "open", "walletPrivateKey"?, "source", "chainId"?, "registry"?, "passphrase"?}             -> {"privateKey"}
//   {"op": "registration", "walletPrivateKey", "chainId", "registry", "version", "envelope", "signatureType",
//    "keyType", "issuedAt"?, "expiresAt"?}                                          -> {"body", "key"}
//   {"op": "revocation", "walletPrivateKey", "chainId", "registry", "revokedVersion", "revokedPublicKey",
//    "signatureType"}                                                               -> {"body"}
//   {"op": "signer", "body", "chainId", "registry", "revokedPublicKey"?}            -> {"signer", "digest"}
//   {"op": "verify", "answer", "rpcUrl", "wallet", "chainId", "registry", "deployBlock"?, "fromBlock"?, "inclusion"?}
//                                                                                   -> verify()'s result
// Errors: {"error", "code"} on stdout, exit status 1.
import { PrivateKeyProvider } from '../src/testing/private-key-provider.js';
import {
  buildRegistration,
  buildRevocation,
  openPrivateKey,
  parseRegistration,
  parseRevocation,
  recoverAddress,
  registrationMessage,
  revocationMessage,
  sealPrivateKey,
  signingDigest,
  verify,
} from '../src/index.js';
import { to0x } from '../src/bytes.js';

const ops = {
  async seal({ walletPrivateKey, privateKey, envelope, chainId, registry, passphrase }) {
    const provider = walletPrivateKey ? new PrivateKeyProvider(walletPrivateKey) : undefined;
    return { envelope: await sealPrivateKey({ privateKey, envelope, provider, wallet: provider?.address, chainId, registry, passphrase }) };
  },
  async open({ walletPrivateKey, source, chainId, registry, passphrase }) {
    const provider = walletPrivateKey ? new PrivateKeyProvider(walletPrivateKey) : undefined;
    return { privateKey: await openPrivateKey(source, { provider, wallet: provider?.address, chainId, registry, passphrase }) };
  },
  async verify({ answer, inclusion, ...options }) {
    // `inclusion`: the registry's GET /log/inclusion answers, by "wallet/version/treeSize" (fetched by the Python side)
    const log = inclusion ? { async logInclusion(wallet, version, treeSize) {
      const found = inclusion[`${wallet.toLowerCase()}/${version}/${treeSize}`];
      if (!found) throw new Error(`no inclusion proof scripted for ${wallet} v${version} at ${treeSize}`);
      return found;
    } } : undefined;
    return verify(answer, { ...options, log });
  },
  async registration({ walletPrivateKey, ...options }) {
    const provider = new PrivateKeyProvider(walletPrivateKey);
    return buildRegistration({ ...options, provider, wallet: provider.address });
  },
  async revocation({ walletPrivateKey, ...options }) {
    const provider = new PrivateKeyProvider(walletPrivateKey);
    return { body: await buildRevocation({ ...options, provider, wallet: provider.address }) };
  },
  async signer({ body, chainId, registry, revokedPublicKey }) {
    const domain = { chainId, registry };
    const digest = revokedPublicKey
      ? signingDigest('KeyRevocation', revocationMessage(parseRevocation(body), revokedPublicKey), domain, body.signatureType)
      : signingDigest('KeyRegistration', registrationMessage(parseRegistration(body)), domain, body.signatureType);
    return { signer: recoverAddress(digest, body.Signature), digest: to0x(digest) };
  },
};

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
try {
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (!Object.hasOwn(ops, request.op)) throw new Error(`unknown op ${request.op}`);
  process.stdout.write(JSON.stringify(await ops[request.op](request)));
} catch (error) {
  process.stdout.write(JSON.stringify({ error: String(error && error.message ? error.message : error), code: error && error.code }));
  process.exitCode = 1;
}
