// Minimal types for the parts of jsfive (0.4, a pure-JS HDF5 reader) that keras-file.ts uses.
declare module 'jsfive' {
  export class Group {
    readonly name: string;
    readonly keys: string[];
    readonly attrs: Record<string, unknown>;
    get(path: string): Group | Dataset | null | undefined;
  }
  export class Dataset {
    readonly name: string;
    readonly shape: number[];
    readonly dtype: unknown;
    readonly value: ArrayLike<number>;
    readonly attrs: Record<string, unknown>;
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }
}
