// The two seccomp filters of a systrap stub. Filters stack on a host thread
// and the strictest answer wins (KILL over TRAP over ALLOW), so:
//
// - the control filter is installed in the master (every stub and every
//   thread inherits it). For calls made outside the stub's code page it says
//   TRAP; from the code page it allows what the leader runs on the Sentry's
//   behalf (the ptrace platform's mapping calls with their argument checks,
//   plus the systrap regions), what a new thread needs to set itself up, and
//   what the handler uses; anything else kills the stub.
// - the application filter is installed by each application thread on
//   itself before it runs any application code. It TRAPs every call except,
//   from the handler's own instructions, exactly the handler's calls: futex
//   wait/wake on a word of the areas, the eventfd write, rt_sigreturn, exit,
//   prctl(PR_SET_TSC) (the application's own TSC mode, set in its thread),
//   and where the CPU lacks FSGSBASE, arch_prctl setting fs/gs base.
//
// An application that jumps onto one of the stub's syscall instructions
// therefore runs under both: it can reach at most those handler calls (and
// setting its own fs/gs base), none of which hands it anything of the
// host (no pid, no file, no mapping).

import {
  AUDIT_ARCH_X86_64, Bpf, BPF_JEQ_K, BPF_JGT_K, BPF_JSET_K, BPF_LD_W_ABS, BPF_RET_K, rangeCheck, SECCOMP_RET_ALLOW,
  munmapCheck, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_TRAP, STUB_CLONE_FLAGS, STUB_THREAD_CLONE_FLAGS, tscPrctl, vdsoRanges,
} from '../ptrace/seccomp';
import { STUB_BASE, STUB_CTRL, STUB_DATA } from '../ptrace/stub_elf';
import {
  ARCH_SET_FS, ARCH_SET_GS, AREA_SIZE, AREAS_BASE, AREAS_END, CLONE_SITE, EVENTFD_IN_STUB, F_APP_PROG, F_CTL_PROG, F_FILTERS, F_LEADER_MASK, F_SIGACTION, HANDLER_ADDR,
  STUB_FILTER, STUB_GLOBAL,
} from './stub_code';

const BPF_JGE_K = 0x35;
const SYS_WRITE = 1;
const SYS_MMAP = 9;
const SYS_MPROTECT = 10;
const SYS_MUNMAP = 11;
const SYS_RT_SIGPROCMASK = 14;
const SYS_RT_SIGRETURN = 15;
const SYS_CLONE = 56;
const SYS_EXIT = 60;
const SYS_SIGALTSTACK = 131;
const SYS_PRCTL = 157;
const SYS_ARCH_PRCTL = 158;
const SYS_FUTEX = 202;
const SYS_EXIT_GROUP = 231;
const SYS_SECCOMP = 317;
const MAP_SHARED_FIXED = 0x11;
const MEMFD_IN_STUB = 3;
const hi = (v: number): number => Math.floor(v / 2 ** 32);
const lo = (v: number): number => v % 2 ** 32;

/**
 * Continue at `then` if seccomp_data's instruction pointer (the address after
 * the syscall instruction) lies in (start, end], else jump to `otherwise`.
 * Both bounds share their high half (checked).
 */
function ipWithin(f: Bpf, start: number, end: number, then: string, otherwise: string): void {
  if (hi(start) !== hi(end)) throw new Error('stub code crosses a 4 GiB boundary');
  f.op(BPF_LD_W_ABS, 12).op(BPF_JEQ_K, hi(start), 0, otherwise);
  f.op(BPF_LD_W_ABS, 8).op(BPF_JGT_K, lo(start), 0, otherwise).op(BPF_JGT_K, lo(end), otherwise, then);
}

/** args[i] in [start, end) with the same high half; else jump to otherwise. */
function argWithin(f: Bpf, i: number, start: number, end: number, otherwise: string): void {
  f.loadArg(i, true).op(BPF_JEQ_K, hi(start), 0, otherwise);
  f.loadArg(i, false).op(BPF_JGE_K, lo(start), 0, otherwise).op(BPF_JGE_K, lo(end), otherwise, 0);
}

/** Exactly args[i] == v, else jump to otherwise. */
function argIs(f: Bpf, i: number, v: number, otherwise: string): void {
  f.loadArg(i, true).op(BPF_JEQ_K, hi(v), 0, otherwise).loadArg(i, false).op(BPF_JEQ_K, lo(v), 0, otherwise);
}

/**
 * The handler's fs/gs restore where the CPU lacks FSGSBASE (label
 * 'arch_prctl'): setting either base, which the application may do through
 * the Sentry anyway. Nothing else of arch_prctl (reads into memory, CET, the
 * CPUID fault, XSTATE permissions) is reachable.
 */
