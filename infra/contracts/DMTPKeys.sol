// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title DMTPKeys
/// @notice Maps a wallet address to the IPFS CID of its DMTP public key record.
/// @dev Only the owner (the registry backend) may write; anyone may read.
contract DMTPKeys {
    /// @notice Account allowed to write keys.
    address public owner;

    /// @dev wallet => CID of its pinned DMTP key record.
    mapping(address => string) private DMTPkeys;

    /// @notice Emitted when a wallet's key CID is stored.
    event KeyAdded(address indexed user, string cid);

    /// @notice Emitted when ownership changes (also on deployment).
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice Caller is not the owner.
    error NotOwner(address caller);

    /// @notice The zero address was given where a real account is required.
    error ZeroAddress();

    /// @notice An empty CID was given.
    error EmptyCid();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    /// @notice Store (or replace) the key CID for `_user`.
    function addKey(address _user, string calldata _cid) external onlyOwner {
        if (_user == address(0)) revert ZeroAddress();
        if (bytes(_cid).length == 0) revert EmptyCid();
        DMTPkeys[_user] = _cid;
        emit KeyAdded(_user, _cid);
    }

    /// @notice The key CID stored for `_user`, or "" when none.
    function getKey(address _user) external view returns (string memory) {
        return DMTPkeys[_user];
    }

    /// @notice Hand write rights to `newOwner`.
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }
}
