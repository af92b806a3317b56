#!/usr/bin/env node
'use strict';
// tools/bundle.js: after tsc, join every module of dist/ into one file,
// dist/tsvisor.bundle.js, that bin/tsvisor.js loads instead of ~100 separate
// files (and the Gofer's modules into dist/gofer.bundle.js, which
// src/gofer/main.ts loads). Start-up profiles showed a third of module loading going to path
// resolution and package.json lookups (Module._resolveFilename,
// readPackageScope), and more to reading and wrapping each file; one file
// pays that once. Each module keeps its own function scope, exports and
// lazy evaluation order; relative requires (also computed ones, such as
// the syscall table's families) resolve inside the bundle, everything else
// (node: built-ins, koffi) goes to Node's own require, except the pure
// JavaScript packages listed in PACKAGES (commander): every runtime command
// parses its arguments with it, and from node_modules it was resolved and
// compiled on each start (no code cache), about a tenth of a light
// command's start-up CPU.

const fs = require('node:fs');
const path = require('node:path');

const DIST = path.resolve(__dirname, '..', 'dist');
const OUT = path.join(DIST, 'tsvisor.bundle.js');
const REST = path.join(DIST, 'tsvisor.rest.js');
const GOFER = path.join(DIST, 'gofer.bundle.js');
const NODE_MODULES = path.resolve(__dirname, '..', 'node_modules');
/** Packages joined into the bundle, by the name they are required by; each has a CommonJS main and only relative requires of its own files. */
const PACKAGES = ['commander'];

function walk(dir, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.js') && p !== OUT && p !== REST && p !== GOFER) out.push(p);
  }
  return out;
}

