// A kernel thread of a raw build loaded by kernels.mjs (loadRaw): instantiates the build's own
// wasm-bindgen glue (build/wasm/<build>/, e.g. a `-bench` build the package does not ship) over
// the shared memory, then runs one rayon pool thread.
import { parentPort, workerData } from 'node:worker_threads';

const { root, build, module, memory, stackSize } = workerData;
const glue = await import(`${root}/build/wasm/${build}/lstm_vae_kernels.js`);
glue.initSync({ module, memory, thread_stack_size: stackSize });
parentPort.postMessage('ready');
glue.pool_worker_run();
