// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title ERC-6492 off-chain signature validation, deployless
/// @notice The creation code of this contract followed by abi.encode(signer, hash, signature), sent with eth_call and
///         no `to`, returns one byte: 0x01 when `signer` accepts `signature` over `hash`, 0x00 otherwise (a revert
///         or running out of gas also means no). Nothing is deployed: eth_call discards every state change,
///         including the counterfactual wallet's deployment.
/// @dev    The order of checks is the one ERC-6492 prescribes (https://eips.ethereum.org/EIPS/eip-6492):
///         1. a signature ending in the magic suffix is abi.decode(address factory, bytes factoryCalldata,
///            bytes innerSignature); if the signer has no code, call factory with factoryCalldata (the deployment),
///            then ERC-1271 with the inner signature; if the signer already has code, ERC-1271 with the inner
///            signature only. ERC-6492 also allows a "prepare" call (the factory call made on a wallet that already
///            has code, when ERC-1271 first says no); this validator never makes it: the signer chooses that call,
///            and on a wallet with code (a deployed account, or an EOA delegated by EIP-7702) an unprotected
///            initializer would let it install the signer's own key inside the simulation (docs/PROTOCOL.md §5);
///         2. otherwise, a signer with code: ERC-1271;
///         3. otherwise ecrecover of a 65-byte r || s || v.
///         ERC-1271 counts as yes only when the call succeeds and its first 32 bytes are the ABI-encoded magic
///         value 0x1626ba7e (a fallback echoing its calldata, which starts with the selector, is a no).
contract ValidateSigOffchain {
    bytes32 private constant ERC6492_SUFFIX = 0x6492649264926492649264926492649264926492649264926492649264926492;
    bytes4 private constant ERC1271_MAGIC = 0x1626ba7e; // isValidSignature(bytes32,bytes)

    constructor(address signer, bytes32 hash, bytes memory signature) {
        bool valid = _isValid(signer, hash, signature);
        assembly {
            mstore(0, valid)
            return(31, 1)
        }
    }

    function _isValid(address signer, bytes32 hash, bytes memory signature) private returns (bool) {
        if (_isWrapped(signature)) {
            assembly {
                mstore(signature, sub(mload(signature), 32)) // drop the suffix in place
            }
            (address factory, bytes memory factoryCalldata, bytes memory inner) = abi.decode(signature, (address, bytes, bytes));
            if (signer.code.length > 0) return _erc1271(signer, hash, inner); // never a factory call on code
            _callFactory(factory, factoryCalldata);
            return signer.code.length > 0 && _erc1271(signer, hash, inner);
        }
        if (signer.code.length > 0) return _erc1271(signer, hash, signature);
        return _ecrecover(signer, hash, signature);
    }

    function _isWrapped(bytes memory signature) private pure returns (bool wrapped) {
        if (signature.length < 32) return false;
        bytes32 tail;
        assembly {
            tail := mload(add(signature, mload(signature)))
        }
        return tail == ERC6492_SUFFIX;
    }

    function _callFactory(address factory, bytes memory factoryCalldata) private {
        // The factory's own result does not matter: what counts is whether the signer then has code and accepts.
        (bool ok, ) = factory.call(factoryCalldata);
        ok;
    }

    function _erc1271(address signer, bytes32 hash, bytes memory signature) private view returns (bool) {
        (bool ok, bytes memory answer) = signer.staticcall(abi.encodeWithSelector(ERC1271_MAGIC, hash, signature));
        return ok && answer.length >= 32 && abi.decode(answer, (bytes32)) == bytes32(ERC1271_MAGIC);
    }

    function _ecrecover(address signer, bytes32 hash, bytes memory signature) private pure returns (bool) {
        if (signature.length != 65) return false;
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := mload(add(signature, 32))
            s := mload(add(signature, 64))
            v := byte(0, mload(add(signature, 96)))
        }
        if (v < 27) v += 27;
        if (v != 27 && v != 28) return false;
        address recovered = ecrecover(hash, v, r, s);
        return recovered != address(0) && recovered == signer;
    }
}
