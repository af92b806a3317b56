// How a task serves one stop of its context: dispatch a system call through the
// table (sync handlers finish at once: the hot path has no promise), resolve a
// fault, then deliver signals and switch back to the application.

import { actionOf, AUDIT_ARCH_X86_64, dataOf, evaluate, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, SECCOMP_RET_TRACE, SECCOMP_RET_TRAP, SECCOMP_RET_USER_NOTIF } from './seccomp';
import { Reg, type Stop } from '../platform/platform';
import { E, Errno } from '../abi/errno';
import type { Kernel } from './kernel';
import * as S from '../abi/signals';
import type { Task } from './task';
import { TASK_SIZE } from '../abi/mm';
import { outOfMemory } from './oom';
import { VdsoCalls } from './vdso';
import { UserfaultPending } from '../mm/userfault';
import { awaitEvents, kernelFault, userFault } from './userfault';

/** A handler result meaning "registers already hold the outcome" (execve, rt_sigreturn, exit). */
export const KEEP_REGS = Number.MIN_SAFE_INTEGER;
/**
 * A handler result meaning "the call is not finished, and no handler is
 * running either": the task's stop stays held while its state says why (a
 * vfork parent waiting for its child); finishParked() completes the call.
 */
export const VFORK_WAIT = Number.MIN_SAFE_INTEGER + 1;

/** The six argument registers into the task's own array (no allocation per stop). */
function loadArgs(t: Task): number[] {
  const regs = t.ctx.regs;
  const args = t.syscallArgs;
  args[0] = regs.get(Reg.RDI);
  args[1] = regs.get(Reg.RSI);
  args[2] = regs.get(Reg.RDX);
  args[3] = regs.get(Reg.R10);
  args[4] = regs.get(Reg.R8);
  args[5] = regs.get(Reg.R9);
  return args;
}
/** The vsyscall page's entry points (0xffffffffff600000 + 0, 0x400, 0x800, as signed numbers) and their calls. */
const VSYSCALLS = new Map<number, number>([[-0xa00000, 96 /* gettimeofday */], [-0xa00000 + 0x400, 201 /* time */], [-0xa00000 + 0x800, 309 /* getcpu */]]);
/** Sizes of the pointer arguments Linux checks before a vsyscall runs. */
const VSYSCALL_ARGS: Record<number, number[]> = { 96: [16, 8], 201: [8], 309: [4, 4] };

export class TaskRunner {
  /** 'interrupted' stops served (a count for the debug log and tests; rare, not on the hot path). */
  interrupts = 0;
  /** System calls whose handler returned a promise not settled yet (Kernel.pause waits for 0). */
  inFlight = 0;

  /** The host vDSO's entry points, for processes whose vDSO is hidden (a time namespace; vdso.ts). */
  private readonly vdso = new VdsoCalls();

  constructor(private readonly k: Kernel) {}

  onStop(t: Task, stop: Stop): void {
    if (t.state === 'dead') return;
    try {
      this.dispatchStop(t, stop);
    } catch (e) {
      this.kernelBug(t, e);
    }
  }

  /**
   * An exception that is not an Errno is a bug of the Sentry. It costs the
   * process that hit it (killed as by SIGKILL), not the whole sandbox, and is
   * logged with its stack.
   */
  kernelBug(t: Task, e: unknown): void {
    const msg = `BUG serving pid ${t.tid}: ${(e as Error)?.stack ?? String(e)}`;
    this.k.log(msg);
    this.k.warn(`internal error: process ${t.tid} killed (${(e as Error)?.message ?? String(e)})`);
    if (!t.tg.exiting) this.k.exitGroup(t.tg, S.SIGKILL);
  }

  private dispatchStop(t: Task, stop: Stop): void {
    switch (stop.kind) {
      case 'syscall':
        this.syscall(t);
        return;
      case 'syscall32':
        this.syscall32(t);
        return;
      case 'interrupted':
        // Asked for by Context.interrupt() (a signal, a stop, a kill is pending), or spurious.
        this.interrupts++;
        this.returnToUser(t, false);
        return;
      case 'fault':
        this.fault(t, stop.signo, stop.code, stop.addr);
        return;
      case 'gone':
        this.k.log(`task ${t.tid}: host process vanished (status ${stop.status})`);
        this.k.exitGroup(t.tg, S.SIGKILL);
        return;
    }
  }

  private syscall(t: Task): void {
    t.lastFaultAddr = -1;
    const tr = t.ptrace;
    if (tr !== null && (tr.syscallTrace || tr.sysemu)) {
      // The tracer may change the call at its syscall-enter stop: orig_rax -1 skips it, rax then is the result.
      this.k.ptrace.syscallEnter(t, (skip) => {
        if (skip) this.finish(t, KEEP_REGS);
        else this.dispatch(t);
      });
      return;
    }
    this.dispatch(t);
  }

