// The dapp's wiring: what it trusts (chain id, registry), where it reads (the registry API, the chain RPC), wagmi with
// the injected connector (MetaMask or any window.ethereum wallet), and ONE QueryClient shared by wagmi and the DMTP
// hooks. The values come from the page's address (?api=&rpc=&chainId=&registry=), else from VITE_DMTP_* at build time.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { WagmiProvider, createConfig, http } from 'wagmi';
import { injected } from 'wagmi/connectors';
import { App } from './App.jsx';

const query = new URLSearchParams(window.location.search);
const settings = {
  apiUrl: query.get('api') ?? import.meta.env.VITE_DMTP_API_URL,
  rpcUrl: query.get('rpc') ?? import.meta.env.VITE_DMTP_RPC_URL,
  chainId: Number(query.get('chainId') ?? import.meta.env.VITE_DMTP_CHAIN_ID ?? 31337),
  registry: query.get('registry') ?? import.meta.env.VITE_DMTP_REGISTRY,
  watchMs: Number(query.get('watchMs') ?? 2000),
};

const chain = {
  id: settings.chainId,
  name: settings.chainId === 31337 ? 'Anvil' : `Chain ${settings.chainId}`,
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [settings.rpcUrl] } },
};

const wagmiConfig = createConfig({
  chains: [chain],
  connectors: [injected()],
  transports: { [chain.id]: http(settings.rpcUrl) },
});

// Keys change when a wallet writes, not when a window gains focus: useWatchDmtpKey tells the cache when.
const queryClient = new QueryClient({ defaultOptions: { queries: { refetchOnWindowFocus: false } } });

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <WagmiProvider config={wagmiConfig}>
      <QueryClientProvider client={queryClient}>
        <App settings={settings} />
      </QueryClientProvider>
    </WagmiProvider>
  </StrictMode>,
);
