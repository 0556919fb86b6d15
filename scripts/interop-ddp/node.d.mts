// Types of node.mjs (for test/interop-ddp.test.ts).
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}
export interface NodeSummary {
  steps: number;
  windows: number;
  seconds: number;
  last: { loss: number; recon: number; kl: number; beta: number };
  eval: { loss: number; recon: number; kl: number };
  threshold: number;
}
export const TRAIN_DDP: string;
export const PYTHON: string;
export const RUN: Record<string, unknown>;
export function torchArgs(dir: string, epochs?: number): string[];
export function series(n?: number): { data: Float64Array; shape: [number, number] };
export function train(dir: string, log?: (s: string) => void): Promise<NodeSummary>;
export function torchPlan(file: string): { skipped?: string; error?: string; plan?: Record<string, unknown> };
export function light(dir: string): Promise<CheckResult[]>;
export function after(dir: string, log?: (s: string) => void): Promise<CheckResult[]>;
export function report(results: CheckResult[], log?: (s: string) => void): boolean;
export function torchProblem(): string | undefined;
export const STEP_CHECK: number;
export function stepCheck(dir: string, steps?: number): Promise<CheckResult[]>;
export function torchrun(
  args: string[],
  options?: { inherit?: boolean; timeoutMs?: number },
): { status: number | null; stdout: string; stderr: string; error?: Error };
export function detectorArgs(dir: string, epochs?: number): string[];
export function trainDetector(dir: string, log?: (s: string) => void): Promise<void>;
export function afterDetector(dir: string, log?: (s: string) => void): Promise<CheckResult[]>;
export function lightDetector(dir: string): Promise<CheckResult[]>;
export function readSeriesCsv(dir: string): { data: number[]; shape: [number, number] };
export function torchDetectorWindows(dir: string): { error?: string; shape?: number[]; data?: Float32Array };
