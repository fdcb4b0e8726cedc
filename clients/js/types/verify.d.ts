// Types of @dmtp/key-registry-client/verify (src/verify.js): verify an answer against the chain, through your own RPC.
export { verify, readLogHead, checkLogConsistency } from './index.js';
export type { VerifyOptions, VerifyResult, VerifyReason, VerifyChecks, VerifiedKeyInfo, LogHead, LogSource, ChainRequest } from './index.js';
