'use strict';
// Core dumps (src/syscalls/sys_coredump.ts): a process killed by a core-dumping
// signal leaves an ELF core named "core" in its directory when RLIMIT_CORE
// allows, the wait status says WCOREDUMP, and gdb inside the sandbox reads it
// (the crash frame, every thread, a global). No core without the limit or
// under a page of it; at the limit the file is cut and the dump still counts
// (Linux's rule); a symlink named core is replaced, never followed.

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

test('no core without RLIMIT_CORE or under a page of it; a core cut at the limit still counts', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc', 'bash'])) return;
  const prog = build();
  // bash's ulimit -c counts KiB: 0, then 2 (under a page), then 8 (the dump is cut there, as Linux's).
  const script = `cd /tmp && for c in 0 2 8; do ulimit -S -c $c; rm -f core; { ${prog}; echo "status $?"; } 2>&1 | sed 's/^.*line [0-9]*: *[0-9]* //'; stat -c '%s' core 2>/dev/null || echo none; done`;
  const r = h.runSandbox(['/bin/bash', '-c', script], { timeout: 100_000 });
  assert.strictEqual(r.status, 0, h.describe('no core', r));
  const out = r.stdout.replace(/ {2,}/g, ' ').replace(/ \/.*crash$/gm, '').split('\n');
  assert.deepStrictEqual(out.slice(0, 6), ['Segmentation fault', 'status 139', 'none', 'Segmentation fault', 'status 139', 'none'], r.stdout);
  assert.strictEqual(out[6], 'Segmentation fault (core dumped)', r.stdout);
  assert.strictEqual(out[7], 'status 139', r.stdout);
  assert.ok(Number(out[8]) > 0 && Number(out[8]) <= 8192, r.stdout);
});

test('kernel.core_pattern: root sets it in the sandbox (never the host\'s); %p %s %e %% expand, core_uses_pid adds .PID, a pipe pattern dumps nothing', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc', 'bash'])) return;
  const prog = build();
  const hostPattern = fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
  const crash = `{ ${prog}; echo "status $?"; } 2>&1 | sed 's/^.*line [0-9]*: *[0-9]* //'`;
  const script = `ulimit -c unlimited; mkdir -p /tmp/cores && cd /tmp
    cat /proc/sys/kernel/core_pattern
    printf '/tmp/cores/c-%%e-%%s-%%%%-%%p-%%Z\\n' > /proc/sys/kernel/core_pattern; cat /proc/sys/kernel/core_pattern
    ${crash}; ls /tmp/cores | sed 's/-[0-9]*-$/-PID-/'
    echo rel > /proc/sys/kernel/core_pattern; echo 1 > /proc/sys/kernel/core_uses_pid
    ${crash}; ls rel.* | sed 's/[0-9][0-9]*$/PID/'
    echo '|/bin/false %p' > /proc/sys/kernel/core_pattern; ${crash}
    head -c 200 /dev/zero | tr '\\0' x > /proc/sys/kernel/core_pattern; wc -c < /proc/sys/kernel/core_pattern
    su nobody -s /bin/sh -c 'echo x > /proc/sys/kernel/core_pattern' 2>&1 | sed 's/.*: //'`;
  const r = h.runSandbox(['/bin/bash', '-c', script], { timeout: 100_000 });
  assert.strictEqual(r.status, 0, h.describe('core_pattern', r));
  const out = r.stdout.replace(/ {2,}/g, ' ').replace(/ \/.*crash$/gm, '').split('\n');
  assert.deepStrictEqual(out, [
    'core', '/tmp/cores/c-%e-%s-%%-%p-%Z',
    'Segmentation fault (core dumped)', 'status 139', 'c-crash-11-%-PID-',
    'Segmentation fault (core dumped)', 'status 139', 'rel.PID',
    'Segmentation fault', 'status 139',
    '128', 'Permission denied', '',
  ], r.stdout);
  assert.strictEqual(fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8'), hostPattern);
});