function archPrctl(f: Bpf, otherwise: string): void {
  f.label('arch_prctl').loadArg(0, true).op(BPF_JEQ_K, 0, 0, otherwise).loadArg(0, false);
  f.op(BPF_JEQ_K, ARCH_SET_FS, 'allow', 0).op(BPF_JEQ_K, ARCH_SET_GS, 'allow', otherwise);
}

/** The control filter (see the top of the file). top: the end of the application's address space. */
export function controlFilter(top: number, reserved: ReadonlyArray<{ start: number; end: number; name: string }>): Buffer {
  const f = new Bpf();
  // A call from a kernel address is the host emulating the vsyscall page: TRAP (the Sentry emulates it).
  f.op(BPF_LD_W_ABS, 12).op(BPF_JEQ_K, 0xffffffff, 'trap', 0);
  ipWithin(f, STUB_BASE, STUB_DATA, 'stub', 'trap');
  f.label('stub').op(BPF_LD_W_ABS, 4).op(BPF_JEQ_K, AUDIT_ARCH_X86_64, 0, 'kill');
  f.op(BPF_LD_W_ABS, 0);
  f.op(BPF_JEQ_K, SYS_MMAP, 'mmap', 0);
  f.op(BPF_JEQ_K, SYS_MPROTECT, 'mprotect', 0);
  f.op(BPF_JEQ_K, SYS_MUNMAP, 'munmap', 0);
  f.op(BPF_JEQ_K, SYS_CLONE, 'clone', 0);
  f.op(BPF_JEQ_K, SYS_EXIT, 'allow', 0);
  f.op(BPF_JEQ_K, SYS_EXIT_GROUP, 'allow', 0);
  f.op(BPF_JEQ_K, SYS_RT_SIGRETURN, 'allow', 0);
  f.op(BPF_JEQ_K, SYS_FUTEX, 'futex', 0);
  f.op(BPF_JEQ_K, SYS_WRITE, 'write', 0);
  f.op(BPF_JEQ_K, SYS_ARCH_PRCTL, 'arch_prctl', 0);
  f.op(BPF_JEQ_K, SYS_PRCTL, 'prctl', 0);
  f.op(BPF_JEQ_K, SYS_SIGALTSTACK, 'altstack', 0);
  f.op(BPF_JEQ_K, SYS_RT_SIGPROCMASK, 'sigmask', 0);
  f.op(BPF_JEQ_K, SYS_SECCOMP, 'seccomp', 'kill');

  // mmap: only frames of the memory file, MAP_SHARED|MAP_FIXED, rwx at most.
  f.label('mmap').argEq(3, MAP_SHARED_FIXED).argEq(4, MEMFD_IN_STUB);
  f.loadArg(2, true).op(BPF_JEQ_K, 0, 0, 'kill').loadArg(2, false).op(BPF_JSET_K, ~7, 'kill', 0);
  // The stub's own pages: the control page and the filter page read-only, the global page read-write, one whole area.
  f.loadArg(0, true).op(BPF_JEQ_K, hi(STUB_BASE), 0, 'range');
  f.loadArg(0, false).op(BPF_JEQ_K, lo(STUB_CTRL), 'ro', 0).op(BPF_JEQ_K, lo(STUB_FILTER), 'ro', 0);
  f.op(BPF_JEQ_K, lo(STUB_GLOBAL), 'page_rw', 0);
  f.op(BPF_JGE_K, lo(AREAS_BASE), 0, 'range').op(BPF_JGE_K, lo(AREAS_END), 'kill', 0).op(BPF_JSET_K, AREA_SIZE - 1, 'kill', 0);
  f.argEq(1, AREA_SIZE).argEq(2, 3).op(BPF_RET_K, SECCOMP_RET_ALLOW);
  f.label('ro').argEq(1, 4096).argEq(2, 1).op(BPF_RET_K, SECCOMP_RET_ALLOW);
  f.label('page_rw').argEq(1, 4096).argEq(2, 3).op(BPF_RET_K, SECCOMP_RET_ALLOW);

  f.label('mprotect').loadArg(2, true).op(BPF_JEQ_K, 0, 0, 'kill').loadArg(2, false).op(BPF_JSET_K, ~7, 'kill', 'range');
  munmapCheck(f, vdsoRanges(reserved));
  rangeCheck(f, top);

  // clone: the master forking a stub, or the leader making an application thread (never CLONE_UNTRACED, a namespace...).
  f.label('clone').loadArg(0, true).op(BPF_JEQ_K, 0, 0, 'kill').loadArg(0, false);
  f.op(BPF_JEQ_K, STUB_CLONE_FLAGS, 'allow', 0).op(BPF_JEQ_K, STUB_THREAD_CLONE_FLAGS, 'allow', 'kill');
  // The handler's calls (also checked by the application filter).
  f.label('futex');
  argWithin(f, 0, AREAS_BASE, AREAS_END, 'kill');
  f.loadArg(1, true).op(BPF_JEQ_K, 0, 0, 'kill').loadArg(1, false).op(BPF_JGT_K, 1, 'kill', 'allow');
  f.label('write').argEq(0, EVENTFD_IN_STUB).argEq(2, 8).op(BPF_RET_K, SECCOMP_RET_ALLOW);
  archPrctl(f, 'kill');
  tscPrctl(f, 'kill');
  // A new thread's set-up: its alternate stack in the areas, an empty mask, the application filter.
  f.label('altstack');
  argWithin(f, 0, AREAS_BASE, AREAS_END, 'kill');
  f.argEq(1, 0).op(BPF_RET_K, SECCOMP_RET_ALLOW);
  f.label('sigmask').argEq(0, 2).argEq(2, 0).argEq(3, 8).op(BPF_RET_K, SECCOMP_RET_ALLOW);
  f.label('seccomp').argEq(0, 1).argEq(1, 0).argEq(2, STUB_FILTER + F_APP_PROG).op(BPF_RET_K, SECCOMP_RET_ALLOW);

  f.label('allow').op(BPF_RET_K, SECCOMP_RET_ALLOW);
  f.label('trap').op(BPF_RET_K, SECCOMP_RET_TRAP);
  f.label('kill').op(BPF_RET_K, SECCOMP_RET_KILL_PROCESS);
  return f.build();
}

