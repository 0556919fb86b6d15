// Minimal types for the parts of cli-progress (3.x) that the CLI uses.
declare module 'cli-progress' {
  export interface Options {
    format?: string;
    stream?: NodeJS.WritableStream;
    fps?: number;
    etaBuffer?: number;
    etaAsynchronousUpdate?: boolean;
    hideCursor?: boolean | null;
    clearOnComplete?: boolean;
    stopOnComplete?: boolean;
    barsize?: number;
    barCompleteChar?: string;
    barIncompleteChar?: string;
    noTTYOutput?: boolean;
    forceRedraw?: boolean;
    linewrap?: boolean | null;
    gracefulExit?: boolean;
  }
  export class SingleBar {
    constructor(options: Options, preset?: object);
    start(total: number, startValue: number, payload?: Record<string, unknown>): void;
    update(current: number, payload?: Record<string, unknown>): void;
    setTotal(total: number): void;
    stop(): void;
  }
  export const Presets: { shades_classic: object; shades_grey: object; legacy: object; rect: object };
  const _default: { SingleBar: typeof SingleBar; Presets: typeof Presets };
  export default _default;
}
