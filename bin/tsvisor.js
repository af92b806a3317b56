#!/bin/sh
':' //; export TSVISOR_CALLER_NOFILE="$(ulimit -Sn)"; [ -z "${NODE_EXTRA_CA_CERTS+set}" ] || { export TSVISOR_CALLER_CA_CERTS="$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS; }; exec node "$0" "$@"
'use strict';
// The line above is the shell's and a no-op to JavaScript: Node raises its
// soft RLIMIT_NOFILE to the hard limit before any script runs, so the
// caller's soft limit (which the sandbox inherits) is handed over by the
// shell that starts Node (src/host/hostinfo.ts reads it). It also keeps
// NODE_EXTRA_CA_CERTS from Node, which would parse the certificates at
// start-up for nothing (src/cli/caller_env.ts); started by `node` directly,
// the first statement below does that for the Node processes we start.
if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.TSVISOR_CALLER_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
  delete process.env.NODE_EXTRA_CA_CERTS;
}
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
/** Bytes before V8's data in a cache file: the source's size and mtime in ns. */
const CACHE_STAMP = 16;

/**
 * Compile a generated file of the bundle (one function expression, pure
 * ASCII: read as latin1, no UTF-8 decoding) with its code cache. V8 checks
 * a cache against the source's length only: a rebuilt or reinstalled file
 * of the same length would run the old bytecode. So the cache file begins
 * with the size and modification time of the source it was made from, and
 * is used only for that file.
 */
function compile(file) {
  const cacheFile = `${file}.cache`;
  const st = fs.statSync(file, { bigint: true });
  const stamp = Buffer.alloc(CACHE_STAMP);
  stamp.writeBigUInt64LE(st.size, 0);
  stamp.writeBigUInt64LE(st.mtimeNs, 8);
  let cachedData;
  try {
    const b = fs.readFileSync(cacheFile);
    if (b.length > CACHE_STAMP && b.subarray(0, CACHE_STAMP).equals(stamp)) cachedData = b.subarray(CACHE_STAMP);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(fs.readFileSync(file, 'latin1'), { filename: file, cachedData });
  // Not by a confined Sentry (TSVISOR_CONFINE_FD, src/sandbox/confine.ts): its filter kills a
  // write open, and the runtime above it, the same command, writes the cache.
  if ((cachedData === undefined || script.cachedDataRejected) && process.env.TSVISOR_CONFINE_FD === undefined) {
    // After the run: the cache then holds the functions that ran, not just the top level.
    process.once('exit', () => {
      try {
        const tmp = `${cacheFile}.${process.pid}`;
        fs.writeFileSync(tmp, Buffer.concat([stamp, script.createCachedData()]));
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
  try {
    if (fs.statSync(bundle).mtimeMs < fs.statSync(path.join(DIST, 'cli', 'main.js')).mtimeMs) return require('../dist/cli/main.js');
  } catch {
    return require('../dist/cli/main.js');
  }
  const loadRest = (mods) => compile(path.join(DIST, 'tsvisor.rest.js'))(mods);
  const mod = { exports: {} };
  // Requires of packages (koffi) resolve from dist/, as they would from its modules.
  compile(bundle)(createRequire(bundle), mod, bundle, DIST, loadRest);
  return mod.exports('cli/main');
}

loadMain().main(process.argv.slice(2));
