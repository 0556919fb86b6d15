// The README's TypeScript blocks are part of the API's tests: every ```ts block must be preceded by a
// `<!-- readme-check: types[; prelude] -->` comment (type-checked against the built package's declarations, the
// prelude declaring what the block takes from the text around it) or `<!-- readme-check: run -->` (type-checked,
// then run in Node, and what it prints checked). A block without such a comment fails the test, so none goes
// unchecked. Needs the built package (dist/), as the other tests.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');
const dir = join(root, '.cache', 'readme-check');

interface Block {
  line: number;
  mode: 'types' | 'run' | undefined;
  prelude: string;
  code: string;
}

function blocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```ts') continue;
    const end = lines.indexOf('```', i + 1);
    const m = /^<!-- readme-check: (types|run)(?:;(.*))? -->$/.exec(i > 0 ? lines[i - 1].trim() : '');
    out.push({
      line: i + 1,
      mode: m ? (m[1] as 'types' | 'run') : undefined,
      prelude: m?.[2]?.trim() ?? '',
      code: lines.slice(i + 1, end).join('\n'),
    });
    i = end;
  }
  return out;
}

/** Type errors of each source (keyed by file name), compiled as the package's users would (strict, ESM). */
function typeErrors(files: Record<string, string>): Record<string, string[]> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const names = Object.entries(files).map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  });
  const program = ts.createProgram(names, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    customConditions: ['node'],
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  });
  const out: Record<string, string[]> = {};
  for (const path of names) {
    const name = path.slice(dir.length + 1);
    const sf = program.getSourceFile(path)!;
    out[name] = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map((d) => {
      const pos = d.start !== undefined ? sf.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
      return `line ${pos}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  }
  return out;
}

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const found = blocks(readme);
// the block's own lines keep their README line numbers in messages: the prelude goes on the line of the fence
const source = (b: Block) => `${b.prelude}\n${b.code}\nexport {};\n`;

describe('README code blocks', () => {
  it('every TypeScript block says how it is checked', () => {
    expect(found.length).toBeGreaterThanOrEqual(5);
    expect(found.filter((b) => !b.mode).map((b) => `README.md:${b.line}`)).toEqual([]);
  });

  it('type-checks against the built package, and the check catches a wrong call', () => {
    const files: Record<string, string> = {};
    for (const b of found) files[`block-${b.line}.ts`] = source(b);
    // the same check on a block with a misspelt method must fail: the test can fail
    const first = found.find((b) => b.code.includes('.fit('))!;
    files['mutant.ts'] = source({ ...first, code: first.code.replace('.fit(', '.fitt(') });
    const errors = typeErrors(files);
    const mutant = errors['mutant.ts'];
    delete errors['mutant.ts'];
    expect(Object.fromEntries(Object.entries(errors).filter(([, e]) => e.length > 0))).toEqual({});
    expect(mutant.some((e) => e.includes("'fitt'"))).toBe(true);
  }, 120_000);

  it('runs the quick example: it finds the spike and the flat stretch it describes', () => {
    const run = found.filter((b) => b.mode === 'run');
    expect(run.length).toBe(1);
    const js = ts.transpileModule(`${run[0].code}\nconsole.log('INTERVALS ' + JSON.stringify(r.intervals));\nprocess.exit(0);\n`, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'run.mjs');
    writeFileSync(file, js);
    const p = spawnSync(process.execPath, [...process.execArgv.filter((a) => a.startsWith('--experimental-wasm')), file], {
      cwd: root,
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(p.status, p.stderr).toBe(0);
    const line = p.stdout.split('\n').find((l) => l.startsWith('INTERVALS '))!;
    const intervals = JSON.parse(line.slice('INTERVALS '.length)) as [number, number][];
    const covers = (row: number) => intervals.some(([a, b]) => a <= row && row <= b);
    expect(covers(2100)).toBe(true); // the spike
    expect(covers(1515)).toBe(true); // the flat stretch 1500–1529
    expect(intervals.length).toBeLessThanOrEqual(4);
  }, 320_000);
});
