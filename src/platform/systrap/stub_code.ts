// The systrap stub's own code: generated x86-64 machine code appended to the
// ptrace stub's image (the same start-up, injection and batch routines run in
// the leader thread, which the Sentry still drives with ptrace). What is new:
//
// - the signal handler every application thread traps into (SIGSYS from the
//   seccomp filter for each system call, the CPU's faults, the platform's
//   interrupt). It runs on the thread's alternate stack inside its shared
//   area, with every signal blocked; the host kernel has already saved the
//   complete register and FPU state there (the signal frame). The handler
//   adds fs/gs base (rdfsbase; see build() where the CPU lacks it), publishes the trap in the area's state word, wakes the
//   Sentry if it sleeps (an eventfd write), spins briefly, then futex-waits
//   until the Sentry answers: RESUME (restore fs/gs base, rt_sigreturn of the
//   frame the Sentry rewrote) or EXIT (this host thread ends).
// - the start of a new host thread (made by an injected clone in the leader,
//   r12 = its area): alternate stack, signal mask, the application filter,
//   then ud2, whose SIGILL is the thread's first report.
//
// The handler trusts nothing in memory the application can write for
// control flow: it has no stack of its own (no call, ret or push), and every
// host call it can make is pinned by the filters (filters.ts).

import * as fs from 'node:fs';
import { STUB_BASE, STUB_EXTRA_ADDR } from '../ptrace/stub_elf';
import { PR_SET_TSC } from '../ptrace/seccomp';

/** A read-only page of the memory file: the filters, the handlers' sigaction, signal masks. */
export const STUB_FILTER = STUB_BASE + 0x3000;
/** A read-write page shared by every stub and the Sentry: whether the Sentry sleeps, the stub's spin count. */
export const STUB_GLOBAL = STUB_BASE + 0x4000;
/** Per-thread shared areas: AREA_SIZE each, aligned, so the handler finds its own from its stack pointer. */
export const AREAS_BASE = STUB_BASE + 0x100000;
export const AREA_SIZE = 0x10000;
export const MAX_SLOTS = 4096;
export const AREAS_END = AREAS_BASE + MAX_SLOTS * AREA_SIZE;
/** The alternate stack: the area less its first page (the state words). */
export const ALTSTACK_OFF = 0x1000;

/** Words of an area's first page (byte offsets). */
export const A_STATE = 0;
export const A_FUTEX_WAITING = 4;
export const A_SIGNO = 8;
export const A_SIGINFO = 16;
export const A_UCONTEXT = 24;
export const A_FS_BASE = 32;
export const A_GS_BASE = 40;
/** Without FSGSBASE: the bases the handler last set on the host, to set them again only when the Sentry changed them. */
export const A_FS_SET = 48;
export const A_GS_SET = 56;
const A_STACK_T = 64;
const A_ZERO_MASK = 88;
/**
 * prctl(PR_SET_TSC) mode the Sentry wants for the thread (1 allow, 2
 * SIGSEGV; written at every resume), and the one the handler last set on
 * the host: it calls prctl only when they differ. A new thread starts with
 * the leader's (1); a revived stub's area is zeroed, so its first resume
 * sets the mode whatever the ended process left.
 */
export const A_TSC = 96;
const A_TSC_SET = 104;

/** State word values. */
export const ST_RUNNING = 0;
export const ST_TRAPPED = 1;
export const ST_RESUME = 2;
export const ST_EXIT = 3;

/** Words of the global page. */
export const G_SLEEPING = 0;
export const G_ONE = 8;
export const G_SPIN = 16;

/** arch_prctl codes (asm/prctl.h). */
export const ARCH_SET_GS = 0x1001;
export const ARCH_SET_FS = 0x1002;

/** The stub's fds: 3 = the memory file (as on ptrace), 4 = the eventfd that wakes the Sentry. */
export const EVENTFD_IN_STUB = 4;

/** Offsets in the filter page. */
export const F_CTL_PROG = 0;
export const F_APP_PROG = 16;
export const F_SIGACTION = 32;
export const F_LEADER_MASK = 64;
export const F_FILTERS = 128;

class Asm {
  readonly b: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: Array<{ at: number; label: string }> = [];

  constructor(readonly base: number) {}

