// npm run build: the browser bundle of the whole client, one minified ES module with no imports, written to
// chalicelib/api/static/dmtp-client.js (committed, so `chalice deploy` ships it without a build step). Prints its
// minified and minified+gzipped sizes and fails above the budget.
//   node scripts/build.js [--outfile PATH] [--json]
import { build } from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = resolve(here, '..');
const BUDGET_GZIP_BYTES = 60 * 1024;
const args = process.argv.slice(2);
const outIndex = args.indexOf('--outfile');
const outfile = outIndex >= 0 ? resolve(args[outIndex + 1]) : resolve(packageDir, '../../chalicelib/api/static/dmtp-client.js');
const { version } = JSON.parse(readFileSync(resolve(packageDir, 'package.json'), 'utf8'));

const result = await build({
  entryPoints: [resolve(packageDir, 'src/index.js')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  legalComments: 'eof',
  banner: { js: `// @dmtp/key-registry-client ${version}: built by clients/js/scripts/build.js (npm run build); do not edit.` },
  write: false,
  logLevel: 'warning',
});
const code = result.outputFiles[0].contents;
mkdirSync(dirname(outfile), { recursive: true });
writeFileSync(outfile, code);
const gzipBytes = gzipSync(code, { level: 9 }).length;
const figures = { outfile, minifiedBytes: code.length, gzipBytes, budgetGzipBytes: BUDGET_GZIP_BYTES };
if (args.includes('--json')) console.log(JSON.stringify(figures));
else console.log(`${outfile}: ${code.length} bytes minified, ${gzipBytes} bytes (${(gzipBytes / 1024).toFixed(1)} KB) minified+gzipped; budget ${BUDGET_GZIP_BYTES / 1024} KB`);
if (gzipBytes > BUDGET_GZIP_BYTES) {
  console.error(`the bundle is over budget: ${gzipBytes} > ${BUDGET_GZIP_BYTES} bytes gzipped`);
  process.exit(1);
}
