// The parent's side of the `@@bench {json}` lines that benchmark children print among their other output
// (bench/lib/child.mjs, bench/torch_step.py).

/** Calls `onMessage(m)` with each `@@bench` message of a child's stdout, as whole lines arrive. */
export function onBenchMessages(stdout, onMessage) {
  let buf = '';
  stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('@@bench ')) onMessage(JSON.parse(line.slice(8)));
    }
  });
}
