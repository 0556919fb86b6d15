// The defaults of convergent training chosen in issue 15 (docs/training.md): batches of 16 without `epochs`,
// of 32 with them; the learning rate constant unless reduceLrOnPlateau is asked for; AdamW (weight decay 0.01) without
// `epochs`, Adam with them.
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, type FitOptions, init, LstmVae } from '../dist/index.node.js';
import { sines } from './shared/sines.js';

beforeAll(async () => {
  await init();
});

describe('fit defaults', () => {
  it('convergent training takes batches of 16; explicit epochs of 32', async () => {
    const m = new LstmVae({ features: 2, hidden: 8, latent: 2, seed: 1 });
    const x = sines(100, 8, 2);
    const conv: number[] = [];
    // 90 training sequences after the 10 % split: 6 batches of at most 16
    const h = await m.fit(x, { maxSteps: 6, onBatchEnd: (s) => void conv.push(s.batches) });
    expect(h.steps).toBe(6);
    expect(new Set(conv)).toEqual(new Set([6]));
    const ep: number[] = [];
    // 100 sequences, no split: 4 batches of at most 32
    await m.fit(x, { epochs: 1, onBatchEnd: (s) => void ep.push(s.batches) });
    expect(ep).toEqual([4, 4, 4, 4]);
    m.dispose();
  });

  it('convergent training steps with AdamW (weight decay 0.01) unless an optimizer is given; explicit epochs with Adam', async () => {
    const x = sines(40, 8, 2);
    const weights = async (o: FitOptions) => {
      const m = new LstmVae({ features: 2, hidden: 8, latent: 2, seed: 1 });
      await m.fit(x, o);
      const t = decodeSafetensors(m.toSafetensors()).tensors;
      m.dispose();
      return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
    };
    const conv = await weights({ maxSteps: 30 });
    expect(conv).toEqual(await weights({ maxSteps: 30, optimizer: 'adamw' }));
    expect(conv).toEqual(await weights({ maxSteps: 30, optimizer: 'adamw', optimizerOptions: { weightDecay: 0.01 } }));
    expect(conv).not.toEqual(await weights({ maxSteps: 30, optimizer: 'adam' }));
    const ep = await weights({ epochs: 3 });
    expect(ep).toEqual(await weights({ epochs: 3, optimizer: 'adam' }));
    expect(ep).not.toEqual(await weights({ epochs: 3, optimizer: 'adamw' }));
  });
});
