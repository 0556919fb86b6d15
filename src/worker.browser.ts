// A kernel thread in a browser: a module Worker that instantiates the build over the shared memory,
// then runs one rayon pool thread.
import { GLUES, type WasmBuildName } from './backend/glue.js';

self.onmessage = (e: MessageEvent) => {
  const { build, module, memory, stackSize } = e.data as {
    build: WasmBuildName;
    module: WebAssembly.Module;
    memory: WebAssembly.Memory;
    stackSize: number;
  };
  const glue = GLUES[build];
  glue.initSync({ module, memory, thread_stack_size: stackSize } as never);
  (self as unknown as Worker).postMessage('ready');
  glue.pool_worker_run();
};
