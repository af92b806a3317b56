// The seccomp filter every stub runs under. Application system calls never
// reach it: PTRACE_SYSEMU stops and skips them before seccomp runs. What does
// reach it is what the Sentry injects (and anything that would escape ptrace
// by a bug, or application code that got to run as the stub): only the calls
// the platform makes, with the arguments it uses, are allowed; anything else
// kills the stub. Defense in depth, as gVisor's ptrace stubs do.
//
// seccomp_data.args are 64-bit; classic BPF loads 32 bits at a time, so every
// argument check looks at both halves.

import { STUB_CTRL, STUB_DATA } from './stub_elf';

export const BPF_LD_W_ABS = 0x20;
const BPF_LD_IMM = 0x00;
const BPF_LD_MEM = 0x60;
const BPF_ST = 0x02;
const BPF_TAX = 0x07;
const BPF_ADD_X = 0x0c;
const BPF_JA = 0x05;
export const BPF_JEQ_K = 0x15;
export const BPF_JGT_K = 0x25;
const BPF_JGE_X = 0x3d;
export const BPF_JSET_K = 0x45;
export const BPF_RET_K = 0x06;
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_TRAP = 0x00030000;

const SYS_MMAP = 9;
const SYS_MPROTECT = 10;
const SYS_MUNMAP = 11;
const SYS_CLONE = 56;
const SYS_PRCTL = 157;
/** prctl(PR_SET_TSC, PR_TSC_ENABLE or PR_TSC_SIGSEGV): the application's own setting, made in its host thread (the systrap filters use it too). */
export const PR_SET_TSC = 26;
const SYS_EXIT = 60;
const SYS_EPOLL_WAIT = 232;
const SYS_EXIT_GROUP = 231;

/** The clones the platform makes: a plain fork of the master, and a host thread in a stub (never CLONE_UNTRACED, a new namespace...). */
export const STUB_CLONE_FLAGS = 17; // SIGCHLD
export const STUB_THREAD_CLONE_FLAGS = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000; // VM FS FILES SIGHAND THREAD SYSVSEM
const MAP_SHARED_FIXED = 0x11;
const MEMFD_IN_STUB = 3;
const EPOLL_IN_STUB = 4;

type Target = string | number;

/** A tiny assembler: jump targets are labels, resolved to offsets at the end (the systrap filters use it too). */
export class Bpf {
  private readonly ins: Array<{ code: number; jt: Target; jf: Target; k: number }> = [];
  private readonly labels = new Map<string, number>();

  op(code: number, k = 0, jt: Target = 0, jf: Target = 0): this {
    this.ins.push({ code, jt, jf, k: k >>> 0 });
    return this;
  }

  label(name: string): this {
    this.labels.set(name, this.ins.length);
    return this;
  }

  /** Offsets of the data seccomp hands the filter: nr at 0, arch at 4, args[i] at 16 + 8i (low half first). */
  loadArg(i: number, high: boolean): this {
    return this.op(BPF_LD_W_ABS, 16 + 8 * i + (high ? 4 : 0));
  }

  /** Continue only if args[i] is exactly v (both halves), else kill. */
  argEq(i: number, v: number): this {
    const lo = v % 2 ** 32;
    const hi = Math.floor(v / 2 ** 32);
    return this.loadArg(i, true).op(BPF_JEQ_K, hi, 0, 'kill').loadArg(i, false).op(BPF_JEQ_K, lo, 0, 'kill');
  }

  build(): Buffer {
    const b = Buffer.alloc(this.ins.length * 8);
    this.ins.forEach((x, i) => {
      const rel = (t: Target): number => {
        if (typeof t === 'number') return t;
        const at = this.labels.get(t);
        if (at === undefined || at <= i || at - i - 1 > 255) throw new Error(`bpf: bad jump to ${t}`);
        return at - i - 1;
      };
      b.writeUInt16LE(x.code, i * 8);
      b.writeUInt8(rel(x.jt), i * 8 + 2);
      b.writeUInt8(rel(x.jf), i * 8 + 3);
      b.writeUInt32LE(x.k, i * 8 + 4);
    });
    return b;
  }
}

