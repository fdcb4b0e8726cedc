// @dmtp/key-registry-client: DMTP Key Registry client for browsers and Node 20 (ES module). The root entry: every
// name, for a dapp that wants them all; a bundler still drops what is not used ("sideEffects": false, and no module
// runs code when loaded). The subpath entries (package.json "exports") name what each part brings.
export { generateDmtpKey, dmtpPublicKeyOf, KEY_TYPES } from './keys.js';
export { sealPrivateKey, openPrivateKey, checkEnvelope, encryptedPrivateKeyHash, ENVELOPE_VERSIONS } from './envelopes/index.js';
export { RegistryClient, buildRegistration, buildRevocation, register, revoke, lookup, batchLookup, history, waitForStatus, FINAL_STATUSES } from './client.js';
export { verify, readLogHead, checkLogConsistency } from './verify.js';
export { watchWallet, checkWallet, WatchError } from './watch.js';
export { watchKeys, eip1193Fetch } from './watch-keys.js';
export { recordRegistration, recordRevocation, registrationDocumentHash, revocationDocumentHash, loadWatch, watchKey, WATCH_FORMAT } from './ownwrites.js';
export { leafBytes, parseLeaf, leafHash, nodeHash, merkleRoot, TreeBuilder, rootFromInclusion, verifyInclusion, verifyConsistency, EMPTY_ROOT, LEAF_KIND_KEY, LEAF_KIND_REVOCATION } from './log.js';
export { RegistryError, ProtocolError, DomainMismatchError, WalletError, EnvelopeError, StatusError, TransportError } from './errors.js';
export {
  DOCUMENT_FORMAT,
  REGISTRATION_TYPE,
  REVOCATION_TYPE,
  SIGNATURE_TYPES,
  parseRegistration,
  parseRevocation,
  registrationMessage,
  revocationMessage,
  typedData,
  signedText,
  signingDigest,
  pinnedDocument,
  registrationFromDocument,
} from './protocol.js';
export { canonicalJson, cidForBytes, cidOfDigest, digestOfCid } from './canonical.js';
export { parseAddress, checksumAddress, recoverAddress, personalSignDigest, keccak256 } from './ethsig.js';
export { typedDataDigest } from './eip712.js';
export { isErc6492, wrapErc6492, validatorCallData, ERC6492_SUFFIX, ERC6492_GAS_LIMIT } from './erc6492.js';
// Added with the subpath entries (/lookup, /verify, /register, /envelopes, /log, /abi); every name above stays.
export { logReader } from './lookup.js';
export { dmtpKeysAbi, dmtpKeysEvents, keyUpdatedEvent, keyRevokedEvent, logAnchoredEvent, EVENT_TOPICS } from './abi.js';
