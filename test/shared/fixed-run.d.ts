// Types of fixed-run.js (plain JavaScript shared with the browser suite).
export const FIXED_RUN_BUILD: 'simd-mt';
export function fixedData(n?: number, T?: number, D?: number): { data: Float32Array; shape: number[] };
export function fixedRun(lv: unknown): Promise<{ losses: number[]; weightsHash: string }>;
