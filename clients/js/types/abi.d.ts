// Types of @dmtp/key-registry-client/abi (src/abi.js): the DMTPKeys ABI as literal types, as `as const` gives them, so
// viem and wagmi infer function and event argument types from it. Generated from the compiled contract's JSON.

export type KeyUpdatedEvent = { readonly anonymous: false; readonly inputs: readonly [{ readonly indexed: true; readonly internalType: 'address'; readonly name: 'user'; readonly type: 'address' }, { readonly indexed: false; readonly internalType: 'bytes32'; readonly name: 'digest'; readonly type: 'bytes32' }, { readonly indexed: false; readonly internalType: 'uint64'; readonly name: 'version'; readonly type: 'uint64' }]; readonly name: 'KeyUpdated'; readonly type: 'event' };
export type KeyRevokedEvent = { readonly anonymous: false; readonly inputs: readonly [{ readonly indexed: true; readonly internalType: 'address'; readonly name: 'user'; readonly type: 'address' }, { readonly indexed: false; readonly internalType: 'bytes32'; readonly name: 'digest'; readonly type: 'bytes32' }, { readonly indexed: false; readonly internalType: 'uint64'; readonly name: 'version'; readonly type: 'uint64' }]; readonly name: 'KeyRevoked'; readonly type: 'event' };
export type LogAnchoredEvent = { readonly anonymous: false; readonly inputs: readonly [{ readonly indexed: false; readonly internalType: 'uint64'; readonly name: 'size'; readonly type: 'uint64' }, { readonly indexed: false; readonly internalType: 'bytes32'; readonly name: 'root'; readonly type: 'bytes32' }]; readonly name: 'LogAnchored'; readonly type: 'event' };

