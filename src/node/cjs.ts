// The CommonJS packages of the Node entry (pngjs, jpeg-js), loaded with Node's own `require` at
// their first use rather than imported at the top: a project that bundles vqgpu's Node entry
// (esbuild, format esm) would otherwise inline them, and their `require('util')`/`require('zlib')`
// cannot run inside an ES-module bundle. Resolved from where vqgpu is installed, like any dependency.

import { createRequire } from 'node:module';

const requireCjs = createRequire(import.meta.url);
let png: typeof import('pngjs') | null = null;
let jpeg: typeof import('jpeg-js') | null = null;

export const pngjs = (): typeof import('pngjs') => (png ??= requireCjs('pngjs') as typeof import('pngjs'));
export const jpegjs = (): typeof import('jpeg-js') => (jpeg ??= requireCjs('jpeg-js') as typeof import('jpeg-js'));