  private dispatch(t: Task): void {
    const regs = t.ctx.regs;
    const nr = regs.get(Reg.ORIG_RAX);
    const args = loadArgs(t);
    const def = nr >= 0 && nr < this.k.table.length ? this.k.table[nr] : undefined;
    const strace = this.k.strace;
    if (strace) strace.enter(t, nr, args);
    let r: number | Promise<number>;
    const verdict = t.seccomp || t.seccompStrict ? this.seccompVerdict(t, nr, args) : null;
    if (verdict !== null) {
      this.finish(t, verdict);
      return;
    }
    if (!def) {
      this.k.logOnce(`nosys${nr}`, `unimplemented syscall ${this.k.syscallNames[nr] ?? '?'} (${nr}): ENOSYS`);
      r = -E.ENOSYS;
    } else {
      try {
        r = def.fn(t, args);
      } catch (e) {
        r = e instanceof UserfaultPending ? kernelFault(t, e) : toRet(e, t, def.name);
      }
      // A change to a userfaultfd's range (munmap, mremap, madvise, fork): the call ends once its events are read.
      if (t.mm.uffdEvents.length > 0) r = awaitEvents(t, r);
    }
    if (typeof r === 'number') {
      this.finish(t, r);
      return;
    }
    this.k.asyncCallStarted();
    this.inFlight++;
    if (strace) strace.blocked(t);
    const done = (v: number) => {
      this.k.asyncCallDone();
      this.inFlight--;
      try {
        this.finish(t, v);
      } catch (e) {
        this.kernelBug(t, e);
      }
    };
    r.then(done, (e) => {
      if (e instanceof UserfaultPending) kernelFault(t, e).then(done, (x) => done(toRet(x, t, def?.name ?? String(nr))));
      else done(toRet(e, t, def?.name ?? String(nr)));
    });
  }

  /**
   * The task's seccomp filters on this call: null to run it, else the value
   * it returns instead (after a kill, finish finds the task dead). TRACE and
   * USER_NOTIF have nobody to ask: ENOSYS, as Linux without a tracer or a
   * listener.
   */
  private seccompVerdict(t: Task, nr: number, args: number[]): number | null {
    if (t.seccompStrict) {
      if (nr === 0 || nr === 1 || nr === 60 || nr === 15) return null;
      this.k.exitGroup(t.tg, S.SIGKILL);
      return -E.ENOSYS;
    }
    const ip = BigInt.asUintN(64, BigInt(t.ctx.regs.get(Reg.RIP)));
    const { ret, log } = evaluate(t.seccomp!, { nr, ip, args: args.map((v) => BigInt.asUintN(64, BigInt(v))) });
    const action = actionOf(ret);
    if (action === SECCOMP_RET_ALLOW) return null;
    if (log || action === SECCOMP_RET_LOG) this.k.klog.append(5, `audit: type=1326 seccomp pid=${t.tg.pid} comm="${t.tg.comm}" syscall=${nr} ret=0x${ret.toString(16)}`);
    switch (action) {
      case SECCOMP_RET_LOG:
        return null;
      case SECCOMP_RET_ERRNO:
        return -Math.min(dataOf(ret), 4095);
      case SECCOMP_RET_TRACE: case SECCOMP_RET_USER_NOTIF:
        return -E.ENOSYS;
      case SECCOMP_RET_TRAP: {
        // The handler sees the call's registers as they were (rax is the number again).
        const raw = Buffer.alloc(128);
        raw.writeInt32LE(S.SIGSYS, 0);
        raw.writeInt32LE(dataOf(ret), 4);
        raw.writeInt32LE(1 /* SYS_SECCOMP */, 8);
        raw.writeBigUInt64LE(ip, 16);
        raw.writeInt32LE(nr, 24);
        raw.writeUInt32LE(AUDIT_ARCH_X86_64, 28);
        this.forceSignal(t, S.SIGSYS, { signo: S.SIGSYS, code: 1, raw });
        return nr;
      }
      case SECCOMP_RET_KILL_THREAD:
        this.k.lifecycle.killThread(t, S.SIGSYS);
        return -E.ENOSYS;
      default:
        // KILL_PROCESS and unknown actions.
        this.k.exitGroup(t.tg, S.SIGSYS);
        return -E.ENOSYS;
    }
  }

