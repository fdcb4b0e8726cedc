// The caller's own chain reads for verify() and readLogHead(): `rpcUrl` (JSON-RPC over fetch), `client` (a viem
// PublicClient: its request(), so every viem transport works, fallback and WebSocket included) or `provider` (an
// EIP-1193 provider's request(), a wagmi connector's or window.ethereum). The same reads, the same failure kinds.
import { JsonRpc, RpcFailure } from './rpc.js';

/** JsonRpc's reads through a `request({method, params})` function instead of fetch. */
export class RequestRpc extends JsonRpc {
  constructor(request, { timeoutMs } = {}) {
    super('(request)', { fetch: () => Promise.reject(new Error('not over fetch')), timeoutMs });
    this.send = request;
  }

  /**
   * An error carrying a numeric code is the node's answer (a JSON-RPC error such as a revert or a refused log range,
   * as viem and EIP-1193 raise it), except EIP-1193's disconnected codes; anything else (HTTP, socket, timeout) is
   * `unavailable`, as for fetch.
   */
  async request(method, params = [], timeoutMs = this.timeoutMs) {
    let timer;
    const timeout = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new RpcFailure(`${method}: no answer within ${timeoutMs} ms`, true)), timeoutMs);
    });
    try {
      return await Promise.race([Promise.resolve().then(() => this.send({ method, params })), timeout]);
    } catch (error) {
      if (error instanceof RpcFailure) throw error;
      const code = error && typeof error.code === 'number' ? error.code : null;
      const message = (error && (error.details || error.shortMessage || error.message)) || String(error);
      throw new RpcFailure(`${method}: ${message}`, code === null || code === 4900 || code === 4901);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Whether the options name a chain to read: `client`, `provider` or `rpcUrl`. */
export function hasTransport({ client, provider, rpcUrl } = {}) {
  return Boolean(client || provider || rpcUrl);
}

/**
 * The reads of the options' chain: `client` (viem: client.request), `provider` (EIP-1193 request) or `rpcUrl`, in that
 * order; null when none is given. TypeError for a `client`/`provider` without request().
 */
export function rpcFor({ client, provider, rpcUrl, fetch: fetchImpl, timeoutMs } = {}) {
  for (const [name, source] of [['client', client], ['provider', provider]]) {
    if (source === undefined || source === null) continue;
    if (typeof source.request !== 'function') throw new TypeError(`${name} must have request({method, params}) (a viem PublicClient, an EIP-1193 provider)`);
    return new RequestRpc((args) => source.request(args), { timeoutMs });
  }
  if (!rpcUrl) return null;
  return new JsonRpc(rpcUrl, { fetch: fetchImpl, timeoutMs });
}
