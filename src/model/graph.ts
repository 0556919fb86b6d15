/**
 * The network as a graph of kernel calls: the encoder and decoder forward (keeping what backward
 * needs), the loss, and backward into the gradient vector; one decoder step for free-running decoding.
 */

import { wasm } from '../backend/index.js';
import { copyBlock, type LstmLayerWeights, lstmForward } from '../backend/kernels.js';
import type { WasmBuffer } from '../backend/memory.js';
import type { Rng } from '../core/rng.js';
import { BOS, UNK } from '../data/tokenizer.js';
import { type StackLayer, stackBackward, stackForward } from '../nn/lstm-stack.js';
import { Workspace } from './buffers.js';
import type { Resolved } from './config.js';
import type { Batch } from './input.js';

/** What the graph needs from the model that owns it. */
export interface GraphHost {
  /** Address of a parameter (or of its gradient) by key. */
  p(key: string, grad?: boolean): number;
  rng(): Rng;
  grads(): WasmBuffer;
  /** Throws when the model was disposed. */
  alive(): void;
}

export class Graph {
  /** Activation buffers, reused across batches. */
  readonly ws = new Workspace();

  constructor(
    readonly config: Resolved,
    private readonly host: GraphHost,
  ) {}

  /** The weights (or their gradients) of layer `l` of the LSTM stack under `prefix`. */
  lstmWeights(prefix: string, l: number, grad = false): LstmLayerWeights {
    return {
      wIh: this.host.p(`${prefix}weight_ih_l${l}`, grad),
      wHh: this.host.p(`${prefix}weight_hh_l${l}`, grad),
      bIh: this.host.p(`${prefix}bias_ih_l${l}`, grad),
      bHh: this.host.p(`${prefix}bias_hh_l${l}`, grad),
    };
  }

  /** The layers of a stack (`tag` names its buffers) for a batch of B sequences of T steps. */
  stackLayers(prefix: string, tag: 'enc' | 'dec', B: number, T: number, h0s?: number[], c0s?: number[]): StackLayer[] {
    const H = this.config.hidden;
    return Array.from({ length: this.config.layers }, (_, l) => ({
      weights: this.lstmWeights(prefix, l),
      grads: this.lstmWeights(prefix, l, true),
      hSeq: this.ws.stacks[tag].h.at(l).get(B * T * H).ptr,
      cSeq: this.ws.stacks[tag].c.at(l).get(B * T * H).ptr,
      gates: this.ws.stacks[tag].g.at(l).get(B * T * 4 * H).ptr,
      h0: h0s?.[l],
      c0: c0s?.[l],
    }));
  }

  /** Runs one stack of L LSTM layers over `inp` ([B,T,I]); returns the top layer's h_seq buffer. */
  lstmStack(
    prefix: string,
    tag: 'enc' | 'dec',
    B: number,
    T: number,
    I: number,
    inp: number,
    lengths: number,
    h0s?: number[],
    c0s?: number[],
    hLastTop?: number,
  ): number {
    const layers = this.stackLayers(prefix, tag, B, T, h0s, c0s);
    if (hLastTop) layers[layers.length - 1].hLast = hLastTop;
    return stackForward({ B, T, I, H: this.config.hidden }, inp, lengths, layers);
  }

  /**
   * Backward through a stack; `dTop` is dh_seq of the top layer (0 if none), dLastTop its dh_last. Writes dx of
   * layer 0 to `dInput` (if given), and its sum over the steps to `dInputSum` (if given).
   */
  lstmStackBackward(
    prefix: string,
    tag: 'enc' | 'dec',
    B: number,
    T: number,
    I: number,
    inp: number,
    lengths: number,
    dTop: number,
    dLastTop: number,
    dInput: number,
    h0s?: number[],
    c0s?: number[],
    dh0s?: number[],
    dc0s?: number[],
    dInputSum = 0,
  ): void {
    const H = this.config.hidden;
    const layers = this.stackLayers(prefix, tag, B, T, h0s, c0s);
    layers.forEach((ly, l) => {
      ly.dh0 = dh0s?.[l];
      ly.dc0 = dc0s?.[l];
    });
    layers[layers.length - 1].dhLast = dLastTop;
    const dInputs = layers.map((_, l) => (l === 0 ? dInput : this.ws.stacks[tag].dh.at(l - 1).get(B * T * H).ptr));
    stackBackward({ B, T, I, H }, inp, lengths, layers, dTop, dInputs, dInputSum);
  }