export declare const keyUpdatedEvent: KeyUpdatedEvent;
export declare const keyRevokedEvent: KeyRevokedEvent;
export declare const logAnchoredEvent: LogAnchoredEvent;
export declare const dmtpKeysEvents: readonly [KeyUpdatedEvent, KeyRevokedEvent, LogAnchoredEvent];
/** The DMTPKeys contract's ABI, in the compiler's order. */
export declare const dmtpKeysAbi: readonly [
  { readonly inputs: readonly []; readonly stateMutability: 'nonpayable'; readonly type: 'constructor' },
  { readonly inputs: readonly []; readonly name: 'EmptyDigest'; readonly type: 'error' },
  { readonly inputs: readonly []; readonly name: 'InvalidCid'; readonly type: 'error' },
  { readonly inputs: readonly []; readonly name: 'LengthMismatch'; readonly type: 'error' },
  { readonly inputs: readonly [{ readonly internalType: 'bytes32'; readonly name: 'current'; readonly type: 'bytes32' }]; readonly name: 'NotCurrentKey'; readonly type: 'error' },
  { readonly inputs: readonly [{ readonly internalType: 'address'; readonly name: 'caller'; readonly type: 'address' }]; readonly name: 'NotOwner'; readonly type: 'error' },
  { readonly inputs: readonly []; readonly name: 'ZeroAddress'; readonly type: 'error' },
  KeyRevokedEvent,
  KeyUpdatedEvent,
  LogAnchoredEvent,
  { readonly anonymous: false; readonly inputs: readonly [{ readonly indexed: true; readonly internalType: 'address'; readonly name: 'previousOwner'; readonly type: 'address' }, { readonly indexed: true; readonly internalType: 'address'; readonly name: 'newOwner'; readonly type: 'address' }]; readonly name: 'OwnershipTransferred'; readonly type: 'event' },
  { readonly inputs: readonly [{ readonly internalType: 'address'; readonly name: '_user'; readonly type: 'address' }, { readonly internalType: 'string'; readonly name: '_cid'; readonly type: 'string' }]; readonly name: 'addKey'; readonly outputs: readonly []; readonly stateMutability: 'nonpayable'; readonly type: 'function' },
  { readonly inputs: readonly [{ readonly internalType: 'bytes32'; readonly name: 'digest'; readonly type: 'bytes32' }]; readonly name: 'cidOf'; readonly outputs: readonly [{ readonly internalType: 'string'; readonly name: ''; readonly type: 'string' }]; readonly stateMutability: 'pure'; readonly type: 'function' },
  { readonly inputs: readonly [{ readonly internalType: 'string'; readonly name: 'cid'; readonly type: 'string' }]; readonly name: 'digestOf'; readonly outputs: readonly [{ readonly internalType: 'bytes32'; readonly name: ''; readonly type: 'bytes32' }]; readonly stateMutability: 'pure'; readonly type: 'function' },
  { readonly inputs: readonly [{ readonly internalType: 'address'; readonly name: '_user'; readonly type: 'address' }]; readonly name: 'getKey'; readonly outputs: readonly [{ readonly internalType: 'string'; readonly name: ''; readonly type: 'string' }]; readonly stateMutability: 'view'; readonly type: 'function' },
  { readonly inputs: readonly [{ readonly internalType: 'address'; readonly name: 'user'; readonly type: 'address' }]; readonly name: 'isRevoked'; readonly outputs: readonly [{ readonly internalType: 'bool'; readonly name: ''; readonly type: 'bool' }]; readonly stateMutability: 'view'; readonly type: 'function' },
  { readonly inputs: readonly [{ readonly internalType: 'address'; readonly name: 'user'; readonly type: 'address' }]; readonly name: 'keyOf'; readonly outputs: readonly [{ readonly internalType: 'bytes32'; readonly name: 'digest'; readonly type: 'bytes32' }, { readonly internalType: 'bool'; readonly name: 'revoked'; readonly type: 'bool' }]; readonly stateMutability: 'view'; readonly type: 'function' },
  { readonly inputs: readonly []; readonly name: 'logHead'; readonly outputs: readonly [{ readonly internalType: 'uint64'; readonly name: 'size'; readonly type: 'uint64' }, { readonly internalType: 'bytes32'; readonly name: 'root'; readonly type: 'bytes32' }]; readonly stateMutability: 'view'; readonly type: 'function' },
  { readonly inputs: readonly []; readonly name: 'owner'; readonly outputs: readonly [{ readonly internalType: 'address'; readonly name: ''; readonly type: 'address' }]; readonly stateMutability: 'view'; readonly type: 'function' },
  { readonly inputs: readonly [{ readonly internalType: 'address'; readonly name: 'user'; readonly type: 'address' }, { readonly internalType: 'bytes32'; readonly name: 'digest'; readonly type: 'bytes32' }, { readonly internalType: 'uint64'; readonly name: 'version'; readonly type: 'uint64' }]; readonly name: 'revokeKey'; readonly outputs: readonly []; readonly stateMutability: 'nonpayable'; readonly type: 'function' },
  { readonly inputs: readonly [{ readonly internalType: 'address'; readonly name: 'user'; readonly type: 'address' }, { readonly internalType: 'bytes32'; readonly name: 'digest'; readonly type: 'bytes32' }, { readonly internalType: 'uint64'; readonly name: 'version'; readonly type: 'uint64' }]; readonly name: 'setKey'; readonly outputs: readonly []; readonly stateMutability: 'nonpayable'; readonly type: 'function' },
  { readonly inputs: readonly [{ readonly internalType: 'address[]'; readonly name: 'users'; readonly type: 'address[]' }, { readonly internalType: 'bytes32[]'; readonly name: 'digests'; readonly type: 'bytes32[]' }, { readonly internalType: 'uint64[]'; readonly name: 'versions'; readonly type: 'uint64[]' }]; readonly name: 'setKeys'; readonly outputs: readonly []; readonly stateMutability: 'nonpayable'; readonly type: 'function' },
  { readonly inputs: readonly [{ readonly internalType: 'address[]'; readonly name: 'users'; readonly type: 'address[]' }, { readonly internalType: 'bytes32[]'; readonly name: 'digests'; readonly type: 'bytes32[]' }, { readonly internalType: 'uint64[]'; readonly name: 'versions'; readonly type: 'uint64[]' }, { readonly internalType: 'uint64'; readonly name: 'logSize'; readonly type: 'uint64' }, { readonly internalType: 'bytes32'; readonly name: 'logRoot'; readonly type: 'bytes32' }]; readonly name: 'setKeysAnchored'; readonly outputs: readonly []; readonly stateMutability: 'nonpayable'; readonly type: 'function' },
  { readonly inputs: readonly [{ readonly internalType: 'address'; readonly name: 'newOwner'; readonly type: 'address' }]; readonly name: 'transferOwnership'; readonly outputs: readonly []; readonly stateMutability: 'nonpayable'; readonly type: 'function' },
];
/** topic0 of each event: keccak256 of its signature. */
export declare const EVENT_TOPICS: {
  readonly KeyUpdated: '0xa314bae2dbdcc96be4f878a28fd7eb6c69cb1b0b61eefb19c51490e445f63699';
  readonly KeyRevoked: '0xd87ad7900baf5638216e7c5b4198445f32ec1d367dd7581569dbb4fdff272e2f';
  readonly LogAnchored: '0x8b26f09bb8081aa6b08f55d03c2cece4e458e88e9ad68cd18840aa7689894daa';
};