  bytes(...x: number[]): this {
    this.b.push(...x);
    return this;
  }
  imm32(v: number): this {
    for (let i = 0; i < 4; i++) this.b.push((v >>> (8 * i)) & 0xff);
    return this;
  }
  imm64(v: number): this {
    const x = BigInt(v);
    for (let i = 0n; i < 8n; i++) this.b.push(Number((x >> (8n * i)) & 0xffn));
    return this;
  }
  label(name: string): this {
    this.labels.set(name, this.b.length);
    return this;
  }
  /** A short jump (opcode, then rel8 to label). */
  jmp8(op: number, label: string): this {
    this.b.push(op, 0);
    this.fixups.push({ at: this.b.length - 1, label });
    return this;
  }
  addr(label: string): number {
    const at = this.labels.get(label);
    if (at === undefined) throw new Error(`asm: no label ${label}`);
    return this.base + at;
  }
  /** mov eax, imm32 */
  movEax(v: number): this {
    return this.bytes(0xb8).imm32(v);
  }
  /** mov edi, imm32 */
  movEdi(v: number): this {
    return this.bytes(0xbf).imm32(v);
  }
  /** mov edx, imm32 */
  movEdx(v: number): this {
    return this.bytes(0xba).imm32(v);
  }
  syscall(): this {
    return this.bytes(0x0f, 0x05);
  }
  finish(): Buffer {
    for (const f of this.fixups) {
      const to = this.labels.get(f.label);
      if (to === undefined) throw new Error(`asm: no label ${f.label}`);
      const rel = to - (f.at + 1);
      if (rel < -128 || rel > 127) throw new Error(`asm: jump to ${f.label} too far`);
      this.b[f.at] = rel & 0xff;
    }
    return Buffer.from(this.b);
  }
}

const SYS_WRITE = 1;
const SYS_RT_SIGPROCMASK = 14;
const SYS_RT_SIGRETURN = 15;
const SYS_EXIT = 60;
const SYS_SIGALTSTACK = 131;
const SYS_PRCTL = 157;
const SYS_ARCH_PRCTL = 158;
const SYS_FUTEX = 202;
const SYS_EXIT_GROUP = 231;
const SYS_SECCOMP = 317;

