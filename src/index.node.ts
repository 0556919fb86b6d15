// Node entry (the `node` export condition): reads the .wasm builds from disk, threads on worker_threads.
import { setPlatform } from './backend/platform.js';
import { nodePlatform } from './backend/node.js';

setPlatform(nodePlatform);
export * from './api.js';
