// Compiled by `tsc --noEmit` only: a dapp importing the subpath entries alone, as a user sees their declarations.
import { lookup, logReader, waitForStatus, RegistryError, type ApiOptions } from '@dmtp/key-registry-client/lookup';
import { verify, type VerifyResult } from '@dmtp/key-registry-client/verify';
import { register } from '@dmtp/key-registry-client/register';
import { sealPrivateKey, PLAINTEXT_BYTES } from '@dmtp/key-registry-client/envelopes';
import { leafHash, verifyInclusion } from '@dmtp/key-registry-client/log';
import { EVENT_TOPICS, dmtpKeysAbi, dmtpKeysEvents, keyUpdatedEvent } from '@dmtp/key-registry-client/abi';
import type { Eip1193Provider } from '@dmtp/key-registry-client';

declare const ethereum: Eip1193Provider;
const api: ApiOptions = { apiUrl: 'https://registry.example' };
const pins = { chainId: 8453, registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
const wallet = '0x2c7536E3605D9C16a7a3D7b1898e529396a65c23';

async function lookupAndVerify(): Promise<string | null> {
  try {
    const answer = await lookup(wallet, api);
    const result: VerifyResult = await verify(answer, { rpcUrl: 'https://mainnet.base.org', wallet, ...pins, log: logReader(api) });
    const viaApiUrl: VerifyResult = await verify(answer, { rpcUrl: 'https://mainnet.base.org', wallet, ...pins, apiUrl: api.apiUrl });
    return result.usable && viaApiUrl.usable ? result.key!.publicKey : result.reason;
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) return null;
    throw error;
  }
}
void lookupAndVerify;

async function registerAlone(): Promise<void> {
  const { answer } = await register({ ...api, provider: ethereum, wallet, ...pins, envelope: 'dmtp-scrypt-aes256gcm-v1', passphrase: 'a long passphrase' });
  await waitForStatus(answer.wallet, { ...api, version: answer.version });
  const sealed = await sealPrivateKey({ privateKey: '0x' + '11'.repeat(32), envelope: 'dmtp-scrypt-aes256gcm-v1', passphrase: 'a long passphrase' });
  void sealed;
  const bytes: 66 = PLAINTEXT_BYTES;
  void bytes;
}
void registerAlone;

// The ABI's types are literal (`as const`): what viem and wagmi infer argument and log types from.
const eventName: 'KeyUpdated' = keyUpdatedEvent.name;
const digestType: 'bytes32' = keyUpdatedEvent.inputs[1].type;
const names: readonly ['KeyUpdated', 'KeyRevoked', 'LogAnchored'] = [dmtpKeysEvents[0].name, dmtpKeysEvents[1].name, dmtpKeysEvents[2].name];
const topic: `0x${string}` = EVENT_TOPICS.LogAnchored;
const firstEntryType: 'constructor' = dmtpKeysAbi[0].type;
// @ts-expect-error the ABI is read-only
dmtpKeysAbi[0] = dmtpKeysAbi[1];
void [eventName, digestType, names, topic, firstEntryType, leafHash, verifyInclusion];
