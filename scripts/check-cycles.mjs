#!/usr/bin/env node
// Fails when a module graph has a cycle.
//
//   node scripts/check-cycles.mjs rust [crate/src]
//
// rust: the modules are the files of the crate (`lib.rs` is the root, `a.rs` or `a/mod.rs` is
// `a`, `a/b.rs` is `a::b`); a module depends on another when it names it in a path: `use` trees
// and paths in code that start with `crate::`, `super::`, `self::` or the name of a child module.
// `mod x;` declarations are the tree, not dependencies (a parent may re-export its children, but
// a child then must import its siblings, never the parent). Two graphs are checked: the files,
// and the top-level modules (every `a::…` folded into `a`), so that two subtrees cannot lean on
// each other either. Only other languages' parsers would need adding to check them too.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const [lang = 'rust', rootArg] = process.argv.slice(2);
const parsers = { rust: rustGraph };
if (!parsers[lang]) {
  console.error(`check-cycles: unknown language '${lang}' (known: ${Object.keys(parsers).join(', ')})`);
  process.exit(2);
}

function files(dir, ext) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p, ext) : p.endsWith(ext) ? [p] : [];
  });
}

/** Comments and the contents of string and char literals blanked out (lengths kept). */
function stripRust(src) {
  let out = '';
  for (let i = 0; i < src.length; ) {
    const two = src.slice(i, i + 2);
    if (two === '//') {
      const j = src.indexOf('\n', i);
      i = j < 0 ? src.length : j;
    } else if (two === '/*') {
      const j = src.indexOf('*/', i + 2);
      i = j < 0 ? src.length : j + 2;
    } else if (src[i] === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      out += '""';
      i = j + 1;
    } else if (src[i] === "'" && /^'(\\.|[^'\\])'/.test(src.slice(i, i + 4))) {
      const m = src.slice(i).match(/^'(\\.|[^'\\])'/);
      out += "' '";
      i += m[0].length;
    } else {
      out += src[i++];
    }
  }
  return out;
}

