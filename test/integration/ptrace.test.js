'use strict';
// ptrace inside the sandbox with real tools: Debian's strace -f and gdb
// -batch run sandboxed on small programs (the key lines they print are
// checked), stress-ng's vm-segv stressor (its child is traced by its parent)
// runs to its end, and a hostile tracer (test/hostile/ptracestub.c) cannot
// read or write the platform's stub or anything above the application's top
// through PEEK/POKE or /proc/PID/mem, while its tracee keeps working; random
// ptrace requests (test/hostile/ptracefuzz.c) never hit a Sentry bug. The
// system call semantics themselves are compared with native runs in
// test/c/ptracebasic.c and test/c/ptraceevents.c (c_programs.test.js).

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const w = require('../lib/stubwatch');

const GDB_PROGRAM = `#include <stdio.h>
#include <unistd.h>
int depth(int n) { if (n == 0) { write(1, "inner\\n", 6); return 7; } return depth(n - 1) + 1; }
static void boom(int *p) { *p = 1; }
int main(int argc, char **argv) {
  (void)argv;
  printf("r=%d\\n", depth(3));
  fflush(stdout);
  if (argc > 1) boom((int *)8);
  return 0;
}
`;

let gdbBin = null;
function buildGdbProgram(t) {
  if (gdbBin) return gdbBin;
  const dir = h.tmpDir('tsvisor-gdb-');
  fs.writeFileSync(path.join(dir, 'prog.c'), GDB_PROGRAM);
  const out = path.join(dir, 'prog');
  const cc = childProcess.spawnSync('gcc', ['-g', '-O0', '-o', out, path.join(dir, 'prog.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  gdbBin = out;
  return out;
}

test('strace -f runs inside the sandbox', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['strace'])) return;
  const r = h.runSandbox(['/usr/bin/strace', '-f', 'sh', '-c', 'echo hello; /bin/true; exit 3'], { timeout: 90_000 });
  assert.strictEqual(r.status, 3, h.describe('strace', r));
  assert.strictEqual(r.stdout, 'hello\n');
  const err = r.stderr;
  assert.match(err, /^execve\("\/usr\/bin\/sh", \["sh", "-c", "echo hello; \/bin\/true; exit 3"\]/m, err);
  assert.match(err, /write\(1, "hello\\n", 6\)\s+= 6/, err);
  assert.match(err, /Process \d+ attached/, err);
  assert.match(err, /\[pid\s+\d+\] execve\("\/bin\/true", \["\/bin\/true"\]/, err);
  assert.match(err, /\[pid\s+\d+\] \+\+\+ exited with 0 \+\+\+/, err);
  assert.match(err, /(wait4\(-1, |wait4 resumed>)\[\{WIFEXITED\(s\) && WEXITSTATUS\(s\) == 0\}\]/, err);
  assert.match(err, /exit_group\(3\)\s+= \?\n\+\+\+ exited with 3 \+\+\+\n$/, err);
  assert.doesNotMatch(err, /ENOSYS \(Function not implemented\)\n.*ptrace/);
});

test('strace -e inject and -e signal work inside the sandbox', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['strace'])) return;
  // inject sets orig_rax to -1 at syscall entry and the error at exit: the call must not run.
  const r = h.runSandbox(['/usr/bin/strace', '-qq', '-e', 'trace=mkdir', '-e', 'inject=mkdir:error=EPERM', 'mkdir', '/tmp/x'], { timeout: 90_000 });
  assert.notStrictEqual(r.status, 0, h.describe('strace inject', r));
  assert.match(r.stderr, /mkdir\("\/tmp\/x", 0777\)\s+= -1 EPERM \(Operation not permitted\) \(INJECTED\)/, r.stderr);
  const s = h.runSandbox(['/usr/bin/strace', '-qq', '-e', 'trace=none', 'sh', '-c', 'kill -USR1 $$'], { timeout: 90_000 });
  assert.match(s.stderr, /--- SIGUSR1 \{si_signo=SIGUSR1, si_code=SI_USER, si_pid=\d+, si_uid=0\} ---\n\+\+\+ killed by SIGUSR1 \+\+\+/, s.stderr);
});

test('gdb -batch: a breakpoint, a backtrace, continuing', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gdb', 'gcc'])) return;
  const prog = buildGdbProgram(t);
  const r = h.runSandbox(['/usr/bin/gdb', '-nx', '-batch', '-ex', 'break depth if n == 0', '-ex', 'run', '-ex', 'bt', '-ex', 'continue', prog], { timeout: 150_000 });
  const out = r.stdout;
  assert.strictEqual(r.status, 0, h.describe('gdb', r) + out);
  assert.match(out, /Breakpoint 1, depth \(n=0\) at .*prog\.c:3/, out);
  assert.match(out, /#3 .* in depth \(n=3\) at .*prog\.c:3\n#4 .* in main \(argc=1, argv=.*\) at .*prog\.c:7/, out);
  assert.match(out, /inner\nr=10\n/, out);
  assert.match(out, /\[Inferior 1 \(process \d+\) exited normally\]/, out);
  // gdb reads the vDSO's symbols from memory and the link map's names: no warnings.
  assert.doesNotMatch(r.stderr, /Failed to read a valid object file image|Can't read pathname|\/proc\/PID\/mem/, r.stderr);
});

test('gdb -batch: a crash and its backtrace', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gdb', 'gcc'])) return;
  const prog = buildGdbProgram(t);
  const r = h.runSandbox(['/usr/bin/gdb', '-nx', '-batch', '-ex', 'run', '-ex', 'bt', '--args', prog, 'crash'], { timeout: 150_000 });
  const out = r.stdout;
  assert.match(out, /Program received signal SIGSEGV, Segmentation fault\./, h.describe('gdb', r) + out);
  assert.match(out, /#0 .* in boom \(p=0x8\) at .*prog\.c:4\n#1 .* in main \(argc=2, argv=.*\) at .*prog\.c:9/, out);
});

test('stress-ng --vm-segv (a child traced by its parent) ends', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['stress-ng'])) return;
  const r = h.runSandbox(['stress-ng', '--vm-segv', '1', '-t', '3'], { timeout: 90_000 });
  assert.ok(!r.timedOut, h.describe('stress-ng', r));
  assert.strictEqual(r.status, 0, h.describe('stress-ng', r));
  assert.match(r.stdout + r.stderr, /successful run completed/);
});