function build(fsgsbase: boolean): { code: Buffer; handler: number; cloneSite: number; firstTrap: number; restorer: number; futexRet: number } {
  const a = new Asm(STUB_EXTRA_ADDR);

  // --- the handler: rdi = signo, rsi = &siginfo, rdx = &ucontext, rsp = the frame.
  a.label('handler');
  a.bytes(0x48, 0x89, 0xe3); // mov rbx, rsp
  a.bytes(0x48, 0x81, 0xe3).imm32(-AREA_SIZE); // and rbx, ~(AREA_SIZE-1): the area
  a.bytes(0x89, 0x7b, A_SIGNO); // mov [rbx+8], edi
  a.bytes(0x48, 0x89, 0x73, A_SIGINFO); // mov [rbx+16], rsi
  a.bytes(0x48, 0x89, 0x53, A_UCONTEXT); // mov [rbx+24], rdx
  if (fsgsbase) {
    a.bytes(0xf3, 0x48, 0x0f, 0xae, 0xc0); // rdfsbase rax
    a.bytes(0x48, 0x89, 0x43, A_FS_BASE); // mov [rbx+32], rax
    a.bytes(0xf3, 0x48, 0x0f, 0xae, 0xc8); // rdgsbase rax
    a.bytes(0x48, 0x89, 0x43, A_GS_BASE); // mov [rbx+40], rax
  }
  // Without FSGSBASE the words keep what the Sentry last set: every change of a
  // base goes through it (arch_prctl, clone's TLS, execve), and reading one
  // back would cost a host call per trap (arch_prctl, measured at 7-12 us here).
  a.movEax(ST_TRAPPED).bytes(0x87, 0x03); // xchg [rbx], eax: publish (a full barrier)
  a.bytes(0x48, 0xb9).imm64(STUB_GLOBAL); // movabs rcx, GLOBAL
  a.bytes(0x83, 0x39, 0x00); // cmp dword [rcx], 0: does the Sentry sleep?
  a.jmp8(0x74, 'spin'); // je spin
  a.movEax(SYS_WRITE).movEdi(EVENTFD_IN_STUB);
  a.bytes(0x48, 0x8d, 0x71, G_ONE); // lea rsi, [rcx+8]
  a.movEdx(8).syscall();
  a.label('spin');
  a.bytes(0x48, 0xb9).imm64(STUB_GLOBAL); // movabs rcx, GLOBAL
  a.bytes(0x8b, 0x49, G_SPIN); // mov ecx, [rcx+16]
  a.label('spinloop');
  a.bytes(0x83, 0x3b, ST_TRAPPED); // cmp dword [rbx], TRAPPED
  a.jmp8(0x75, 'answered');
  a.bytes(0xf3, 0x90); // pause
  a.bytes(0xff, 0xc9); // dec ecx
  a.jmp8(0x7f, 'spinloop'); // jg
  a.label('sleep');
  a.movEax(1).bytes(0x87, 0x43, A_FUTEX_WAITING); // xchg [rbx+4], eax: futex waiting (a barrier)
  a.bytes(0x8b, 0x13); // mov edx, [rbx]: the value to sleep on
  a.bytes(0x83, 0xfa, ST_TRAPPED); // cmp edx, TRAPPED
  a.jmp8(0x75, 'answered');
  a.label('futex');
  a.movEax(SYS_FUTEX);
  a.bytes(0x48, 0x89, 0xdf); // mov rdi, rbx
  a.bytes(0x31, 0xf6); // xor esi, esi: FUTEX_WAIT (shared: the Sentry wakes it through its own mapping)
  a.bytes(0x4d, 0x31, 0xd2); // xor r10, r10: no timeout
  a.syscall();
  a.label('futex_ret');
  // The area again from the stack pointer: a thread the Sentry checks at this pc (a retired stub's) is known by its sp, not by rbx.
  a.bytes(0x48, 0x89, 0xe3); // mov rbx, rsp
  a.bytes(0x48, 0x81, 0xe3).imm32(-AREA_SIZE); // and rbx, ~(AREA_SIZE-1)
  a.jmp8(0xeb, 'sleep');
  a.label('answered');
  a.bytes(0xc7, 0x43, A_FUTEX_WAITING).imm32(0); // mov dword [rbx+4], 0
  a.bytes(0x8b, 0x13); // mov edx, [rbx]
  a.bytes(0x83, 0xfa, ST_RESUME); // cmp edx, RESUME
  a.jmp8(0x74, 'resume');
  a.bytes(0x83, 0xfa, ST_EXIT); // cmp edx, EXIT
  a.jmp8(0x74, 'exit');
  // Any other value was not written by the Sentry: sleep until the word changes.
  a.bytes(0xc7, 0x43, A_FUTEX_WAITING).imm32(1);
  a.jmp8(0xeb, 'futex');
  a.label('resume');
  a.bytes(0xc7, 0x03).imm32(ST_RUNNING); // mov dword [rbx], RUNNING
  if (fsgsbase) {
    a.bytes(0x48, 0x8b, 0x43, A_FS_BASE); // mov rax, [rbx+32]
    a.bytes(0xf3, 0x48, 0x0f, 0xae, 0xd0); // wrfsbase rax
    a.bytes(0x48, 0x8b, 0x43, A_GS_BASE); // mov rax, [rbx+40]
    a.bytes(0xf3, 0x48, 0x0f, 0xae, 0xd8); // wrgsbase rax
  } else {
    // A host call only when the Sentry changed a base since the last one set.
    for (const [code, off, copy, skip] of [[ARCH_SET_FS, A_FS_BASE, A_FS_SET, 'fs_same'], [ARCH_SET_GS, A_GS_BASE, A_GS_SET, 'gs_same']] as const) {
      a.bytes(0x48, 0x8b, 0x73, off); // mov rsi, [rbx+off]
      a.bytes(0x48, 0x3b, 0x73, copy); // cmp rsi, [rbx+copy]
      a.jmp8(0x74, skip); // je
      a.bytes(0x48, 0x89, 0x73, copy); // mov [rbx+copy], rsi
      a.movEax(SYS_ARCH_PRCTL).movEdi(code).syscall();
      a.label(skip);
    }
  }
  a.bytes(0x48, 0x8b, 0x73, A_TSC); // mov rsi, [rbx+A_TSC]
  a.bytes(0x48, 0x3b, 0x73, A_TSC_SET); // cmp rsi, [rbx+A_TSC_SET]
  a.jmp8(0x74, 'tsc_same'); // je
  a.bytes(0x48, 0x89, 0x73, A_TSC_SET); // mov [rbx+A_TSC_SET], rsi
  a.movEax(SYS_PRCTL).movEdi(PR_SET_TSC).syscall();
  a.label('tsc_same');
  a.bytes(0x48, 0x83, 0xc4, 0x08); // add rsp, 8: rt_sigreturn finds the ucontext right above the return address
  a.movEax(SYS_RT_SIGRETURN).syscall();
  a.label('restorer');
  a.bytes(0x0f, 0x0b); // ud2: never reached (sigreturn does not return)
  a.label('exit');
  a.movEax(SYS_EXIT).bytes(0x31, 0xff).syscall(); // exit(0)
  a.bytes(0x0f, 0x0b);

  // --- clone of a new host thread (injected in the leader: rax = clone, r12 = the new thread's area).
  a.label('clone');
  a.syscall();
  a.bytes(0x48, 0x85, 0xc0); // test rax, rax
  a.jmp8(0x74, 'thread'); // the child
  a.bytes(0xcc); // the leader traps back to the Sentry
  a.label('thread');
  // The host thread starts with the leader's bases, zero (the stub has no TLS): so do the words, whatever an earlier thread of this area left.
  for (const off of [A_FS_BASE, A_GS_BASE, A_FS_SET, A_GS_SET]) a.bytes(0x49, 0xc7, 0x44, 0x24, off).imm32(0); // mov qword [r12+off], 0
  // rdtsc allowed, as in the leader it was cloned from (which never runs application code).
  a.bytes(0x49, 0xc7, 0x44, 0x24, A_TSC_SET).imm32(1); // mov qword [r12+A_TSC_SET], 1
  a.bytes(0x49, 0x8d, 0x84, 0x24).imm32(ALTSTACK_OFF); // lea rax, [r12+0x1000]
  a.bytes(0x49, 0x89, 0x44, 0x24, A_STACK_T); // mov [r12+64], rax: ss_sp
  a.bytes(0x41, 0xc7, 0x44, 0x24, A_STACK_T + 8).imm32(0); // ss_flags
  a.bytes(0x49, 0xc7, 0x44, 0x24, A_STACK_T + 16).imm32(AREA_SIZE - ALTSTACK_OFF); // ss_size
  a.movEax(SYS_SIGALTSTACK);
  a.bytes(0x49, 0x8d, 0x7c, 0x24, A_STACK_T); // lea rdi, [r12+64]
  a.bytes(0x31, 0xf6).syscall(); // xor esi, esi
  a.bytes(0x85, 0xc0).jmp8(0x75, 'fail');
  a.bytes(0x49, 0xc7, 0x44, 0x24, A_ZERO_MASK).imm32(0); // an empty mask
  a.movEax(SYS_RT_SIGPROCMASK).movEdi(2); // SIG_SETMASK
  a.bytes(0x49, 0x8d, 0x74, 0x24, A_ZERO_MASK); // lea rsi, [r12+88]
  a.bytes(0x31, 0xd2); // xor edx, edx
  a.bytes(0x41, 0xba).imm32(8).syscall(); // mov r10d, 8
  a.bytes(0x85, 0xc0).jmp8(0x75, 'fail');
  a.movEax(SYS_SECCOMP).movEdi(1); // SECCOMP_SET_MODE_FILTER
  a.bytes(0x31, 0xf6); // flags 0
  a.bytes(0x48, 0xba).imm64(STUB_FILTER + F_APP_PROG); // movabs rdx, &app prog
  a.syscall();
  a.bytes(0x85, 0xc0).jmp8(0x75, 'fail');
  a.label('first');
  a.bytes(0x0f, 0x0b); // ud2: the thread's first report
  a.label('fail');
  // Never run application code without the application filter: end the whole stub.
  a.movEax(SYS_EXIT_GROUP).movEdi(1).syscall();
  a.bytes(0x0f, 0x0b);
  const code = a.finish();
  return { code, handler: a.addr('handler'), cloneSite: a.addr('clone'), firstTrap: a.addr('first'), restorer: a.addr('restorer'), futexRet: a.addr('futex_ret') };
}

