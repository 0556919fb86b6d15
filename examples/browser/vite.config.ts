// The browser demo. It builds in two places:
// - inside the lstm-vae repository (examples/browser): `lstm-vae` is the package built there
//   (`npx tsup` in the repository root makes dist/), nothing to install. From the repository root:
//   `npx vite --config examples/browser/vite.config.ts` (dev) or `npx vite build --config …`;
// - copied anywhere else: `npm install` then `npx vite` / `npx vite build` / `npx vite preview` in the
//   folder; `lstm-vae` is the installed package (package.json: the published version, or a tarball
//   made by `npm pack`).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('../..', import.meta.url));

/** dist/index.js of the lstm-vae repository this folder is in, or undefined when it is not in one. */
function repositoryBuild(): string | undefined {
  let name: unknown;
  try {
    name = JSON.parse(readFileSync(`${repo}package.json`, 'utf8')).name;
  } catch {
    return undefined;
  }
  if (name !== 'lstm-vae') return undefined;
  const entry = `${repo}dist/index.js`;
  if (!existsSync(entry))
    throw new Error(`examples/browser uses the package built in this repository, and ${entry} is missing: run \`npx tsup\` in ${repo}`);
  return entry;
}
const local = repositoryBuild();

// Threads need a cross-origin-isolated page: SharedArrayBuffer for the kernels' shared memory.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: here,
  base: './',
  // In the repository: the package built there (package.json's `lstm-vae` dependency is for copies of this folder).
  resolve: local ? { alias: [{ find: /^lstm-vae$/, replacement: local }] } : {},
  // Pre-bundling would move lstm-vae's code away from its .wasm files (new URL('./wasm/…', import.meta.url)).
  optimizeDeps: { exclude: ['lstm-vae'] },
  worker: { format: 'es' },
  server: { headers: isolation, ...(local ? { fs: { allow: [repo] } } : {}) },
  preview: { headers: isolation },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // the sensor data set is a lazily loaded ~1.6 MB JSON chunk
    chunkSizeWarningLimit: 2000,
  },
});
