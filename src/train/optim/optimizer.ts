import { wasm } from '../../backend/index.js';
import { ConfigError, ShapeError } from '../../core/errors.js';
import { WasmBuffer } from '../../backend/memory.js';
import type { Trainable } from '../trainable.js';
import { adam } from './adam.js';
import { rmsprop } from './rmsprop.js';
import { sgd } from './sgd.js';
import type { OptimizerName, OptimizerOptions, UpdateRule } from './types.js';

export type { OptimizerName, OptimizerOptions } from './types.js';

/** The update rule of each optimizer type. */
const RULES: Record<OptimizerName, UpdateRule> = { sgd, momentum: sgd, rmsprop, adam, adamw: adam };

function num(v: unknown, name: string, lo: number, hi = Infinity, loOpen = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || v > hi) {
    throw new ConfigError(`${name} is out of range`, {
      argument: name,
      expected: `${loOpen ? '>' : '>='} ${lo}${hi < Infinity ? ` and <= ${hi}` : ''}`,
      actual: v,
    });
  }
  return v;
}

/**
 * Optimizers update the model's weights in one fused WebAssembly pass over all parameters,
 * with PyTorch's formulas (torch.optim, foreach=False). State lives in WebAssembly memory.
 */
export class Optimizer {
  readonly name: OptimizerName;
  readonly options: Required<Omit<OptimizerOptions, 'betas'>> & { betas: [number, number] };
  /** Steps taken. */
  step_ = 0;
  private slots = new Map<string, WasmBuffer>();
  private size = -1;

  constructor(name: OptimizerName, options: OptimizerOptions = {}) {
    if (!['sgd', 'momentum', 'rmsprop', 'adam', 'adamw'].includes(name))
      throw new ConfigError('unknown optimizer', {
        argument: 'optimizer',
        expected: "'sgd' | 'momentum' | 'rmsprop' | 'adam' | 'adamw'",
        actual: name,
      });
    const defaults = { sgd: 1e-2, momentum: 1e-2, rmsprop: 1e-2, adam: 1e-3, adamw: 1e-3 }[name];
    const betas = options.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2)
      throw new ConfigError('betas must be [beta1, beta2]', { argument: 'betas', expected: '[b1, b2]', actual: betas });
    this.name = name;
    this.options = {
      lr: num(options.lr ?? defaults, 'lr', 0, Infinity, true),
      momentum: num(options.momentum ?? (name === 'momentum' ? 0.9 : 0), 'momentum', 0, 1),
      dampening: num(options.dampening ?? 0, 'dampening', 0, 1),
      nesterov: !!options.nesterov,
      weightDecay: num(options.weightDecay ?? (name === 'adamw' ? 0.01 : 0), 'weightDecay', 0),
      betas: [num(betas[0], 'betas[0]', 0, 1), num(betas[1], 'betas[1]', 0, 1)],
      eps: num(options.eps ?? 1e-8, 'eps', 0),
      alpha: num(options.alpha ?? 0.99, 'alpha', 0, 1),
    };
    if (this.options.nesterov && (this.options.momentum <= 0 || this.options.dampening !== 0))
      throw new ConfigError('Nesterov momentum needs momentum > 0 and dampening 0', {
        argument: 'nesterov',
        expected: 'momentum > 0, dampening 0',
        actual: { momentum: this.options.momentum, dampening: this.options.dampening },
      });
  }

  private slot(name: string): WasmBuffer {
    let b = this.slots.get(name);
    if (!b) {
      b = new WasmBuffer(this.size);
      this.slots.set(name, b);
    }
    return b;
  }

  private slotNames(): string[] {
    return RULES[this.name].slots(this.options);
  }

  /**
   * One update of `model`'s weights with its current gradients (from `lossAndGradients`), or with
   * `gradients` given by key (e.g. edited in a custom loop). `lr` overrides the learning rate.
   */
  step(model: Trainable, gradients?: Record<string, Float32Array>, lr?: number): void {
    if (this.size === -1) this.size = model.size;
    if (this.size !== model.size)
      throw new ShapeError('this optimizer was used with another model', {
        argument: 'model',
        expected: `${this.size} parameters`,
        actual: model.size,
      });
    if (gradients) {
      const g = model.grads.f32();
      for (const s of model.specs) {
        const v = gradients[s.key];
        if (!(v instanceof Float32Array) || v.length !== s.size)
          throw new ShapeError(`gradient ${s.key} must be a Float32Array of ${s.size}`, {
            argument: `gradients["${s.key}"]`,
            expected: s.size,
            actual: v instanceof Float32Array ? v.length : typeof v,
          });
        g.set(v, s.offset);
      }
    }
    const k = wasm();
    const o = this.options;
    const rate = lr ?? o.lr;
    this.step_ += 1;
    RULES[this.name].step(k, {
      name: this.name,
      options: o,
      n: model.size,
      params: model.params.ptr,
      grads: model.grads.ptr,
      slot: (name) => this.slot(name).ptr,
      step: this.step_,
      lr: rate,
    });
  }

  /** Configuration and step (saved in checkpoints). */
  toJSON(): { name: OptimizerName; options: OptimizerOptions; step: number } {
    return { name: this.name, options: { ...this.options }, step: this.step_ };
  }

  /** State tensors by `optimizer.<param key>.<slot>` (for checkpoints). */
  stateTensors(model: Trainable): Record<string, { shape: number[]; data: Float32Array }> {
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    if (this.size === -1) return out;
    for (const name of this.slotNames()) {
      const v = this.slot(name).f32();
      for (const s of model.specs) out[`optimizer.${s.key}.${name}`] = { shape: [...s.shape], data: v.slice(s.offset, s.offset + s.size) };
    }
    return out;
  }

  /** Restores state saved by `stateTensors` and `toJSON`. */
  loadState(model: Trainable, step: number, tensors: Record<string, { shape: number[]; data: Float32Array }>): void {
    this.size = model.size;
    this.step_ = step;
    for (const name of this.slotNames()) {
      const buf = this.slot(name);
      for (const s of model.specs) {
        const t = tensors[`optimizer.${s.key}.${name}`];
        if (!t || t.data.length !== s.size) {
          if (step === 0) continue;
          throw new ConfigError(`checkpoint lacks optimizer state optimizer.${s.key}.${name}`, {
            argument: `optimizer.${s.key}.${name}`,
            expected: `${s.size} values`,
            actual: t ? t.data.length : 'missing',
          });
        }
        buf.f32().set(t.data, s.offset);
      }
    }
  }

  dispose(): void {
    for (const b of this.slots.values()) b.free();
    this.slots.clear();
  }
}

export function makeOptimizer(o: OptimizerName | Optimizer | undefined, lr?: number, extra: OptimizerOptions = {}): Optimizer {
  if (o instanceof Optimizer) return o;
  return new Optimizer(o ?? 'adam', { ...extra, ...(lr !== undefined ? { lr } : {}) });
}
