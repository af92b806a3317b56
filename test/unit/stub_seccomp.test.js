'use strict';
// The stubs' seccomp filter, run by a small classic-BPF interpreter written
// here from the BPF instruction set (the same checks the host kernel makes:
// every load of scratch memory follows a store, jumps go forward). It must
// allow exactly the calls the platform injects, with the arguments it uses,
// and kill the stub for everything else, with 64-bit arguments checked in
// both halves. Also: the platform refuses mapping requests beyond the top.

const test = require('node:test');
const assert = require('node:assert/strict');
const { runFilter, X86_64 } = require('../lib/bpf');
const { stubFilter } = require('../../dist/platform/ptrace/seccomp.js');
const { STUB_BASE, STUB_CTRL, STUB_DATA } = require('../../dist/platform/ptrace/stub_elf.js');

const ALLOW = 0x7fff0000;
const KILL = 0x80000000;

const run = (prog, nr, args, arch = X86_64) => runFilter(prog, nr, args, arch);

const TOP = 0x7f4614dfa000; // a vvar start as seen on these hosts: below the stub
// The host's clock pages as on these hosts: [vvar], [vvar_vclock], [vdso] from top up.
const CLOCK_PAGES = [{ start: TOP, end: TOP + 0x4000, name: '[vvar]' }, { start: TOP + 0x4000, end: TOP + 0x6000, name: '[vvar_vclock]' }, { start: TOP + 0x6000, end: TOP + 0x8000, name: '[vdso]' }];
const RESERVED = [{ start: STUB_BASE, end: STUB_DATA, name: '[stub]' }, ...CLOCK_PAGES];
const prog = stubFilter({ top: TOP, reserved: RESERVED });
const MMAP = 9, MPROTECT = 10, MUNMAP = 11, CLONE = 56, EPOLL_WAIT = 232;
const HI = 2 ** 32;

test('the filter allows what the platform injects', () => {
  assert.ok(prog.length / 8 < 200, 'a short program');
  assert.equal(run(prog, MMAP, [0x400000, 8192, 5, 0x11, 3, 0x5000]), ALLOW);
  assert.equal(run(prog, MMAP, [TOP - 4096, 4096, 3, 0x11, 3, 0]), ALLOW);
  assert.equal(run(prog, MMAP, [STUB_CTRL, 4096, 1, 0x11, 3, 0x7000]), ALLOW, 'the control page, read-only');
  assert.equal(run(prog, MPROTECT, [0x400000, 4096, 1]), ALLOW);
  assert.equal(run(prog, MUNMAP, [0x1000, TOP - 0x1000]), ALLOW, 'unmapAllUser');
  assert.equal(run(prog, CLONE, [17, 0, 0, 0, 0]), ALLOW);
  assert.equal(run(prog, CLONE, [0x50f00, 0, 0, 0, 0]), ALLOW, 'a host thread of the stub');
  assert.equal(run(prog, EPOLL_WAIT, [4, STUB_DATA, 1, -1]), ALLOW);
  assert.equal(run(prog, 60, [0]), ALLOW);
  assert.equal(run(prog, 231, [1]), ALLOW);
});

test("a process in a time namespace: munmap of exactly each of the host's clock pages, nothing else above top", () => {
  for (const r of CLOCK_PAGES) assert.equal(run(prog, MUNMAP, [r.start, r.end - r.start]), ALLOW, r.name);
  assert.equal(run(prog, MUNMAP, [TOP, 0x8000]), KILL, 'all three at once');
  assert.equal(run(prog, MUNMAP, [TOP + 0x6000, 0x1000]), KILL, 'part of the vDSO');
  assert.equal(run(prog, MUNMAP, [TOP + 0x6000 + HI, 0x2000]), KILL, 'the high half of the address');
  assert.equal(run(prog, MUNMAP, [TOP + 0x6000, 0x2000 + HI]), KILL, 'the high half of the length');
  assert.equal(run(prog, MPROTECT, [TOP + 0x6000, 0x2000, 0]), KILL, 'mprotect of the vDSO');
  assert.equal(run(prog, MMAP, [TOP + 0x6000, 0x2000, 5, 0x11, 3, 0]), KILL, 'a mapping over the vDSO');
});

test("prctl(PR_SET_TSC) with mode 1 or 2 only (the application's own TSC mode, set in its host thread)", () => {
  const PRCTL = 157;
  assert.equal(run(prog, PRCTL, [26, 1]), ALLOW);
  assert.equal(run(prog, PRCTL, [26, 2]), ALLOW);
  for (const args of [[26, 0], [26, 3], [26, 1 + HI], [26 + HI, 1], [25, 1], [38, 1], [22, 2]]) assert.equal(run(prog, PRCTL, args), KILL, `prctl(${args})`);
});