test('a tracer cannot reach the stub or anything above the application top', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-ptracestub-');
  const bin = path.join(dir, 'ptracestub');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'ptracestub.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const r = h.runSandbox([bin], { timeout: 60_000 });
  assert.strictEqual(r.status, 0, h.describe('ptracestub', r) + r.stdout);
  assert.match(r.stdout, /^0x7ff000002000: peek EIO poke EIO poketext EIO mem read EIO mem write EIO$/m);
  assert.match(r.stdout, /refused 40 of 40\ntracee still works\ntracee status 0\n$/);
});

test('random ptrace requests do not crash the Sentry', { timeout: 240_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-ptracefuzz-');
  const bin = path.join(dir, 'ptracefuzz');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'ptracefuzz.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const log = path.join(dir, 'debug.log');
  const r = await w.runWatched([bin, '300'], { cwd: '/', flags: ['--debug-log', log], timeout: 200_000 });
  assert.strictEqual(r.status, 0, `ptracefuzz: ${r.status} ${r.signal}\n${r.stderr.slice(-3000)}`);
  assert.deepStrictEqual(r.leftovers, [], 'no stub process survives the sandbox');
  assert.strictEqual((r.stdout.match(/^round \d+: \d+ calls/gm) || []).length, 300);
  assert.match(r.stdout, /^sentry alive$/m);
  const stops = [...r.stdout.matchAll(/(\d+) stops$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  assert.ok(stops > 100, `the tracees were driven through stops (${stops})`);
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, [], 'Sentry bugs hit by random ptrace requests');
});

const THREAD_PROGRAM = `#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
int marker(int x) { return x * 2; }
static void *f(void *a) { syscall(SYS_getppid); printf("thread %d\\n", marker((int)(long)a)); fflush(stdout); return a; }
int main(int argc, char **argv) {
  (void)argv;
  pthread_t t[3];
  for (long i = 0; i < 3; i++) { pthread_create(&t[i], 0, f, (void *)(i + 1)); if (argc > 1) pthread_join(t[i], 0); }
  if (argc == 1) for (int i = 0; i < 3; i++) pthread_join(t[i], 0);
  puts("done");
  return 0;
}
`;

function buildThreadProgram() {
  const dir = h.tmpDir('tsvisor-gdbt-');
  fs.writeFileSync(path.join(dir, 'prog.c'), THREAD_PROGRAM);
  const out = path.join(dir, 'prog');
  const cc = childProcess.spawnSync('gcc', ['-g', '-O0', '-pthread', '-o', out, path.join(dir, 'prog.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  return out;
}

test('strace -f follows threads (PTRACE_O_TRACECLONE): each thread\'s calls and exit, under its tid', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['strace', 'gcc'])) return;
  const prog = buildThreadProgram();
  const r = h.runSandbox(['/usr/bin/strace', '-f', '-qq', '-e', 'trace=getppid,exit', prog], { timeout: 90_000 });
  assert.strictEqual(r.status, 0, h.describe('strace -f', r));
  const lines = r.stderr.split('\n');
  // Three threads, each seen making its call and exiting, as natively.
  // (Threads run at once: a call may show as "getppid( <unfinished ...>" and resume later.)
  const tids = new Set(lines.map((l) => /^\[pid +(\d+)\] getppid\(/.exec(l)?.[1]).filter(Boolean));
  assert.strictEqual(tids.size, 3, r.stderr);
  for (const tid of tids) assert.ok(lines.some((l) => new RegExp(`^\\[pid +${tid}\\] exit\\(0`).test(l)), `thread ${tid} exit:\n${r.stderr}`);
  assert.match(r.stdout, /^done$/m);
});

test('gdb -batch stops in a thread, lists the threads and continues', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gdb', 'gcc'])) return;
  const prog = buildThreadProgram();
  const r = h.runSandbox(['/usr/bin/gdb', '-nx', '-batch', '-ex', 'break marker', '-ex', 'run', '-ex', 'info threads', '-ex', 'bt 2',
    '-ex', 'continue', '-ex', 'continue', '-ex', 'continue', '--args', prog, 'one-by-one'], { timeout: 150_000 });
  const out = r.stdout + r.stderr;
  assert.strictEqual(r.status, 0, h.describe('gdb', r) + out);
  assert.match(out, /Thread 2 "prog" hit Breakpoint 1, marker \(x=1\)/, out);
  assert.match(out, /^\* 2 +Thread 0x[0-9a-f]+ \(LWP \d+\) "prog" marker \(x=1\)/m, out);
  assert.match(out, /#1 +0x[0-9a-f]+ in f \(a=0x1\)/, out);
  assert.match(out, /hit Breakpoint 1, marker \(x=3\)/, out);
  assert.match(out, /\[Inferior 1 \(process \d+\) exited normally\]/, out);
});
