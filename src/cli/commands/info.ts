/**
 * `lstm-vae info`: what a model file holds (configuration, training, scoring metadata).
 */

import type { DetectorPlan } from '../../detect/plan.js';
import { ruleText } from '../detector.js';
import { duration, fmt } from '../progress.js';
import { describeReduce, loadModel } from '../shared.js';

export async function info(modelFile: string, o: { json?: boolean }): Promise<void> {
  const lm = await loadModel(modelFile);
  const m = lm.model;
  const config = m.toConfigJSON();
  const meta = lm.meta;
  const hist = meta?.training.history ?? [];
  const last = hist[hist.length - 1];
  const bestVal = hist.reduce<number | undefined>(
    (b, h) => (h.valLoss !== undefined && (b === undefined || h.valLoss < b) ? h.valLoss : b),
    undefined,
  );
  const summary = {
    file: modelFile,
    bytes: lm.bytes,
    config,
    parameters: m.parameterCount,
    tensors: lm.tensors,
    tokenizer: m.tokenizer ? { type: 'char', vocabSize: m.tokenizer.vocabSize, chars: m.tokenizer.chars.join('') } : undefined,
    training: meta
      ? {
          file: meta.training.file,
          trainedAt: meta.training.trainedAt,
          seconds: meta.training.seconds,
          sequences: meta.training.sequences,
          points: meta.training.points,
          options: meta.training.options,
          epochs: hist.length,
          firstLoss: hist[0]?.loss,
          finalLoss: last?.loss,
          finalRecon: last?.recon,
          finalKl: last?.kl,
          finalValLoss: last?.valLoss,
          bestValLoss: bestVal,
        }
      : undefined,
    input: meta?.input,
    window: meta?.window,
    normalizer: meta?.normalizer,
    scoring: meta?.scoring,
    otherMetadata: Object.keys(m.metadata).filter((k) => k !== 'lstmVaeCli'),
  };
  m.dispose();
  if (o.json) {
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    return;
  }
  const lines: string[] = [];
  const kv = (k: string, v: string) => lines.push(`${k.padEnd(14)}${v}`);
  kv('file', `${modelFile} (${(lm.bytes / 1024).toFixed(1)} KiB, ${lm.tensors} tensors)`);
  kv('mode', String(config.mode));
  kv(
    'config',
    Object.entries(config)
      .filter(([k, v]) => k !== 'mode' && v !== undefined)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  );
  kv('parameters', m.parameterCount.toLocaleString('en-US'));
  if (summary.tokenizer) kv('tokenizer', `characters (${summary.tokenizer.vocabSize} ids): ${summary.tokenizer.chars}`);
  if (meta) {
    if (meta.input.kind !== 'text') {
      kv(
        'input',
        `${meta.input.kind}, columns ${(meta.input.columns ?? []).join(', ')}${meta.input.timestamp ? `, timestamp ${meta.input.timestamp}` : ''}`,
      );
    } else kv('input', 'text, one sequence per line');
    if (meta.window)
      kv(
        'windows',
        meta.window.whole ? `whole sequences of ${meta.window.length} steps` : `length ${meta.window.length}, stride ${meta.window.stride}`,
      );
    if (meta.normalizer && meta.normalizer.type === 'minmax') {
      const n = meta.normalizer;
      kv(
        'normalizer',
        `min-max to [${n.range.join(', ')}]: ` +
          (meta.input.columns ?? []).map((c, i) => `${c} ${fmt(n.min[i])}..${fmt(n.max[i])}`).join(', '),
      );
    } else if (meta.normalizer && meta.normalizer.type === 'zscore') {
      const n = meta.normalizer;
      kv(
        'normalizer',
        'z-score: ' + (meta.input.columns ?? []).map((c, i) => `${c} mean ${fmt(n.mean[i])} std ${fmt(n.std[i])}`).join(', '),
      );
    } else if (meta.input.kind !== 'text') kv('normalizer', 'none');
    kv(
      'threshold',
      `${fmt(meta.scoring.threshold)} (${meta.scoring.percentile}th percentile of training scores${meta.input.kind !== 'text' ? `; point score = ${describeReduce(meta.scoring.reduce)}` : ''})`,
    );
    const t = meta.training;
    kv(
      'trained',
      `${t.trainedAt} on ${t.file} (${t.sequences} ${meta.input.kind === 'text' ? 'sequences' : 'windows'}), ${duration(t.seconds)}`,
    );
    kv(
      'training',
      Object.entries(t.options)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    );
    if (hist.length) {
      kv(
        'history',
        `${hist.length} epochs; loss ${fmt(hist[0].loss)} → ${fmt(last.loss)} (recon ${fmt(last.recon)}, KL ${fmt(last.kl)})` +
          (bestVal !== undefined ? `; best validation loss ${fmt(bestVal)}` : ''),
      );
    }
    if (t.diagnostics) kv('diagnostics', `${t.diagnostics.notLearnt ? 'warning: ' : ''}${t.diagnostics.message}`);
  } else if (lm.model.metadata.detector !== undefined) {
    const p = lm.model.metadata.detector as DetectorPlan;
    kv('detector', `anomaly detector: window ${p.window * p.aggregate} rows (${p.windowReason})`);
    kv('threshold', `${fmt(p.threshold)}: ${ruleText(p)}`);
    const members = p.members ?? 1;
    kv(
      'training',
      `${p.training?.rows} rows, ${p.training?.steps} steps (stopped: ${p.training?.stopped})` +
        (members > 1 ? `; ${members} models (seeds apart), their point errors averaged` : ''),
    );
    kv('diagnostics', p.diagnostics?.message ?? '–');
    if (p.constantColumns?.length) {
      const names = (lm.model.metadata.cliInput as { columns?: string[] } | undefined)?.columns ?? p.columns;
      kv(
        'constant',
        `${p.constantColumns.map((j) => `${names?.[j] ?? `column ${j}`} = ${p.center[j]}`).join(', ')} in training (a change counts as anomalous)`,
      );
    }
  } else kv('metadata', 'none from lstm-vae train (score and eval need --window; no saved threshold)');
  if (summary.otherMetadata.length) kv('other keys', summary.otherMetadata.join(', '));
  process.stdout.write(lines.join('\n') + '\n');
}
