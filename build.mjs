// `node build.mjs [node|browser|page|types|all ...]`: builds vqgpu. Without arguments: the esbuild
// targets (node, browser, page; about a second); `types` runs tsc, so it is built only when named
// (`all`, `npm run build`, and `npm pack` through the `prepack` script).
//   Node:    src/node/index.ts → dist/node/vqgpu.mjs (the package's Node entry: src/index.ts's API
//            and the file-system helpers), src/cli.ts →
//            dist/node/cli.mjs, bench/index.ts → dist/node/bench.mjs (ESM; npm packages stay external)
//   Browser: src/index.ts → dist/web/vqgpu.js (the package's browser entry; ESM; fails if any
//            Node-only module would be bundled)
//   Page:    examples/web/main.ts → dist/web/main.js and the Train view's module worker
//            examples/web/train/worker.ts → dist/web/train-worker.js (same guard), with index.html,
//            style.css, the reference models (models/<set>/ → dist/web/models/, listed in
//            models/index.json; see scripts/model-sets.mjs), the emoji set packed for training
//            (dist/web/data/emoji.{json,pack}; scripts/emoji-pack.mjs) and TF.js's prebuilt modules
//            (vendor/) beside it; examples/web-minimal/index.html → dist/web/minimal/ (it imports
//            dist/web/vqgpu.js as it is)
//   Types:   tsc -p tsconfig.build.json → dist/types/**/*.d.ts (the package's `types`; incremental)
// Entries whose source does not exist yet are skipped. `.wgsl` files are imported as text.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { copyModelSets } from './scripts/model-sets.mjs';
import { writeEmojiPack } from './scripts/emoji-pack.mjs';

const root = dirname(fileURLToPath(import.meta.url));
const t0 = Date.now();
const at = (p) => join(root, p);

const common = {
  bundle: true,
  format: 'esm',
  sourcemap: true,
  loader: { '.wgsl': 'text' },
  logLevel: 'warning',
  absWorkingDir: root,
};

// Modules that exist only in Node: any that reach the browser bundle are an error. (src/device/gpu.ts
// loads `webgpu` through `import(variable)`, which esbuild leaves alone and never resolves.)
const NODE_ONLY = new Set([
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  'webgpu',
  'pngjs',
]);
const nodeOnlyGuard = {
  name: 'vqgpu-no-node-modules-in-browser',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      // Inside npm packages, esbuild's own resolution decides: a package's `browser` field maps its
      // Node-only requires away (TF.js), and one that does not fails the build as unresolvable.
      if (/[\\/]node_modules[\\/]/.test(args.importer)) return undefined;
      const base = args.path.startsWith('node:') ? args.path : args.path.split('/')[0];
      if (NODE_ONLY.has(args.path) || NODE_ONLY.has(base) || args.path.startsWith('node:')) {
        const from = args.importer ? relative(root, args.importer) : '(entry)';
        return {
          errors: [{ text: `Node-only module '${args.path}' imported by ${from} would end up in the browser bundle; keep Node code out of src/ paths reachable from src/index.ts (or load it through import(variable)).` }],
        };
      }
      return undefined;
    });
  },
};

const builds = [];
const nodeEntries = [
  ['src/node/index.ts', 'vqgpu'],
  ['src/cli.ts', 'cli'],
  ['bench/index.ts', 'bench'],
].filter(([src]) => existsSync(at(src)));
if (nodeEntries.length) {
  builds.push({
    target: 'node',
    label: `node: ${nodeEntries.map(([s, o]) => `${s} → dist/node/${o}.mjs`).join(', ')}`,
    options: {
      ...common,
      platform: 'node',
      target: 'node20',
      packages: 'external',
      entryPoints: Object.fromEntries(nodeEntries.map(([src, out]) => [out, at(src)])),
      outdir: at('dist/node'),
      outExtension: { '.js': '.mjs' },
    },
  });
}
if (existsSync(at('src/index.ts'))) {
  builds.push({
    target: 'browser',
    label: 'browser: src/index.ts → dist/web/vqgpu.js',
    options: {
      ...common,
      platform: 'browser',
      target: 'es2022',
      entryPoints: { vqgpu: at('src/index.ts') },
      outdir: at('dist/web'),
      external: ['webgpu'],
      plugins: [nodeOnlyGuard],
    },
  });
}

