// `npm run example -- NAME [ARGS...]`: runs examples/NAME.ts under Node. The example is bundled by
// esbuild into dist/examples/NAME.mjs with every package left external, so its `import ... from
// 'vqgpu'` resolves at run time through package.json's `exports` (Node's self-reference by package
// name) to dist/node/vqgpu.mjs, the build `npm run example` makes first — exactly the module another
// project gets from `npm install vqgpu`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...args] = process.argv.slice(2);
const names = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
if (!name || !names.includes(name)) {
  console.error(`usage: npm run example -- NAME [ARGS...], NAME one of: ${names.join(', ')}`);
  process.exit(2);
}
if (!existsSync(join(root, 'dist/node/vqgpu.mjs'))) {
  console.error('dist/node/vqgpu.mjs is missing: run `node build.mjs node` first.');
  process.exit(1);
}
const outfile = join(root, 'dist/examples', `${name}.mjs`);
await esbuild.build({
  entryPoints: [join(root, 'examples', `${name}.ts`)], outfile, bundle: true, format: 'esm', platform: 'node',
  target: 'node20', packages: 'external', external: ['vqgpu'], logLevel: 'warning', // (not tsconfig's path to src/)
});
const r = spawnSync(process.execPath, [outfile, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
