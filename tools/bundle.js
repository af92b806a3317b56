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

const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const DIST = path.resolve(__dirname, '..', 'dist');
const OUT = path.join(DIST, 'tsvisor.bundle.js');
const REST = path.join(DIST, 'tsvisor.rest.js');
const SUPERVISE = path.join(DIST, 'tsvisor.supervise.js');
const GOFER = path.join(DIST, 'gofer.bundle.js');
const NODE_MODULES = path.resolve(__dirname, '..', 'node_modules');
/** Packages joined into the bundle, by the name they are required by; each has a CommonJS main and only relative requires of its own files. */
const PACKAGES = ['commander'];
/**
 * Built-in modules that the packages above require when evaluated but use
 * only in paths tsvisor never takes (commander spawns executable
 * sub-commands with node:child_process, which loads node:net and node:stream
 * with it: several milliseconds of every start). In their code such a require
 * becomes __lazyBuiltin(NAME), an object that loads the module at its first
 * property access.
 */
const LAZY_BUILTINS = ['node:child_process'];

function walk(dir, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.js') && p !== OUT && p !== REST && p !== SUPERVISE && p !== GOFER) out.push(p);
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
  let src = fs.readFileSync(file, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
  // tsc writes `import * as fs from 'node:fs'` as __importStar(require("node:fs")): a new object with a getter per
  // export (about a hundred for node:fs), made again by each of the ~50 modules that import one, several ms of every
  // start. A built-in's exports object already has every export, live: the modules use it as it is.
  if (!id.startsWith('@pkg/')) src = src.replace(/__importStar\(require\("(node:[a-z0-9_/]+)"\)\)/g, 'require("$1")');
  if (id.startsWith('@pkg/')) for (const b of LAZY_BUILTINS) src = src.replace(new RegExp(`\\brequire\\((["'])${b}\\1\\)`, 'g'), `__lazyBuiltin(${JSON.stringify(b)})`);
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

/** The modules evaluated with roots (their requires run at once), but for those in skip. */
function closure(roots, skip = new Set()) {
  const out = new Set();
  const todo = [...roots];
  while (todo.length) {
    const id = todo.pop();
    if (out.has(id) || skip.has(id)) continue;
    out.add(id);
    todo.push(...eager[id]);
  }
  return out;
}
// The bundle is three files. The first holds what `cli/main` evaluates before
// it runs a command (the runtime commands Docker calls several times per
// container: create, start, state, kill, delete); the others are read and
// compiled only when a module of theirs is first required: the second, what
// the runtime above a confined Sentry adds (it starts the Gofer and the
// Sentry and serves the Sentry's requests: cli/sandbox_confined, and
// host/netns where it takes a container's interfaces over); the third, the
// rest (the kernel). Reading and compiling the whole bundle was most of a
// `state`'s start-up beyond Node's own, and the kernel's half two thirds of
// the confined runtime's memory of its own. All share one module table, so
// a module exists once.
const core = closure(['cli/main']);
const supervise = closure(['cli/sandbox_confined', 'host/netns'], core);
// The Gofer (src/gofer/main.ts loads it): gofer/serve and what it evaluates, alone in a third file.
const gofer = closure(['gofer/serve']);
const moduleText = (id) => `__mods[${JSON.stringify(id)}] = function (exports, require, module, __filename, __dirname) {\n${sources[id]}\n};`;

// Each file is one function expression, the whole source of a vm.Script
// (bin/tsvisor.js adds nothing around it: a source built by concatenation
// is copied once more when V8 flattens it), and pure ASCII (every other
// character written as a \u escape, which means the same in strings,
// regular expressions, comments and templates other than String.raw ones,
// which are refused below), so that bin/tsvisor.js reads
// it as latin1: a copy instead of a UTF-8 decoding, and for the larger file
// a string outside V8's heap.
const loaderText = (mods, parts) => [
  '(function (require, module, __filename, __dirname, __loadPart, __onEval) {',
  "'use strict';",
  '// Generated by tools/bundle.js from dist/ (npm run build); do not edit.',
  '// __loadPart(NAME, __mods) adds the modules of tsvisor.NAME.js (bin/tsvisor.js passes it).',
  '// __onEval(id), if given, is told of each module as it is evaluated (bin/tsvisor.js: TSVISOR_MODULE_TRACE).',
  'const __path = require("node:path");',
  'const __mods = Object.create(null);',
  ...mods.map((id) => moduleText(id)),
  `const __deps = ${JSON.stringify(Object.fromEntries(Object.entries(deps).filter(([id]) => mods.includes(id) || parts[id] !== undefined)))};`,
  `const __pkgs = ${JSON.stringify(pkgMains)};`,
  `const __parts = ${JSON.stringify(parts)};`,
  `
const __lazy = Object.create(null);
/** A stand-in for a built-in module (tools/bundle.js, LAZY_BUILTINS): the module is required at the first property read. */
function __lazyBuiltin(name) {
  return __lazy[name] || (__lazy[name] = new Proxy({}, { get: (_, key) => require(name)[key] }));
}
const __cache = Object.create(null);
const __partsLoaded = new Set();
/** Whether the bundle has a module of this id, reading the file that holds it the first time one of its modules is asked for. */
function __has(id) {
  if (__mods[id]) return true;
  const part = __parts[id];
  if (part === undefined) return false;
  if (!__partsLoaded.has(part)) {
    __partsLoaded.add(part);
    __loadPart(part, __mods);
  }
  return true;
}
function __load(id) {
  const hit = __cache[id];
  if (hit) return hit.exports;
  __has(id);
  const module = { exports: {}, id };
  __cache[id] = module;
  if (__onEval) __onEval(id);
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
/**
 * The part (file tsvisor.NAME.js) of each module not in the first file. The
 * rest also holds the supervise part's modules: the kernel uses some of them
 * (the Gofer's channel, the confined start's hand-off), and `do` would
 * otherwise read and compile a third file for them. A module of the
 * supervise part is read from there only when the rest is not loaded yet
 * (the runtime above a confined Sentry); if the rest comes later, its copy
 * of an already registered module changes nothing (a module is evaluated once).
 */
const partOf = Object.fromEntries(files.filter((f) => !core.has(f.id)).map((f) => [f.id, supervise.has(f.id) ? 'supervise' : 'rest']));
const parts = loaderText(files.filter((f) => core.has(f.id)).map((f) => f.id), partOf);
const goferIds = files.filter((f) => gofer.has(f.id)).map((f) => f.id);
const goferParts = loaderText(goferIds, {});
const partText = (name) => [
  '(function (__mods) {',
  "'use strict';",
  '// Generated by tools/bundle.js from dist/ (npm run build); do not edit. The modules tsvisor.bundle.js loads on first use.',
  ...files.filter((f) => partOf[f.id] === name || (name === 'rest' && partOf[f.id] !== undefined)).map((f) => moduleText(f.id)),
  '})',
];
/** Every character outside ASCII as its \u escape (UTF-16 code units, as JavaScript source reads them). */
const ascii = (text) => text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
// The lazily read parts first: a bundle newer than its parts is never seen with old ones.
for (const [out, text] of [[REST, partText('rest')], [SUPERVISE, partText('supervise')], [OUT, parts], [GOFER, goferParts]]) {
  fs.writeFileSync(`${out}.tmp`, ascii(text.join('\n')), 'latin1');
  fs.renameSync(`${out}.tmp`, out);
  // bin/tsvisor.js would reject it anyway (its stamp names the old file); this saves the read.
  fs.rmSync(`${out}.cache`, { force: true });
}
console.log(`tools/bundle.js: ${core.size} modules in ${path.basename(OUT)}, ${supervise.size} in ${path.basename(SUPERVISE)}, ${files.length - core.size - supervise.size} in ${path.basename(REST)}, ${gofer.size} in ${path.basename(GOFER)}`);

// The first file's code cache is written by the first command run after a
// build, and holds the functions that command ran (bin/tsvisor.js); a later
// command compiles the others from source on every start. Written here by a
// `state` of a container that does not exist: the path of the light runtime
// commands Docker's shim runs per container (state, start, kill, delete) is
// then in it (measured: `state` 10 ms of CPU less than with the cache a `do`
// wrote first; `do` the same either way). The rest's cache is still written
// by the first command that loads the kernel. A failure here only leaves the
// cache to the first command.
const warmRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-build-'));
const env = { ...process.env };
delete env.TSVISOR_MODULE_TRACE;
delete env.NODE_OPTIONS;
try {
  childProcess.spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'tsvisor.js'), '--root', warmRoot, 'state', 'build-warm-up'], { stdio: 'ignore', env, timeout: 60_000 });
} finally {
  fs.rmSync(warmRoot, { recursive: true, force: true });
}
// The kernel's cache likewise, by a `do /bin/true` in this process's platform
// (not confined: a confined Sentry writes its cache before its program runs,
// without the exec and system call paths). Left to the first command that
// loads the kernel otherwise, it held whatever that command ran: measured,
// `do /bin/true` took 44% more CPU with the cache a confined Sentry wrote.
// A run that fails (no ptrace here, no /bin/true) leaves no cache.
const doWarm = childProcess.spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'tsvisor.js'), 'do', '--no-confine', '--', '/bin/true'], { stdio: 'ignore', env, timeout: 60_000 });
if (doWarm.status !== 0) fs.rmSync(`${REST}.cache`, { force: true });
