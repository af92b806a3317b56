#!/bin/sh
':' //; export TSVISOR_CALLER_NOFILE="$(ulimit -Sn)"; exec node "$0" "$@"
'use strict';
// The line above is the shell's and a no-op to JavaScript: Node raises its
// soft RLIMIT_NOFILE to the hard limit before any script runs, so the
// caller's soft limit (which the sandbox inherits) is handed over by the
// shell that starts Node (src/host/hostinfo.ts reads it).
// Start-up: dist/tsvisor.bundle.js (the modules the runtime commands run)
// and dist/tsvisor.rest.js (the kernel and the rest, read only when first
// needed) are built by tools/bundle.js and compiled with V8's code cache,
// one cache file next to each, written after the first run that used it,
// so neither module resolution nor parsing is paid again. A bundle older
// than tsc's output (tsc run alone since) is not used.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
// The loader's own Module class: requiring node:module would also load the ESM loader.
const { createRequire } = module.constructor;

const DIST = path.join(__dirname, '..', 'dist');

/** Compile a generated file of the bundle (a function expression around its source) with its code cache. */
function compile(file, src, params) {
  const cacheFile = `${file}.cache`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(`(function (${params}) {${src}\n})`, { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    // After the run: the cache then holds the functions that ran, not just the top level.
    process.once('exit', () => {
      try {
        const tmp = `${cacheFile}.${process.pid}`;
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, cacheFile);
      } catch {
        // a read-only install: no cache, just a slower start
      }
    });
  }
  return script.runInThisContext();
}

function loadMain() {
  const bundle = path.join(DIST, 'tsvisor.bundle.js');
  let src;
  try {
    if (fs.statSync(bundle).mtimeMs < fs.statSync(path.join(DIST, 'cli', 'main.js')).mtimeMs) return require('../dist/cli/main.js');
    src = fs.readFileSync(bundle, 'utf8');
  } catch {
    return require('../dist/cli/main.js');
  }
  const loadRest = (mods) => {
    const rest = path.join(DIST, 'tsvisor.rest.js');
    const mod = { exports: {} };
    compile(rest, fs.readFileSync(rest, 'utf8'), 'module')(mod);
    mod.exports(mods);
  };
  const mod = { exports: {} };
  // Requires of packages (koffi) resolve from dist/, as they would from its modules.
  compile(bundle, src, 'require, module, __filename, __dirname, __loadRest')(createRequire(bundle), mod, bundle, DIST, loadRest);
  return mod.exports('cli/main');
}

loadMain().main(process.argv.slice(2));
