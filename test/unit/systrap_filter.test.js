'use strict';
// The systrap stub's two seccomp filters (platform/systrap/filters.ts), run by
// the BPF interpreter: what a call from the application's code gets (a trap to
// the Sentry, always), and what a call from the stub's own instructions gets
// (exactly the handler's and the set-up's calls, with their arguments, else a
// trap or the stub's death). An application that jumps onto the stub's
// instructions is the case the argument checks are for.

const test = require('node:test');
const assert = require('node:assert/strict');
const { runFilter } = require('../lib/bpf');
const { appFilter, controlFilter } = require('../../dist/platform/systrap/filters.js');
const code = require('../../dist/platform/systrap/stub_code.js');
const { STUB_BASE } = require('../../dist/platform/ptrace/stub_elf.js');

const ALLOW = 0x7fff0000;
const TRAP = 0x00030000;
const KILL = 0x80000000;
const TOP = 0x7f4614dfa000;
const GETPID = 39, WRITE = 1, FUTEX = 202, EXIT = 60, ARCH_PRCTL = 158, RT_SIGRETURN = 15;
const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004, ARCH_SET_CPUID = 0x1012;
const IN_HANDLER = code.HANDLER_ADDR + 16;
const IN_APP = 0x401000;
const AREA = code.AREAS_BASE + 3 * code.AREA_SIZE;

const app = appFilter();
const CLOCK_PAGES = [{ start: TOP, end: TOP + 0x4000, name: '[vvar]' }, { start: TOP + 0x4000, end: TOP + 0x6000, name: '[vvar_vclock]' }, { start: TOP + 0x6000, end: TOP + 0x8000, name: '[vdso]' }];
const ctl = controlFilter(TOP, CLOCK_PAGES);
const PRCTL = 157, MUNMAP = 11;

test('every call from the application traps, whatever its arguments', () => {
  for (const [nr, args] of [[GETPID, []], [ARCH_PRCTL, [ARCH_SET_FS, 0x1234]], [FUTEX, [AREA, 0]], [WRITE, [code.EVENTFD_IN_STUB, 0, 8]], [RT_SIGRETURN, []]]) {
    assert.equal(runFilter(app, nr, args, undefined, IN_APP), TRAP, `nr ${nr} from the application (app filter)`);
    assert.equal(runFilter(ctl, nr, args, undefined, IN_APP), TRAP, `nr ${nr} from the application (control filter)`);
  }
});

test("from the handler's instructions: only the handler's calls", () => {
  assert.equal(runFilter(app, FUTEX, [AREA, 0], undefined, IN_HANDLER), ALLOW, 'futex wait on an area');
  assert.equal(runFilter(app, FUTEX, [0x601000, 0], undefined, IN_HANDLER), TRAP, 'futex outside the areas');
  assert.equal(runFilter(app, FUTEX, [AREA, 9], undefined, IN_HANDLER), TRAP, 'another futex op');
  assert.equal(runFilter(app, WRITE, [code.EVENTFD_IN_STUB, 0, 8], undefined, IN_HANDLER), ALLOW, 'the eventfd write');
  assert.equal(runFilter(app, WRITE, [1, 0, 8], undefined, IN_HANDLER), TRAP, 'a write to another fd');
  assert.equal(runFilter(app, EXIT, [0], undefined, IN_HANDLER), ALLOW);
  assert.equal(runFilter(app, EXIT, [3], undefined, IN_HANDLER), TRAP, 'exit with another status');
  assert.equal(runFilter(app, GETPID, [], undefined, IN_HANDLER), TRAP, 'getpid at a stub syscall');
});

test('prctl(PR_SET_TSC, 1 or 2) from the stub (the handler sets the thread\'s TSC mode), nothing else of prctl', () => {
  for (const prog of [app, ctl]) {
    const deny = prog === app ? TRAP : KILL;
    const ip = prog === app ? IN_HANDLER : STUB_BASE + 0x100;
    assert.equal(runFilter(prog, PRCTL, [26, 1], undefined, ip), ALLOW);
    assert.equal(runFilter(prog, PRCTL, [26, 2], undefined, ip), ALLOW);
    for (const args of [[26, 0], [26, 3], [26, 2 + 2 ** 32], [22, 2], [38, 1], [4, 1]]) assert.equal(runFilter(prog, PRCTL, args, undefined, ip), deny, `prctl(${args})`);
  }
  assert.equal(runFilter(app, PRCTL, [26, 2], undefined, IN_APP), TRAP, 'from the application: the Sentry serves it');
});

test("the leader may unmap exactly the host's clock pages (a process in a time namespace), nothing else above top", () => {
  const ip = STUB_BASE + 0x100;
  for (const r of CLOCK_PAGES) assert.equal(runFilter(ctl, MUNMAP, [r.start, r.end - r.start], undefined, ip), ALLOW, r.name);
  assert.equal(runFilter(ctl, MUNMAP, [TOP, 0x8000], undefined, ip), KILL, 'all at once');
  assert.equal(runFilter(ctl, MUNMAP, [TOP + 0x6000, 0x1000], undefined, ip), KILL, 'part of the vDSO');
  assert.equal(runFilter(ctl, MUNMAP, [code.AREAS_BASE, code.AREA_SIZE], undefined, ip), KILL, 'an area');
  assert.equal(runFilter(ctl, MUNMAP, [TOP + 0x6000, 0x2000], undefined, IN_APP), TRAP, 'from the application');
});

test('arch_prctl from the stub: setting fs/gs base only (the restore where the CPU lacks FSGSBASE)', () => {
  for (const prog of [app, ctl]) {
    const deny = prog === app ? TRAP : KILL;
    const ip = prog === app ? IN_HANDLER : STUB_BASE + 0x100;
    assert.equal(runFilter(prog, ARCH_PRCTL, [ARCH_SET_FS, 0x7f0000001000], undefined, ip), ALLOW, 'ARCH_SET_FS');
    assert.equal(runFilter(prog, ARCH_PRCTL, [ARCH_SET_GS, 0], undefined, ip), ALLOW, 'ARCH_SET_GS');
    for (const op of [ARCH_GET_FS, ARCH_GET_GS, ARCH_SET_CPUID, 0x3001, 0x1021, 0]) {
      assert.equal(runFilter(prog, ARCH_PRCTL, [op, AREA], undefined, ip), deny, `arch_prctl(${op.toString(16)})`);
    }
    assert.equal(runFilter(prog, ARCH_PRCTL, [2 ** 32 + ARCH_SET_FS, 0], undefined, ip), deny, 'the high half of the code is checked');
  }
});
