// Compiled by `tsc --noEmit` only: a dapp's use of the public API, so the declarations are checked as a user sees them.
import {
  RegistryClient,
  RegistryError,
  generateDmtpKey,
  openPrivateKey,
  sealPrivateKey,
  verify,
  watchWallet,
  type Eip1193Provider,
  type WatchReport,
  type VerifyResult,
} from '@dmtp/key-registry-client';
import { PrivateKeyProvider } from '@dmtp/key-registry-client/testing';

declare const ethereum: Eip1193Provider;

async function dapp(): Promise<string | null> {
  const pins = { chainId: 8453, registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
  const client = new RegistryClient({ apiUrl: 'https://registry.example' });
  const wallet = '0x2c7536E3605D9C16a7a3D7b1898e529396a65c23';
  try {
    const { answer, key } = await client.register({ provider: ethereum, wallet, ...pins, signatureType: 'eip191', envelope: 'dmtp-eip191-aes256gcm-hkdf-v1' });
    const confirmed = await client.waitForStatus(answer.wallet, { version: answer.version, timeoutMs: 120_000 });
    const result: VerifyResult = await verify(confirmed, { rpcUrl: 'https://mainnet.base.org', wallet, ...pins });
    if (!result.usable) return result.reason;
    const opened: string = await openPrivateKey(confirmed, { provider: ethereum, wallet });
    return opened === key.privateKey ? result.key!.publicKey : null;
  } catch (error) {
    if (error instanceof RegistryError) return error.code;
    throw error;
  }
}

async function local(): Promise<void> {
  const provider = new PrivateKeyProvider('0x' + '11'.repeat(32), { chainId: 31337 });
  const key = generateDmtpKey({ keyType: 'secp256k1' });
  const envelope = await sealPrivateKey({ privateKey: key.privateKey, provider, wallet: provider.address });
  const history = await new RegistryClient({ apiUrl: 'http://127.0.0.1:8000' }).history(provider.address, { limit: 5 });
  void envelope.version, history.nextCursor;
}

void dapp, local;

async function passphraseAndUncompressed(): Promise<void> {
  const key = generateDmtpKey({ keyType: 'secp256k1', compressed: false });
  const sealed = await sealPrivateKey({ privateKey: key.privateKey, envelope: 'dmtp-scrypt-aes256gcm-v1', passphrase: 'a long passphrase' });
  const opened: string = await openPrivateKey(sealed, { passphrase: 'a long passphrase' });
  void opened;
}
void passphraseAndUncompressed;

async function watchMyKey(): Promise<void> {
  const pins = { chainId: 8453, registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
  const wallet = '0x2c7536E3605D9C16a7a3D7b1898e529396a65c23';
  const client = new RegistryClient({ apiUrl: 'https://registry.example' });
  await client.register({ provider: ethereum, wallet, ...pins, store: localStorage });
  const watcher = watchWallet(wallet, {
    rpcUrl: 'https://mainnet.base.org',
    ...pins,
    log: client,
    onChange: (report: WatchReport) => {
      for (const change of report.changes) console.warn(change.kind, change.version, change.txHash, change.leafIndex);
    },
  });
  const first: WatchReport = await watcher.ready;
  if (first.clean) watcher.stop();
}
void watchMyKey;
