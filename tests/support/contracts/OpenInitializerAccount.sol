// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice Test-only smart account with the bug an ERC-6492 "prepare" call exploits: `initialize` is unprotected, so
///         whoever calls it first while no owner is set becomes the owner. Code of this kind sits at an address as a
///         deployed account (a proxy whose initializer was left open) or as an EIP-7702 delegate (an EOA delegated to
///         it starts with empty storage: no owner). ERC-1271 says yes iff the owner signed the hash (65 bytes r||s||v).
contract OpenInitializerAccount {
    bytes4 private constant MAGIC = 0x1626ba7e;

    address public owner;

    function initialize(address owner_) external {
        require(owner == address(0), "initialized");
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != 65 || owner == address(0)) return 0xffffffff;
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;
        address signer = ecrecover(hash, v, bytes32(signature[0:32]), bytes32(signature[32:64]));
        return signer == owner ? MAGIC : bytes4(0xffffffff);
    }
}