  /** Encoder: writes mu, logvar ([B,Z] buffers 'mu', 'logvar'); returns them. */
  encodeBatch(bt: Batch): { mu: WasmBuffer; logvar: WasmBuffer; inp: number; I: number; lens: number } {
    const k = wasm();
    const { B, T } = bt;
    const { hidden: H, latent: Z } = this.config;
    const lens = bt.lengths ? this.ws.lengths.get(B).set(bt.lengths).ptr : 0;
    let inp: number, I: number;
    if (this.config.mode === 'continuous') {
      I = this.config.features;
      inp = this.ws.x.get(B * T * I).set(bt.floats!).ptr;
    } else {
      I = this.config.embedding;
      const ids = this.ws.ids.get(B * T).set(bt.ids!);
      inp = this.ws.embEnc.get(B * T * I).ptr;
      k.embedding_forward(B * T, this.config.vocabSize, I, ids.ptr, this.host.p('embedding.weight'), inp);
    }
    const hT = this.ws.hT.get(B * H);
    this.lstmStack('encoder.lstm.', 'enc', B, T, I, inp, lens, undefined, undefined, hT.ptr);
    const mu = this.ws.mu.get(B * Z);
    const logvar = this.ws.logvar.get(B * Z);
    k.linear_forward(B, H, Z, hT.ptr, this.host.p('encoder.fc_mu.weight'), this.host.p('encoder.fc_mu.bias'), mu.ptr);
    k.linear_forward(B, H, Z, hT.ptr, this.host.p('encoder.fc_logvar.weight'), this.host.p('encoder.fc_logvar.bias'), logvar.ptr);
    return { mu, logvar, inp, I, lens };
  }

  /** Decoder (teacher-forced for autoregressive modes) from buffer 'z' [B,Z]; output y/logits buffer [B,T,out]. */
  decodeBatch(bt: Batch, zp: number, train: boolean): { out: WasmBuffer; dinp: number; DI: number; h0s?: number[]; c0s?: number[] } {
    const k = wasm();
    const { B, T } = bt;
    const c = this.config;
    const { hidden: H, latent: Z, layers: L } = c;
    let dinp: number, DI: number;
    let h0s: number[] | undefined, c0s: number[] | undefined;
    if (c.mode === 'continuous') {
      const D = c.features;
      if (c.decoder === 'repeat') {
        DI = Z;
        dinp = this.ws.decIn.get(B * T * Z).ptr;
        k.repeat_time(B, T, Z, zp, dinp);
      } else {
        DI = D + Z;
        const prev = this.ws.xPrev.get(B * T * D);
        const pv = prev.f32();
        pv.fill(0);
        const xs = bt.floats!;
        for (let b = 0; b < B; b++) pv.set(xs.subarray(b * T * D, (b * T + T - 1) * D), (b * T + 1) * D);
        dinp = this.ws.decIn.get(B * T * DI).ptr;
        k.concat_time_latent(B, T, D, Z, prev.ptr, zp, dinp);
      }
    } else {
      const E = c.embedding;
      DI = E + Z;
      const din = this.ws.idsDec.get(B * T);
      const dv = din.i32();
      const ids = bt.ids!;
      for (let b = 0; b < B; b++) {
        dv[b * T] = BOS;
        for (let t = 1; t < T; t++)
          dv[b * T + t] = train && c.wordDropout > 0 && this.host.rng().next() < c.wordDropout ? UNK : ids[b * T + t - 1];
      }
      const emb = this.ws.embDec.get(B * T * E);
      k.embedding_forward(B * T, c.vocabSize, E, din.ptr, this.host.p('embedding.weight'), emb.ptr);
      dinp = this.ws.decIn.get(B * T * DI).ptr;
      k.concat_time_latent(B, T, E, Z, emb.ptr, zp, dinp);
      // initial states: s = tanh(fc_init(z)) [B, 2LH]; h0 of layer l = s[:, l], c0 = s[:, L + l]
      const pre = this.ws.sPre.get(B * 2 * L * H);
      const s = this.ws.s.get(B * 2 * L * H);
      k.linear_forward(B, Z, 2 * L * H, zp, this.host.p('decoder.fc_init.weight'), this.host.p('decoder.fc_init.bias'), pre.ptr);
      k.tanh_forward(B * 2 * L * H, pre.ptr, s.ptr);
      h0s = [];
      c0s = [];
      for (let l = 0; l < L; l++) {
        const h0 = this.ws.h0.at(l).get(B * H);
        const c0 = this.ws.c0.at(l).get(B * H);
        copyBlock(B, H, { ptr: s.ptr, col: l * H, stride: 2 * L * H }, { ptr: h0.ptr, stride: H });
        copyBlock(B, H, { ptr: s.ptr, col: (L + l) * H, stride: 2 * L * H }, { ptr: c0.ptr, stride: H });
        h0s.push(h0.ptr);
        c0s.push(c0.ptr);
      }
    }
    const top = this.lstmStack('decoder.lstm.', 'dec', B, T, DI, dinp, 0, h0s, c0s);
    const O = c.mode === 'continuous' ? c.features : c.vocabSize;
    const out = this.ws.out.get(B * T * O);
    k.linear_forward(B * T, H, O, top, this.host.p('decoder.fc_out.weight'), this.host.p('decoder.fc_out.bias'), out.ptr);
    return { out, dinp, DI, h0s, c0s };
  }

