// Typed errors. Every error the client throws is a RegistryError carrying a problem+json `code`
// (docs/PROTOCOL.md §12): the server's own for HTTP answers, a client-side one otherwise.

/** An error with an RFC 9457 problem: `status` (HTTP status, or 0 when nothing was answered), `code`, `problem`. */
export class RegistryError extends Error {
  constructor(problem, status = problem && typeof problem.status === 'number' ? problem.status : 0) {
    const body = problem && typeof problem === 'object' ? problem : { detail: String(problem) };
    const code = typeof body.code === 'string' ? body.code : 'unknown-error';
    super(`${status ? `HTTP ${status} ` : ''}${code}: ${body.detail || body.title || ''}`.trim());
    this.name = 'RegistryError';
    this.status = status;
    this.code = code;
    this.problem = body;
  }
}

function problem(code, detail, status, extra) {
  return { type: `urn:dmtp:problem:${code}`, title: code, status, detail, code, ...extra };
}

/** The request the client was about to send breaks a protocol rule; `code` is the one the server would answer. */
export class ProtocolError extends RegistryError {
  constructor(code, detail, extra = {}, status = 400) {
    super(problem(code, detail, status, extra), status);
    this.name = 'ProtocolError';
  }
}

/** The registry's GET /config names another chain or contract than the one the caller pinned (`domain-mismatch`). */
export class DomainMismatchError extends RegistryError {
  constructor(detail, pinned, served) {
    super(problem('domain-mismatch', detail, 0, { pinned, served }), 0);
    this.name = 'DomainMismatchError';
  }
}

/**
 * The wallet refused or failed (`wallet-rejected` for EIP-1193 code 4001 or ethers' ACTION_REJECTED, else
 * `wallet-error`); `hint`: what to do instead (the adapter to use when the wallet does not answer a method).
 */
export class WalletError extends RegistryError {
  constructor(method, cause, hint = null) {
    const providerCode = cause && typeof cause.code === 'number' ? cause.code : null;
    const rejected = providerCode === 4001 || (cause && cause.code === 'ACTION_REJECTED');
    const code = rejected ? 'wallet-rejected' : 'wallet-error';
    const message = (cause && cause.message) || String(cause);
    super(problem(code, `${method}: ${message}${hint ? ` (${hint})` : ''}`, 0, { method, providerCode, hint }), 0);
    this.name = 'WalletError';
    this.cause = cause;
  }
}

/** An envelope that cannot be sealed or opened (bad fields, wrong wallet, tampered): `envelope-error`. */
export class EnvelopeError extends RegistryError {
  constructor(detail) {
    super(problem('envelope-error', detail, 0), 0);
    this.name = 'EnvelopeError';
  }
}

/** waitForStatus gave up (`timeout`) or the record ended in a status not waited for (`unexpected-status`). */
export class StatusError extends RegistryError {
  constructor(code, detail, last) {
    super(problem(code, detail, 0, { last: last ?? null }), 0);
    this.name = 'StatusError';
    this.last = last ?? null;
  }
}

/** The HTTP request never got an answer, or the answer was not JSON (`network-error`, `bad-response`). */
export class TransportError extends RegistryError {
  constructor(code, detail, status = 0) {
    super(problem(code, detail, status), status);
    this.name = 'TransportError';
  }
}
