// A kernel thread in Node: instantiates the build over the shared memory, then runs one rayon pool thread.
import { parentPort, workerData } from 'node:worker_threads';
import { GLUES, type WasmBuildName } from './backend/glue.js';

const { build, module, memory, stackSize } = workerData as {
  build: WasmBuildName;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  stackSize: number;
};
const glue = GLUES[build];
glue.initSync({ module, memory, thread_stack_size: stackSize } as never);
parentPort!.postMessage('ready');
glue.pool_worker_run();