  /** Forward (and, with `backward`, gradients into this.host.grads()). */
  run(
    bt: Batch,
    eps: Float32Array,
    beta: number,
    freeBits: number,
    backward: boolean,
    train: boolean,
  ): { loss: number; recon: number; kl: number } {
    this.host.alive();
    const k = wasm();
    const { B, T } = bt;
    const c = this.config;
    const { hidden: H, latent: Z, layers: L } = c;
    const enc = this.encodeBatch(bt);
    const epsB = this.ws.eps.get(B * Z).set(eps);
    const z = this.ws.z.get(B * Z);
    k.reparameterize(B, Z, enc.mu.ptr, enc.logvar.ptr, epsB.ptr, z.ptr);
    const dec = this.decodeBatch(bt, z.ptr, train);
    const O = c.mode === 'continuous' ? c.features : c.vocabSize;
    const dout = backward ? this.ws.dout.get(B * T * O).ptr : 0;
    let recon: number;
    if (c.mode === 'continuous') {
      recon = k.mse_recon(B, T, O, enc.inp, dec.out.ptr, enc.lens, 1, dout);
    } else {
      recon = k.softmax_xent(B, T, O, dec.out.ptr, this.ws.ids.get(B * T).ptr, enc.lens, 1, dout);
    }
    if (!backward) {
      const kl = k.gaussian_kl(B, Z, enc.mu.ptr, enc.logvar.ptr, freeBits, beta, 0, 0);
      return { loss: recon + beta * kl, recon, kl };
    }
    this.host.grads().fill(0);
    // decoder output layer
    const dtop = this.ws.decDTop.get(B * T * H);
    k.linear_backward(
      B * T,
      H,
      O,
      this.ws.stacks.dec.h.at(L - 1).get(B * T * H).ptr,
      this.host.p('decoder.fc_out.weight'),
      dout,
      dtop.ptr,
      this.host.p('decoder.fc_out.weight', true),
      this.host.p('decoder.fc_out.bias', true),
    );
    // the repeat decoder's input is z at every step: its gradient summed over the steps is dz, which the LSTM's
    // backward gives directly (without the [B·T, Z] input gradient and its sum)
    const repeat = c.mode === 'continuous' && c.decoder === 'repeat';
    const dz = this.ws.dz.get(B * Z);
    const ddin = repeat ? undefined : this.ws.dDecIn.get(B * T * dec.DI);
    let dh0s: number[] | undefined, dc0s: number[] | undefined;
    if (c.mode === 'tokens') {
      dh0s = [];
      dc0s = [];
      for (let l = 0; l < L; l++) {
        dh0s.push(this.ws.dh0.at(l).get(B * H).ptr);
        dc0s.push(this.ws.dc0.at(l).get(B * H).ptr);
      }
    }
    const dInputSum = repeat ? dz.ptr : 0;
    this.lstmStackBackward(
      'decoder.lstm.',
      'dec',
      B,
      T,
      dec.DI,
      dec.dinp,
      0,
      dtop.ptr,
      0,
      ddin?.ptr ?? 0,
      dec.h0s,
      dec.c0s,
      dh0s,
      dc0s,
      dInputSum,
    );
    if (c.mode === 'continuous') {
      if (!repeat) k.concat_time_latent_backward(B, T, c.features, Z, ddin!.ptr, 0, dz.ptr);
    } else {
      const E = c.embedding;
      const de = this.ws.dEmbDec.get(B * T * E);
      k.concat_time_latent_backward(B, T, E, Z, ddin!.ptr, de.ptr, dz.ptr);
      k.embedding_backward(B * T, c.vocabSize, E, this.ws.idsDec.get(B * T).ptr, de.ptr, this.host.p('embedding.weight', true));
      // back through s = tanh(fc_init(z))
      const ds = this.ws.ds.get(B * 2 * L * H);
      for (let l = 0; l < L; l++) {
        copyBlock(B, H, { ptr: dh0s![l], stride: H }, { ptr: ds.ptr, col: l * H, stride: 2 * L * H });
        copyBlock(B, H, { ptr: dc0s![l], stride: H }, { ptr: ds.ptr, col: (L + l) * H, stride: 2 * L * H });
      }
      const dpre = this.ws.dsPre.get(B * 2 * L * H);
      k.tanh_backward(B * 2 * L * H, this.ws.s.get(B * 2 * L * H).ptr, ds.ptr, dpre.ptr);
      const dz2 = this.ws.dz2.get(B * Z);
      k.linear_backward(
        B,
        Z,
        2 * L * H,
        z.ptr,
        this.host.p('decoder.fc_init.weight'),
        dpre.ptr,
        dz2.ptr,
        this.host.p('decoder.fc_init.weight', true),
        this.host.p('decoder.fc_init.bias', true),
      );
      k.add_inplace(B * Z, dz.ptr, dz2.ptr);
    }
    const dmu = this.ws.dmu.get(B * Z);
    const dlv = this.ws.dlogvar.get(B * Z);
    k.reparameterize_backward(B, Z, enc.logvar.ptr, epsB.ptr, dz.ptr, dmu.ptr, dlv.ptr);
    const kl = k.gaussian_kl(B, Z, enc.mu.ptr, enc.logvar.ptr, freeBits, beta, dmu.ptr, dlv.ptr);
    // heads
    const hT = this.ws.hT.get(B * H);
    const dhT = this.ws.dhT.get(B * H);
    const dhT2 = this.ws.dhT2.get(B * H);
    k.linear_backward(
      B,
      H,
      Z,
      hT.ptr,
      this.host.p('encoder.fc_mu.weight'),
      dmu.ptr,
      dhT.ptr,
      this.host.p('encoder.fc_mu.weight', true),
      this.host.p('encoder.fc_mu.bias', true),
    );
    k.linear_backward(
      B,
      H,
      Z,
      hT.ptr,
      this.host.p('encoder.fc_logvar.weight'),
      dlv.ptr,
      dhT2.ptr,
      this.host.p('encoder.fc_logvar.weight', true),
      this.host.p('encoder.fc_logvar.bias', true),
    );
    k.add_inplace(B * H, dhT.ptr, dhT2.ptr);
    let dinput = 0;
    if (c.mode === 'tokens') dinput = this.ws.dEmbEnc.get(B * T * c.embedding).ptr;
    this.lstmStackBackward('encoder.lstm.', 'enc', B, T, enc.I, enc.inp, enc.lens, 0, dhT.ptr, dinput);
    if (c.mode === 'tokens')
      k.embedding_backward(B * T, c.vocabSize, c.embedding, this.ws.ids.get(B * T).ptr, dinput, this.host.p('embedding.weight', true));
    return { loss: recon + beta * kl, recon, kl };
  }