/**
 * The block labelled 'range': allow when args[0] + args[1] <= top (computed
 * in 32-bit halves with a carry), else kill. Jumps to the labels 'allow' and
 * 'kill', which the caller defines.
 */
export function rangeCheck(f: Bpf, top: number): void {
  const topHi = Math.floor(top / 2 ** 32);
  const topLo = top % 2 ** 32;
  // addr + len <= top, in 32-bit halves: M[0] = lo(addr), M[1] = lo(end), M[2] = carry.
  f.label('range');
  f.loadArg(0, true).op(BPF_JGT_K, topHi, 'kill', 0);
  f.loadArg(1, true).op(BPF_JGT_K, topHi, 'kill', 0); // both high halves small: their sum cannot wrap
  f.loadArg(0, false).op(BPF_ST, 0).op(BPF_TAX);
  f.loadArg(1, false).op(BPF_ADD_X).op(BPF_ST, 1);
  f.op(BPF_JGE_X, 0, 'nocarry', 0); // lo(end) < lo(addr): the low halves wrapped
  f.op(BPF_LD_IMM, 1).op(BPF_ST, 2).op(BPF_JA, 2); // over the no-carry store
  f.label('nocarry').op(BPF_LD_IMM, 0).op(BPF_ST, 2);
  f.loadArg(0, true).op(BPF_TAX).loadArg(1, true).op(BPF_ADD_X).op(BPF_TAX).op(BPF_LD_MEM, 2).op(BPF_ADD_X);
  f.op(BPF_JGT_K, topHi, 'kill', 0).op(BPF_JEQ_K, topHi, 0, 'allow');
  f.op(BPF_LD_MEM, 1).op(BPF_JGT_K, topLo, 'kill', 'allow');
}

/** The host's clock pages ([vvar], [vvar_vclock], [vdso]), which AddressSpace.hideVdso unmaps. */
export function vdsoRanges(reserved: ReadonlyArray<{ start: number; end: number; name: string }>): Array<{ start: number; end: number }> {
  return reserved.filter((r) => r.name === '[vdso]' || r.name === '[vvar]' || r.name === '[vvar_vclock]');
}

/**
 * The block labelled 'munmap': munmap of exactly one of ranges (the clock
 * pages, taken from a process in a time namespace) goes to 'allow', any
 * other to 'range' (the application's part only).
 */
export function munmapCheck(f: Bpf, ranges: ReadonlyArray<{ start: number; end: number }>): void {
  f.label('munmap');
  ranges.forEach((r, i) => {
    const next = `munmap${i + 1}`;
    const len = r.end - r.start;
    for (const [arg, v] of [[0, r.start], [1, len]]) {
      f.loadArg(arg, true).op(BPF_JEQ_K, Math.floor(v / 2 ** 32), 0, next);
      f.loadArg(arg, false).op(BPF_JEQ_K, v % 2 ** 32, 0, next);
    }
    f.op(BPF_JEQ_K, 0, 'allow', 'allow'); // jump always (classic BPF's ja takes no label here)
    f.label(next);
  });
  f.op(BPF_JEQ_K, 0, 'range', 'range');
}

/**
 * struct sock_filter array. top is the end of the application's address
 * space: mmap, mprotect and munmap are allowed only for ranges that end at or
 * below it, so even a confused Sentry or application code running as the stub
 * cannot touch the stub's code, its control page or the host's vDSO. The
 * exceptions: the control page itself, mapped (read-only, from the memory
 * file) when a stub is made, and munmap of exactly the host's clock pages
 * (AddressSpace.hideVdso).
 */
