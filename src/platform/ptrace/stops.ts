// What a ptrace stop of an application stub means for the kernel. Syscall
// stops are the hot path and cost two register compares here; everything
// else (signal-delivery stops) is rare and may afford a PTRACE_GETSIGINFO.
//
// Signal-delivery stops come in four sorts:
// - the platform's own interrupt: INTERRUPT_SIGNAL sent with tgkill by
//   Context.interrupt(); reported as 'interrupted' and suppressed;
// - a hardware fault (the host kernel's own SIGSEGV, SIGBUS, SIGFPE, SIGILL,
//   SIGTRAP, si_code > 0): reported as a fault;
// - a call into the vsyscall page: the host emulates it after asking the
//   stub's seccomp filter, which answers SECCOMP_RET_TRAP for a call made from
//   a kernel address; the SIGSYS is turned back into the execute fault it
//   would be without the emulation (the kernel emulates the call itself);
// - anything else (a signal sent to the stub from outside): not the
//   application's; reported as 'interrupted', which only makes the kernel look
//   for pending work and resume, so the host signal is always suppressed.

import * as libc from '../../host/libc';
import { Reg, type Stop } from '../platform';
import * as P from './ptrace';
import type { StubThread } from './stub_thread';

/**
 * The host signal that interrupts a running stub. Stubs ignore it (SIG_IGN),
 * yet a traced process still stops for it, and the tracer never passes it on:
 * it can never reach the application, and a stray one from outside is
 * harmless. Like every standard signal, several sent before the stop arrive
 * as one.
 */
export const INTERRUPT_SIGNAL = 17; // SIGCHLD

const SIGSYS = 31;
const SIGSEGV = 11;
const SEGV_MAPERR = 1;
const SYS_SECCOMP = 1;
const USER_CS = 0x33;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const PTRACE_GET_SYSCALL_INFO = 0x420e;
/** The vsyscall page's entry points (gettimeofday, time, getcpu) as signed 64-bit numbers. */
export const VSYSCALL_BASE = -0xa00000; // 0xffffffffff600000

const SYSCALL_STOP: Stop = { kind: 'syscall' };
const SYSCALL32_STOP: Stop = { kind: 'syscall32' };
const INTERRUPTED_STOP: Stop = { kind: 'interrupted' };

const siginfo = Buffer.alloc(128);
const syscallInfo = Buffer.alloc(88);

/** A syscall-entry stop (registers loaded): 64-bit `syscall`, or a 32-bit entry. */
export function syscallStop(ctx: StubThread, pid: number): Stop {
  const r = ctx.regs;
  // The `syscall` instruction leaves the return address in rcx, so a 64-bit
  // entry always has rcx == rip; int $0x80 and sysenter do not (rarely by
  // chance): only then ask the host which entry it was.
  if (r.get(Reg.RCX) === r.get(Reg.RIP) && r.get(Reg.CS) === USER_CS) return SYSCALL_STOP;
  if (libc.ptraceBuf(PTRACE_GET_SYSCALL_INFO, pid, syscallInfo.length, syscallInfo) <= 0) return SYSCALL_STOP;
  return syscallInfo.readUInt32LE(4) === AUDIT_ARCH_X86_64 ? SYSCALL_STOP : SYSCALL32_STOP;
}

/** A signal-delivery stop for sig (registers loaded). The host signal is never passed on. */
export function signalStop(ctx: StubThread, pid: number, sig: number): Stop {
  if (sig === INTERRUPT_SIGNAL) {
    ctx.interruptSent = false;
    return interrupted(ctx);
  }
  const isFault = sig === 11 || sig === 7 || sig === 8 || sig === 4 || sig === 5;
  if (!isFault && sig !== SIGSYS) return interrupted(ctx);
  if (libc.ptraceBuf(P.PTRACE_GETSIGINFO, pid, 0, siginfo) < 0) return interrupted(ctx);
  const code = siginfo.readInt32LE(8);
  // si_code <= 0: sent by a process (kill, tgkill, sigqueue), not raised by the CPU.
  if (code <= 0) return interrupted(ctx);
  if (sig === SIGSYS) {
    const callAddr = Number(siginfo.readBigInt64LE(16));
    if (code !== SYS_SECCOMP || !isVsyscallEntry(callAddr)) return interrupted(ctx);
    // The host has already emulated the `ret` (rip = caller, rsp + 8): undo it.
    const r = ctx.regs;
    r.set(Reg.RIP, callAddr);
    r.set(Reg.RSP, r.get(Reg.RSP) - 8);
    r.set(Reg.ORIG_RAX, -1);
    return { kind: 'fault', signo: SIGSEGV, code: SEGV_MAPERR, addr: callAddr };
  }
  // Signed: a kernel address (the vsyscall page) stays exact as a negative number, where near 2^64 it would be rounded.
  const addr = Number(siginfo.readBigInt64LE(16));
  return { kind: 'fault', signo: sig, code, addr };
}

export function isVsyscallEntry(addr: number): boolean {
  return addr === VSYSCALL_BASE || addr === VSYSCALL_BASE + 0x400 || addr === VSYSCALL_BASE + 0x800;
}

function interrupted(ctx: StubThread): Stop {
  // After a suppressed signal the host would restart a system call whose
  // result looks like -ERESTART* (orig_rax >= 0). Any call was finished by
  // the Sentry already, and a handler frame may now sit in the registers.
  if (ctx.regs.get(Reg.ORIG_RAX) !== -1) ctx.regs.set(Reg.ORIG_RAX, -1);
  return INTERRUPTED_STOP;
}
