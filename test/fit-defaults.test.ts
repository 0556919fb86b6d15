// The defaults of convergent training chosen in issue 15 (docs/training.md): batches of 16 without `epochs`,
// of 32 with them; the learning rate constant unless reduceLrOnPlateau is asked for.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, LstmVae } from '../dist/index.node.js';
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
});
