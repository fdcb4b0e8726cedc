// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title DMTPKeys
/// @notice Maps a wallet to the IPFS CID of its DMTP key document, so anyone can find the key from the chain alone.
/// @dev Every CID the registry pins is CIDv1, raw codec, sha2-256 (`ipfs add --cid-version=1`), so its 32-byte
///      digest determines the CID string: storing the digest costs one storage slot instead of three, and the
///      views rebuild the base32 string. Only the owner (the registry's KMS key) writes; anyone reads.
contract DMTPKeys {
    /// @notice Account allowed to write keys.
    address public owner;

    /// @dev Size of the latest anchored transparency-log head (issue 13). Declared right after `owner` so both share
    ///      one storage slot: setKeysAnchored has read that slot already (onlyOwner), so comparing and storing the
    ///      size costs a warm access instead of a cold one.
    uint64 private anchoredLogSize;

    /// @dev wallet => sha2-256 digest of its current key document (0 when none). The seed's mapping, made compact.
    mapping(address => bytes32) private DMTPkeys;

    /// @dev wallet => digest of the key it revoked. The key is revoked while this equals the current digest,
    ///      so registering a new key needs no extra write to clear it.
    mapping(address => bytes32) private revokedDigest;

    /// @dev RFC 9162 root of the registry's transparency log at `anchoredLogSize` leaves.
    bytes32 private anchoredLogRoot;

    /// @notice A wallet's key document changed. `version` is the registry's version of that wallet's key.
    event KeyUpdated(address indexed user, bytes32 digest, uint64 version);

    /// @notice A wallet revoked its current key.
    event KeyRevoked(address indexed user, bytes32 digest, uint64 version);

    /// @notice The registry's transparency log (docs/PROTOCOL.md) had `size` leaves with RFC 9162 root `root`.
    ///         Emitted only when the anchored size grows, so the sizes of successive events strictly increase.
    event LogAnchored(uint64 size, bytes32 root);

    /// @notice Ownership changed (also emitted on deployment).
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner(address caller);
    error ZeroAddress();
    error EmptyDigest();
    /// @notice The string is not a canonical CIDv1 raw sha2-256 base32 CID.
    error InvalidCid();
    error LengthMismatch();
    /// @notice A revocation names a key that is not the wallet's current one.
    error NotCurrentKey(bytes32 current);

    bytes private constant BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
    /// @dev CIDv1 (0x01), raw codec (0x55), sha2-256 (0x12), 32-byte digest (0x20).
    bytes4 private constant CID_PREFIX = 0x01551220;
    uint256 private constant CID_LENGTH = 59;

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    /// @notice The seed's write: store `_cid` for `_user`. Accepts only CIDv1 raw sha2-256 base32 strings.
    function addKey(address _user, string calldata _cid) external onlyOwner {
        _setKey(_user, digestOf(_cid), 0);
    }

    /// @notice Store the key document digest of one wallet.
    function setKey(address user, bytes32 digest, uint64 version) external onlyOwner {
        _setKey(user, digest, version);
    }

    /// @notice Store many wallets' key document digests in one transaction.
    function setKeys(address[] calldata users, bytes32[] calldata digests, uint64[] calldata versions) external onlyOwner {
        _setKeys(users, digests, versions);
    }

    /// @notice setKeys, and anchor the transparency log's head (`logSize` leaves, RFC 9162 root `logRoot`) when it is
    ///         larger than the anchored one. A smaller or equal head is ignored without reverting: two workers may race,
    ///         and their keys must land either way.
    function setKeysAnchored(
        address[] calldata users,
        bytes32[] calldata digests,
        uint64[] calldata versions,
        uint64 logSize,
        bytes32 logRoot
    ) external onlyOwner {
        _setKeys(users, digests, versions);
        if (logSize > anchoredLogSize) {
            anchoredLogSize = logSize;
            anchoredLogRoot = logRoot;
            emit LogAnchored(logSize, logRoot);
        }
    }

    /// @notice The latest anchored transparency-log head: its size and root (0 and 0x0 before the first).
    function logHead() external view returns (uint64 size, bytes32 root) {
        return (anchoredLogSize, anchoredLogRoot);
    }

    function _setKeys(address[] calldata users, bytes32[] calldata digests, uint64[] calldata versions) private {
        uint256 count = users.length;
        if (digests.length != count || versions.length != count) revert LengthMismatch();
        for (uint256 i = 0; i < count; ) {
            _setKey(users[i], digests[i], versions[i]);
            unchecked {
                ++i;
            }
        }
    }

    /// @notice Mark `user`'s current key (whose digest must be `digest`) as revoked.
    function revokeKey(address user, bytes32 digest, uint64 version) external onlyOwner {
        bytes32 current = DMTPkeys[user];
        if (current != digest || digest == bytes32(0)) revert NotCurrentKey(current);
        revokedDigest[user] = digest;
        emit KeyRevoked(user, digest, version);
    }

    /// @notice The CID string of `_user`'s current key document, or "" when none.
    function getKey(address _user) external view returns (string memory) {
        bytes32 digest = DMTPkeys[_user];
        return digest == bytes32(0) ? "" : cidOf(digest);
    }

    /// @notice `user`'s current key digest and whether that key is revoked.
    function keyOf(address user) external view returns (bytes32 digest, bool revoked) {
        digest = DMTPkeys[user];
        revoked = digest != bytes32(0) && revokedDigest[user] == digest;
    }

    /// @notice Whether `user`'s current key is revoked.
    function isRevoked(address user) external view returns (bool) {
        bytes32 digest = DMTPkeys[user];
        return digest != bytes32(0) && revokedDigest[user] == digest;
    }

    /// @notice Hand write rights to `newOwner`.
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice The base32 CIDv1 string ("b" + base32(prefix || digest)) of a raw sha2-256 digest.
    function cidOf(bytes32 digest) public pure returns (string memory) {
        bytes memory data = abi.encodePacked(CID_PREFIX, digest);
        bytes memory out = new bytes(CID_LENGTH);
        out[0] = "b";
        uint256 buffer;
        uint256 bits;
        uint256 j = 1;
        for (uint256 i = 0; i < data.length; ++i) {
            buffer = (buffer << 8) | uint8(data[i]);
            bits += 8;
            while (bits >= 5) {
                bits -= 5;
                out[j++] = BASE32[(buffer >> bits) & 31];
            }
        }
        if (bits > 0) out[j] = BASE32[(buffer << (5 - bits)) & 31];
        return string(out);
    }

    /// @notice The digest inside a canonical CIDv1 raw sha2-256 base32 string; reverts InvalidCid otherwise.
    function digestOf(string calldata cid) public pure returns (bytes32) {
        bytes calldata text = bytes(cid);
        if (text.length != CID_LENGTH || text[0] != "b") revert InvalidCid();
        bytes memory data = new bytes(36);
        uint256 buffer;
        uint256 bits;
        uint256 j;
        for (uint256 i = 1; i < CID_LENGTH; ++i) {
            buffer = (buffer << 5) | _base32Value(text[i]);
            bits += 5;
            if (bits >= 8) {
                bits -= 8;
                data[j++] = bytes1(uint8(buffer >> bits));
            }
        }
        if (buffer & ((1 << bits) - 1) != 0) revert InvalidCid(); // non-zero padding bits: not canonical
        bytes32 digest;
        bytes4 prefix;
        assembly {
            prefix := mload(add(data, 32))
            digest := mload(add(data, 36))
        }
        if (prefix != CID_PREFIX) revert InvalidCid();
        return digest;
    }

    function _setKey(address user, bytes32 digest, uint64 version) private {
        if (user == address(0)) revert ZeroAddress();
        if (digest == bytes32(0)) revert EmptyDigest();
        DMTPkeys[user] = digest;
        emit KeyUpdated(user, digest, version);
    }

    function _base32Value(bytes1 char) private pure returns (uint256) {
        uint8 c = uint8(char);
        if (c >= 0x61 && c <= 0x7a) return c - 0x61; // a-z
        if (c >= 0x32 && c <= 0x37) return c - 0x32 + 26; // 2-7
        revert InvalidCid();
    }
}