test('the filter kills any other call or argument', () => {
  for (const nr of [0, 1, 2, 39, 57, 59, 62, 101, 157, 200, 317, 435]) assert.equal(run(prog, nr, [0, 0, 0, 0, 0, 0]), KILL, `syscall ${nr}`);
  assert.equal(run(prog, MMAP, [0x400000, 4096, 3, 0x11, 3, 0], 0x40000003), KILL, 'i386 arch');
  // mmap: only the memory file, only MAP_SHARED|MAP_FIXED, prot within rwx.
  assert.equal(run(prog, MMAP, [0x400000, 4096, 3, 0x22, -1, 0]), KILL, 'anonymous');
  assert.equal(run(prog, MMAP, [0x400000, 4096, 3, 0x11, 5, 0]), KILL, 'another fd');
  assert.equal(run(prog, MMAP, [0x400000, 4096, 3, 0x11 + HI, 3, 0]), KILL, 'flags high half');
  assert.equal(run(prog, MMAP, [0x400000, 4096, 3, 0x11, 3 + HI, 0]), KILL, 'fd high half');
  assert.equal(run(prog, MMAP, [0x400000, 4096, 0x1000003, 0x11, 3, 0]), KILL, 'PROT_GROWSDOWN');
  assert.equal(run(prog, MMAP, [0x400000, 4096, 3 + HI, 0x11, 3, 0]), KILL, 'prot high half');
  // Ranges: nothing at or across the top, none wrapping around.
  assert.equal(run(prog, MMAP, [STUB_BASE, 4096, 5, 0x11, 3, 0]), KILL, 'over the stub code');
  assert.equal(run(prog, MMAP, [TOP, 4096, 3, 0x11, 3, 0]), KILL, 'at top');
  assert.equal(run(prog, MMAP, [TOP - 4096, 8192, 3, 0x11, 3, 0]), KILL, 'across top');
  assert.equal(run(prog, MMAP, [STUB_CTRL, 8192, 1, 0x11, 3, 0]), KILL, 'control page, too long');
  assert.equal(run(prog, MMAP, [STUB_CTRL, 4096, 3, 0x11, 3, 0]), KILL, 'control page, writable');
  assert.equal(run(prog, MMAP, [STUB_CTRL, 4096, 7, 0x11, 3, 0]), KILL, 'control page, executable');
  assert.equal(run(prog, MMAP, [STUB_CTRL - 4096, 4096, 3, 0x11, 3, 0]), KILL, 'next to the control page');
  assert.equal(run(prog, MUNMAP, [0x1000, TOP]), KILL, 'munmap reaching past top');
  assert.equal(run(prog, MUNMAP, [STUB_BASE, 4096]), KILL, 'munmap of the stub');
  assert.equal(run(prog, MUNMAP, [0x1000, -0x1000]), KILL, 'length wrapping the address space');
  assert.equal(run(prog, MUNMAP, [0xfffff000, 0x1000 + HI * 0x7f46]), KILL, 'carry from the low half');
  assert.equal(run(prog, MUNMAP, [0xfffff000, 0x1000 + HI * 0x7f45]), ALLOW, 'carry, still below top');
  assert.equal(run(prog, MPROTECT, [STUB_BASE, 4096, 7]), KILL, 'mprotect of the stub');
  assert.equal(run(prog, MPROTECT, [0x400000, 4096, 8]), KILL, 'mprotect with unknown bits');
  // clone: a plain fork only.
  assert.equal(run(prog, CLONE, [17 | 0x00800000, 0, 0, 0, 0]), KILL, 'CLONE_UNTRACED');
  assert.equal(run(prog, CLONE, [0x100 | 17, 0, 0, 0, 0]), KILL, 'CLONE_VM');
  assert.equal(run(prog, CLONE, [17 + HI, 0, 0, 0, 0]), KILL, 'flags high half');
  assert.equal(run(prog, CLONE, [0x50f00 | 0x00800000, 0, 0, 0, 0]), KILL, 'thread, CLONE_UNTRACED');
  assert.equal(run(prog, CLONE, [0x50f00 | 0x80000, 0, 0, 0, 0]), KILL, 'thread, CLONE_SETTLS');
  assert.equal(run(prog, CLONE, [0x50f00 + HI, 0, 0, 0, 0]), KILL, 'thread, flags high half');
  // epoll_wait: the waker's one call.
  assert.equal(run(prog, EPOLL_WAIT, [4, STUB_BASE, 1, -1]), KILL, 'into the code page');
  assert.equal(run(prog, EPOLL_WAIT, [5, STUB_DATA, 1, -1]), KILL, 'another fd');
  assert.equal(run(prog, EPOLL_WAIT, [4, STUB_DATA, 64, -1]), KILL, 'more events');
});

test('the platform refuses mapping requests beyond top as a Sentry bug', () => {
  const { StubProcess: Stub, StubError } = require('../../dist/platform/ptrace/stub.js');
  // A stub object for no process: requests are only queued, never run.
  const s = new Stub(-1, [{ start: STUB_BASE, end: STUB_BASE + 0x3000, name: '[stub]' }], 0, TOP, 1000, { syscallStops: 0, faultStops: 0, injections: 0, batches: 0 });
  s.mapFrames(TOP - 4096, 1, 0, 3);
  s.unmap(0x1000, TOP - 0x1000);
  s.protect(0x400000, 4096, 1);
  assert.throws(() => s.mapFrames(TOP, 1, 0, 3), StubError);
  assert.throws(() => s.mapFrames(STUB_BASE, 1, 0, 5), StubError);
  assert.throws(() => s.mapFrames(TOP - 4096, 2, 0, 3), StubError);
  assert.throws(() => s.unmap(STUB_BASE, 4096), StubError);
  assert.throws(() => s.unmap(0x1000, TOP), StubError);
  assert.throws(() => s.protect(STUB_CTRL, 4096, 7), StubError);
  assert.throws(() => s.protect(0, 4096, 7), StubError);
  s.discardPending();
});