/** The application filter (see the top of the file). */
export function appFilter(): Buffer {
  const f = new Bpf();
  // Another ABI (int $0x80): the Sentry answers it (ENOSYS), as on ptrace.
  f.op(BPF_LD_W_ABS, 4).op(BPF_JEQ_K, AUDIT_ARCH_X86_64, 0, 'trap');
  ipWithin(f, HANDLER_ADDR, CLONE_SITE, 'handler', 'trap');
  f.label('handler').op(BPF_LD_W_ABS, 0);
  f.op(BPF_JEQ_K, SYS_RT_SIGRETURN, 'allow', 0);
  f.op(BPF_JEQ_K, SYS_EXIT, 'exit', 0);
  f.op(BPF_JEQ_K, SYS_FUTEX, 'futex', 0);
  f.op(BPF_JEQ_K, SYS_ARCH_PRCTL, 'arch_prctl', 0);
  f.op(BPF_JEQ_K, SYS_PRCTL, 'prctl', 0);
  f.op(BPF_JEQ_K, SYS_WRITE, 'write', 'trap');
  f.label('exit');
  argIs(f, 0, 0, 'trap');
  f.op(BPF_RET_K, SECCOMP_RET_ALLOW);
  f.label('futex');
  argWithin(f, 0, AREAS_BASE, AREAS_END, 'trap');
  f.loadArg(1, true).op(BPF_JEQ_K, 0, 0, 'trap').loadArg(1, false).op(BPF_JGT_K, 1, 'trap', 'allow');
  f.label('write');
  argIs(f, 0, EVENTFD_IN_STUB, 'trap');
  argIs(f, 2, 8, 'trap');
  f.op(BPF_RET_K, SECCOMP_RET_ALLOW);
  archPrctl(f, 'trap');
  tscPrctl(f, 'trap');
  f.label('allow').op(BPF_RET_K, SECCOMP_RET_ALLOW);
  f.label('trap').op(BPF_RET_K, SECCOMP_RET_TRAP);
  return f.build();
}

/**
 * The filter page: struct sock_fprog for each filter (len, then a pointer
 * into this page as the stub sees it), the handlers' struct sigaction, the
 * leader's signal mask, then the two programs.
 */
export function filterPage(page: Buffer, top: number, reserved: ReadonlyArray<{ start: number; end: number; name: string }>, sigaction: Buffer, leaderMask: Buffer): { ctlProg: number } {
  const ctl = controlFilter(top, reserved);
  const app = appFilter();
  let at = F_FILTERS;
  const put = (prog: Buffer, structAt: number): void => {
    prog.copy(page, at);
    page.writeUInt16LE(prog.length / 8, structAt);
    page.writeBigUInt64LE(BigInt(STUB_FILTER + at), structAt + 8);
    at += prog.length;
  };
  put(ctl, F_CTL_PROG);
  put(app, F_APP_PROG);
  if (at > 4096) throw new Error('systrap filters do not fit in their page');
  sigaction.copy(page, F_SIGACTION);
  leaderMask.copy(page, F_LEADER_MASK);
  return { ctlProg: STUB_FILTER + F_CTL_PROG };
}
