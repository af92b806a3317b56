'use strict';
// memfd_create beyond the C comparison (test/c/memfd.c): a Python program
// using os.memfd_create compared with Linux; MFD_HUGETLB refused; and a
// hostile program (test/hostile/memfdhog.c) that tries to take the host's
// memory through memfds in a 64 MiB sandbox: it gets ENOMEM/ENOSPC or the
// OOM kill, the memory file on the host never holds more than the limit, and
// the sandbox runs programs afterwards.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const PY = [
  'import os, mmap, fcntl',
  "fd = os.memfd_create('py', os.MFD_ALLOW_SEALING | os.MFD_CLOEXEC)",
  "print(os.readlink(f'/proc/self/fd/{fd}'), oct(os.fstat(fd).st_mode), os.get_inheritable(fd))",
  'os.ftruncate(fd, 8192)',
  'm = mmap.mmap(fd, 8192)',
  "m[0:5] = b'hello'",
  "os.pwrite(fd, b'world', 4096)",
  'print(os.pread(fd, 5, 0), m[4096:4101])',
  'fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)',
  'print(fcntl.fcntl(fd, fcntl.F_GET_SEALS))',
  'for size in (0, 8192, 16384):',
  '    try: os.ftruncate(fd, size); print(size, "ok")',
  '    except OSError as e: print(size, e.strerror)',
  'try: fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE)',
  'except OSError as e: print("F_SEAL_WRITE with a shared map:", e.strerror)',
  'm.close()',
  'fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE)',
  'try: os.write(fd, b"x")',
  'except OSError as e: print("write sealed:", e.strerror)',
  "print([l.split()[-2:] for l in open('/proc/self/maps') if 'memfd' in l])",
  "g = os.memfd_create('other')",
  'print(fcntl.fcntl(g, fcntl.F_GET_SEALS))',
].join('\n');

test('python3 os.memfd_create: same output as Linux', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['python3'])) return;
  const { native } = h.compare(t, ['/usr/bin/python3', '-c', PY], { expectStatus: 0 });
  assert.match(native.stdout, /^\/memfd:py \(deleted\) 0o100777 False$/m);
});

// What runc and others do: copy a binary into a memfd and execute it (through /proc/self/fd and fexecve).
const PY_EXEC = [
  'import os',
  "fd = os.memfd_create('exe', 0)",
  "with open('/bin/echo', 'rb') as f: os.write(fd, f.read())",
  'for how in ("proc", "fd"):',
  '    pid = os.fork()',
  '    if pid == 0:',
  "        if how == 'proc': os.execv(f'/proc/self/fd/{fd}', ['echo', 'via /proc/self/fd'])",
  "        else: os.execve(fd, ['echo', 'via fexecve'], {})",
  '    print(how, os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)',
  "nx = os.memfd_create('noexec', 8)",
  "with open('/bin/echo', 'rb') as f: os.write(nx, f.read())",
  "try: os.execve(nx, ['echo', 'x'], {})",
  "except OSError as e: print('MFD_NOEXEC_SEAL:', e.strerror)",
].join('\n');

test('python3: a binary copied into a memfd runs (execve of /proc/self/fd/N, fexecve), not with MFD_NOEXEC_SEAL', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['python3'])) return;
  const { native } = h.compare(t, ['/usr/bin/python3', '-c', PY_EXEC], { expectStatus: 0 });
  assert.match(native.stdout, /via fexecve/);
});

test('MFD_HUGETLB makes a hugetlbfs file: sizes in huge pages, write(2) EINVAL, as native', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['python3'])) return;
  // The pool is left as it is (the host's natively, which other tests may be changing): test/c/hugetlbfs.c sets it and maps.
  h.compare(t, ['/usr/bin/python3', '-c', [
    'import os, errno',
    'def e(f):',
    '  try: f(); return "OK"',
    '  except OSError as x: return errno.errorcode[x.errno]',
    'fd = os.memfd_create("h", os.MFD_HUGETLB)',
    'print("1M", e(lambda: os.ftruncate(fd, 1 << 20)), "2M", e(lambda: os.ftruncate(fd, 2 << 20)))',
    'print("write", e(lambda: os.write(fd, b"x")), "size", os.fstat(fd).st_size, "blksize", os.fstat(fd).st_blksize)',
    'print("64KB", e(lambda: os.memfd_create("k", os.MFD_HUGETLB | (16 << 26))))',
  ].join('\n')], { expectStatus: 0 });
});

