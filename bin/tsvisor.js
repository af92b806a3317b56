#!/bin/sh
':' //; export TSVISOR_CALLER_NOFILE="$(ulimit -Sn)"; exec node "$0" "$@"
'use strict';
// The line above is the shell's and a no-op to JavaScript: Node raises its
// soft RLIMIT_NOFILE to the hard limit before any script runs, so the
// caller's soft limit (which the sandbox inherits) is handed over by the
// shell that starts Node (src/host/hostinfo.ts reads it).
// Start-up: dist/tsvisor.bundle.js (all modules in one file, tools/bundle.js)
// is compiled with V8's code cache, kept next to it and written after the
// first run, so neither module resolution nor parsing is paid again. A
// bundle older than tsc's output (tsc run alone since) is not used.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
// The loader's own Module class: requiring node:module would also load the ESM loader.
const { createRequire } = module.constructor;

const DIST = path.join(__dirname, '..', 'dist');

function loadMain() {
  const bundle = path.join(DIST, 'tsvisor.bundle.js');
  let src;
  try {
    if (fs.statSync(bundle).mtimeMs < fs.statSync(path.join(DIST, 'cli', 'main.js')).mtimeMs) return require('../dist/cli/main.js');
    src = fs.readFileSync(bundle, 'utf8');
  } catch {
    return require('../dist/cli/main.js');
  }
  const cacheFile = `${bundle}.cache`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(`(function (require, module, __filename, __dirname) {${src}\n})`, { filename: bundle, cachedData });
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
  const mod = { exports: {} };
  // Requires of packages (koffi) resolve from dist/, as they would from its modules.
  script.runInThisContext()(createRequire(bundle), mod, bundle, DIST);
  return mod.exports('cli/main');
}

loadMain().main(process.argv.slice(2));