  /**
   * One free-running decoder step for `n` sequences: the decoder LSTM stack on `inp` (`[n, I]`),
   * its states `hs`/`cs` (`[n, H]` per layer) advanced in place, then `fc_out` into `out` (`[n, O]`).
   */
  decoderStep(tag: 'ar' | 'g', n: number, inp: number, I: number, hs: WasmBuffer[], cs: WasmBuffer[], O: number, out: number): void {
    const k = wasm();
    const { hidden: H, layers: L } = this.config;
    const hn = this.ws.steps[tag].hn.get(n * H);
    const cn = this.ws.steps[tag].cn.get(n * H);
    const g = this.ws.steps[tag].g.get(n * 4 * H);
    const p = 'decoder.lstm.';
    let x = inp;
    for (let l = 0; l < L; l++) {
      lstmForward(
        { B: n, T: 1, I: l === 0 ? I : H, H },
        { x, lengths: 0, weights: this.lstmWeights(p, l), h0: hs[l].ptr, c0: cs[l].ptr, hSeq: hn.ptr, cSeq: cn.ptr, gates: g.ptr },
      );
      copyBlock(1, n * H, { ptr: hn.ptr, stride: 0 }, { ptr: hs[l].ptr, stride: 0 });
      copyBlock(1, n * H, { ptr: cn.ptr, stride: 0 }, { ptr: cs[l].ptr, stride: 0 });
      x = hs[l].ptr;
    }
    k.linear_forward(n, H, O, x, this.host.p('decoder.fc_out.weight'), this.host.p('decoder.fc_out.bias'), out);
  }

