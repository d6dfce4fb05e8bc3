#!/usr/bin/env node
// `node scripts/gpu-pack.mjs`: packs what scripts/gpu-measure.sh needs on a GPU machine that has no
// network and no Node.js (a lent H200 with a CUDA/Python image): everything lands in .gpu/ (git-ignored),
// about 50 MB, small enough to travel beside the working tree.
//   .gpu/node.xz         this Node binary, xz-compressed (99 MB → ~24 MB)
//   .gpu/modules.tar.xz  node_modules without what cannot or need not travel: the Dawn builds of other
//                        platforms, the emoji sizes other than 64 px, TypeScript; TF.js (296 MB as
//                        published) replaced by one esbuild bundle of tfjs + its WebGPU backend under
//                        the same package names, so the bench's TF.js peer still runs there
//   .gpu/PACKED          the commit and date this pack was made from
// Run it after `npm run setup`; on a machine with network, gpu-measure.sh runs `npm ci` instead.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.gpu');
const stage = join(out, 'stage');
const log = (m) => console.log(`[gpu-pack] ${m}`);

function sh(cmd) {
  const r = spawnSync('bash', ['-c', cmd], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`'${cmd}' failed (exit ${r.status})`);
}

if (!existsSync(join(root, 'node_modules/webgpu/dist/linux-x64/dawn.node'))) {
  console.error('[gpu-pack] node_modules/webgpu is missing: run `npm run setup` first.');
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(join(stage, '@tensorflow/tfjs'), { recursive: true });
mkdirSync(join(stage, '@tensorflow/tfjs-backend-webgpu'), { recursive: true });

// TF.js: one bundle exporting tfjs with the WebGPU backend registered (one copy of tfjs-core, so the
// backend registers where tf.setBackend looks); the backend's own package becomes an empty module.
const entry = join(stage, 'tfjs-entry.mjs');
writeFileSync(entry, "export * from '@tensorflow/tfjs';\nimport '@tensorflow/tfjs-backend-webgpu';\n");
await esbuild.build({
  entryPoints: [entry],
  bundle: true,
  platform: 'node',
  format: 'esm',
  mainFields: ['module', 'main'], // TF.js's ES modules: `export *` stays a list of named exports
  minify: true,
  // TF.js's Node paths call require('util') etc.: give the ESM bundle a real require.
  banner: { js: "import { createRequire as __vqgpuRequire } from 'node:module'; const require = __vqgpuRequire(import.meta.url);" },
  outfile: join(stage, '@tensorflow/tfjs/index.mjs'),
  nodePaths: [join(root, 'node_modules')],
  logLevel: 'warning',
});
rmSync(entry);
const pkg = (name, main) => JSON.stringify({ name, version: '0.0.0-gpu-pack', type: 'module', main, exports: { '.': `./${main}` } });
writeFileSync(join(stage, '@tensorflow/tfjs/package.json'), pkg('@tensorflow/tfjs', 'index.mjs'));
writeFileSync(join(stage, '@tensorflow/tfjs-backend-webgpu/package.json'), pkg('@tensorflow/tfjs-backend-webgpu', 'index.mjs'));
writeFileSync(join(stage, '@tensorflow/tfjs-backend-webgpu/index.mjs'), '// registered by @tensorflow/tfjs in this pack\n');
log('TF.js bundled');

const exclude = [
  './@tensorflow', './typescript', './core-js', './.cache',
  './webgpu/dist/darwin-universal', './webgpu/dist/win32-*', './webgpu/dist/linux-arm64',
  './emoji-datasource-twitter/img/twitter/16', './emoji-datasource-twitter/img/twitter/20',
  './emoji-datasource-twitter/img/twitter/32', './emoji-datasource-twitter/img/twitter/sheets*',
  './emoji-datasource-twitter/img/*/sheets*',
].map((p) => `--exclude='${p}'`).join(' ');
sh(`tar -cf .gpu/modules.tar -C node_modules ${exclude} . && tar -rf .gpu/modules.tar -C .gpu/stage ./@tensorflow && xz -T0 -6 .gpu/modules.tar`);
rmSync(stage, { recursive: true, force: true });
log('node_modules packed');
sh(`xz -T0 -6 -c "${process.execPath}" > .gpu/node.xz`);
log(`Node ${process.version} packed`);
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();
writeFileSync(join(out, 'PACKED'), `commit ${commit}, node ${process.version}, ${new Date().toISOString()}\n`);
sh('du -sh .gpu/*');
