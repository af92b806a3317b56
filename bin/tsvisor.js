#!/bin/sh
':' //; export TSVISOR_CALLER_NOFILE="$(ulimit -Sn)"; [ -z "${NODE_EXTRA_CA_CERTS+set}" ] || { export TSVISOR_CALLER_CA_CERTS="$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS; }; tsv_args() { tsv_r=/run/tsvisor; tsv_c=; while [ $# -gt 0 ]; do case $1 in --root|--log|--log-format|--platform|--network) [ "$1" = --root ] && tsv_r=${2-}; [ $# -gt 1 ] && shift;; --root=*) tsv_r=${1#*=};; -h|--help|-v|--version) break;; -*) ;; *) tsv_c=$1; shift; break;; esac; shift; done; tsv_f=; tsv_i=; tsv_n=0; for tsv_a; do case $tsv_a in -f|--force) tsv_f=1;; -*) tsv_n=9;; *) tsv_i=$tsv_a; tsv_n=$((tsv_n+1));; esac; done; tsv_d=; [ "$tsv_n" = 1 ] && case $tsv_i in *[!A-Za-z0-9_+.-]*|.*|'') ;; *) tsv_d=$tsv_r/$tsv_i;; esac; }; tsv_args "$@"; case $tsv_c in create) { { TSVISOR_CREATE_READY_FD=9 node "$0" "$@" 9>&1 >&8 8>&- <&7 7<&- & } | { read -r tsv_p; read -r tsv_s; case $tsv_s in 0) exit 0;; [0-9]*) while read -r tsv_p; do :; done; exit "$tsv_s";; esac; tsv_p=${tsv_p#pid }; [ -n "$tsv_p" ] || { echo 'tsvisor: create: the runtime process ended before it started' >&2; exit 1; }; TSVISOR_CREATE_ABANDONED=$tsv_p node "$0" "$@"; exit 1; }; } 8>&1 7<&0; exit;; delete) [ -n "$tsv_d" ] && if [ ! -e "$tsv_d" ]; then [ "$tsv_f" != 1 ] || exit 0; elif [ -f "$tsv_d/exit-status" ] && [ -f "$tsv_d/delete-plain" ] && read -r tsv_g < "$tsv_d/delete-plain"; then { [ -z "$tsv_g" ] || rmdir $tsv_g 2>/dev/null; } && rm -rf "$tsv_d" && exit 0; fi;; start) [ -n "$tsv_d" ] && [ -z "$tsv_f" ] && [ -p "$tsv_d/start-request" ] && { { exec 5>&-; printf 'start %s\n' $$ >&3 && { read -r tsv_s <&4 || :; }; } 5<>"$tsv_d/start-done" 4<"$tsv_d/start-done" 3<>"$tsv_d/start-request"; } 2>/dev/null && { read -r tsv_p tsv_s < "$tsv_d/start-result"; } 2>/dev/null && [ "$tsv_p" = $$ ] && case $tsv_s in ok) exit 0;; 'error '*) export TSVISOR_START_FAILED="${tsv_s#error }";; esac;; esac; exec node "$0" "$@"
'use strict';
// The line above is the shell's and a no-op to JavaScript: Node raises its
// soft RLIMIT_NOFILE to the hard limit before any script runs, so the
// caller's soft limit (which the sandbox inherits) is handed over by the
// shell that starts Node (src/host/hostinfo.ts reads it). It also keeps
// NODE_EXTRA_CA_CERTS from Node, which would parse the certificates at
// start-up for nothing (src/cli/caller_env.ts); started by `node` directly,
// the first statement below does that for the Node processes we start.
// It finds the command after the global flags (those taking a value are
// listed there; test/integration/oci.test.js keeps the list true; with
// --help or --version there, Node answers) and, for one valid id, its state
// directory:
// - `create`: Node is started in the background with a pipe on fd 9
//   (TSVISOR_CREATE_READY_FD, src/cli/create_ready.ts) and the shell exits
//   with the status Node writes there: 0 when the container is created,
//   while Node goes on as the container's sandbox process (as `runc create`
//   leaves `runc init` behind; one Node start per create instead of two), or
//   a failure's, after which it waits for the pipe's end (Node gone). Node's
//   stdio is the caller's (saved on fds 8 and 7 around the pipeline). If the
//   pipe ends without a status, the shell runs create again to remove what
//   the dead one made.
// - `delete --force ID` of a container whose state directory does not exist
//   (Docker's shim deletes twice) succeeds without Node, as Node would; so
//   does `delete ID` of a stopped container whose sandbox process left
//   `delete-plain` (no poststop hook: only its cgroup directories and state
//   directory to remove; src/cli/sandbox_proc.ts). If one of those
//   directories cannot be removed, Node's delete does the rest.
// - `start ID` (no flag after start) of a container whose sandbox process
//   left the FIFO `start-request` (a create that stayed, with no start-time
//   hook): it writes `start PID` there and waits for the end of
//   `start-done` (opened read-write first, so that neither open waits, and
//   that descriptor dropped: the end comes when the sandbox process has
//   answered or is gone), then reads `start-result`: `PID ok` exits 0, as
//   runc's start through its exec.fifo; `PID error MSG` has Node's start
//   report MSG (TSVISOR_START_FAILED, in the log's format); anything else
//   (no result, another PID's) is Node's start (src/cli/start_fifo.ts).
if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.TSVISOR_CALLER_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
  delete process.env.NODE_EXTRA_CA_CERTS;
}
// Start-up: dist/tsvisor.bundle.js (the modules the runtime commands run),
// dist/tsvisor.supervise.js (what the runtime of a confined Sentry adds) and
// dist/tsvisor.rest.js (the kernel and the rest), the last two read only
// when first needed, are built by tools/bundle.js and compiled with V8's code cache,
// one cache file next to each, written after the first run that used it,
// so neither module resolution nor parsing is paid again. A bundle older
// than tsc's output (tsc run alone since) is not used.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
// The loader's own Module class: requiring node:module would also load the ESM loader.
const { createRequire } = module.constructor;