  /**
   * Token decoding from latent vectors `zv` `[n, Z]`, one step at a time from BOS until EOS or
   * `maxLength`: sampled at `temperature`, or the most likely token with `greedy`.
   */
  generateTokens(zv: Float32Array, n: number, temperature: number, greedy: boolean, maxLength: number): number[][] {
    const k = wasm();
    const { hidden: H, latent: Z, layers: L, embedding: E, vocabSize: V } = this.config;
    const zb = this.ws.genZ.get(n * Z).set(zv);
    const pre = this.ws.genPre.get(n * 2 * L * H);
    const s = this.ws.genS.get(n * 2 * L * H);
    k.linear_forward(n, Z, 2 * L * H, zb.ptr, this.host.p('decoder.fc_init.weight'), this.host.p('decoder.fc_init.bias'), pre.ptr);
    k.tanh_forward(n * 2 * L * H, pre.ptr, s.ptr);
    const hs = Array.from({ length: L }, (_, l) => this.ws.genH.at(l).get(n * H));
    const cs = Array.from({ length: L }, (_, l) => this.ws.genC.at(l).get(n * H));
    for (let l = 0; l < L; l++) {
      copyBlock(n, H, { ptr: s.ptr, col: l * H, stride: 2 * L * H }, { ptr: hs[l].ptr, stride: H });
      copyBlock(n, H, { ptr: s.ptr, col: (L + l) * H, stride: 2 * L * H }, { ptr: cs[l].ptr, stride: H });
    }
    const tok = this.ws.genTok.get(n);
    const emb = this.ws.genEmb.get(n * E);
    const inp = this.ws.genIn.get(n * (E + Z));
    const logits = this.ws.genLogits.get(n * V);
    const cur = new Int32Array(n).fill(BOS);
    const out: number[][] = Array.from({ length: n }, () => []);
    const done = new Uint8Array(n);
    for (let t = 0; t < maxLength && done.some((d) => !d); t++) {
      tok.set(cur);
      k.embedding_forward(n, V, E, tok.ptr, this.host.p('embedding.weight'), emb.ptr);
      k.concat_time_latent(n, 1, E, Z, emb.ptr, zb.ptr, inp.ptr);
      this.decoderStep('g', n, inp.ptr, E + Z, hs, cs, V, logits.ptr);
      const lv = logits.f32();
      for (let b = 0; b < n; b++) {
        if (done[b]) continue;
        const row = lv.subarray(b * V, (b + 1) * V);
        let id: number;
        if (greedy) {
          id = 4;
          for (let v = 2; v < V; v++) if (v !== 3 && row[v] > row[id]) id = v;
        } else {
          let m = -Infinity;
          for (let v = 0; v < V; v++) if (v !== 0 && v !== 1 && v !== 3) m = Math.max(m, row[v] / temperature);
          let total = 0;
          const p = new Float64Array(V);
          for (let v = 0; v < V; v++) if (v !== 0 && v !== 1 && v !== 3) total += p[v] = Math.exp(row[v] / temperature - m);
          let r = this.host.rng().next() * total;
          id = 2;
          for (let v = 0; v < V; v++) {
            if (p[v] === 0) continue;
            r -= p[v];
            if (r <= 0) {
              id = v;
              break;
            }
          }
        }
        if (id === 2) done[b] = 1;
        else out[b].push(id);
        cur[b] = id;
      }
    }
    return out;
  }
}
