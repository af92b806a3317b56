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
/**
 * Instruction patching (patch.ts): the area's own address (the patched
 * call's entry finds it through %gs, whose host base is the area), where
 * the entry builds its frame (ucontext, siginfo, FPU image: where the host
 * puts a trap's, written by the Sentry), 1 when the trap came through the
 * entry, 1 when an interrupt arrived while a patched call ran stub code (the
 * handler reports it on its way back), and a scratch word.
 */
export const A_SELF = 112;
export const A_PUC = 120;
export const A_PSI = 128;
export const A_PFP = 136;
export const A_VIA = 144;
const A_INTR = 148;
const A_SCRATCH = 152;

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
  private readonly fixups32: Array<{ at: number; label: string }> = [];
  private readonly abs: Array<{ at: number; label: string }> = [];

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
  /** A near jump to label (e9 rel32). */
  jmp32(label: string): this {
    this.b.push(0xe9, 0, 0, 0, 0);
    this.fixups32.push({ at: this.b.length - 4, label });
    return this;
  }
  /** A near conditional jump to label (0f 8x rel32; cc: 2 below, 3 above or equal, 6 below or equal, 7 above). */
  jcc32(cc: number, label: string): this {
    this.b.push(0x0f, 0x80 | cc, 0, 0, 0, 0);
    this.fixups32.push({ at: this.b.length - 4, label });
    return this;
  }
  /** movabs reg, the address of label (resolved at finish). */
  movAddr(reg: number, label: string): this {
    this.b.push(0x48 | (reg >= 8 ? 1 : 0), 0xb8 + (reg & 7), 0, 0, 0, 0, 0, 0, 0, 0);
    this.abs.push({ at: this.b.length - 8, label });
    return this;
  }
  /** mov [base+disp], reg (store) or mov reg, [base+disp] (load), 64-bit; registers by number (rax 0 ... r15 15). */
  mem(load: boolean, reg: number, base: number, disp: number): this {
    const small = disp >= -128 && disp <= 127;
    this.b.push(0x48 | (reg >= 8 ? 4 : 0) | (base >= 8 ? 1 : 0), load ? 0x8b : 0x89, ((small ? 1 : 2) << 6) | ((reg & 7) << 3) | (base & 7));
    if ((base & 7) === 4) this.b.push(0x24);
    if (small) this.b.push(disp & 0xff);
    else this.imm32(disp);
    return this;
  }
  /** mov dword [base+disp], imm32 (base not rsp/r12). */
  movd(base: number, disp: number, v: number): this {
    if (base >= 8) this.b.push(0x41);
    if (disp >= -128 && disp <= 127) return this.bytes(0xc7, 0x40 | (base & 7), disp & 0xff).imm32(v);
    return this.bytes(0xc7, 0x80 | (base & 7)).imm32(disp).imm32(v);
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
    for (const f of this.fixups32) {
      const rel = this.addr(f.label) - this.base - (f.at + 4);
      for (let i = 0; i < 4; i++) this.b[f.at + i] = (rel >>> (8 * i)) & 0xff;
    }
    for (const f of this.abs) {
      const x = BigInt(this.addr(f.label));
      for (let i = 0; i < 8; i++) this.b[f.at + i] = Number((x >> BigInt(8 * i)) & 0xffn);
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
const SIGURG = 23;
const SIGSYS = 31;
const SI_TKILL = -6;
const SYS_SECCOMP_CODE = 1;
const AUDIT_ARCH_X86_64 = 0xc000003e;
/** Registers by number, as the encodings use them. */
const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7, R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;
/** The sigcontext in a ucontext, and offsets in it (asm/sigcontext.h). */
const SC = 40;
const SC_RIP = SC + 128;
const SC_RSP = SC + 120;

function build(fsgsbase: boolean): { code: Buffer; handler: number; cloneSite: number; firstTrap: number; restorer: number; futexRet: number; entry: number; gsLoad: number } {
  const a = new Asm(STUB_EXTRA_ADDR);

  // --- the handler: rdi = signo, rsi = &siginfo, rdx = &ucontext, rsp = the frame.
  a.label('handler');
  // The platform's interrupt while a patched call runs stub code (the entry, or this handler entered from it, which
  // runs with signals unblocked): reporting it now would show the Sentry a frame inside the stub. It is noted in the
  // area and reported on the way back (intr below), from the frame of the call; one arriving inside the way back's
  // last instructions sends that thread back to its check.
  a.bytes(0x83, 0xff, SIGURG); // cmp edi, SIGURG
  a.jmp8(0x75, 'normal');
  a.jmp32('nested');
  a.label('normal');
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
  a.label('tail');
  a.bytes(0x83, 0xbb).imm32(A_INTR).bytes(0x00); // cmp dword [rbx+A_INTR], 0: an interrupt came while a patched call ran here
  a.jmp8(0x75, 'intr');
  a.bytes(0x48, 0x83, 0xc4, 0x08); // add rsp, 8: rt_sigreturn finds the ucontext right above the return address
  a.movEax(SYS_RT_SIGRETURN);
  a.label('tail_sys');
  a.syscall();
  a.label('restorer');
  a.bytes(0x0f, 0x0b); // ud2: never reached (sigreturn does not return)
  a.label('intr');
  // Report it now, as if it came at the call's return: the frame holds exactly the state the application resumes in.
  a.movd(RBX, A_INTR, 0);
  a.mem(true, RSI, RBX, A_SIGINFO);
  a.movd(RSI, 0, SIGURG);
  a.movd(RSI, 8, SI_TKILL >>> 0);
  a.movEdi(SIGURG);
  a.mem(true, RDX, RBX, A_UCONTEXT);
  a.jmp32('normal');
  a.label('exit');
  a.movEax(SYS_EXIT).bytes(0x31, 0xff).syscall(); // exit(0)
  a.bytes(0x0f, 0x0b);

  a.label('nested');
  a.mem(true, RAX, RDX, SC_RIP); // mov rax, [rdx+rip]: where it was interrupted
  a.movAddr(RCX, 'handler');
  a.bytes(0x48, 0x39, 0xc8); // cmp rax, rcx
  a.jcc32(2, 'normal'); // jb: application code
  a.movAddr(RCX, 'code_end');
  a.bytes(0x48, 0x39, 0xc8);
  a.jcc32(3, 'normal'); // jae
  a.bytes(0x48, 0x89, 0xe1); // mov rcx, rsp
  a.bytes(0x48, 0x81, 0xe1).imm32(-AREA_SIZE); // and rcx, ~(AREA_SIZE-1): the area
  a.movd(RCX, A_INTR, 1);
  a.movAddr(R8, 'tail');
  a.bytes(0x4c, 0x39, 0xc0); // cmp rax, r8
  a.jmp8(0x76, 'swallow'); // jbe: it reaches the check yet
  a.movAddr(R8, 'tail_sys');
  a.bytes(0x4c, 0x39, 0xc0);
  a.jmp8(0x77, 'swallow'); // ja: past the way back (the entry)
  a.movAddr(R8, 'tail');
  a.mem(false, R8, RDX, SC_RIP); // back to the check, with its stack pointer there (the frame's place)
  a.mem(true, R8, RCX, A_UCONTEXT);
  a.bytes(0x49, 0x83, 0xe8, 0x08); // sub r8, 8
  a.mem(false, R8, RDX, SC_RSP);
  a.label('swallow');
  a.bytes(0x48, 0x83, 0xc4, 0x08); // add rsp, 8
  a.movEax(SYS_RT_SIGRETURN).syscall();

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

  // --- a patched call's entry (patch.ts): from its site's trampoline, eax = the number, rcx = the return address,
  // r11 scratch (both are the syscall instruction's to clobber), every other register and the flags the
  // application's. It writes the frame a SIGSYS of the seccomp filter would have (at the same place, so the
  // Sentry's take and resume are the trap's) and enters the handler as the host would. No host call, no stack of
  // the application's (no red zone is touched); the handler's rt_sigreturn returns to the call's return address.
  a.label('entry');
  a.label('gs_load');
  a.bytes(0x65, 0x4c, 0x8b, 0x1c, 0x25).imm32(A_SELF); // mov r11, gs:[A_SELF]: faults while gs is not the area yet (thread.ts)
  a.mem(false, RBX, R11, A_SCRATCH);
  a.mem(true, RBX, R11, A_PUC); // rbx = the ucontext
  for (const [r, off] of [[R8, 0], [R9, 8], [R10, 16], [R12, 32], [R13, 40], [R14, 48], [R15, 56], [RDI, 64], [RSI, 72], [RBP, 80], [RDX, 96], [RAX, 104], [RCX, 112], [RSP, 120], [RCX, 128]]) {
    a.mem(false, r, RBX, SC + off);
  }
  a.mem(true, R8, R11, A_SCRATCH);
  a.mem(false, R8, RBX, SC + 88); // rbx
  a.bytes(0x48, 0x8d, 0x63, 0xf8); // lea rsp, [rbx-8]: the frame's return address slot, as the host leaves it
  a.bytes(0x9c, 0x41, 0x58); // pushfq; pop r8
  a.mem(false, R8, RBX, SC + 136); // eflags
  a.mem(false, R8, RBX, SC + 24); // r11: the flags, as syscall leaves it
  a.movd(RBX, SC + 144, 0x33); // cs, gs
  a.movd(RBX, SC + 148, 0x2b << 16); // fs, ss
  a.bytes(0x45, 0x31, 0xc0); // xor r8d, r8d
  for (const off of [152, 160, 168, 176]) a.mem(false, R8, RBX, SC + off); // err, trapno, oldmask, cr2
  a.mem(true, R8, R11, A_PFP);
  a.mem(false, R8, RBX, SC + 184); // fpstate
  // The XSAVE header past XSTATE_BV must be zero for the host's XRSTOR; the software bytes and the end magic stay as
  // the host wrote them for this place (the thread's first report).
  a.bytes(0x31, 0xd2); // xor edx, edx
  for (let off = 520; off < 576; off += 8) a.mem(false, RDX, R8, off);
  a.bytes(0x41, 0x8b, 0x80).imm32(472); // mov eax, [r8+472]: the software bytes' xfeatures
  a.bytes(0x41, 0x8b, 0x90).imm32(476); // mov edx, [r8+476]
  a.bytes(0x49, 0x0f, 0xae, 0x20); // xsave64 [r8]
  a.mem(true, RDX, R11, A_PSI); // the siginfo: SIGSYS, SYS_SECCOMP, the call's address, number and arch
  a.movd(RDX, 0, SIGSYS).movd(RDX, 4, 0).movd(RDX, 8, SYS_SECCOMP_CODE).movd(RDX, 12, 0);
  a.mem(false, RCX, RDX, 16);
  a.mem(true, RAX, RBX, SC + 104);
  a.bytes(0x89, 0x42, 0x18); // mov [rdx+24], eax
  a.movd(RDX, 28, AUDIT_ARCH_X86_64);
  a.movd(R11, A_VIA, 1);
  a.movEdi(SIGSYS);
  a.bytes(0x48, 0x89, 0xd6); // mov rsi, rdx
  a.bytes(0x48, 0x89, 0xda); // mov rdx, rbx
  a.jmp32('handler');
  a.label('code_end');
  const code = a.finish();
  return {
    code, handler: a.addr('handler'), cloneSite: a.addr('clone'), firstTrap: a.addr('first'), restorer: a.addr('restorer'), futexRet: a.addr('futex_ret'),
    entry: a.addr('entry'), gsLoad: a.addr('gs_load'),
  };
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
/** A patched call's entry (its trampolines jump there), and its first instruction, the load through %gs. */
export const PATCH_ENTRY_ADDR = built.entry;
export const PATCH_GS_LOAD_ADDR = built.gsLoad;