// The marker strings are made at run time, so only the mappings hold them, not the program's file.
const DUMP_PROGRAM = `#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
int main(void) {
  char *kept = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *left = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memcpy(kept, "MARKxR-KEPT", 12);
  memcpy(left, "MARKxR-LEFT", 12);
  kept[4] = left[4] = 'E';
  if (madvise(left, 8192, MADV_DONTDUMP)) return 1;
  abort();
}
`;

test('MADV_DONTDUMP leaves a mapping out of the core dump', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gcc', 'bash'])) return;
  const dir = h.tmpDir('tsvisor-memfd-');
  fs.writeFileSync(path.join(dir, 'dump.c'), DUMP_PROGRAM);
  const prog = path.join(dir, 'dump');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-o', prog, path.join(dir, 'dump.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const r = h.runSandbox(['/bin/bash', '-c', `cd /tmp && ulimit -c unlimited && { ${prog}; } 2>/dev/null; echo "kept $(grep -a -c MARKER-KEPT core) left $(grep -a -c MARKER-LEFT core)"`], { timeout: 150_000 });
  assert.strictEqual(r.status, 0, h.describe('dontdump', r));
  assert.match(r.stdout, /^kept [1-9]\d* left 0$/m, r.stdout);
});

let bin = null;
function build(t) {
  if (!h.needTools(t, ['gcc'])) return null;
  if (bin) return bin;
  const out = path.join(h.tmpDir('tsvisor-memfd-'), 'memfdhog');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-static', '-o', out, path.join(__dirname, '..', 'hostile', 'memfdhog.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  bin = out;
  return bin;
}

const LIMIT_KB = 65536;

/** The debug log's last word on memory: what the memory file held on the host never passed the limit; no Sentry bug. */
function checkLog(log) {
  const text = fs.readFileSync(log, 'utf8');
  assert.deepStrictEqual(text.split('\n').filter((l) => l.includes('BUG')), [], 'Sentry bugs');
  const held = /memory: peak \d+ kB of the 65536 kB limit; host holds (\d+) kB/.exec(text);
  assert.ok(held, `no memory line in the debug log:\n${text.slice(-2000)}`);
  assert.ok(Number(held[1]) <= LIMIT_KB, `the host holds ${held[1]} kB, over the limit`);
  for (const m of text.matchAll(/memory file on the host: (\d+)kB/g)) assert.ok(Number(m[1]) <= LIMIT_KB, `memory file at ${m[1]} kB`);
  return text;
}

function run(b, mode) {
  const log = path.join(h.tmpDir('tsvisor-memfd-'), 'debug.log');
  const r = h.runSandbox(['/bin/sh', '-c', `${b} ${mode}; echo "status $?"`], { cwd: '/', flags: ['--memory', '64m', '--debug-log', log], timeout: 180_000 });
  assert.strictEqual(r.status, 0, h.describe(mode, r));
  return { r, text: checkLog(log) };
}

test('hostile memfds: writes past the limit get ENOMEM, terabytes of fallocate ENOSPC, and the memory comes back', { timeout: 300_000 }, (t) => {
  const b = build(t);
  if (!b) return;
  let { r } = run(b, 'write');
  assert.match(r.stdout, /^write: ENOMEM\nwritten MiB: (\d+)\nwrite again: ok\nalive\nstatus 0$/m);
  assert.ok(Number(/written MiB: (\d+)/.exec(r.stdout)[1]) <= 64, 'no more written than the limit');
  ({ r } = run(b, 'fallocate'));
  assert.match(r.stdout, /^fallocate 1 TiB: ENOSPC\nfallocate keep size 32 TiB: ENOSPC\nsize after: 0\nwrite again: ok\nalive\nstatus 0$/m);
});

test('hostile memfds: many small mapped memfds stop at the kernel object budget (ENOSPC), never the Sentry heap', { timeout: 300_000 }, (t) => {
  const b = build(t);
  if (!b) return;
  const { r } = run(b, 'many');
  assert.match(r.stdout, /^many: (ENOSPC|ENOMEM) after some\nwrite again: ok\nalive\nstatus 0$/m);
});

test('hostile memfds: touching a 1 GiB shared memfd mapping in 64 MiB is an OOM kill', { timeout: 300_000 }, (t) => {
  const b = build(t);
  if (!b) return;
  const { r, text } = run(b, 'touch');
  assert.match(r.stdout, /^mapped 1 GiB\nstatus 137$/m);
  assert.doesNotMatch(r.stdout, /touched/);
  assert.match(text, /out of memory \(sandbox limit 64 MiB\): killed process \d+ \(memfdhog\)/);
});
