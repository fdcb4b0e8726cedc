// npm's prepack (npm pack, npm publish): copies the repository's docs/PROTOCOL.md and the test vectors it links,
// docs/protocol-vectors.json, into this package's docs/, so the README's links work in the tarball and on the
// registry's page. The copies are not committed (.gitignore); the repository's docs/ are the ones to edit.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(resolve(packageDir, 'docs'), { recursive: true });
for (const name of ['PROTOCOL.md', 'protocol-vectors.json']) {
  copyFileSync(resolve(packageDir, '../../docs', name), resolve(packageDir, 'docs', name));
}
