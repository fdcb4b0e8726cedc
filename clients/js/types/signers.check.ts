// Compiled by `tsc --noEmit` only: the wallets a dapp has, against the Signer types, with real viem and ethers types.
// The lines under @ts-expect-error must NOT compile: they are the objects that would fail at run time.
import { createPublicClient, createWalletClient, custom, fallback, http, webSocket } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { Wallet } from 'ethers';
import { RegistryClient, openPrivateKey, sealPrivateKey, verify, type Eip1193Provider, type NotFound, type KeyAnswer } from '@dmtp/key-registry-client';
import { fromViem } from '@dmtp/key-registry-client/viem';
import { fromEthers } from '@dmtp/key-registry-client/ethers';

declare const ethereum: Eip1193Provider;
const pins = { chainId: 31337, registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
const client = new RegistryClient({ apiUrl: 'http://127.0.0.1:8000' });
const account = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
const walletClient = createWalletClient({ account, transport: custom(ethereum) });
const jsonRpcClient = createWalletClient({ account: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', transport: http('http://127.0.0.1:8545') });
const ethersWallet = new Wallet('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');

async function wallets(): Promise<void> {
  await client.register({ signer: fromViem(walletClient), ...pins });
  await client.register({ signer: fromViem(jsonRpcClient), ...pins });
  await client.register({ signer: fromViem(account), ...pins });
  await client.register({ signer: account, ...pins }); // a viem local account is a Signer as it is
  await client.register({ signer: fromEthers(ethersWallet), ...pins, passphrase: 'only used by smart wallets' });
  await client.register({ provider: ethereum, wallet: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', ...pins });
  await client.revoke({ signer: fromEthers(ethersWallet), ...pins });
  await sealPrivateKey({ privateKey: '0x' + '11'.repeat(32), signer: fromViem(account), ...pins });
  await openPrivateKey({ DMTPpriKey: { version: 'dmtp-scrypt-aes256gcm-v1', n: 131072, r: 8, p: 1, salt: '', nonce: '', ciphertext: '' } }, { passphrase: 'x' });

  // @ts-expect-error a WalletClient signs in the app: fromViem(walletClient), not provider
  await client.register({ provider: walletClient, ...pins });
  // @ts-expect-error an ethers Wallet is not a Signer as it is: fromEthers(wallet)
  await client.register({ signer: ethersWallet, ...pins });
  // @ts-expect-error a WalletClient is not a Signer as it is: fromViem(walletClient)
  await client.register({ signer: walletClient, ...pins });
  // @ts-expect-error a JSON-RPC account signs through its WalletClient
  fromViem({ address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', type: 'json-rpc' });
  // @ts-expect-error no wallet at all
  await client.register({ ...pins });
}

async function transports(): Promise<boolean> {
  const found: KeyAnswer | NotFound = await client.lookup('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
  if (found.found === false) return false;
  const trust = { wallet: found.wallet, ...pins, log: client };
  const viaHttp = createPublicClient({ transport: http('http://127.0.0.1:8545') });
  const viaFallback = createPublicClient({ transport: fallback([http('http://127.0.0.1:8545'), http('http://127.0.0.1:8546')]) });
  const viaSocket = createPublicClient({ transport: webSocket('ws://127.0.0.1:8545') });
  const results = await Promise.all([
    verify(found, { ...trust, client: viaHttp }),
    verify(found, { ...trust, client: viaFallback }),
    verify(found, { ...trust, client: viaSocket }),
    verify(found, { ...trust, provider: ethereum }),
    verify(found, { ...trust, rpcUrl: 'http://127.0.0.1:8545' }),
  ]);
  return results.every((result) => result.usable);
}

void wallets, transports;