/** The paths of a `use` tree (`a::{b, c::{d, e}}` → a::b, a::c::d, a::c::e). */
function expandUse(tree) {
  tree = tree.replace(/\s+as\s+\w+/g, '').replace(/\s+/g, '');
  const brace = tree.indexOf('{');
  if (brace < 0) return [tree.replace(/::\*$/, '')];
  const prefix = tree.slice(0, brace);
  const inner = tree.slice(brace + 1, tree.lastIndexOf('}'));
  const parts = [];
  let depth = 0,
    start = 0;
  for (let i = 0; i <= inner.length; i++) {
    const c = inner[i];
    if (c === '{') depth++;
    else if (c === '}') depth--;
    else if ((c === ',' || i === inner.length) && depth === 0) {
      if (i > start) parts.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  return parts.flatMap((p) => expandUse(prefix + p).map((x) => x.replace(/::self$/, '')));
}

function rustGraph(root) {
  const mods = new Map(); // module path → file
  for (const f of files(root, '.rs')) {
    const rel = relative(root, f).split(sep).join('/').replace(/\.rs$/, '');
    const path =
      rel === 'lib'
        ? 'crate'
        : 'crate::' +
          rel
            .replace(/\/mod$/, '')
            .split('/')
            .join('::');
    mods.set(path, f);
  }
  const children = (m) =>
    [...mods.keys()].filter((k) => k.startsWith(m + '::') && !k.slice(m.length + 2).includes('::')).map((k) => k.split('::').pop());
  const edges = new Map([...mods.keys()].map((m) => [m, new Map()]));
  for (const [mod, file] of mods) {
    const src = withoutInlineTests(stripRust(readFileSync(file, 'utf8')));
    const parent = mod.split('::').slice(0, -1).join('::');
    const kids = new Set(children(mod));
    const paths = [];
    for (const m of src.matchAll(/\buse\s+([^;]+);/g)) paths.push(...expandUse(m[1]).map((p) => ({ p, line: lineOf(src, m.index) })));
    for (const m of src.matchAll(/(?<![\w:])((?:crate|super|self|[a-z_][a-z0-9_]*)(?:::[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
      if (/^(crate|super|self)::/.test(m[1]) || kids.has(m[1].split('::')[0])) paths.push({ p: m[1], line: lineOf(src, m.index) });
    }
    for (const { p, line } of paths) {
      let segs = p.split('::');
      let abs;
      if (segs[0] === 'crate') abs = ['crate'];
      else if (segs[0] === 'self') abs = mod.split('::');
      else if (segs[0] === 'super') {
        abs = mod.split('::');
        while (segs[0] === 'super') {
          abs = abs.slice(0, -1);
          segs = segs.slice(1);
        }
        segs = ['x', ...segs];
      } else if (kids.has(segs[0])) {
        abs = mod.split('::');
        segs = ['x', ...segs];
      } else continue; // an outside crate (std, ndarray, …)
      // the longest prefix that is a module of this crate
      let target = abs.join('::');
      for (const s of segs.slice(1)) {
        const next = `${target}::${s}`;
        if (!mods.has(next)) break;
        target = next;
      }
      if (target !== mod && mods.has(target) && !(target === parent && isTestModule(mod))) {
        if (!edges.get(mod).has(target)) edges.get(mod).set(target, `${relative(process.cwd(), file)}:${line}`);
      }
    }
  }
  return edges;
}

/** The source with inline `#[cfg(test)] mod x { … }` blocks blanked out (their `super` is this file). */
function withoutInlineTests(src) {
  for (;;) {
    const m = /#\[cfg\(test\)\]\s*mod\s+\w+\s*\{/.exec(src);
    if (!m) return src;
    let depth = 0,
      j = m.index + m[0].length - 1;
    for (; j < src.length; j++) {
      if (src[j] === '{') depth++;
      else if (src[j] === '}' && --depth === 0) break;
    }
    src = src.slice(0, m.index) + src.slice(m.index, j + 1).replace(/[^\n]/g, ' ') + src.slice(j + 1);
  }
}

/** A `tests` module (declared under `#[cfg(test)]`) may use its parent: nothing imports it. */
function isTestModule(mod) {
  return mod.endsWith('::tests');
}

function lineOf(src, index) {
  return src.slice(0, index).split('\n').length;
}

function fold(edges) {
  const top = (m) => m.split('::').slice(0, 2).join('::');
  const out = new Map();
  for (const [from, tos] of edges) {
    if (!out.has(top(from))) out.set(top(from), new Map());
    for (const [to, where] of tos) {
      if (top(to) !== top(from) && !out.get(top(from)).has(top(to))) out.get(top(from)).set(top(to), where);
    }
  }
  return out;
}

/** One cycle as a list of nodes, or null. */
function findCycle(edges) {
  const state = new Map();
  const stack = [];
  const visit = (n) => {
    state.set(n, 1);
    stack.push(n);
    for (const m of edges.get(n)?.keys() ?? []) {
      if (state.get(m) === 1) return [...stack.slice(stack.indexOf(m)), m];
      if (!state.has(m)) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return null;
  };
  for (const n of edges.keys()) {
    if (!state.has(n)) {
      const c = visit(n);
      if (c) return c;
    }
  }
  return null;
}

const root = rootArg ?? 'crate/src';
const graph = parsers[lang](root);
let bad = false;
for (const [name, g] of [
  ['files', graph],
  ['top-level modules', fold(graph)],
]) {
  const cycle = findCycle(g);
  if (cycle) {
    bad = true;
    console.error(`check-cycles: ${lang} ${root}: cycle between ${name}:`);
    for (let i = 0; i + 1 < cycle.length; i++) console.error(`  ${cycle[i]} -> ${cycle[i + 1]}  (${g.get(cycle[i]).get(cycle[i + 1])})`);
  }
}
const nEdges = [...graph.values()].reduce((s, m) => s + m.size, 0);
if (bad) process.exit(1);
console.log(`check-cycles: ${lang} ${root}: ${graph.size} modules, ${nEdges} dependencies, no cycle`);
