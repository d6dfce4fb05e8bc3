// vqgpu as a library, as another project gets it: `npm pack` (its prepack script builds the Node
// and browser bundles and the declarations), the tarball installed into a temporary project, and
// every script of examples/ (each imports only 'vqgpu') type-checked with tsc against the installed
// declarations and run under Node for a few steps (each throws unless its loss falls), and
// train-tiny bundled with esbuild for Node (run too) and for the browser.
//
// Offline: the temporary project declares each of vqgpu's dependencies (and @types/node for the
// type check) as `file:` links into this repository's node_modules, so npm, with --offline and an
// empty cache of its own, finds every package on disk and fetches nothing. After `npm run setup`
// (npm ci) those folders exist in any clone; webgpu's native binding comes with them.

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const EXAMPLE = 'train-tiny';
/** every script of examples/ (each imports only 'vqgpu'), type-checked and run against the installed package */
const EXAMPLES = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));

/** The environment without the npm_* variables of an enclosing `npm test` (its prefix, its cache). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`\`${cmd} ${args.join(' ')}\` in ${cwd} exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Every file under `dir`, relative to it ('/'-separated). */
function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p, base) : [relative(base, p).split('\\').join('/')];
  });
}

let tmp = '';
let app = '';

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'vqgpu-package-'));
  app = join(tmp, 'app');
  run(npm, ['pack', '--pack-destination', tmp, '--loglevel', 'error'], root);
  const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${tmp}`);
  const link = (name: string) => {
    const dir = join(root, 'node_modules', name);
    if (!existsSync(dir)) throw new Error(`${dir} is missing: run \`npm run setup\` first.`);
    return `file:${dir}`;
  };
  const deps = Object.fromEntries([...Object.keys(pkg.dependencies), '@types/node'].map((n) => [n, link(n)]));
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'vqgpu-consumer', private: true, type: 'module', dependencies: deps }, null, 2));
  run(npm, ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--cache', join(tmp, 'npm-cache'), '--loglevel', 'error', join(tmp, tarball)], app);
  for (const e of EXAMPLES) copyFileSync(join(root, 'examples', `${e}.ts`), join(app, `${e}.ts`));
}, 180_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('holds the bundles and declarations, and nothing of runs/, sources or tests', () => {
    const files = filesUnder(join(app, 'node_modules', 'vqgpu'));
    for (const f of ['package.json', 'dist/node/vqgpu.mjs', 'dist/web/vqgpu.js', 'dist/types/index.d.ts', 'dist/node/cli.mjs', 'bin/vqgpu.mjs']) {
      expect(files).toContain(f);
    }
    const stray = files.filter((f) => /^(src|kernels-test|runs|models|examples|bench|shaders|scripts)\/|\.(safetensors|ts)$/.test(f) && !f.endsWith('.d.ts'));
    expect(stray).toEqual([]);
    const bytes = files.reduce((n, f) => n + statSync(join(app, 'node_modules', 'vqgpu', f)).size, 0);
    expect(bytes).toBeLessThan(8 * 1024 * 1024);
  });

  it('type-checks the examples against the declarations (tsc, strict) and runs train-tiny under Node', () => {
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true,
        // @webgpu/types (WebGPU's global types, which vqgpu's declarations use) needs the DOM lib.
        lib: ['ES2022', 'DOM'], types: ['node'], skipLibCheck: false, noEmitOnError: true, outDir: 'out',
      },
      files: EXAMPLES.map((e) => `${e}.ts`),
    }, null, 2));
    run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], app);
    const r = run(process.execPath, [join('out', `${EXAMPLE}.js`)], app);
    expect(r.stdout).toMatch(/loss \d+\.\d+ → \d+\.\d+/);
  });

  it('runs the other examples for a few steps: classify-emoji, char-transformer, sample-reference', () => {
    expect(EXAMPLES).toEqual(expect.arrayContaining(['classify-emoji', 'char-transformer', 'sample-reference']));
    const cls = run(process.execPath, [join('out', 'classify-emoji.js'), '15'], app).stdout;
    expect(cls).toMatch(/held-out accuracy \d+\.\d% \(164 images\)/);
    const chr = run(process.execPath, [join('out', 'char-transformer.js'), '20'], app).stdout;
    expect(chr).toMatch(/sample: the .{100,}/);
    const png = join(app, 'samples.png');
    const smp = run(process.execPath, [join('out', 'sample-reference.js'), join(root, 'models', 'emoji-32'), png], app).stdout;
    expect(smp).toMatch(/classes: Activities, .*Flags/);
    expect(smp).toContain('18 images of 32×32 px');
    expect(statSync(png).size).toBeGreaterThan(10_000);
  });

  it('bundles with esbuild: the Node entry for platform node (and runs), the browser entry for the browser', async () => {
    for (const platform of ['node', 'browser'] as const) {
      const out = join(app, `bundle-${platform}.mjs`);
      const r = await esbuild.build({
        entryPoints: [join(app, `${EXAMPLE}.ts`)], absWorkingDir: app, bundle: true, format: 'esm', platform,
        target: 'es2022', outfile: out, metafile: true, logLevel: 'silent',
      });
      const vq = Object.keys(r.metafile.inputs).filter((p) => p.includes('node_modules/vqgpu/'));
      expect(vq).toEqual([platform === 'node' ? 'node_modules/vqgpu/dist/node/vqgpu.mjs' : 'node_modules/vqgpu/dist/web/vqgpu.js']);
    }
    expect(run(process.execPath, ['bundle-node.mjs'], app).stdout).toMatch(/loss \d+\.\d+ → \d+\.\d+/);
    // a browser has no `process`: the browser bundle must not reach for it (a Node-only toggle left in
    // a kernel choice would throw there)
    const web = readFileSync(join(app, 'node_modules/vqgpu/dist/web/vqgpu.js'), 'utf8');
    expect(web.match(/\bprocess\.(env|argv|platform|cwd|exit)\b[^\n]{0,60}/g) ?? []).toEqual([]);
  });
});
