'use strict';
// vm.max_map_count is the sandbox's own (src/mm/vm_sysctl.ts): root lowers
// it through /proc/sys/vm/max_map_count and every address space obeys the
// new value at once, with Linux's rules (test/c/mapcount.c, compared with
// native at the machine's limit by c_programs). Natively the program cannot
// run this way: it would lower the host's limit for every process.

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
    // Three below the old limit, the new one ten above it: fourteen more, the last one past it (do_mmap's rule).
    'raise by 10: OK', 'fill stopped by ENOMEM', 'mapped after raising: 14', 'done', '',
  ].join('\n'));
});
