import { cpSync, mkdirSync } from 'node:fs';
import { defineConfig } from 'tsup';

const builds = ['simd', 'simd-mt', 'relaxed-mt'];

function copyWasm() {
  for (const b of builds) {
    mkdirSync(`dist/wasm/${b}`, { recursive: true });
    cpSync(`build/wasm/${b}/lstm_vae_kernels_bg.wasm`, `dist/wasm/${b}/lstm_vae_kernels_bg.wasm`);
  }
}

export default defineConfig([
  {
    entry: { index: 'src/index.ts', 'index.node': 'src/index.node.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    shims: true,
    target: 'es2022',
    platform: 'neutral',
    external: [/^node:/],
    noExternal: ['wasm-feature-detect', 'idb-keyval'],
    sourcemap: false,
    splitting: false,
  },
  {
    entry: { 'worker.node': 'src/worker.node.ts', 'worker.browser': 'src/worker.browser.ts' },
    format: ['esm'],
    target: 'es2022',
    platform: 'neutral',
    external: [/^node:/],
    splitting: false,
    clean: false,
    onSuccess: async () => copyWasm(),
  },
  {
    // the command-line tool, and internal helpers for the repository's scripts (demo, eval, bench)
    entry: { cli: 'src/cli.ts', tools: 'src/tools.ts' },
    format: ['esm'],
    target: 'es2022',
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
    splitting: false,
    clean: false,
    dts: false,
  },
]);