export function stubFilter(layout: { top: number; reserved: ReadonlyArray<{ start: number; end: number; name: string }> }): Buffer {
  const ctrlHi = Math.floor(STUB_CTRL / 2 ** 32);
  const ctrlLo = STUB_CTRL % 2 ** 32;
  const f = new Bpf();
  f.op(BPF_LD_W_ABS, 4).op(BPF_JEQ_K, AUDIT_ARCH_X86_64, 0, 'kill');
  // A call from a kernel address is the host emulating a call into the
  // vsyscall page (it asks seccomp first): SIGSYS, which the platform turns
  // into the execute fault the Sentry emulates (platform/ptrace/stops.ts).
  f.op(BPF_LD_W_ABS, 12).op(BPF_JEQ_K, 0xffffffff, 0, 1).op(BPF_RET_K, SECCOMP_RET_TRAP);
  f.op(BPF_LD_W_ABS, 0);
  f.op(BPF_JEQ_K, SYS_MMAP, 'mmap', 0);
  f.op(BPF_JEQ_K, SYS_MPROTECT, 'mprotect', 0);
  f.op(BPF_JEQ_K, SYS_MUNMAP, 'munmap', 0);
  f.op(BPF_JEQ_K, SYS_CLONE, 'clone', 0);
  f.op(BPF_JEQ_K, SYS_EPOLL_WAIT, 'epoll', 0);
  f.op(BPF_JEQ_K, SYS_PRCTL, 'prctl', 0);
  f.op(BPF_JEQ_K, SYS_EXIT, 'allow', 0);
  f.op(BPF_JEQ_K, SYS_EXIT_GROUP, 'allow', 'kill');

  // mmap: only frames of the memory file, MAP_SHARED|MAP_FIXED, rwx at most.
  f.label('mmap').argEq(3, MAP_SHARED_FIXED).argEq(4, MEMFD_IN_STUB);
  f.loadArg(2, true).op(BPF_JEQ_K, 0, 0, 'kill').loadArg(2, false).op(BPF_JSET_K, ~7, 'kill', 0);
  // The control page: exactly one read-only page at STUB_CTRL.
  f.loadArg(0, true).op(BPF_JEQ_K, ctrlHi, 0, 'range').loadArg(0, false).op(BPF_JEQ_K, ctrlLo, 0, 'range');
  f.argEq(1, 4096).argEq(2, 1).op(BPF_RET_K, SECCOMP_RET_ALLOW);

  f.label('mprotect').loadArg(2, true).op(BPF_JEQ_K, 0, 0, 'kill').loadArg(2, false).op(BPF_JSET_K, ~7, 'kill', 'range');
  munmapCheck(f, vdsoRanges(layout.reserved));

  rangeCheck(f, layout.top);

  // clone: the master forking a stub, or a stub making a thread of itself (traced too: never CLONE_UNTRACED).
  f.label('clone').loadArg(0, true).op(BPF_JEQ_K, 0, 0, 'kill').loadArg(0, false);
  f.op(BPF_JEQ_K, STUB_CLONE_FLAGS, 'allow', 0).op(BPF_JEQ_K, STUB_THREAD_CLONE_FLAGS, 'allow', 'kill');
  // epoll_wait: the waker, one event into the scratch page.
  f.label('epoll').argEq(0, EPOLL_IN_STUB).argEq(1, STUB_DATA).argEq(2, 1).op(BPF_RET_K, SECCOMP_RET_ALLOW);

  tscPrctl(f, 'kill');

  f.label('allow').op(BPF_RET_K, SECCOMP_RET_ALLOW);
  f.label('kill').op(BPF_RET_K, SECCOMP_RET_KILL_PROCESS);
  return f.build();
}

/** The block labelled 'prctl': PR_SET_TSC with mode 1 or 2 goes to 'allow', anything else to otherwise. */
export function tscPrctl(f: Bpf, otherwise: string): void {
  f.label('prctl').loadArg(0, true).op(BPF_JEQ_K, 0, 0, otherwise).loadArg(0, false).op(BPF_JEQ_K, PR_SET_TSC, 0, otherwise);
  f.loadArg(1, true).op(BPF_JEQ_K, 0, 0, otherwise).loadArg(1, false).op(BPF_JEQ_K, 1, 'allow', 0).op(BPF_JEQ_K, 2, 'allow', otherwise);
}
