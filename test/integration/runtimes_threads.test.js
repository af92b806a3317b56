'use strict';
// The language runtimes with their threads, child processes and local IPC
// (issue 9, "It must run"): python3, node and npm, Java (javac inside the
// sandbox), Go (go build inside the sandbox), perl ithreads, and a pthread C
// program built with make -j2. Each output equals the native run of the same
// program (test/integration/runtimes/ holds the programs). test/c/stdiosock.c
// (run by c_programs.test.js) checks what node needs of its stdio sockets.

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const DIR = path.join(__dirname, 'runtimes');
const setup = () => h.tmpDir('tsvisor-rtt-');
const PY = path.join(DIR, 'threads.py');

// The python script in groups, so that a failure names its area and each run
// takes seconds.
for (const sections of ['threads,signals,ipc', 'processes,mp', 'asyncio,storage', 'mpexit']) {
  test(`python3 ${sections} matches native`, { timeout: 180_000 }, (t) => {
    if (!h.needTools(t, ['python3'])) return;
    h.compare(t, ['/usr/bin/python3', PY, sections], { setup });
  });
}

test('node -e with a worker thread matches native', { timeout: 120_000 }, (t) => {
  const code = "const { Worker } = require('worker_threads');" +
    "const w = new Worker('require(\"worker_threads\").parentPort.postMessage(6 * 7)', { eval: true });" +
    "w.on('message', (m) => console.log('worker says', m, process.version));";
  h.compare(t, [process.execPath, '-e', code]);
});

test('node: workers, timers, promises, fs, child_process with IPC, a Unix-socket server', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['node'])) return;
  h.compare(t, ['/usr/bin/node', path.join(DIR, 'node_prog.js')], { setup });
});

test('npm --version and npm init -y in an empty folder', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['npm'])) return;
  // The package takes its folder's name: make it the same in both runs.
  const script = 'npm --version && mkdir proj && cd proj && npm init -y >/dev/null && cat package.json && ls';
  h.compare(t, ['/bin/sh', '-c', script], { setup });
});

test('java -version', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['java'])) return;
  h.compare(t, ['/bin/sh', '-c', 'java -version 2>&1']);
});

test('javac compiles, and java runs 8 threads, an executor and null checks', { timeout: 300_000 }, (t) => {
  if (!h.needTools(t, ['java', 'javac'])) return;
  h.compare(t, ['/bin/sh', '-c', `javac -d classes ${path.join(DIR, 'Prog.java')} && java -cp classes Prog`], { setup, timeout: 240_000 });
});

test('go build, and the binary runs goroutines, channels, os/exec and signal.Notify', { timeout: 300_000 }, (t) => {
  if (!h.needTools(t, ['go'])) return;
  // The build cache goes in the run's own folder (HOME is not writable natively).
  const script = `cp ${path.join(DIR, 'prog.go.txt')} prog.go && GOCACHE="$PWD/gocache" go build -o prog prog.go && ./prog`;
  h.compare(t, ['/bin/sh', '-c', script], { setup, timeout: 240_000 });
});

test('perl threads, fork, pipes and sort match native', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['perl'])) return;
  h.compare(t, ['/usr/bin/perl', '-Mthreads', path.join(DIR, 'threads.pl')], { setup });
});

test('make -j2 builds a multi-file pthread program, which runs', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['cc', 'make'])) return;
  const proj = path.join(DIR, 'cproj');
  const r = h.compare(t, ['/bin/sh', '-c', `cp ${proj}/* . && make -j2 -s && ./prog && ls *.o prog`], { setup });
  assert.match(r.sandbox.stdout, /^contend: 400000$/m);
});

test('cc -pthread compiles and runs a threaded program from stdin', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['cc'])) return;
  const src = fs.readFileSync(path.join(DIR, 'cproj', 'contend.c'), 'utf8').replace('#include "work.h"', '') +
    '#include <stdio.h>\nint main(void) { printf("%ld\\n", contend(8, 20000)); return 0; }\n';
  h.compare(t, ['/bin/sh', '-c', 'cc -O2 -pthread -x c -o t - && ./t'], { setup, input: src });
});
