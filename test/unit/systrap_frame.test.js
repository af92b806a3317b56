'use strict';
// The systrap platform's per-trap copy (platform/systrap/thread.ts): a
// thread's area holding a signal frame laid out as the host kernel writes
// one on the alternate stack (ucontext 64-aligned, siginfo right after it,
// the XSAVE image above), taken and answered with no stub behind it. What
// take() reads into the registers, what it refuses, and (counted) which
// words of the area resume() changes: for a system call's return only rax
// and the state word, so that the frame's other cache lines stay where the
// stub's rt_sigreturn reads them; anything the application forged in the
// selectors, the mask or the alternate stack is still rewritten.

const test = require('node:test');
const assert = require('node:assert/strict');
const { SystrapThread } = require('../../dist/platform/systrap/thread.js');
const C = require('../../dist/platform/systrap/stub_code.js');

const FP = 0xc000; // the XSAVE image (64-aligned), as the host places it below the stack's top
const UC = FP - 448; // the ucontext: the rt_sigframe right below the image
const SI = UC + 304; // the siginfo after the ucontext
const SC = UC + 40; // the sigcontext
const XSIZE = 2696;
const GETPID = 39;
// user_regs_struct indexes and the sigcontext offsets of the general registers.
const REGS = { R15: [0, 56], R14: [1, 48], R13: [2, 40], R12: [3, 32], RBP: [4, 80], RBX: [5, 88], R11: [6, 24], R10: [7, 16], R9: [8, 8], R8: [9, 0], RAX: [10, 104], RCX: [11, 112], RDX: [12, 96], RSI: [13, 72], RDI: [14, 64], RIP: [16, 128], EFLAGS: [18, 136], RSP: [19, 120] };
const ORIG_RAX = 15, CS = 17, SS = 20, FS_BASE = 21, GS_BASE = 22, DS = 23;

/** A thread whose area holds a seccomp trap of `nr`, as the host and the stub's handler leave it. */
function trapped(nr = GETPID, callAddr = 0x401000n) {
  const area = Buffer.alloc(C.AREA_SIZE);
  const proc = { areaAddr: (s) => C.AREAS_BASE + s * C.AREA_SIZE, spinner: { current: () => 0, answered() {} }, flushPending() {}, running() {}, dead: false, onGone() {}, pid: 1, patcher: null, stats: {} };
  const th = new SystrapThread(proc, 2, area, 4242);
  const base = BigInt(proc.areaAddr(2));
  area.writeInt32LE(C.ST_TRAPPED, C.A_STATE);
  area.writeUInt32LE(31, C.A_SIGNO);
  area.writeBigUInt64LE(base + BigInt(SI), C.A_SIGINFO);
  area.writeBigUInt64LE(base + BigInt(UC), C.A_UCONTEXT);
  area.writeBigUInt64LE(0x7f0011223340n, C.A_FS_BASE);
  area.writeBigUInt64LE(0n, C.A_GS_BASE);
  // The sigcontext: each register a value of its own, rax the call's number (seccomp leaves it there).
  for (const [name, [, off]] of Object.entries(REGS)) area.writeBigUInt64LE(name === 'RAX' ? BigInt.asUintN(64, BigInt(nr)) : 0x5500000000n + BigInt(off), SC + off);
  area.writeUInt16LE(0x33, SC + 144);
  area.writeUInt16LE(0x2b, SC + 150);
  area.writeBigUInt64LE(base + BigInt(FP), SC + 184);
  area.writeBigUInt64LE(base + 0x1000n, UC + 16); // uc_stack: the alternate stack
  area.writeBigUInt64LE(BigInt(C.AREA_SIZE - 0x1000), UC + 32);
  // The siginfo: SIGSYS, SYS_SECCOMP, the call's address, number and arch.
  area.writeInt32LE(31, SI);
  area.writeInt32LE(1, SI + 8);
  area.writeBigUInt64LE(callAddr, SI + 16);
  area.writeInt32LE(nr, SI + 24);
  area.writeUInt32LE(0xc000003e, SI + 28);
  // The XSAVE image's software bytes: magic1, then the extended size.
  area.writeUInt32LE(0x46505853, FP + 464);
  area.writeUInt32LE(XSIZE, FP + 464 + 16);
  return { th, area };
}

/** The 32-bit words of the area that differ from a copy taken before. */
function changedWords(before, after) {
  const out = [];
  for (let i = 0; i < before.length; i += 4) if (before.readUInt32LE(i) !== after.readUInt32LE(i)) out.push(i);
  return out;
}

