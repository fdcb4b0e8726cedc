// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// A stand-in for the OP-stack GasPriceOracle predeploy (0x420000000000000000000000000000000000000F), placed at
/// that address on Anvil with anvil_setCode. It implements the predeploy's Ecotone fee formula
/// (optimism/packages/contracts-bedrock/src/L2/GasPriceOracle.sol, _getL1FeeEcotone and _getCalldataGas) and its
/// Fjord getL1FeeUpperBound; the real contract reads l1BaseFee, blobBaseFee and the scalars from the L1Block
/// predeploy, this one from its own storage, which a test sets with setFees. The real getL1Fee on Fjord compresses
/// the transaction with FastLZ first, which gives a smaller number for compressible data: the Ecotone count is the
/// conservative one.
contract GasPriceOracle {
    uint256 public constant DECIMALS = 6;

    uint256 public l1BaseFee;
    uint256 public blobBaseFee;
    uint32 public baseFeeScalar;
    uint32 public blobBaseFeeScalar;

    function setFees(uint256 l1BaseFee_, uint256 blobBaseFee_, uint32 baseFeeScalar_, uint32 blobBaseFeeScalar_) external {
        l1BaseFee = l1BaseFee_;
        blobBaseFee = blobBaseFee_;
        baseFeeScalar = baseFeeScalar_;
        blobBaseFeeScalar = blobBaseFeeScalar_;
    }

    function decimals() external pure returns (uint256) {
        return DECIMALS;
    }

    /// The L1 data fee of a transaction whose unsigned RLP encoding is `_data` (Ecotone).
    function getL1Fee(bytes memory _data) external view returns (uint256) {
        uint256 l1GasUsed = getL1GasUsed(_data);
        uint256 scaledBaseFee = uint256(baseFeeScalar) * 16 * l1BaseFee;
        uint256 scaledBlobBaseFee = uint256(blobBaseFeeScalar) * blobBaseFee;
        return (l1GasUsed * (scaledBaseFee + scaledBlobBaseFee)) / (16 * 10 ** DECIMALS);
    }

    /// Calldata gas of the transaction plus 68 bytes of signature, 16 gas a non-zero byte and 4 a zero byte.
    function getL1GasUsed(bytes memory _data) public pure returns (uint256) {
        uint256 total = 0;
        for (uint256 i = 0; i < _data.length; i++) {
            total += _data[i] == 0 ? 4 : 16;
        }
        return total + (68 * 16);
    }

    /// Fjord: an upper bound of the L1 fee of an unsigned transaction of `_unsignedTxSize` bytes.
    function getL1FeeUpperBound(uint256 _unsignedTxSize) external view returns (uint256) {
        uint256 txSize = _unsignedTxSize + 68;
        uint256 flzUpperBound = txSize + txSize / 255 + 16;
        // Fjord's linear regression: max(100, -42.5856 + 0.836500 * size) in 1e6 units, then the scaled fees.
        int256 estimate = -42_585_600 + 836_500 * int256(flzUpperBound);
        uint256 estimatedSize = estimate < 100_000_000 ? 100_000_000 : uint256(estimate);
        uint256 feeScaled = uint256(baseFeeScalar) * 16 * l1BaseFee + uint256(blobBaseFeeScalar) * blobBaseFee;
        return (estimatedSize * feeScaled) / (10 ** (DECIMALS * 2));
    }
}