  /**
   * int $0x80 and sysenter use the i386 numbers and registers. There is no
   * 32-bit ABI here: ENOSYS, never the 64-bit call with the same number.
   */
  private syscall32(t: Task): void {
    t.lastFaultAddr = -1;
    const nr = t.ctx.regs.get(Reg.ORIG_RAX);
    this.k.logOnce('syscall32', `32-bit system call ${nr} (int $0x80 or sysenter): ENOSYS, there is no 32-bit ABI`);
    t.ctx.regs.set(Reg.RAX, -E.ENOSYS);
    if (this.k.strace) this.k.strace.note(t, `syscall_${nr}(...) [32-bit entry]`, '-1 ENOSYS (Function not implemented)');
    this.returnToUser(t, true);
  }

  /** Complete a call left held by VFORK_WAIT with its result. */
  finishParked(t: Task, ret: number): void {
    try {
      this.finish(t, ret);
    } catch (e) {
      this.kernelBug(t, e);
    }
  }

  private finish(t: Task, ret: number): void {
    if (ret === VFORK_WAIT) {
      if (this.k.strace) this.k.strace.blocked(t);
      return;
    }
    if (t.state === 'dead') {
      // exit, exit_group, or killed while blocked: strace shows "= ?".
      if (this.k.strace) this.k.strace.exit(t, Number.NaN);
      return;
    }
    if (ret !== KEEP_REGS) t.ctx.regs.set(Reg.RAX, ret);
    if (this.k.strace) this.k.strace.exit(t, ret === KEEP_REGS ? t.ctx.regs.get(Reg.RAX) : ret);
    if (t.ptrace !== null) {
      this.k.ptrace.syscallExit(t, () => this.returnToUser(t, true));
      return;
    }
    this.returnToUser(t, true);
  }

  private fault(t: Task, signo: number, code: number, addr: number): void {
    const rip = t.ctx.regs.get(Reg.RIP);
    // A fault may need two rounds (map the page, then copy it on write); the
    // same fault a third time is the application's own.
    t.faultRepeats = t.lastFaultAddr === addr && t.lastFaultRip === rip ? t.faultRepeats + 1 : 0;
    const repeated = t.faultRepeats >= 2;
    t.lastFaultAddr = addr;
    t.lastFaultRip = rip;
    if (signo === S.SIGSEGV && addr === rip && VSYSCALLS.has(addr)) {
      this.vsyscall(t, VSYSCALLS.get(addr)!, VSYSCALL_ARGS[VSYSCALLS.get(addr)!]);
      return;
    }
    // A call into a hidden vDSO: its entry point's system call, as the vDSO's own fallback makes it.
    const vdsoCall = signo === S.SIGSEGV && addr === rip ? this.vdso.callAt(t.mm.as, addr) : undefined;
    if (vdsoCall !== undefined) {
      this.vsyscall(t, vdsoCall, null);
      return;
    }
    // SI_KERNEL: the host's own verdict (a call into the vsyscall page off its entry points), passed on as is.
    if ((signo === S.SIGSEGV || signo === S.SIGBUS) && !repeated && code !== S.SI_KERNEL) {
      const r = t.mm.handleFault(addr, signo === S.SIGSEGV && code === S.SEGV_MAPERR);
      if (r === 'oom') {
        if (outOfMemory(this.k, t)) {
          t.faultRepeats = 0;
          this.returnToUser(t, false);
        }
        return;
      }
      if (r === 'ok') {
        this.returnToUser(t, false);
        return;
      }
      if (r === 'uffd') {
        userFault(this, t, addr);
        return;
      }
      if (r === 'bus') {
        signo = S.SIGBUS;
        code = S.BUS_ADRERR;
      } else {
        code = t.mm.shownMapped(addr) ? S.SEGV_ACCERR : S.SEGV_MAPERR;
      }
    }
    this.forceSignal(t, signo, { signo, code, addr });
    this.returnToUser(t, false);
  }

