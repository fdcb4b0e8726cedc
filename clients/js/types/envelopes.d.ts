// Types of @dmtp/key-registry-client/envelopes (src/envelopes/index.js): seal and open DMTPpriKey envelopes.
export { sealPrivateKey, openPrivateKey, checkEnvelope, encryptedPrivateKeyHash, ENVELOPE_VERSIONS } from './index.js';
export type { Envelope, EnvelopeVersion, SealOptions, X25519Envelope, Eip191Envelope, PassphraseEnvelope } from './index.js';
/** The plaintext of every envelope is "0x" + 64 hex digits: 66 bytes. */
export const PLAINTEXT_BYTES: 66;