/**
 * Does this CPU and kernel let user code read and write fs/gs base
 * (AT_HWCAP2's FSGSBASE bit)? Without it the handler sets them with
 * arch_prctl when the Sentry changed them, and never reads them.
 */
export function hostHasFsgsbase(): boolean {
  try {
    const auxv = fs.readFileSync('/proc/self/auxv');
    for (let i = 0; i + 16 <= auxv.length; i += 16) {
      if (auxv.readBigUInt64LE(i) === 26n /* AT_HWCAP2 */) return (auxv.readBigUInt64LE(i + 8) & 2n) !== 0n;
    }
  } catch {
    // no auxv: assume the older CPU
  }
  return false;
}

// Which variant is a fact of the host, the same for every sandbox in this process.
const built = build(process.arch === 'x64' && hostHasFsgsbase());
/** The systrap part of the stub's code (appended to the ptrace stub's image). */
export const SYSTRAP_CODE = built.code;
export const HANDLER_ADDR = built.handler;
export const CLONE_SITE = built.cloneSite;
/** The ud2 whose SIGILL is a new thread's first report (rip at it). */
export const FIRST_TRAP_ADDR = built.firstTrap;
export const RESTORER_ADDR = built.restorer;
/** Where the handler's futex wait returns to: the pc the host shows of a thread held in its handler. */
export const FUTEX_RET_ADDR = built.futexRet;
