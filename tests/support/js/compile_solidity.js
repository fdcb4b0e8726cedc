'use strict';
// Compile one Solidity file with the pinned solc-js (same settings as infra/compile_contract.js):
//   {"path": "tests/contracts/X.sol", "contracts": ["X", ...]} -> {"X": {"abi", "bytecode"}, ...}
const fs = require('fs');
const path = require('path');
const solc = require('solc');
const { run } = require('./_stdio');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

run(async ({ path: source, contracts }) => {
  const unit = path.basename(source);
  const input = {
    language: 'Solidity',
    sources: { [unit]: { content: fs.readFileSync(path.join(REPO_ROOT, source), 'utf8') } },
    settings: {
      evmVersion: 'cancun',
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { [unit]: { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors || []).filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage || e.message).join('\n'));
  const answer = {};
  for (const name of contracts) {
    const compiled = (output.contracts[unit] || {})[name];
    if (!compiled) throw new Error(`no contract ${name} in ${source}`);
    answer[name] = { abi: compiled.abi, bytecode: '0x' + compiled.evm.bytecode.object };
  }
  return answer;
});
