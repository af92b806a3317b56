'use strict';
// Core dumps (src/syscalls/sys_coredump.ts): a process killed by a core-dumping
// signal leaves an ELF core named "core" in its directory when RLIMIT_CORE
// allows, the wait status says WCOREDUMP, and gdb inside the sandbox reads it
// (the crash frame, every thread, a global). No core without the limit, or
// past it; a symlink named core is replaced, never followed.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const PROGRAM = `#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int global_counter = 42;
static void *idle(void *a) { for (;;) pause(); return a; }
void crash_here(int *p) { *p = global_counter; }
int main(int argc, char **argv) {
  pthread_t t;
  pthread_create(&t, 0, idle, 0);
  if (argc > 1) abort();
  crash_here((int *)16);
  return 0;
}
`;

function build() {
  const dir = h.tmpDir('tsvisor-core-');
  fs.writeFileSync(path.join(dir, 'crash.c'), PROGRAM);
  const out = path.join(dir, 'crash');
  const cc = childProcess.spawnSync('gcc', ['-g', '-O0', '-pthread', '-o', out, path.join(dir, 'crash.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  return out;
}

test('a SIGSEGV dumps core: WCOREDUMP, a 0600 file, and gdb reads threads, frames and globals from it', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gcc', 'gdb', 'bash'])) return;
  const prog = build();
  const script = `cd /tmp && ulimit -c unlimited && ln -s /etc/hostname core && { ${prog}; echo "status $?"; } 2>&1 | sed 's/^.*line [0-9]*: *[0-9]* //'
    stat -c '%A %h' core
    gdb -nx -batch -ex bt -ex 'info threads' -ex 'print global_counter' ${prog} core 2>&1 | grep -E '^#|Thread 0x|^\\$1'
    { ${prog} abort; echo "status $?"; } 2>&1 | sed 's/^.*line [0-9]*: *[0-9]* //'`;
  const r = h.runSandbox(['/bin/bash', '-c', script], { timeout: 150_000 });
  assert.strictEqual(r.status, 0, h.describe('core', r));
  const out = r.stdout;
  assert.match(out, /^Segmentation fault +\(core dumped\) /m, out);
  assert.match(out, /^status 139$/m, out);
  assert.match(out, /^-rw------- 1$/m, out);
  assert.match(out, /^#0 +0x[0-9a-f]+ in crash_here \(p=0x10\)/m, out);
  assert.match(out, /^#1 +0x[0-9a-f]+ in main /m, out);
  assert.strictEqual((out.match(/^[* ] +\d+ +Thread 0x[0-9a-f]+ \(LWP \d+\)/gm) || []).length, 2, out);
  assert.match(out, /^\$1 = 42$/m, out);
  assert.match(out, /^Aborted +\(core dumped\) /m, out);
  assert.match(out, /^status 134$/m, out);
});

test('no core without RLIMIT_CORE, nor past it', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc', 'bash'])) return;
  const prog = build();
  const script = `cd /tmp && ulimit -S -c 0 && { ${prog}; echo "status $?"; } 2>&1 | sed 's/^.*line [0-9]*: *[0-9]* //'; ls core 2>/dev/null | wc -l
    ulimit -S -c 8 && { ${prog}; echo "status $?"; } 2>&1 | sed 's/^.*line [0-9]*: *[0-9]* //'; ls core 2>/dev/null | wc -l`;
  const r = h.runSandbox(['/bin/bash', '-c', script], { timeout: 100_000 });
  assert.strictEqual(r.status, 0, h.describe('no core', r));
  assert.strictEqual(r.stdout.replace(/^Segmentation fault +/gm, 'Segmentation fault ').replace(/ \/.*crash$/gm, ''),
    'Segmentation fault\nstatus 139\n0\nSegmentation fault\nstatus 139\n0\n');
});
