#!/usr/bin/env node
// Compile infra/contracts/<Name>.sol with the pinned solc-js and write the
// artifact packages/dmtp-protocol/src/dmtp_protocol/contracts/<Name>.json (or print it with --stdout).
// Contracts: DMTPKeys (the default; the registry) and ValidateSigOffchain
// (ERC-6492 deployless signature validation, run through eth_call by the API).
//
// Usage: node infra/compile_contract.js [DMTPKeys|ValidateSigOffchain] [--stdout]
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const REPO_ROOT = path.resolve(__dirname, '..');
const CONTRACTS = ['DMTPKeys', 'ValidateSigOffchain'];
let CONTRACT_NAME = 'DMTPKeys';
let SOURCE_PATH = 'infra/contracts/DMTPKeys.sol'; // relative to REPO_ROOT
let ARTIFACT_PATH = 'packages/dmtp-protocol/src/dmtp_protocol/contracts/DMTPKeys.json'; // relative to REPO_ROOT
// Fixed source unit name: it ends up in the metadata (and so in the bytecode's
// metadata hash), so it must not depend on where the script is run from.
let SOURCE_UNIT = 'DMTPKeys.sol';

function select(name) {
  CONTRACT_NAME = name;
  SOURCE_PATH = `infra/contracts/${name}.sol`;
  ARTIFACT_PATH = `packages/dmtp-protocol/src/dmtp_protocol/contracts/${name}.json`;
  SOURCE_UNIT = `${name}.sol`;
}
const SETTINGS = {
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 200 },
};

// Recursively sort object keys so the JSON output is stable.
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys(value[k]);
    return out;
  }
  return value;
}

function compile() {
  const sourceBytes = fs.readFileSync(path.join(REPO_ROOT, SOURCE_PATH));
  const input = {
    language: 'Solidity',
    sources: { [SOURCE_UNIT]: { content: sourceBytes.toString('utf8') } },
    settings: {
      ...SETTINGS,
      outputSelection: {
        [SOURCE_UNIT]: {
          [CONTRACT_NAME]: ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'],
        },
      },
    },
  };

  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const diagnostics = output.errors || [];
  const errors = diagnostics.filter((d) => d.severity === 'error');
  for (const d of diagnostics.filter((d) => d.severity !== 'error')) {
    process.stderr.write(d.formattedMessage || d.message);
    process.stderr.write('\n');
  }
  if (errors.length) {
    for (const e of errors) {
      process.stderr.write(e.formattedMessage || e.message);
      process.stderr.write('\n');
    }
    process.stderr.write(`compile_contract: ${errors.length} error(s)\n`);
    process.exit(1);
  }

  const contract = ((output.contracts || {})[SOURCE_UNIT] || {})[CONTRACT_NAME];
  if (!contract || !contract.evm || !contract.evm.bytecode.object) {
    process.stderr.write(`compile_contract: no bytecode for ${CONTRACT_NAME}\n`);
    process.exit(1);
  }

  const artifact = {
    contractName: CONTRACT_NAME,
    abi: contract.abi,
    bytecode: '0x' + contract.evm.bytecode.object,
    deployedBytecode: '0x' + contract.evm.deployedBytecode.object,
    compiler: { name: 'solc-js', version: solc.version() },
    settings: SETTINGS,
    sourcePath: SOURCE_PATH,
    sourceSha256: crypto.createHash('sha256').update(sourceBytes).digest('hex'),
  };
  return JSON.stringify(sortKeys(artifact), null, 2) + '\n';
}

function main(argv) {
  const names = argv.filter((a) => CONTRACTS.includes(a));
  const unknown = argv.filter((a) => a !== '--stdout' && !CONTRACTS.includes(a));
  if (unknown.length || names.length > 1) {
    process.stderr.write(`usage: node infra/compile_contract.js [${CONTRACTS.join('|')}] [--stdout]\n`);
    process.exit(2);
  }
  if (names.length) select(names[0]);
  const text = compile();
  if (argv.includes('--stdout')) {
    process.stdout.write(text);
    return;
  }
  const dest = path.join(REPO_ROOT, ARTIFACT_PATH);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.writeFileSync(dest, text);
  process.stderr.write(`wrote ${ARTIFACT_PATH}\n`);
}

main(process.argv.slice(2));
