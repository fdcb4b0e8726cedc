// Compiled by `tsc --noEmit` (never run): the declarations accept what works and refuse what does not.
import { createElement } from 'react';
import { DmtpConfigProvider, dmtpKeyQueryKey, useDmtpKey, useRegisterDmtpKey, useRevokeDmtpKey, useWatchDmtpKey } from '@dmtp/key-registry-react';

const walletClient = { account: { address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' }, request: async (_: { method: string; params?: unknown }) => null as unknown };

export function Panel({ address }: { address: string }) {
  const key = useDmtpKey(address, { pollMs: 1000 });
  const usable: boolean | undefined = key.data?.usable;
  const register = useRegisterDmtpKey();
  const revoke = useRevokeDmtpKey();
  const watch = useWatchDmtpKey(address, { source: 'log', onChange: (change) => void change.version });
  register.mutate({ walletClient, envelope: 'dmtp-eip191-aes256gcm-hkdf-v1' });
  revoke.mutate({ provider: walletClient, wallet: address });
  // @ts-expect-error: a provider needs the wallet it signs for
  revoke.mutate({ provider: walletClient });
  // @ts-expect-error: not an envelope
  register.mutate({ walletClient, envelope: 'rot13' });
  return createElement('p', null, String(usable), String(watch.changes), String(register.data?.key.publicKey));
}

export const tree = createElement(DmtpConfigProvider, { config: { apiUrl: 'https://api', chainId: 1, registry: '0x', rpcUrl: 'https://rpc' } }, createElement(Panel, { address: '0x' }));
export const key = dmtpKeyQueryKey('0x', { chainId: 1, registry: '0x' });

// The client's watchKeys, which useWatchDmtpKey runs: its declarations too.
import { watchKeys, type KeyChange } from '@dmtp/key-registry-client';
const watcher = watchKeys(['0x'], (change: KeyChange) => void change.verification.usable, { chainId: 1, registry: '0x', apiUrl: 'https://api', provider: walletClient, source: 'log' });
watcher.stop();
// @ts-expect-error: verification needs chain access (rpcUrl or provider)
watchKeys(['0x'], () => {}, { chainId: 1, registry: '0x', apiUrl: 'https://api' });
// @ts-expect-error: the source is the chain or the log
watchKeys(['0x'], () => {}, { chainId: 1, registry: '0x', apiUrl: 'https://api', rpcUrl: 'https://rpc', source: 'mempool' });
