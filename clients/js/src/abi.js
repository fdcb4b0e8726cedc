// `@dmtp/key-registry-client/abi`: the DMTPKeys contract's ABI (infra/contracts/DMTPKeys.sol, compiled into
// packages/dmtp-protocol/src/dmtp_protocol/contracts/DMTPKeys.json: test/abi.test.js checks they are the same) and its
// events, as plain JSON objects a dapp passes to viem, ethers or wagmi (typed `as const` in types/abi.d.ts). Data only.

/** KeyUpdated(user indexed, digest, version): the wallet's current key document is `digest` (its SHA-256), at `version`. */
export const keyUpdatedEvent = {"anonymous": false, "inputs": [{"indexed": true, "internalType": "address", "name": "user", "type": "address"}, {"indexed": false, "internalType": "bytes32", "name": "digest", "type": "bytes32"}, {"indexed": false, "internalType": "uint64", "name": "version", "type": "uint64"}], "name": "KeyUpdated", "type": "event"};
/** KeyRevoked(user indexed, digest, version): the key `digest` of the wallet is revoked by the write of `version`. */
export const keyRevokedEvent = {"anonymous": false, "inputs": [{"indexed": true, "internalType": "address", "name": "user", "type": "address"}, {"indexed": false, "internalType": "bytes32", "name": "digest", "type": "bytes32"}, {"indexed": false, "internalType": "uint64", "name": "version", "type": "uint64"}], "name": "KeyRevoked", "type": "event"};
/** LogAnchored(size, root): the transparency log's head anchored on chain. */
export const logAnchoredEvent = {"anonymous": false, "inputs": [{"indexed": false, "internalType": "uint64", "name": "size", "type": "uint64"}, {"indexed": false, "internalType": "bytes32", "name": "root", "type": "bytes32"}], "name": "LogAnchored", "type": "event"};

/** The DMTPKeys contract's ABI, in the compiler's order. */
export const dmtpKeysAbi = [
  {"inputs": [], "stateMutability": "nonpayable", "type": "constructor"},
  {"inputs": [], "name": "EmptyDigest", "type": "error"},
  {"inputs": [], "name": "InvalidCid", "type": "error"},
  {"inputs": [], "name": "LengthMismatch", "type": "error"},
  {"inputs": [{"internalType": "bytes32", "name": "current", "type": "bytes32"}], "name": "NotCurrentKey", "type": "error"},
  {"inputs": [{"internalType": "address", "name": "caller", "type": "address"}], "name": "NotOwner", "type": "error"},
  {"inputs": [], "name": "ZeroAddress", "type": "error"},
  keyRevokedEvent,
  keyUpdatedEvent,
  logAnchoredEvent,
  {"anonymous": false, "inputs": [{"indexed": true, "internalType": "address", "name": "previousOwner", "type": "address"}, {"indexed": true, "internalType": "address", "name": "newOwner", "type": "address"}], "name": "OwnershipTransferred", "type": "event"},
  {"inputs": [{"internalType": "address", "name": "_user", "type": "address"}, {"internalType": "string", "name": "_cid", "type": "string"}], "name": "addKey", "outputs": [], "stateMutability": "nonpayable", "type": "function"},
  {"inputs": [{"internalType": "bytes32", "name": "digest", "type": "bytes32"}], "name": "cidOf", "outputs": [{"internalType": "string", "name": "", "type": "string"}], "stateMutability": "pure", "type": "function"},
  {"inputs": [{"internalType": "string", "name": "cid", "type": "string"}], "name": "digestOf", "outputs": [{"internalType": "bytes32", "name": "", "type": "bytes32"}], "stateMutability": "pure", "type": "function"},
  {"inputs": [{"internalType": "address", "name": "_user", "type": "address"}], "name": "getKey", "outputs": [{"internalType": "string", "name": "", "type": "string"}], "stateMutability": "view", "type": "function"},
  {"inputs": [{"internalType": "address", "name": "user", "type": "address"}], "name": "isRevoked", "outputs": [{"internalType": "bool", "name": "", "type": "bool"}], "stateMutability": "view", "type": "function"},
  {"inputs": [{"internalType": "address", "name": "user", "type": "address"}], "name": "keyOf", "outputs": [{"internalType": "bytes32", "name": "digest", "type": "bytes32"}, {"internalType": "bool", "name": "revoked", "type": "bool"}], "stateMutability": "view", "type": "function"},
  {"inputs": [], "name": "logHead", "outputs": [{"internalType": "uint64", "name": "size", "type": "uint64"}, {"internalType": "bytes32", "name": "root", "type": "bytes32"}], "stateMutability": "view", "type": "function"},
  {"inputs": [], "name": "owner", "outputs": [{"internalType": "address", "name": "", "type": "address"}], "stateMutability": "view", "type": "function"},
  {"inputs": [{"internalType": "address", "name": "user", "type": "address"}, {"internalType": "bytes32", "name": "digest", "type": "bytes32"}, {"internalType": "uint64", "name": "version", "type": "uint64"}], "name": "revokeKey", "outputs": [], "stateMutability": "nonpayable", "type": "function"},
  {"inputs": [{"internalType": "address", "name": "user", "type": "address"}, {"internalType": "bytes32", "name": "digest", "type": "bytes32"}, {"internalType": "uint64", "name": "version", "type": "uint64"}], "name": "setKey", "outputs": [], "stateMutability": "nonpayable", "type": "function"},
  {"inputs": [{"internalType": "address[]", "name": "users", "type": "address[]"}, {"internalType": "bytes32[]", "name": "digests", "type": "bytes32[]"}, {"internalType": "uint64[]", "name": "versions", "type": "uint64[]"}], "name": "setKeys", "outputs": [], "stateMutability": "nonpayable", "type": "function"},
  {"inputs": [{"internalType": "address[]", "name": "users", "type": "address[]"}, {"internalType": "bytes32[]", "name": "digests", "type": "bytes32[]"}, {"internalType": "uint64[]", "name": "versions", "type": "uint64[]"}, {"internalType": "uint64", "name": "logSize", "type": "uint64"}, {"internalType": "bytes32", "name": "logRoot", "type": "bytes32"}], "name": "setKeysAnchored", "outputs": [], "stateMutability": "nonpayable", "type": "function"},
  {"inputs": [{"internalType": "address", "name": "newOwner", "type": "address"}], "name": "transferOwnership", "outputs": [], "stateMutability": "nonpayable", "type": "function"},
];

/** The three events a watcher follows. */
export const dmtpKeysEvents = [keyUpdatedEvent, keyRevokedEvent, logAnchoredEvent];

/** topic0 of each event: keccak256 of its signature (0x + 64 hex; test/abi.test.js recomputes them). */
export const EVENT_TOPICS = {
  KeyUpdated: '0xa314bae2dbdcc96be4f878a28fd7eb6c69cb1b0b61eefb19c51490e445f63699', // KeyUpdated(address,bytes32,uint64)
  KeyRevoked: '0xd87ad7900baf5638216e7c5b4198445f32ec1d367dd7581569dbb4fdff272e2f', // KeyRevoked(address,bytes32,uint64)
  LogAnchored: '0x8b26f09bb8081aa6b08f55d03c2cece4e458e88e9ad68cd18840aa7689894daa', // LogAnchored(uint64,bytes32)
};
