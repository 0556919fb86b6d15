import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig, type Options } from 'tsup';

const builds = ['simd', 'simd-mt', 'relaxed-mt'];

function copyWasm() {
  for (const b of builds) {
    mkdirSync(`dist/wasm/${b}`, { recursive: true });
    cpSync(`build/wasm/${b}/lstm_vae_kernels_bg.wasm`, `dist/wasm/${b}/lstm_vae_kernels_bg.wasm`);
  }
  // the native Node backend's binaries (build/native/<platform>-<arch>/, by scripts/build-native), when built
  if (existsSync('build/native')) cpSync('build/native', 'dist/native', { recursive: true });
}

// jsfive (the HDF5 reader of src/io/keras-file.ts) from its ES sources, with its import of pako served
// by fflate (src/io/keras-inflate.ts): ~110 kB less in each bundle than its prebuilt file, pako included
const jsfiveSources = resolve('node_modules/jsfive/esm/high-level.js');
const jsfive: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'jsfive-sources',
  setup(build) {
    if (!existsSync(jsfiveSources)) return; // another jsfive layout: its prebuilt file, as is
    build.onResolve({ filter: /^jsfive$/ }, () => ({ path: jsfiveSources }));
    build.onResolve({ filter: /\/pako\.esm\.mjs$/ }, () => ({ path: resolve('src/io/keras-inflate.ts') }));
  },
};

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
    esbuildPlugins: [jsfive],
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
    // the demo's data sets (devDependencies, CommonJS that requires 'path') stay imports: bundled into this ESM file
    // they fail at load with "Dynamic require of "path" is not supported"; tools.js is not in the npm package
    external: [/^@stdlib\//],
    banner: { js: '#!/usr/bin/env node' },
    esbuildPlugins: [jsfive],
    splitting: false,
    clean: false,
    dts: false,
  },
]);
