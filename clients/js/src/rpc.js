// A small JSON-RPC client over fetch, for the few reads verify() makes of the caller's own node.
import { concat, fromHex, to0x, utf8 } from './bytes.js';
import { keccak256 } from './ethsig.js';

export class RpcFailure extends Error {
  /** `unavailable`: no answer (network, HTTP error, timeout); otherwise the node answered a JSON-RPC error. */
  constructor(message, unavailable) {
    super(message);
    this.name = 'RpcFailure';
    this.unavailable = unavailable;
  }
}

export class JsonRpc {
  constructor(url, { fetch: fetchImpl, timeoutMs } = {}) {
    this.url = url;
    this.fetch = fetchImpl ?? globalThis.fetch.bind(globalThis);
    this.timeoutMs = timeoutMs ?? 10000;
    this.nextId = 1;
  }

  async request(method, params = [], timeoutMs = this.timeoutMs) {
    let response;
    let payload;
    try {
      const fetchImpl = this.fetch; // called unbound: a browser's window.fetch refuses another `this`
      response = await fetchImpl(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      payload = await response.json();
    } catch (error) {
      throw new RpcFailure(`${method}: ${error && error.message ? error.message : error}`, true);
    }
    if (!response.ok && !(payload && payload.error)) throw new RpcFailure(`${method}: HTTP ${response.status}`, true);
    if (payload && payload.error) throw new RpcFailure(`${method}: ${payload.error.message || JSON.stringify(payload.error)}`, false);
    if (!payload || !('result' in payload)) throw new RpcFailure(`${method}: no result`, true);
    return payload.result;
  }

  async chainId() {
    return Number(BigInt(await this.request('eth_chainId')));
  }

  async blockNumber() {
    return Number(BigInt(await this.request('eth_blockNumber')));
  }

  async code(address, block = 'latest') {
    return fromHex(await this.request('eth_getCode', [address, block]));
  }

  async call(to, data, block = 'latest') {
    return fromHex(await this.request('eth_call', [{ to, data: to0x(data) }, block]));
  }

  /** eth_call with no `to` (a deployless call of creation code), with a gas limit. */
  async callCode(data, block = 'latest', gas = 3_000_000) {
    return fromHex(await this.request('eth_call', [{ data: to0x(data), gas: '0x' + gas.toString(16) }, block]));
  }

  async logs(filter) {
    return this.request('eth_getLogs', [filter]);
  }
}

export function selector(signature) {
  return keccak256(utf8(signature)).subarray(0, 4);
}

export function word(value) {
  return fromHex(BigInt(value).toString(16).padStart(64, '0'));
}

/** abi.encodeWithSelector(sel, address). */
export function callWithAddress(signature, address) {
  return concat(selector(signature), new Uint8Array(12), fromHex(address));
}

/** abi.encodeWithSelector(isValidSignature.selector, digest, signature). */
export function isValidSignatureCall(digest, signature) {
  const padded = concat(signature, new Uint8Array((32 - (signature.length % 32)) % 32));
  return concat(selector('isValidSignature(bytes32,bytes)'), digest, word(64), word(signature.length), padded);
}
