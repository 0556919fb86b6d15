/**
 * Activation buffers in WebAssembly memory, reused across batches: one typed field per buffer
 * (per layer: a list), so every buffer the graph uses is declared here, by name, once.
 */

import { WasmBuffer } from '../backend/memory.js';

/**
 * One buffer: `get(n)` returns it holding `n` elements of `kind`, allocated on first use and
 * replaced when a batch of another size needs another length (its contents are then undefined).
 */
export class Slot {
  private buf?: WasmBuffer;
  constructor(private readonly kind: 'f32' | 'i32' = 'f32') {}
  get(n: number): WasmBuffer {
    if (!this.buf || this.buf.length !== n) {
      this.buf?.free();
      this.buf = new WasmBuffer(n, this.kind);
    }
    return this.buf;
  }
  free(): void {
    this.buf?.free();
    this.buf = undefined;
  }
}

/** One slot per layer (or per index), made on first use. */
export class Slots {
  private list: Slot[] = [];
  constructor(private readonly kind: 'f32' | 'i32' = 'f32') {}
  at(i: number): Slot {
    while (this.list.length <= i) this.list.push(new Slot(this.kind));
    return this.list[i];
  }
  free(): void {
    for (const s of this.list) s.free();
    this.list = [];
  }
}

/** The buffers of one LSTM stack (per layer: hidden, cell, gates; dh = gradient into the layer above's input). */
export class StackBuffers {
  readonly h = new Slots();
  readonly c = new Slots();
  readonly g = new Slots();
  readonly dh = new Slots();
}

/** The scratch of one free-running decoder step (n sequences, one step). */
export class StepBuffers {
  readonly hn = new Slot();
  readonly cn = new Slot();
  readonly g = new Slot();
}

export class Workspace {
  // inputs
  readonly x = new Slot();
  readonly ids = new Slot('i32');
  readonly lengths = new Slot('i32');
  readonly embEnc = new Slot();
  // encoder and latent
  readonly stacks = { enc: new StackBuffers(), dec: new StackBuffers() };
  readonly hT = new Slot();
  readonly mu = new Slot();
  readonly logvar = new Slot();
  readonly eps = new Slot();
  readonly z = new Slot();
  // decoder
  readonly decIn = new Slot();
  readonly xPrev = new Slot();
  readonly idsDec = new Slot('i32');
  readonly embDec = new Slot();
  readonly sPre = new Slot();
  readonly s = new Slot();
  readonly h0 = new Slots();
  readonly c0 = new Slots();
  readonly out = new Slot();
  // backward
  readonly dout = new Slot();
  readonly decDTop = new Slot();
  readonly dDecIn = new Slot();
  readonly dh0 = new Slots();
  readonly dc0 = new Slots();
  readonly dz = new Slot();
  readonly dz2 = new Slot();
  readonly dEmbDec = new Slot();
  readonly ds = new Slot();
  readonly dsPre = new Slot();
  readonly dmu = new Slot();
  readonly dlogvar = new Slot();
  readonly dhT = new Slot();
  readonly dhT2 = new Slot();
  readonly dEmbEnc = new Slot();
  // scoring
  readonly perSeq = new Slot();
  // free-running decoding (decode: ar*, generate: gen*) and its steps
  readonly steps = { ar: new StepBuffers(), g: new StepBuffers() };
  readonly arIn = new Slot();
  readonly arPrev = new Slot();
  readonly arY = new Slot();
  readonly arH = new Slots();
  readonly arC = new Slots();
  readonly genEmb = new Slot();
  readonly genIn = new Slot();
  readonly genLogits = new Slot();
  readonly genPre = new Slot();
  readonly genS = new Slot();
  readonly genTok = new Slot('i32');
  readonly genZ = new Slot();
  readonly genH = new Slots();
  readonly genC = new Slots();

  free(): void {
    const all = (o: object): void => {
      for (const v of Object.values(o)) {
        if (v instanceof Slot || v instanceof Slots) v.free();
        else if (v && typeof v === 'object') all(v);
      }
    };
    all(this);
  }
}
