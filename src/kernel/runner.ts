// How a task serves one stop of its context: dispatch a system call through the
// table (sync handlers finish at once: the hot path has no promise), resolve a
// fault, then deliver signals and switch back to the application.

import { Reg, type Stop } from '../platform/platform';
import { E, Errno } from './errno';
import type { Kernel } from './kernel';
import * as S from './signal_defs';
import type { Task } from './task';
import { wakeCounter } from './waitqueue';

/** A handler result meaning "registers already hold the outcome" (execve, rt_sigreturn, exit). */
export const KEEP_REGS = Number.MIN_SAFE_INTEGER;
const ARG_REGS = [Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8, Reg.R9];

export class TaskRunner {
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
    const regs = t.ctx.regs;
    const nr = regs.get(Reg.ORIG_RAX);
    const args = ARG_REGS.map((r) => regs.get(r));
    const def = nr >= 0 && nr < this.k.table.length ? this.k.table[nr] : undefined;
    const strace = this.k.strace;
    if (strace) strace.enter(t, nr, args);
    let r: number | Promise<number>;
    if (!def) {
      this.k.logOnce(`nosys${nr}`, `unimplemented syscall ${this.k.syscallNames[nr] ?? '?'} (${nr}): ENOSYS`);
      r = -E.ENOSYS;
    } else {
      try {
        r = def.fn(t, args);
      } catch (e) {
        r = toRet(e, t, def.name);
      }
    }
    if (typeof r === 'number') {
      this.finish(t, nr, args, r);
      return;
    }
    wakeCounter.pending++;
    if (strace) strace.blocked(t);
    const done = (v: number) => {
      try {
        this.finish(t, nr, args, v);
      } catch (e) {
        this.kernelBug(t, e);
      }
    };
    r.then(done, (e) => done(toRet(e, t, def?.name ?? String(nr))));
  }

  private finish(t: Task, nr: number, args: number[], ret: number): void {
    if (t.state === 'dead') {
      // exit, exit_group, or killed while blocked: strace shows "= ?".
      if (this.k.strace) this.k.strace.exit(t, Number.NaN);
      return;
    }
    if (ret !== KEEP_REGS) t.ctx.regs.set(Reg.RAX, ret);
    if (this.k.strace) this.k.strace.exit(t, ret === KEEP_REGS ? t.ctx.regs.get(Reg.RAX) : ret);
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
    if ((signo === S.SIGSEGV || signo === S.SIGBUS) && !repeated) {
      const r = t.mm.handleFault(addr);
      if (r === 'ok') {
        this.returnToUser(t, false);
        return;
      }
      if (r === 'bus') {
        signo = S.SIGBUS;
        code = S.BUS_ADRERR;
      } else {
        code = t.mm.findVma(addr) ? S.SEGV_ACCERR : S.SEGV_MAPERR;
      }
    }
    this.forceSignal(t, signo, { signo, code, addr });
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
    if (what === 'stop' || t.tg.stopped) {
      this.parkStopped(t);
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
        wakeCounter.pending++;
        if (t.state === 'dead') return;
        t.state = 'running';
        queueMicrotask(() => this.returnToUser(t, false));
      },
    };
    t.tg.contQueue.add(waiter);
    // SIGKILL while stopped: exitGroup marks the task dead and notifies contQueue.
  }
}

function toRet(e: unknown, t: Task, name: string): number {
  if (e instanceof Errno) return -e.errno;
  t.kernel.log(`BUG in ${name}: ${(e as Error)?.stack ?? String(e)}`);
  return -E.EIO;
}