const DIST = path.join(__dirname, '..', 'dist');
/**
 * Bytes before V8's data in a cache file: the source's size and mtime in ns,
 * and whether the writer ran a program (1) or wrote before it ran one (0),
 * 8 bytes too: V8 copies cached data that is not 8-byte aligned.
 */
const CACHE_STAMP = 24;

/**
 * Compile a generated file of the bundle (one function expression, pure
 * ASCII: read as latin1, no UTF-8 decoding) with its code cache. V8 checks
 * a cache against the source's length only: a rebuilt or reinstalled file
 * of the same length would run the old bytecode. So the cache file begins
 * with the size and modification time of the source it was made from, and
 * is used only for that file. kernel: a part read when first needed (the
 * kernel's, or the confined runtime's), not the first file.
 */
function compile(file, kernel) {
  const cacheFile = `${file}.cache`;
  const st = fs.statSync(file, { bigint: true });
  const stamp = Buffer.alloc(CACHE_STAMP);
  stamp.writeBigUInt64LE(st.size, 0);
  stamp.writeBigUInt64LE(st.mtimeNs, 8);
  // A confined Sentry writes its cache before its program runs (below).
  const confined = process.env.TSVISOR_CONFINE_FD !== undefined;
  let cachedData;
  let partial = false;
  try {
    const b = fs.readFileSync(cacheFile);
    if (b.length > CACHE_STAMP && b.subarray(0, 16).equals(stamp.subarray(0, 16))) {
      cachedData = b.subarray(CACHE_STAMP);
      partial = b[16] === 0;
    }
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(fs.readFileSync(file, 'latin1'), { filename: file, cachedData });
  // A cache holds the functions its writer had compiled. One written by a
  // process that loaded no program (the runtime above a confined Sentry, a
  // confined Sentry before its program runs) lacks the exec and system call
  // paths, which every later start then compiles from source (`do /bin/true`
  // took 44% more CPU with such a kernel cache). It is marked partial, and
  // the first process that loads a program writes it again, whole
  // (src/sandbox/sandbox.ts emits the event). Not the first file: its cache
  // is the light runtime commands' path on purpose (tools/bundle.js).
  let loaded = !kernel;
  if (!confined && kernel) process.once('tsvisor:program-loaded', () => (loaded = true));
  const write = (whole) => {
    const tmp = `${cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    try {
      stamp[16] = whole ? 1 : 0;
      fs.writeFileSync(tmp, Buffer.concat([stamp, script.createCachedData()]));
      fs.renameSync(tmp, cacheFile);
    } catch {
      // a read-only install: no cache, just a slower start
      fs.rmSync(tmp, { force: true });
    }
  };
  if (cachedData === undefined || script.cachedDataRejected) {
    // After the run: the cache then holds the functions that ran, not just the top level.
    // A confined Sentry (TSVISOR_CONFINE_FD, src/sandbox/confine.ts) cannot at its exit (its
    // filter kills a write open): it writes when its sandbox is built, just before it gives up
    // the host (the event, src/sandbox/confine_env.ts). Its runtime loads none of the kernel,
    // so nobody else would write the cache of tsvisor.rest.js. Pid 1 of its namespace: a
    // random name keeps concurrent writers apart.
    if (confined) process.once('tsvisor:before-confine', () => write(false));
    else process.once('exit', () => write(loaded));
  } else if (partial && !confined) {
    process.once('exit', () => loaded && write(true));
  }
  return script.runInThisContext();
}

/**
 * TSVISOR_MODULE_TRACE=FILE (debugging, and the start-up tests): each module
 * of the bundle this process evaluates is appended to FILE as a line `PID
 * ID`, and the reading of the kernel's half as `PID [tsvisor.rest.js]`, as
 * it happens (a process may end by a signal). Not by a confined Sentry (it
 * gives up the host's files).
 */
function moduleTrace() {
  const file = process.env.TSVISOR_MODULE_TRACE;
  if (!file || process.env.TSVISOR_CONFINE_FD !== undefined) return undefined;
  const fd = fs.openSync(file, 'a');
  return (id) => fs.writeSync(fd, `${process.pid} ${id}\n`);
}

function loadMain() {
  const bundle = path.join(DIST, 'tsvisor.bundle.js');
  try {
    if (fs.statSync(bundle).mtimeMs < fs.statSync(path.join(DIST, 'cli', 'main.js')).mtimeMs) return require('../dist/cli/main.js');
  } catch {
    return require('../dist/cli/main.js');
  }
  const trace = moduleTrace();
  const loadPart = (name, mods) => {
    if (trace) trace(`[tsvisor.${name}.js]`);
    compile(path.join(DIST, `tsvisor.${name}.js`), true)(mods);
  };
  const mod = { exports: {} };
  // Requires of packages (koffi) resolve from dist/, as they would from its modules.
  compile(bundle, false)(createRequire(bundle), mod, bundle, DIST, loadPart, trace);
  return mod.exports('cli/main');
}

loadMain().main(process.argv.slice(2));