test('take: the registers from the sigcontext, the call as a ptrace syscall stop, nothing allocated per trap', () => {
  const { th } = trapped();
  const stop = th.take();
  assert.deepEqual(stop, { kind: 'syscall' });
  const r = th.regs;
  for (const [name, [idx, off]] of Object.entries(REGS)) {
    if (name === 'RAX') continue;
    assert.equal(r.get(idx), 0x5500000000 + off, name);
  }
  assert.equal(r.get(10), -38, 'rax shows -ENOSYS');
  assert.equal(r.get(ORIG_RAX), GETPID);
  assert.deepEqual([r.get(CS), r.get(SS)], [0x33, 0x2b]);
  for (let i = DS; i < DS + 4; i++) assert.equal(r.get(i), 0);
  assert.equal(r.get(FS_BASE), 0x7f0011223340);
  assert.equal(r.get(GS_BASE), 0);
  assert.equal(th.signo, 31);
  assert.equal(r.dirty || r.raxDirty, false, 'nothing for resume to write back but rax');
  // The same stop object at every system call: a trap allocates none.
  assert.strictEqual(th.take(), stop);
  // The FPU image's size comes from its software bytes, when asked for.
  assert.equal(th.getFpState().length, XSIZE);
});

test('take: a call into the vsyscall page is the execute fault at its entry; a negative number stays negative', () => {
  const { th } = trapped(96, 0xffffffffff600000n);
  const rsp = 0x5500000000 + 120;
  assert.deepEqual(th.take(), { kind: 'fault', signo: 11, code: 1, addr: -0xa00000 });
  assert.equal(th.regs.get(16), -0xa00000);
  assert.equal(th.regs.get(19), rsp - 8);
  const neg = trapped(-1).th;
  neg.take();
  assert.equal(neg.regs.get(ORIG_RAX), -1);
});

test('take: pointers in the area that do not lie in the thread\'s alternate stack end it (null)', () => {
  for (const [off, v] of [[C.A_UCONTEXT, 0x1000n], [C.A_SIGINFO, BigInt(C.AREAS_BASE + 2 * C.AREA_SIZE + 8)], [C.A_UCONTEXT, BigInt(C.AREAS_BASE + 2 * C.AREA_SIZE + UC + 4)]]) {
    const { th, area } = trapped();
    area.writeBigUInt64LE(v, off);
    assert.equal(th.take(), null, `${off}: ${v.toString(16)}`);
  }
  const { th, area } = trapped();
  area.writeBigUInt64LE(0x1234n, SC + 184); // the FPU image's pointer elsewhere
  assert.equal(th.take(), null);
});

test('resume after a system call changes rax and the state word only (counted); forged selectors, mask and stack are rewritten', () => {
  const { th, area } = trapped();
  th.take();
  // The first resume of a context writes every register (its frame may be another's): count from the second trap.
  th.regs.set(10, 4242);
  th.resume();
  area.writeInt32LE(C.ST_TRAPPED, C.A_STATE);
  area.writeBigInt64LE(BigInt(GETPID), SC + 104);
  th.take();
  const before = Buffer.from(area);
  th.regs.set(10, -2); // -ENOENT: both of rax's words change
  th.resume();
  assert.deepEqual(changedWords(before, area), [C.A_STATE, SC + 104, SC + 108]);
  assert.equal(area.readBigInt64LE(SC + 104), -2n);
  assert.equal(area.readInt32LE(C.A_STATE), C.ST_RESUME);
  // What another application thread wrote into the frame meanwhile: a 32-bit cs, a mask, a moved alternate stack.
  area.writeInt32LE(C.ST_TRAPPED, C.A_STATE);
  th.take();
  area.writeUInt16LE(0x23, SC + 144);
  area.writeBigUInt64LE(0xfffffffffffffeffn, UC + 296);
  area.writeBigUInt64LE(0x10000n, UC + 16);
  area.writeBigUInt64LE(0x1234n, SC + 184);
  th.resume();
  assert.equal(area.readUInt16LE(SC + 144), 0x33);
  assert.equal(area.readUInt16LE(SC + 150), 0x2b);
  assert.equal(area.readBigUInt64LE(UC + 296), 0n);
  assert.equal(area.readBigUInt64LE(UC + 16), BigInt(C.AREAS_BASE + 2 * C.AREA_SIZE + 0x1000));
  assert.equal(area.readBigUInt64LE(SC + 184), BigInt(C.AREAS_BASE + 2 * C.AREA_SIZE + FP));
});

test('the threads the wait polls: out at a trap, back at the answer, in any order, with no array growth (counted)', () => {
  const { RunningThreads } = require('../../dist/platform/systrap/running.js');
  const set = new RunningThreads();
  const ths = Array.from({ length: 5 }, (_, i) => ({ runIdx: -1, i }));
  const members = () => [...set].map((t) => t.i).sort();
  for (const t of ths) set.add(t);
  set.add(ths[2]); // twice: once
  assert.deepEqual(members(), [0, 1, 2, 3, 4]);
  set.delete(ths[1]);
  set.delete(ths[1]);
  set.delete(ths[4]);
  assert.deepEqual(members(), [0, 2, 3]);
  for (const t of [...set]) assert.equal(set.items[t.runIdx], t);
  assert.equal(ths[1].runIdx, -1);
  // A getpid loop: one thread out and back 10000 times; the array keeps its 5 slots.
  for (let n = 0; n < 10000; n++) {
    set.delete(ths[0]);
    set.add(ths[0]);
  }
  assert.deepEqual(members(), [0, 2, 3]);
  assert.equal(set.items.length, 5);
  assert.equal(set.size, 3);
});
