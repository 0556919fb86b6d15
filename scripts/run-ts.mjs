#!/usr/bin/env node
// Runs a TypeScript script of this repository (scripts/*.ts): bundles it with esbuild into
// .cache/scripts/ (npm packages and 'lstm-vae' itself stay external: 'lstm-vae' resolves to this
// package's dist/ through its own `exports`), then imports it. Usage: node scripts/run-ts.mjs file.ts [args...]
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const entry = process.argv[2];
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs <script.ts> [args...]');
  process.exit(2);
}
const outdir = resolve(root, '.cache', 'scripts');
mkdirSync(outdir, { recursive: true });
const outfile = resolve(outdir, basename(entry).replace(/\.ts$/, '') + '.mjs');
await build({
  entryPoints: [resolve(entry)],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
process.argv.splice(2, 1); // the script sees its own arguments from argv[2]
await import(pathToFileURL(outfile).href);
