// npm run size: what a dapp pays for each entry point. Builds, with esbuild, one tiny browser app per entry that imports
// that entry alone (every name it exports, kept alive so nothing is shaken out), minified and bundled as a dapp's
// bundler would, and gzips it; then an app importing viem's createPublicClient/verifyMessage beside our verify, which
// must bundle one copy of each @noble/* package (counted in esbuild's metafile). Prints JSON
// {entry: {min, gzip}} (bytes; the viem app also carries its `noble` copy counts) and exits 1 when a target is missed.
//   node scripts/size.js [--entry NAME]...
import { build } from 'esbuild';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = resolve(here, '..');
const PACKAGE = '@dmtp/key-registry-client';
const KB = 1024;

/**
 * Each app: the source that imports one entry alone; its gzip target in bytes (none: measured, not held); `noNoble`:
 * it must bundle no @noble code at all; `singleNoble`: one copy of each @noble package (with viem beside it).
 */
export const APPS = {
  lookup: { source: `import * as entry from '${PACKAGE}/lookup';\nglobalThis.dmtp = entry;\n`, gzipTarget: 3 * KB, noNoble: true },
  verify: { source: `import * as entry from '${PACKAGE}/verify';\nglobalThis.dmtp = entry;\n`, gzipTarget: 20 * KB },
  register: { source: `import * as entry from '${PACKAGE}/register';\nglobalThis.dmtp = entry;\n` },
  envelopes: { source: `import * as entry from '${PACKAGE}/envelopes';\nglobalThis.dmtp = entry;\n` },
  log: { source: `import * as entry from '${PACKAGE}/log';\nglobalThis.dmtp = entry;\n` },
  abi: { source: `import * as entry from '${PACKAGE}/abi';\nglobalThis.dmtp = entry;\n`, noNoble: true },
  everything: { source: `import * as entry from '${PACKAGE}';\nglobalThis.dmtp = entry;\n`, gzipTarget: 45 * KB },
  // The root entry stays shakable (no module runs code when loaded): one name from it costs what its subpath costs.
  'lookup from the root': { source: `import { lookup } from '${PACKAGE}';\nglobalThis.dmtp = { lookup };\n`, gzipTarget: 3 * KB, noNoble: true },
  'checksumAddress from the root': { source: `import { checksumAddress } from '${PACKAGE}';\nglobalThis.dmtp = { checksumAddress };\n` },
  'viem+verify': {
    source: `import { createPublicClient, http, verifyMessage } from 'viem';\nimport { verify } from '${PACKAGE}/verify';\n`
      + 'globalThis.dmtp = { createPublicClient, http, verifyMessage, verify };\n',
    needs: 'viem',
    singleNoble: true,
  },
};

/**
 * How many copies of each @noble package put code into the bundle: the distinct package roots
 * (…/node_modules/@noble/NAME) among esbuild's metafile inputs with bytes in the output (an input whose code was all
 * shaken out is listed with 0 bytes, and does not count).
 */
export function nobleCopies(metafile) {
  const roots = {};
  const inOutput = Object.values(metafile.outputs).flatMap((output) => Object.entries(output.inputs).filter(([, used]) => used.bytesInOutput > 0).map(([input]) => input));
  for (const input of inOutput) {
    const match = /^(.*node_modules[\\/]@noble[\\/]([^\\/]+))[\\/]/.exec(input);
    if (!match) continue;
    (roots[match[2]] ??= new Set()).add(match[1]);
  }
  return Object.fromEntries(Object.entries(roots).map(([name, found]) => [name, found.size]));
}

/** A scratch directory whose node_modules holds this package (and viem, when installed here), as a dapp would. */
function scratchApp() {
  const dir = mkdtempSync(join(tmpdir(), 'dmtp-size-'));
  mkdirSync(join(dir, 'node_modules', '@dmtp'), { recursive: true });
  symlinkSync(packageDir, join(dir, 'node_modules', ...PACKAGE.split('/')), 'dir');
  const viem = join(packageDir, 'node_modules', 'viem');
  if (existsSync(viem)) symlinkSync(viem, join(dir, 'node_modules', 'viem'), 'dir');
  return dir;
}

async function measure(dir, name, app) {
  const entry = join(dir, `${name.replace(/[^a-z]/g, '-')}.js`);
  writeFileSync(entry, app.source);
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: dir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  const figures = { min: code.length, gzip: gzipSync(code, { level: 9 }).length };
  const noble = nobleCopies(result.metafile);
  if (app.singleNoble) figures.noble = noble;
  return { figures, noble };
}

/**
 * `{figures, misses, noble}`: the sizes of the apps named (all by default) as printed, the targets they miss, and
 * for each app the copies of each @noble package it bundled.
 */
export async function measureAll(names = Object.keys(APPS)) {
  const dir = scratchApp();
  const figures = {};
  const misses = [];
  const noble = {};
  try {
    for (const name of names) {
      const app = APPS[name];
      if (!app) throw new Error(`no app ${name}; one of ${Object.keys(APPS).join(', ')}`);
      if (app.needs && !existsSync(join(packageDir, 'node_modules', app.needs))) {
        misses.push(`${name}: ${app.needs} is not installed in ${packageDir}${sep}node_modules (npm ci)`);
        continue;
      }
      ({ figures: figures[name], noble: noble[name] } = await measure(dir, name, app));
      if (app.noNoble && Object.keys(noble[name]).length) misses.push(`${name}: bundles @noble/${Object.keys(noble[name]).join(', @noble/')}`);
      if (app.gzipTarget && figures[name].gzip > app.gzipTarget) {
        misses.push(`${name}: ${figures[name].gzip} bytes gzipped, over its target of ${app.gzipTarget}`);
      }
      if (app.singleNoble) {
        for (const [noble, copies] of Object.entries(figures[name].noble)) {
          if (copies !== 1) misses.push(`${name}: ${copies} copies of @noble/${noble} bundled`);
        }
        if (!figures[name].noble.curves) misses.push(`${name}: no @noble/curves bundled at all (is viem's verifyMessage in?)`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { figures, misses, noble };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const names = args.flatMap((arg, i) => (args[i - 1] === '--entry' ? [arg] : []));
  const { figures, misses } = await measureAll(names.length ? names : undefined);
  console.log(JSON.stringify(figures, null, 2));
  for (const miss of misses) console.error(`target missed: ${miss}`);
  process.exit(misses.length ? 1 : 0);
}
