// npm run size's targets (scripts/size.js): what each entry point costs a dapp's browser bundle, minified and gzipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APPS, measureAll, nobleCopies } from '../scripts/size.js';

const KB = 1024;
const measured = await measureAll();

test('every entry point builds alone, and none misses its target', () => {
  assert.deepEqual(Object.keys(measured.figures), Object.keys(APPS));
  assert.deepEqual(measured.misses, []);
});

test('lookup alone is at most 3 KB gzipped and bundles no @noble code, from its subpath or from the root', () => {
  assert.ok(measured.figures.lookup.gzip <= 3 * KB, JSON.stringify(measured.figures.lookup));
  assert.deepEqual(measured.noble.lookup, {});
  assert.ok(measured.figures['lookup from the root'].gzip <= 3 * KB, JSON.stringify(measured.figures['lookup from the root']));
  assert.deepEqual(measured.noble['lookup from the root'], {});
});

test('verify alone is at most 20 KB gzipped, and everything at most 45 KB', () => {
  assert.ok(measured.figures.verify.gzip <= 20 * KB, JSON.stringify(measured.figures.verify));
  assert.ok(measured.figures.everything.gzip <= 45 * KB, JSON.stringify(measured.figures.everything));
  assert.ok(measured.figures.lookup.gzip < measured.figures.verify.gzip && measured.figures.verify.gzip < measured.figures.everything.gzip);
});

test('an app with viem’s createPublicClient and verifyMessage beside our verify bundles one copy of each @noble package', () => {
  assert.deepEqual(measured.noble['viem+verify'], { curves: 1, hashes: 1 });
});

test('copies are counted by package root, among the inputs that put bytes into the bundle', () => {
  const input = (root, file, bytesInOutput) => [`${root}/node_modules/@noble/curves/esm/${file}`, { bytesInOutput }];
  const metafile = (...inputs) => ({ inputs: {}, outputs: { 'out.js': { inputs: Object.fromEntries(inputs) } } });
  assert.deepEqual(nobleCopies(metafile(input('a', 'secp256k1.js', 10), input('a', 'abstract/modular.js', 5))), { curves: 1 });
  assert.deepEqual(nobleCopies(metafile(input('a', 'secp256k1.js', 10), input('a/node_modules/viem', 'secp256k1.js', 10))), { curves: 2 });
  assert.deepEqual(nobleCopies(metafile(input('a', 'secp256k1.js', 10), input('b', 'secp256k1.js', 0))), { curves: 1 });
});

test('npm run size prints {entry: {min, gzip}} as JSON and exits 0', () => {
  const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const done = spawnSync(process.execPath, ['scripts/size.js', '--entry', 'lookup', '--entry', 'abi'], { cwd: packageDir, encoding: 'utf8' });
  assert.equal(done.status, 0, done.stderr);
  const printed = JSON.parse(done.stdout);
  assert.deepEqual(Object.keys(printed), ['lookup', 'abi']);
  for (const figures of Object.values(printed)) assert.ok(Number.isInteger(figures.min) && figures.gzip > 0 && figures.gzip < figures.min);
});
