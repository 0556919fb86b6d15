// One streaming measurement (bench/stream.mjs) in a module Worker of a cross-origin-isolated page.
// Message in: { features, threads, rows }; out: { result } or { error }.
import * as pkg from '/dist/index.js';
import { measureStream } from '/bench/lib/stream-job.mjs';

self.onmessage = async (e) => {
  try {
    const info = await pkg.init({ threads: e.data.threads });
    self.postMessage({ result: await measureStream(pkg, { ...e.data, info }) });
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
};
