// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice Test-only ERC-4337-style account: ERC-1271 says yes iff its owner EOA signed the hash (65 bytes r||s||v).
contract OwnedAccount {
    bytes4 private constant MAGIC = 0x1626ba7e;

    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != 65) return 0xffffffff;
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;
        address signer = ecrecover(hash, v, bytes32(signature[0:32]), bytes32(signature[32:64]));
        return signer != address(0) && signer == owner ? MAGIC : bytes4(0xffffffff);
    }
}

/// @notice Test-only CREATE2 factory, as ERC-4337 account factories are: the account's address is known before it
///         exists (getAddress), and createAccount deploys it there (or returns it if it is already deployed).
contract OwnedAccountFactory {
    function createAccount(address owner, uint256 salt) external returns (address account) {
        account = getAddress(owner, salt);
        if (account.code.length > 0) return account;
        return address(new OwnedAccount{salt: bytes32(salt)}(owner));
    }

    function getAddress(address owner, uint256 salt) public view returns (address) {
        bytes32 codeHash = keccak256(abi.encodePacked(type(OwnedAccount).creationCode, abi.encode(owner)));
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), bytes32(salt), codeHash)))));
    }
}

/// @notice Test-only hostile factory: its "deployment" loops until the call runs out of gas.
contract GasBurnerFactory {
    uint256 public counter;

    function createAccount(address, uint256) external returns (address) {
        while (true) {
            counter += 1;
        }
        return address(0);
    }
}

/// @notice Test-only hostile wallet (deployed): its isValidSignature loops until the call runs out of gas.
contract GasBurnerAccount {
    uint256 public counter;

    function isValidSignature(bytes32, bytes calldata) external returns (bytes4) {
        while (true) {
            counter += 1;
        }
        return 0x1626ba7e;
    }
}
