// Everything the package exports, whatever the platform.
export { init, backendInfo, dispose, setThreads, type InitOptions, type BackendInfo, type BuildName } from './backend/index.js';
export { matmul } from './ops.js';
export type { Tensor } from './tensor.js';
export * from './errors.js';