  /**
   * A call into the vsyscall page (old static binaries): Linux runs the
   * system call of that entry and emulates the `ret`. A result pointer
   * beyond TASK_SIZE is SIGSEGV/SEGV_MAPERR at that pointer; a bad stack, or
   * a call failing with EFAULT (a user pointer not mapped), is a bare
   * SIGSEGV (SI_KERNEL); none returns, as there. sizes null: a call into a
   * hidden vDSO (vdso.ts), whose result, an error too, goes back in rax as
   * the vDSO's fallback returns it.
   */
  private vsyscall(t: Task, nr: number, sizes: number[] | null): void {
    const regs = t.ctx.regs;
    const sp = regs.get(Reg.RSP);
    const args = loadArgs(t);
    let caller: number;
    try {
      caller = Number(t.mm.readBigU64(sp));
    } catch (e) {
      if (!(e instanceof Errno)) throw e;
      this.segv(t, 0, S.SI_KERNEL);
      return;
    }
    for (let i = 0; sizes && i < sizes.length; i++) {
      if (args[i] !== 0 && (args[i] < 0 || args[i] + sizes[i] > TASK_SIZE)) {
        this.segv(t, args[i], S.SEGV_MAPERR);
        return;
      }
    }
    const def = this.k.table[nr];
    let r = -E.ENOSYS;
    if (this.k.strace) this.k.strace.enter(t, nr, args);
    if (def) {
      try {
        const v = def.fn(t, args);
        if (typeof v !== 'number') throw new Error(`vsyscall ${def.name} did not finish at once`);
        r = v;
      } catch (e) {
        r = toRet(e, t, def.name);
      }
    }
    if (this.k.strace) this.k.strace.exit(t, r);
    if (r === -E.EFAULT && sizes) {
      this.segv(t, 0, S.SI_KERNEL);
      return;
    }
    regs.set(Reg.RAX, r);
    regs.set(Reg.RIP, caller);
    regs.set(Reg.RSP, sp + 8);
    this.returnToUser(t, false);
  }

  private segv(t: Task, addr: number, code: number): void {
    this.forceSignal(t, S.SIGSEGV, { signo: S.SIGSEGV, code, addr });
    this.returnToUser(t, false);
  }

  /** A synchronous fault signal cannot be blocked or ignored: Linux resets such a handler to default. */
  forceSignal(t: Task, sig: number, info: S.SigInfo): void {
    const bit = S.sigBit(sig);
    const act = t.tg.actions[sig];
    if (t.sigmask & bit || act.handler === S.SIG_IGN) {
      t.tg.actions[sig] = S.defaultSigAction();
      t.sigmask &= ~bit;
    }
    t.pending.set(sig, info);
  }

  /** Deliver signals and resume the application, or park the task while its group is stopped. */
  returnToUser(t: Task, inSyscall: boolean): void {
    const what = this.k.signals.deliver(t, inSyscall);
    if (what === 'dead' || t.state === 'dead') return;
    const tr = t.ptrace;
    if (what === 'ptrace') {
      this.k.ptrace.deliveryStop(t, () => this.returnToUser(t, inSyscall));
      return;
    }
    if (what === 'stop' || (t.tg.stopped && !(tr !== null && tr.ranThroughGroupStop))) {
      // A tracee's group stop is a ptrace-stop: its tracer may let it run on while the group stays stopped.
      if (tr !== null) this.k.ptrace.groupStop(t, t.tg.stopReport ? t.tg.stopReport.status >> 8 : S.SIGSTOP, () => this.returnToUser(t, false));
      else this.parkStopped(t);
      return;
    }
    if (this.k.pausing || t.tg.freezer?.frozen || this.k.cgroups.held(t)) {
      // Kernel.pause, or its container's or cgroup's freezer, or its cgroup's cpu.max: held here, at rest, until resume() or the thaw.
      t.paused = true;
      return;
    }
    try {
      t.ctx.resume();
    } catch (e) {
      this.k.log(`task ${t.tid}: cannot resume: ${(e as Error).message}`);
      this.k.exitGroup(t.tg, S.SIGKILL);
    }
  }

  private parkStopped(t: Task): void {
    t.state = 'stopped';
    const waiter = {
      mask: 0xffffffff,
      wake: () => {
        t.tg.contQueue.remove(waiter);
        this.parked.delete(t);
        this.k.noteWake();
        if (t.state === 'dead') return;
        t.state = 'running';
        queueMicrotask(() => this.returnToUser(t, false));
      },
    };
    t.tg.contQueue.add(waiter);
    this.parked.set(t, waiter);
    // SIGKILL while stopped: exitGroup marks the task dead and notifies contQueue.
  }

  /** Tasks parked in a group stop, with their wake-up on the group's contQueue. */
  private readonly parked = new Map<Task, { wake: () => void }>();

  /**
   * A task parked in a group stop was just attached by a tracer: it goes
   * back through the return to the application, where its group stop
   * becomes a ptrace-stop its tracer can see.
   */
  unpark(t: Task): void {
    this.parked.get(t)?.wake();
  }
}

/**
 * A handler's exception as a result: an Errno is -errno; anything else is a
 * Sentry bug, and a handler that failed half-way may have left its objects
 * half-changed, so the process is killed (kernelBug) rather than told EIO.
 */
function toRet(e: unknown, t: Task, name: string): number {
  if (e instanceof Errno) return -e.errno;
  t.kernel.runner.kernelBug(t, new Error(`in ${name}: ${(e as Error)?.stack ?? String(e)}`));
  return -E.EIO; // not seen: the task is dead now
}
