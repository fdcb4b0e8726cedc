// ERC-6492 (smart wallets that sign before they are deployed): detect and build wrapped signatures, and the
// deployless validator call. VALIDATOR_BYTECODE is the creation code of infra/contracts/ValidateSigOffchain.sol, as
// in packages/dmtp-protocol/src/dmtp_protocol/contracts/ValidateSigOffchain.json (tests/e2e/test_js_client.py checks they are the same bytes).
import { concat, equalBytes, fromHex, toHex } from './bytes.js';
import { word } from './rpc.js';

export const ERC6492_SUFFIX = /* @__PURE__ */ fromHex('0x' + '6492'.repeat(16));
/** Gas the validator may burn: the signer chooses the factory, so this bounds what a hostile one costs. */
export const ERC6492_GAS_LIMIT = 3_000_000;
export const VALIDATOR_BYTECODE = /* @__PURE__ */ fromHex('0x'
  + '608060405234801561000f575f5ffd5b5060405161057438038061057483398101604081905261002e91610429565b5f6100'
  + '3a848484610045565b9050805f526001601ff35b5f61004f826100fe565b156100c7578151601f19810183525f9081908190'
  + '6100729086016020870161047e565b919450925090506001600160a01b0387163b1561009e5761009487878361013a565b93'
  + '505050506100f7565b6100a88383610222565b5f876001600160a01b03163b118015610094575061009487878361013a565b'
  + '6001600160a01b0384163b156100e9576100e284848461013a565b90506100f7565b6100f4848484610281565b90505b9392'
  + '505050565b5f60208251101561011057505f919050565b50805101517f649264926492649264926492649264926492649264'
  + '92649264926492649264921490565b5f5f5f856001600160a01b0316631626ba7e60e01b8686604051602401610162929190'
  + '6104df565b60408051601f198184030181529181526020820180516001600160e01b03166001600160e01b03199094169390'
  + '931790925290516101a0919061051b565b5f60405180830381855afa9150503d805f81146101d8576040519150601f19603f'
  + '3d011682016040523d82523d5f602084013e6101dd565b606091505b50915091508180156101f157506020815110155b8015'
  + '61021857508051630b135d3f60e11b906102169083016020908101908401610531565b145b9695505050505050565b5f8260'
  + '01600160a01b03168260405161023b919061051b565b5f604051808303815f865af19150503d805f81146102745760405191'
  + '50601f19603f3d011682016040523d82523d5f602084013e610279565b606091505b505050505050565b5f81516041146102'
  + '9257505f6100f7565b6020820151604083015160608401515f1a601b8110156102ba576102b7601b82610548565b90505b80'
  + '60ff16601b141580156102d257508060ff16601c14155b156102e2575f93505050506100f7565b604080515f808252602082'
  + '0180845289905260ff841692820192909252606081018590526080810184905260019060a001602060405160208103908084'
  + '0390855afa158015610333573d5f5f3e3d5ffd5b5050604051601f1901519150506001600160a01b03811615801590610369'
  + '5750876001600160a01b0316816001600160a01b0316145b98975050505050505050565b6001600160a01b03811681146103'
  + '89575f5ffd5b50565b634e487b7160e01b5f52604160045260245ffd5b5f82601f8301126103af575f5ffd5b815160016001'
  + '60401b038111156103c8576103c861038c565b604051601f8201601f19908116603f011681016001600160401b0381118282'
  + '1017156103f6576103f661038c565b60405281815283820160200185101561040d575f5ffd5b8160208501602083015e5f91'
  + '8101602001919091529392505050565b5f5f5f6060848603121561043b575f5ffd5b835161044681610375565b6020850151'
  + '604086015191945092506001600160401b03811115610468575f5ffd5b610474868287016103a0565b915050925092509256'
  + '5b5f5f5f60608486031215610490575f5ffd5b835161049b81610375565b60208501519093506001600160401b0381111561'
  + '04b6575f5ffd5b6104c2868287016103a0565b604086015190935090506001600160401b03811115610468575f5ffd5b8281'
  + '52604060208201525f82518060408401528060208501606085015e5f606082850101526060601f19601f8301168401019150'
  + '509392505050565b5f82518060208501845e5f920191825250919050565b5f60208284031215610541575f5ffd5b50519190'
  + '50565b60ff818116838216019081111561056d57634e487b7160e01b5f52601160045260245ffd5b9291505056fe');

/** Whether a signature (bytes) ends with the ERC-6492 magic suffix. */
export function isErc6492(signature) {
  return signature.length >= 32 && equalBytes(signature.subarray(signature.length - 32), ERC6492_SUFFIX);
}

function abiBytes(data) {
  return concat(word(data.length), data, new Uint8Array((32 - (data.length % 32)) % 32));
}

function addressWord(address) {
  return concat(new Uint8Array(12), fromHex(address));
}

/** abi.encode(address factory, bytes factoryCalldata, bytes signature) ++ magic suffix. */
export function wrapErc6492(factory, factoryCalldata, signature) {
  const calldata = abiBytes(factoryCalldata);
  return concat(addressWord(factory), word(96), word(96 + calldata.length), calldata, abiBytes(signature), ERC6492_SUFFIX);
}

/** The deployless eth_call data: creation code ++ abi.encode(address signer, bytes32 digest, bytes signature). */
export function validatorCallData(signer, digest, signature) {
  return concat(VALIDATOR_BYTECODE, addressWord(signer), digest, word(96), abiBytes(signature));
}

function wordAt(bytes, offset) {
  return offset + 32 <= bytes.length ? BigInt('0x' + toHex(bytes.subarray(offset, offset + 32))) : null;
}

/**
 * The signature a wrapped one carries for the wallet's own ERC-1271: the third member of abi.decode(address, bytes,
 * bytes) of what precedes the suffix, or null when the wrapping does not decode (the address word's high 12 bytes set,
 * or a `bytes` member not inside the wrapping). A wallet that already has code is asked with this signature alone,
 * and its factory call is never made (docs/PROTOCOL.md §5).
 */
export function erc6492InnerSignature(signature) {
  if (!isErc6492(signature) || signature.length < 64 || signature.subarray(0, 12).some((byte) => byte !== 0)) return null;
  const body = signature.subarray(0, signature.length - 32);
  const members = [];
  for (const head of [32, 64]) {
    const offset = wordAt(body, head);
    if (offset === null || offset + 32n > BigInt(body.length)) return null;
    const length = wordAt(body, Number(offset));
    if (length === null || offset + 32n + length > BigInt(body.length)) return null;
    members.push(body.slice(Number(offset) + 32, Number(offset) + 32 + Number(length)));
  }
  return members[1];
}
