#!/usr/bin/env node
// `npm run web [-- --port N] [-- --no-build]`: builds (node build.mjs), then serves dist/web/ — the
// page of examples/web/ and the reference models the build copied from models/ (dist/web/models/,
// listed in models/index.json) — at http://127.0.0.1:PORT/ and prints the address.
// WebGPU exists only in secure contexts: 127.0.0.1/localhost over http qualifies, a LAN address does
// not, hence the loopback host. node:http only; no caching (a rebuild shows on reload).
// Also imported by the browser test (`serveStatic`).

import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_DIR = join(root, 'dist', 'web');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};

/** The file a URL path names under `dir` (index.html for folders), or null outside it / missing. */
function resolvePath(dir, urlPath) {
  let rel;
  try {
    rel = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return null;
  }
  const file = normalize(join(dir, rel));
  if (file !== dir && !file.startsWith(dir + sep)) return null;
  if (!existsSync(file)) return null;
  const st = statSync(file);
  if (st.isDirectory()) return existsSync(join(file, 'index.html')) ? join(file, 'index.html') : null;
  return st.isFile() ? file : null;
}

/**
 * Serves the files of `dir` on host:port (port 0: any free one). Resolves to the server and its
 * address once it listens.
 */
export function serveStatic(dir = WEB_DIR, { host = '127.0.0.1', port = 8080 } = {}) {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const file = resolvePath(dir, req.url ?? '/');
    if (!file) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`404: ${req.url} is not here\n`);
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size,
      'Cache-Control': 'no-store',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address();
      resolve({ server, url: `http://${host}:${a.port}/` });
    });
  });
}

async function main(argv) {
  let port = Number(process.env.PORT ?? 8080);
  let build = true;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port') port = Number(argv[++i]);
    else if (argv[i].startsWith('--port=')) port = Number(argv[i].slice(7));
    else if (argv[i] === '--no-build') build = false;
    else {
      console.error(`usage: npm run web [-- --port N] [-- --no-build]   (unknown argument '${argv[i]}')`);
      return 2;
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve-web: --port must be an integer in 0..65535, got '${port}'.`);
    return 2;
  }
  if (build) {
    const r = spawnSync(process.execPath, [join(root, 'build.mjs')], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) return r.status ?? 1;
  }
  if (!existsSync(join(WEB_DIR, 'index.html'))) {
    console.error(`serve-web: ${WEB_DIR}/index.html is missing; run \`node build.mjs\` first.`);
    return 1;
  }
  // A busy port: try the next few before giving up.
  for (let p = port, tries = 0; ; p++, tries++) {
    try {
      const { url } = await serveStatic(WEB_DIR, { port: p });
      console.log(`vqgpu web page: ${url}  (serving ${WEB_DIR}; Ctrl-C stops)`);
      return null;
    } catch (e) {
      if (e.code !== 'EADDRINUSE' || port === 0 || tries >= 20) throw e;
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== null) process.exit(code);
    },
    (e) => {
      console.error(e?.message ?? e);
      process.exit(1);
    },
  );
}
