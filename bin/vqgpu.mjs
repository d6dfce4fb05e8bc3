#!/usr/bin/env node
// The `vqgpu` command: runs the bundled CLI (dist/node/cli.mjs), building it first if it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'node', 'cli.mjs');
if (!existsSync(cli)) {
  const r = spawnSync(process.execPath, [join(root, 'build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0 || !existsSync(cli)) {
    console.error('vqgpu: could not build dist/node/cli.mjs (run `npm run build` to see why).');
    process.exit(1);
  }
}
await import(pathToFileURL(cli).href);
