'use strict';
// The layering of src/ (docs/ARCHITECTURE.md "Layers"): a module may import
// only from its own folder or a folder below it, and folders inside a layer
// (fsimpl/<fs>, kernel/strace, platform/ptrace) form no cycle. Enforced here
// because nothing else would notice an upward arrow until it became a knot.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');

const SRC = path.join(__dirname, '..', '..', 'src');
// Bottom first.
const LAYERS = ['abi', 'auth', 'host', 'platform', 'mm', 'vfs', 'loader', 'kernel', 'fsimpl',
  'socket', 'net', 'syscalls', 'gofer', 'oci', 'sandbox', 'cli'];

function* walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

function importsOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  const out = [];
  // Whole import statements, so that `import type` (erased at run time) is told apart.
  const re = /^(import\s+type\b)?[^;'"]*?(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\(\s*|^import\s+)(['"])(\.[^'"]+)\2/gms;
  for (let m; (m = re.exec(text)); ) out.push({ to: path.resolve(path.dirname(file), m[3]), typeOnly: !!m[1] });
  return out;
}

const rel = (p) => path.relative(SRC, p).split(path.sep);
const graph = [];
for (const f of walk(SRC)) for (const t of importsOf(f)) graph.push([rel(f), rel(t.to), t.typeOnly]);

test('every top-level folder of src/ is a known layer', () => {
  const dirs = fs.readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const d of dirs) assert.ok(LAYERS.includes(d), `src/${d} is not in the layer list (add it to LAYERS and docs/ARCHITECTURE.md)`);
});

function upward(edges) {
  const bad = [];
  for (const [from, to] of edges) {
    if (LAYERS.indexOf(to[0]) > LAYERS.indexOf(from[0])) bad.push(`${from.join('/')} -> ${to.join('/')}`);
  }
  return bad;
}

test('no module imports from a layer above its own', () => {
  assert.deepStrictEqual(upward(graph), []);
});

test('sub-folders inside a layer form no import cycle', () => {
  // Folder graph at depth two (fsimpl/proc, kernel/strace, platform/ptrace, or the layer's own files).
  // Type-only imports are left out: they vanish at run time and only name an interface.
  const folder = (p) => (p.length > 2 ? `${p[0]}/${p[1]}` : `${p[0]}/.`);
  const edges = new Map();
  for (const [from, to, typeOnly] of graph) {
    if (from[0] !== to[0] || typeOnly) continue;
    const a = folder(from), b = folder(to);
    if (a === b) continue;
    if (!edges.has(a)) edges.set(a, new Set());
    edges.get(a).add(b);
  }
  const state = new Map();
  const cycles = [];
  const visit = (n, stack) => {
    state.set(n, 1);
    for (const m of edges.get(n) ?? []) {
      if (state.get(m) === 1) cycles.push([...stack, n, m].join(' -> '));
      else if (!state.has(m)) visit(m, [...stack, n]);
    }
    state.set(n, 2);
  };
  for (const n of edges.keys()) if (!state.has(n)) visit(n, []);
  assert.deepStrictEqual(cycles, []);
});

test('the checker sees an upward import (self-test on a synthetic graph)', () => {
  const edges = [[['vfs', 'vfs.ts'], ['fsimpl', 'pipe', 'pipe.ts'], false], [['fsimpl', 'pipe', 'pipe.ts'], ['vfs', 'file.ts'], false]];
  assert.deepStrictEqual(upward(edges), ['vfs/vfs.ts -> fsimpl/pipe/pipe.ts']);
  const probe = path.join(SRC, 'vfs', 'vfs.ts');
  assert.ok(importsOf(probe).some((p) => rel(p.to)[0] === 'vfs'), 'imports are parsed');
});