/** A package's module ids live under @pkg/NAME/ and its files keep their paths inside the package. */
const pkgFiles = [];
const pkgMains = {};
for (const name of PACKAGES) {
  const root = path.join(NODE_MODULES, name);
  const main = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).main || './index.js';
  pkgMains[name] = `@pkg/${name}/${path.posix.normalize(main).replace(/\.js$/, '')}`;
  for (const f of walk(root, [])) if (!f.includes(`${path.sep}node_modules${path.sep}`, root.length)) pkgFiles.push({ file: f, id: `@pkg/${name}/${path.relative(root, f).split(path.sep).join('/').replace(/\.js$/, '')}` });
}
const files = walk(DIST, []).sort().map((f) => ({ file: f, id: path.relative(DIST, f).split(path.sep).join('/').replace(/\.js$/, '') }));
files.push(...pkgFiles);
const ids = new Set(files.map((f) => f.id));
// Relative requires written as literals are resolved here, once: at start-up
// the path joins of ~800 requires cost several milliseconds. Computed ones
// (the syscall table's families) still resolve when they run.
const deps = {};
/** Requires run when a module is evaluated (not those of a dynamic import(), which tsc writes as Promise.resolve().then(...)). */
const eager = {};
const sources = {};
for (const { file, id } of files) {
  const src = fs.readFileSync(file, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
  if (/String\.raw/.test(src) && /[^\x00-\x7f]/.test(src)) throw new Error(`${file}: String.raw and characters outside ASCII, which the bundle escapes`);
  sources[id] = src;
  const map = {};
  const now = [];
  for (const m of src.matchAll(/(Promise\.resolve\(\)\.then\(\(\) => __importStar\()?\brequire\((["'])([^"']+)\2\)/g)) {
    const spec = m[3];
    let target = null;
    if (spec.startsWith('./') || spec.startsWith('../')) {
      const t = path.posix.join(path.posix.dirname(id), spec).replace(/\.js$/, '');
      target = ids.has(t) ? t : ids.has(`${t}/index`) ? `${t}/index` : null;
      if (target) map[spec] = target;
    } else if (pkgMains[spec]) target = pkgMains[spec];
    if (target && !m[1]) now.push(target);
  }
  if (Object.keys(map).length) deps[id] = map;
  eager[id] = now;
}

// The bundle is two files. The first holds what `cli/main` evaluates before
// it runs a command (the runtime commands Docker calls several times per
// container: create, start, state, kill, delete); the second, the rest (the
// kernel), is read and compiled only when a module of it is first required.
// Reading and compiling the whole bundle was most of a `state`'s start-up
// beyond Node's own. Both share one module table, so a module exists once.
const core = new Set();
const todo = ['cli/main'];
while (todo.length) {
  const id = todo.pop();
  if (core.has(id)) continue;
  core.add(id);
  todo.push(...eager[id]);
}
// The Gofer (src/gofer/main.ts loads it): gofer/serve and what it evaluates, alone in a third file.
const gofer = new Set();
const goferTodo = ['gofer/serve'];
while (goferTodo.length) {
  const id = goferTodo.pop();
  if (gofer.has(id)) continue;
  gofer.add(id);
  goferTodo.push(...eager[id]);
}
const moduleText = (id) => `__mods[${JSON.stringify(id)}] = function (exports, require, module, __filename, __dirname) {\n${sources[id]}\n};`;

// Each file is one function expression, the whole source of a vm.Script
// (bin/tsvisor.js adds nothing around it: a source built by concatenation
// is copied once more when V8 flattens it), and pure ASCII (every other
// character written as a \u escape, which means the same in strings,
// regular expressions, comments and templates other than String.raw ones,
// which are refused below), so that bin/tsvisor.js reads
// it as latin1: a copy instead of a UTF-8 decoding, and for the larger file
// a string outside V8's heap.
const loaderText = (mods, ids) => [
  '(function (require, module, __filename, __dirname, __loadRest) {',
  "'use strict';",
  '// Generated by tools/bundle.js from dist/ (npm run build); do not edit.',
  '// __loadRest(__mods) adds the modules of tsvisor.rest.js (bin/tsvisor.js passes it).',
  'const __path = require("node:path");',
  'const __mods = Object.create(null);',
  ...mods.map((id) => moduleText(id)),
  `const __deps = ${JSON.stringify(Object.fromEntries(Object.entries(deps).filter(([id]) => ids.includes(id))))};`,
  `const __pkgs = ${JSON.stringify(pkgMains)};`,
  `const __ids = new Set(${JSON.stringify(ids)});`,
  `
const __cache = Object.create(null);
let __restLoaded = false;
/** Whether the bundle has a module of this id, reading the second file the first time one of its modules is asked for. */
function __has(id) {
  if (!__ids.has(id)) return false;
  if (!__mods[id] && !__restLoaded) {
    __restLoaded = true;
    __loadRest(__mods);
  }
  return true;
}
function __load(id) {
  const hit = __cache[id];
  if (hit) return hit.exports;
  __has(id);
  const module = { exports: {}, id };
  __cache[id] = module;
  // ids are normalized relative paths and __dirname is absolute: plain concatenation is the join.
  const filename = __dirname + '/' + id + '.js';
  __mods[id].call(module.exports, module.exports, __requireFrom(id), module, filename, filename.slice(0, filename.lastIndexOf('/')));
  return module.exports;
}
function __requireFrom(id) {
  const dir = __path.posix.dirname(id);
  const known = __deps[id];
  return function (spec) {
    const resolved = known && known[spec];
    if (resolved) return __load(resolved);
    if (spec.startsWith('./') || spec.startsWith('../')) {
      const target = __path.posix.join(dir, spec).replace(/\\.js$/, '');
      if (__has(target)) return __load(target);
      if (__has(target + '/index')) return __load(target + '/index');
      return require(__path.join(__dirname, dir, spec));
    }
    const pkg = __pkgs[spec];
    return pkg ? __load(pkg) : require(spec);
  };
}
module.exports = __load;
`,
  '})',
];
const parts = loaderText(files.filter((f) => core.has(f.id)).map((f) => f.id), files.map((f) => f.id));
const goferIds = files.filter((f) => gofer.has(f.id)).map((f) => f.id);
const goferParts = loaderText(goferIds, goferIds);
const rest = [
  '(function (__mods) {',
  "'use strict';",
  '// Generated by tools/bundle.js from dist/ (npm run build); do not edit. The modules tsvisor.bundle.js loads on first use.',
  ...files.filter((f) => !core.has(f.id)).map((f) => moduleText(f.id)),
  '})',
];
/** Every character outside ASCII as its \u escape (UTF-16 code units, as JavaScript source reads them). */
const ascii = (text) => text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
// The rest first: a bundle newer than its rest is never seen with an old one.
for (const [out, text] of [[REST, rest], [OUT, parts], [GOFER, goferParts]]) {
  fs.writeFileSync(`${out}.tmp`, ascii(text.join('\n')), 'latin1');
  fs.renameSync(`${out}.tmp`, out);
  // bin/tsvisor.js would reject it anyway (its stamp names the old file); this saves the read.
  fs.rmSync(`${out}.cache`, { force: true });
}
console.log(`tools/bundle.js: ${core.size} modules in ${path.basename(OUT)}, ${files.length - core.size} in ${path.basename(REST)}, ${gofer.size} in ${path.basename(GOFER)}`);
