#!/usr/bin/env node
// `npm run setup`: makes a machine ready to build and test vqgpu. Plain Node built-ins only (it
// runs before `npm ci`). Idempotent and quick when everything is already there.
//   1. `npm ci` when node_modules is missing or older than package-lock.json;
//   2. a WebGPU adapter for Node (Dawn): on Debian/Ubuntu as root, installs Mesa's lavapipe
//      (bookworm: from bookworm-backports, since bookworm's own Mesa 22.3 is refused by Dawn);
//   3. /usr/bin/chromium for the browser test project (Debian/Ubuntu as root).
// Elsewhere it prints the command lines to run. Exits non-zero if no adapter can be found.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LVP_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';
const t0 = Date.now();
const log = (msg) => console.log(`[setup] ${msg}`);

function fail(sentence) {
  console.error(`[setup] ERROR: ${sentence}`);
  process.exit(1);
}

function run(cmd, args, extraEnv = {}) {
  log(`$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', ...extraEnv },
  });
  if (r.error) fail(`\`${cmd} ${args.join(' ')}\` could not be started: ${r.error.message}.`);
  if (r.status !== 0) fail(`\`${cmd} ${args.join(' ')}\` failed with exit code ${r.status}.`);
}

// ---- 1. npm dependencies -------------------------------------------------------------------
function mtime(p) {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}
const lock = join(root, 'package-lock.json');
const nm = join(root, 'node_modules');
// npm writes node_modules/.package-lock.json at the end of every install. When it is older than
// package-lock.json, compare the two before reinstalling (npm install writes both within ms).
function nodeModulesStale() {
  const hidden = join(nm, '.package-lock.json');
  if (!existsSync(nm) || !existsSync(hidden)) return true;
  if (mtime(hidden) >= mtime(lock)) return false;
  try {
    const want = JSON.parse(readFileSync(lock, 'utf8')).packages ?? {};
    const have = JSON.parse(readFileSync(hidden, 'utf8')).packages ?? {};
    return Object.entries(want).some(([p, m]) => p !== '' && !m.optional && have[p]?.version !== m.version);
  } catch {
    return true;
  }
}
if (nodeModulesStale()) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  run(npm, ['ci', '--no-audit', '--no-fund']);
} else {
  log('node_modules is up to date (skipping npm ci)');
}

// ---- 2. WebGPU adapter (Node, Dawn) --------------------------------------------------------
const PROBE = `
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
const a = await gpu.requestAdapter();
if (!a) { console.log('NO_ADAPTER'); process.exit(2); }
const i = a.info || {};
console.log('ADAPTER ' + JSON.stringify({ vendor: i.vendor, architecture: i.architecture, description: i.description }));
process.exit(0);
`;

function probeAdapter() {
  const env = { ...process.env };
  if (!env.VK_ICD_FILENAMES && existsSync(LVP_ICD)) env.VK_ICD_FILENAMES = LVP_ICD;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = (r.stdout || '').split('\n').find((l) => l.startsWith('ADAPTER '));
  if (r.status === 0 && line) return { ok: true, info: JSON.parse(line.slice(8)) };
  const why = (r.stderr || '').split('\n').find((l) => /error|couldn't|cannot|not found/i.test(l) && !/^\s+at /.test(l))?.trim();
  return { ok: false, why: why || (r.stdout || '').trim() || `exit ${r.status}` };
}

const isDebian = existsSync('/etc/debian_version');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
function osRelease() {
  try {
    return Object.fromEntries(
      readFileSync('/etc/os-release', 'utf8')
        .split('\n')
        .map((l) => l.match(/^([A-Z_]+)=(.*)$/))
        .filter(Boolean)
        .map((m) => [m[1], m[2].replace(/^"|"$/g, '')]),
    );
  } catch {
    return {};
  }
}
const codename = osRelease().VERSION_CODENAME ?? '';
const bookworm = codename === 'bookworm';

function hasBackportsSource() {
  const files = ['/etc/apt/sources.list'];
  try {
    for (const f of readdirSync('/etc/apt/sources.list.d')) files.push(join('/etc/apt/sources.list.d', f));
  } catch {}
  return files.some((f) => {
    if (!/\.(list|sources)$/.test(f) && f !== '/etc/apt/sources.list') return false;
    try {
      return readFileSync(f, 'utf8')
        .split('\n')
        .some((l) => !l.trim().startsWith('#') && /bookworm-backports/.test(l));
    } catch {
      return false;
    }
  });
}

let aptUpdated = false;
function aptUpdate() {
  if (!aptUpdated) run('apt-get', ['update']);
  aptUpdated = true;
}

const lavapipeCmd = bookworm
  ? `echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list && ` +
    `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y -t bookworm-backports mesa-vulkan-drivers libvulkan1`
  : 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y mesa-vulkan-drivers libvulkan1';

let probe = probeAdapter();
if (!probe.ok) {
  log(`no WebGPU adapter yet (${probe.why})`);
  if (isDebian && isRoot) {
    if (bookworm) {
      if (!hasBackportsSource()) {
        const f = '/etc/apt/sources.list.d/bookworm-backports.list';
        writeFileSync(f, 'deb http://deb.debian.org/debian bookworm-backports main\n');
        log(`wrote ${f}`);
      }
      aptUpdate();
      run('apt-get', ['install', '-y', '-t', 'bookworm-backports', 'mesa-vulkan-drivers', 'libvulkan1']);
    } else {
      aptUpdate();
      run('apt-get', ['install', '-y', 'mesa-vulkan-drivers', 'libvulkan1']);
    }
    probe = probeAdapter();
  } else if (process.platform === 'linux') {
    log(`to install a CPU WebGPU driver (lavapipe), run as root:\n    ${isDebian ? lavapipeCmd : 'install Mesa Vulkan drivers (lavapipe) >= 23 and the Vulkan loader with your package manager'}`);
  }
}
if (!probe.ok) {
  fail(
    `No WebGPU adapter is available to Node (${probe.why}); install a Vulkan driver ` +
      `(e.g. Mesa lavapipe: ${isDebian ? lavapipeCmd : 'mesa-vulkan-drivers >= 23 and libvulkan1'}) and run \`npm run setup\` again.`,
  );
}
const d = probe.info;
log(`WebGPU adapter: ${[d.vendor, d.architecture, d.description].filter(Boolean).join(' / ') || '(no description)'}`);

// ---- 3. Chromium for the browser test project -----------------------------------------------
if (existsSync('/usr/bin/chromium')) {
  log('chromium: /usr/bin/chromium');
} else if (isDebian && isRoot) {
  aptUpdate();
  run('apt-get', ['install', '-y', 'chromium']);
  if (!existsSync('/usr/bin/chromium')) fail('`apt-get install chromium` did not provide /usr/bin/chromium.');
  log('chromium: installed /usr/bin/chromium');
} else {
  log(
    'WARNING: /usr/bin/chromium is missing, so the browser test project cannot run; install it with:\n' +
      `    ${isDebian ? 'sudo apt-get install -y chromium' : "your distribution's chromium package (it must provide /usr/bin/chromium)"}`,
  );
}

log(`ready (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
