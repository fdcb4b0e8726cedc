// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice Test-only ERC-1271 smart-contract wallet: a signature is valid iff its owner EOA made it over the hash.
contract SmartWallet {
    bytes4 private constant MAGIC = 0x1626ba7e; // bytes4(keccak256("isValidSignature(bytes32,bytes)"))

    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != 65) return 0xffffffff;
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;
        address signer = ecrecover(hash, v, r, s);
        return signer != address(0) && signer == owner ? MAGIC : bytes4(0xffffffff);
    }
}

/// @notice Test-only contract whose fallback returns its own calldata: an `isValidSignature` call "answers"
///         bytes that start with 0x1626ba7e. A verifier checking only 4 bytes would take that for a yes.
contract EchoFallback {
    fallback(bytes calldata input) external returns (bytes memory) {
        return input;
    }
}