// The web page (examples/web): bundled from the same src/, under the same Node-only guard. TF.js
// (the benchmarks' peer, imported lazily by bench/tfjs.ts) is not bundled: its prebuilt ES modules
// are copied to dist/web/vendor/ and index.html's import map points the bare names there, so the
// build stays fast and the page loads TF.js only when a benchmark asks for it.
const PAGE_FILES = ['index.html', 'style.css'];
const TFJS_VENDOR = {
  'tf.fesm.min.js': 'node_modules/@tensorflow/tfjs/dist/tf.fesm.min.js',
  'tf-backend-webgpu.fesm.min.js': 'node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.fesm.min.js',
};
if (existsSync(at('examples/web/main.ts'))) {
  builds.push({
    target: 'page',
    label: 'page: examples/web/main.ts → dist/web/main.js, examples/web/train/worker.ts → dist/web/train-worker.js (+ index.html, style.css, models/, data/, vendor/ TF.js)',
    options: {
      ...common,
      platform: 'browser',
      target: 'es2022',
      entryPoints: { main: at('examples/web/main.ts'), 'train-worker': at('examples/web/train/worker.ts') },
      outdir: at('dist/web'),
      external: ['webgpu', '@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu'],
      plugins: [nodeOnlyGuard],
    },
  });
}

// Declarations for the package (tsc: type-checks src/index.ts's graph as it emits; seconds).
function buildTypes() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [tsc, '-p', at('tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tsc exited with ${code}`))));
  });
}
if (existsSync(at('tsconfig.build.json'))) {
  builds.push({ target: 'types', label: 'types: tsconfig.build.json → dist/types/**/*.d.ts', run: buildTypes });
}

const TARGETS = ['node', 'browser', 'page', 'types'];
const DEFAULT_TARGETS = ['node', 'browser', 'page'];
const args = process.argv.slice(2);
for (const t of args) {
  if (t !== 'all' && !TARGETS.includes(t)) {
    console.error(`[build] unknown target '${t}'; targets: ${TARGETS.join(', ')}, all`);
    process.exit(2);
  }
}
const only = args.includes('all') ? TARGETS : args.length ? args : DEFAULT_TARGETS;
// the page's minimal example (dist/web/minimal/) imports the library's browser bundle as it is
if (only.includes('page') && !only.includes('browser')) only.push('browser');
builds.splice(0, builds.length, ...builds.filter((b) => only.includes(b.target)));
const buildsPage = builds.some((b) => b.target === 'page');

if (!builds.length) {
  console.log('[build] nothing to build yet (no src/cli.ts, bench/index.ts or src/index.ts)');
  process.exit(0);
}
try {
  await Promise.all(builds.map((b) => (b.run ? b.run() : esbuild.build(b.options))));
} catch {
  // esbuild and tsc have already printed the errors
  console.error('[build] FAILED');
  process.exit(1);
}
if (buildsPage) {
  mkdirSync(at('dist/web'), { recursive: true });
  for (const f of PAGE_FILES) {
    if (existsSync(at(`examples/web/${f}`))) cpSync(at(`examples/web/${f}`), at(`dist/web/${f}`), { recursive: true });
  }
  // the minimal page (examples/web-minimal: no build step of its own; it imports dist/web/vqgpu.js)
  mkdirSync(at('dist/web/minimal'), { recursive: true });
  cpSync(at('examples/web-minimal/index.html'), at('dist/web/minimal/index.html'));
  // (without TF.js installed the benchmarks' TF.js columns read "–")
  for (const [name, src] of Object.entries(TFJS_VENDOR)) if (existsSync(at(src))) cpSync(at(src), at(`dist/web/vendor/${name}`));
  // (no models/: the page says so and offers the file pickers)
  const sets = copyModelSets(at('models'), at('dist/web/models'));
  const pack = writeEmojiPack(at('dist/web/data'));
  console.log(`[build] page data: ${pack ? `emoji (${pack.files} files, ${(pack.bytes / 1e6).toFixed(1)} MB${pack.cached ? ', already packed' : ''})` : 'none (emoji-datasource-twitter is not installed)'}`);
  console.log(`[build] page models: ${sets.length ? sets.map((s) => `${s.name} (${Object.keys(s.parts).join(', ')})`).join('; ') : 'none (no models/<set>/tokenizer)'}`);
}
for (const b of builds) console.log(`[build] ${b.label}`);
console.log(`[build] done in ${Date.now() - t0} ms`);
