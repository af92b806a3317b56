'use strict';
// Limits under /proc/sys that are the sandbox's own and that root lowers
// here, which the programs cannot do natively (it would lower the host's
// limit for every process); c_programs compares both programs with native
// at the machine's limits. vm.max_map_count (src/mm/vm_sysctl.ts): every
// address space obeys a new value at once, with Linux's rules
// (test/c/mapcount.c). fs.pipe-user-pages-hard (src/vfs/pipe_pages.ts): an
// unprivileged user past it gets ENFILE from pipe() and EPERM growing a pipe
// (test/c/pipepages.c). fs.nr_open (VirtualFilesystem.nrOpen): setrlimit
// and the copy of an fd table by fork or unshare(CLONE_FILES) obey it
// (test/c/nropen.c).

const assert = require('node:assert');
const { test } = require('node:test');
const h = require('../lib/harness');

test('root sets vm.max_map_count in the sandbox; mmap, munmap and mprotect obey it as Linux does', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().mapcount.static;
  const r = h.runSandbox([bin, 'set', '300']);
  assert.strictEqual(r.status, 0, h.describe('sandbox', r));
  assert.strictEqual(r.stdout, [
    'write 300: OK', 'read back equal: 1', 'write -1: EINVAL', 'write text: EINVAL', 'unchanged: 1',
    'non-root open for writing: EACCES', 'fill stopped by ENOMEM',
    'munmap hole at limit+1: ENOMEM', 'mprotect hole at limit+1: ENOMEM', 'MAP_FIXED hole at limit+1: ENOMEM',
    'munmap whole: OK', 'mmap at limit: OK', 'munmap whole again: OK', 'mprotect one split at limit: ENOMEM',
    'MAP_FIXED hole at limit: ENOMEM', 'munmap another: OK', 'mprotect one split below limit: OK',
    'mprotect back (merges): OK', 'mprotect two splits below limit: ENOMEM',
    'munmap a third: OK', 'mremap move at limit-3: ENOMEM', 'mremap to a fixed place at limit-3: ENOMEM',
    'munmap a fourth: OK', 'mremap move at limit-4: OK', 'mremap to a fixed place at limit-4: ENOMEM',
    // Five below the old limit, the new one ten above it: sixteen more, the last one past it (do_mmap's rule).
    'raise by 10: OK', 'fill stopped by ENOMEM', 'mapped after raising: 16', 'done', '',
  ].join('\n'));
});

test('root sets fs.pipe-user-pages-hard in the sandbox; pipe() and F_SETPIPE_SZ obey it as Linux does', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().pipepages.static;
  const r = h.runSandbox([bin, 'hard', '160']);
  assert.strictEqual(r.status, 0, h.describe('sandbox', r));
  assert.strictEqual(r.stdout, [
    'set hard 160: OK', 'read back: 1', 'set hard -1: EINVAL',
    // Ten 16-page pipes fill 160 pages; shrinking one to a page frees 15, not enough for a sixteen-page pipe, two are.
    'pipes below the hard limit: 10, then ENFILE', 'grow a pipe: EPERM', 'shrink a pipe: 4096', 'then a pipe: ENFILE',
    'shrink another: 4096', 'then a pipe: 65536', 'after closing them all, a pipe: 65536',
    "root's 1044 pipes all 64 KiB: 1", 'done', '',
  ].join('\n'));
});

test('root sets fs.nr_open in the sandbox; setrlimit, fork and unshare(CLONE_FILES) obey it as Linux does', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().nropen.static;
  const r = h.runSandbox([bin, 'set']);
  assert.strictEqual(r.status, 0, h.describe('sandbox', r));
  assert.ok(r.stdout.endsWith([
    'another user writes: EACCES', 'write 64: OK', 'read back: 64', 'setrlimit 65: EPERM',
    // A table with a descriptor at 65 needs 128 slots, past the 64 allowed; one whose highest is 63 fits.
    'fork with fd 65 open: EMFILE', 'unshare(CLONE_FILES) with fd 65 shared: EMFILE', 'fork with fd 63 the highest: OK',
    'restore: OK', 'done', '',
  ].join('\n')), h.describe('sandbox', r));
});
