/**
 * `lstm-vae export MODEL --onnx OUT`: the model's inference graph as an ONNX file (see docs/onnx.md).
 */

import { ONNX_OPSET } from '../../io/onnx.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { UsageError } from '../errors.js';
import { loadModel } from '../shared.js';

export interface ExportOptions {
  /** Where to write the ONNX model. */
  onnx?: string;
}

export async function exportModel(modelFile: string, o: ExportOptions): Promise<void> {
  if (o.onnx === undefined || o.onnx === '') throw new UsageError('export needs --onnx <file>: where to write the ONNX model');
  const lm = await loadModel(modelFile);
  const m = lm.model;
  let bytes: Uint8Array;
  try {
    bytes = m.toOnnx();
  } finally {
    m.dispose();
  }
  await writeFileAtomic(o.onnx, bytes);
  const tokens = m.config.mode === 'tokens';
  const io = tokens
    ? `inputs ids [batch, time] and lengths [batch] (int64); outputs logits, probabilities [batch, time, ${m.config.vocabSize}], mu, logvar`
    : `input x [batch, time, ${m.config.features}]; outputs reconstruction [batch, time, ${m.config.features}], mu, logvar`;
  process.stdout.write(`exported ${modelFile} → ${o.onnx} (ONNX opset ${ONNX_OPSET}, ${(bytes.length / 1024).toFixed(1)} KiB; ${io})\n`);
  if (lm.normalizer || m.metadata.detector !== undefined)
    process.stdout.write(
      'note: the graph is the network only: scale its input as the model file says (lstm-vae info), and cut series into windows yourself\n',
    );
}
