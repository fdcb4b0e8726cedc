// Connect, register a DMTP key, see it confirmed and verified against the chain, rotate it, and watch it: a key
// rotated elsewhere (another tab, another device) shows here as soon as watchKeys verified the change.
import { useAccount, useConnect, usePublicClient, useWalletClient } from 'wagmi';
import { DmtpConfigProvider, useDmtpKey, useRegisterDmtpKey, useRevokeDmtpKey, useWatchDmtpKey } from '@dmtp/key-registry-react';

const ENVELOPE = 'dmtp-eip191-aes256gcm-hkdf-v1'; // sealed with a key derived from a personal_sign signature

export function App({ settings }) {
  const publicClient = usePublicClient(); // verification reads the chain through the dapp's own transport
  const missing = ['apiUrl', 'rpcUrl', 'registry'].filter((name) => !settings[name]);
  if (missing.length > 0) return <p id="error">Name the registry API, chain RPC and registry in the address (?api=&amp;rpc=&amp;registry=&amp;chainId=): {missing.join(', ')} missing.</p>;
  const config = { apiUrl: settings.apiUrl, chainId: settings.chainId, registry: settings.registry, provider: publicClient };
  return (
    <DmtpConfigProvider config={config}>
      <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 720, margin: '2rem auto', lineHeight: 1.5 }}>
        <h1>My DMTP key</h1>
        <Wallet watchMs={settings.watchMs} />
      </main>
    </DmtpConfigProvider>
  );
}

function Wallet({ watchMs }) {
  const { address, isConnected } = useAccount();
  const { connect, connectors, error: connectError, isPending } = useConnect();
  if (!isConnected) {
    return (
      <section>
        <button id="connect" disabled={isPending} onClick={() => connect({ connector: connectors[0] })}>
          Connect wallet
        </button>
        {connectError ? <p id="error">{connectError.shortMessage ?? connectError.message}</p> : null}
      </section>
    );
  }
  return <KeyPanel address={address} watchMs={watchMs} />;
}

function KeyPanel({ address, watchMs }) {
  const { data: walletClient } = useWalletClient();
  const key = useDmtpKey(address, { pollMs: 1000 });
  const registering = useRegisterDmtpKey();
  const revoking = useRevokeDmtpKey();
  const watch = useWatchDmtpKey(address, { intervalMs: watchMs });
  const data = key.data;
  const hasKey = Boolean(data && data.found);
  const busy = registering.isPending || revoking.isPending || !walletClient;
  const register = () => registering.mutate({ walletClient, envelope: ENVELOPE });
  const revocation = hasKey ? data.answer.revocation : null;

  return (
    <section>
      <p>
        Wallet <code id="account">{address}</code>
      </p>
      <dl>
        <dt>Status</dt>
        <dd id="status">{key.isPending ? 'loading' : hasKey ? data.status : 'no key'}</dd>
        <dt>Revocation</dt>
        <dd id="revocation">{revocation ? `version ${revocation.version} ${revocation.status}` : 'none'}</dd>
        <dt>Version</dt>
        <dd id="version">{hasKey ? data.answer.version : '-'}</dd>
        <dt>Public key</dt>
        <dd id="public-key">
          <code>{hasKey ? data.answer.DMTPpubKey : '-'}</code>
        </dd>
        <dt>Verified against the chain</dt>
        <dd
          id="verdict"
          data-usable={String(Boolean(data && data.usable))}
          data-reason={data && data.reason ? data.reason : ''}
          style={{ color: data && data.usable ? 'rgb(0, 128, 0)' : 'rgb(178, 34, 34)', fontWeight: 600 }}
        >
          {data && data.usable ? 'verified' : `not verified${data && data.reason ? `: ${data.reason}` : ''}`}
        </dd>
        <dt>Changes seen by the watcher</dt>
        <dd id="changes" data-count={watch.changes}>
          {watch.changes}
          {watch.lastChange ? ` (last: ${watch.lastChange.kind} v${watch.lastChange.version})` : ''}
        </dd>
      </dl>
      {hasKey ? (
        <button id="rotate" disabled={busy} onClick={register}>
          Rotate key
        </button>
      ) : (
        <button id="register" disabled={busy} onClick={register}>
          Register a DMTP key
        </button>
      )}
      {hasKey && !revocation ? (
        <button id="revoke" disabled={busy} onClick={() => revoking.mutate({ walletClient })}>
          Revoke key
        </button>
      ) : null}
      {registering.isSuccess ? <p id="registered">Registered version {registering.data.answer.version}: keep its private key.</p> : null}
      {registering.error ? <p id="error">{registering.error.message}</p> : null}
      {revoking.error ? <p id="error">{revoking.error.message}</p> : null}
      {key.error ? <p id="error">{key.error.message}</p> : null}
      {watch.error ? <p id="watch-error">{watch.error.message}</p> : null}
    </section>
  );
}
