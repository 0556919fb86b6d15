// The browser demo. `npx vite --config examples/browser/vite.config.ts` (dev) or
// `npx vite build --config examples/browser/vite.config.ts` from the repository root, or
// `npx vite` / `npx vite build` / `npx vite preview` from this folder.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('../..', import.meta.url));

// Threads need a cross-origin-isolated page: SharedArrayBuffer for the kernels' shared memory.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: here,
  base: './',
  resolve: {
    // The package built in this repository (`npx tsup` makes dist/), so the example needs no install.
    // After `npm install` here ("lstm-vae": "file:../..") the import resolves to the same file.
    alias: [{ find: /^lstm-vae$/, replacement: fileURLToPath(new URL('../../dist/index.js', import.meta.url)) }],
  },
  // Pre-bundling would move lstm-vae's code away from its .wasm files (new URL('./wasm/…', import.meta.url)).
  optimizeDeps: { exclude: ['lstm-vae'] },
  worker: { format: 'es' },
  server: { headers: isolation, fs: { allow: [repo] } },
  preview: { headers: isolation },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // the sensor data set is a lazily loaded ~1.6 MB JSON chunk
    chunkSizeWarningLimit: 2000,
  },
});
