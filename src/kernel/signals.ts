// Signal generation and delivery: pending sets, default actions, job control
// stops, handler frames, and the restart rules for interrupted system calls.

import { Reg } from '../platform/platform';
import { Errno, E, ERESTART_RESTARTBLOCK, ERESTARTNOHAND, ERESTARTNOINTR, ERESTARTSYS } from '../abi/errno';
import type { Kernel } from './kernel';
import * as S from '../abi/signals';
import { EVENT_IN } from '../abi/waitqueue';
import { initFpState, restoreFrame, setupFrame } from './signal_frame';
import { PTRACE_O_TRACEEXIT } from '../abi/ptrace';
import type { Task } from './task';
import { frozenTask } from './freezer';
import { timerSignalTaken } from './posix_timers';
import { isNsInit, tgidIn } from './pid_ns';

/** The wait status bit of a process that dumped core (WCOREDUMP), passed to exitGroup with the signal. */
const CORE_DUMPED = 0x80;
import type { ThreadGroup } from './thread_group';
import { LANDLOCK_SCOPE_SIGNAL } from '../abi/landlock';
import { landlockScoped } from '../auth/landlock';
import type { LandlockDomain } from '../auth/creds';

const RLIMIT_SIGPENDING = 11;
/** Queued signals in a sandbox never pass this, whatever RLIMIT_SIGPENDING says: each holds Sentry heap. */
export const HARD_SIGPENDING = 131072;
const NR_RESTART_SYSCALL = 219;

export class SignalManager {
  constructor(private readonly k: Kernel) {}

  isIgnored(t: Task, sig: number): boolean {
    const a = t.tg.actions[sig];
    if (a.handler === S.SIG_IGN) return sig !== S.SIGKILL && sig !== S.SIGSTOP;
    return a.handler === S.SIG_DFL && S.defaultAction(sig) === 'ign';
  }

  /**
   * An ignored signal is dropped when sent, unless the task blocks it or
   * blocked it before rt_sigtimedwait (which may be waiting for it): those
   * are queued, as Linux does.
   */
  private discards(t: Task, sig: number): boolean {
    // A tracee's tracer gets to see every signal, ignored ones too.
    if ((t.sigmask | t.realBlocked) & S.sigBit(sig) || t.ptrace !== null) return false;
    return this.isIgnored(t, sig);
  }

  /** Job-control side effects that happen when a signal is sent, not when delivered. */
  private prepare(tg: ThreadGroup, sig: number): void {
    if (sig === S.SIGCONT) {
      for (const s of [S.SIGSTOP, S.SIGTSTP, S.SIGTTIN, S.SIGTTOU]) {
        tg.pending.delete(s);
        for (const t of tg.tasks) t.pending.delete(s);
      }
      if (tg.stopped) {
        tg.stopped = false;
        tg.stopReport = null;
        tg.contReport = { kind: 'continued', status: 0xffff, si: { signo: S.SIGCHLD, code: S.CLD_CONTINUED, pid: tg.pid, status: S.SIGCONT } };
        tg.contQueue.notify(0xffffffff);
        this.notifyParent(tg, S.CLD_CONTINUED, S.SIGCONT);
      }
    } else if (S.defaultAction(sig) === 'stop') {
      tg.pending.delete(S.SIGCONT);
      for (const t of tg.tasks) t.pending.delete(S.SIGCONT);
    }
  }

  /**
   * The init process of a PID namespace (its pid 1) only receives signals it
   * has a handler for, like Linux's SIGNAL_UNKILLABLE: not even SIGKILL from
   * inside the namespace; from outside (the host, or a process of an
   * ancestor namespace), SIGKILL and SIGSTOP still get through. Faults are
   * forced separately and do kill it.
   */
  initShielded(tg: ThreadGroup, sig: number, fromOutside: boolean): boolean {
    if (!isNsInit(tg) || tg.actions[sig].handler !== S.SIG_DFL) return false;
    if (fromOutside && (sig === S.SIGKILL || sig === S.SIGSTOP)) return false;
    // A blocked signal is queued anyway (the action may change before it is
    // unblocked), and so is one that sigwaitinfo & co are waiting for.
    const bit = S.sigBit(sig);
    for (const t of tg.tasks) if ((t.sigmask | t.realBlocked | t.waitedSignals) & bit && !(bit & S.UNBLOCKABLE)) return false;
    return true;
  }

  /** Signals queued in the whole sandbox (Linux counts per user; the sandbox is one). */
  queuedCount(): number {
    let n = 0;
    for (const t of this.k.tasks.values()) n += t.pending.entries;
    for (const tg of this.k.groups.values()) n += tg.pending.entries;
    return n;
  }

  /**
   * RLIMIT_SIGPENDING of the receiver: sigqueue & co (not kill) get EAGAIN
   * past it, as on Linux. A real-time signal sent another way past the hard
   * cap is dropped by send*().
   */
  checkQueueLimit(tg: ThreadGroup, extra = 0): void {
    const lim = tg.rlimits[RLIMIT_SIGPENDING].cur;
    const n = this.queuedCount() + extra;
    if (n >= HARD_SIGPENDING || (lim >= 0 && n >= lim)) throw new Errno(E.EAGAIN);
  }

  private overHardCap(sig: number): boolean {
    return sig >= S.SIGRTMIN && this.queuedCount() >= HARD_SIGPENDING;
  }

  /** kill & co are not bound by RLIMIT_SIGPENDING, but a real-time signal that cannot be queued is EAGAIN. */
  checkHardCap(sig: number): void {
    if (this.overHardCap(sig)) throw new Errno(E.EAGAIN);
  }

  /** Whether sender sends to tg from an ancestor PID namespace (tg's namespace cannot see it). */
  fromOutside(sender: Task, tg: ThreadGroup): boolean {
    const ns = tg.tgPid?.ns;
    return !!ns?.parent && tgidIn(sender.tg, ns) === 0;
  }

  /**
   * info as tg sees it: the pid the kernel put in (a sender's, a child's)
   * becomes its number in tg's PID namespace, 0 when the namespace cannot
   * see it. Values an application chose (sigqueue's) stay as they are.
   */
  private localInfo(tg: ThreadGroup, info: S.SigInfo): S.SigInfo {
    const ns = tg.tgPid?.ns;
    if (!ns?.parent || !info.pid) return info;
    const fromKernel = info.code === S.SI_USER || info.code === S.SI_TKILL || (info.signo === S.SIGCHLD && info.code > 0);
    return fromKernel ? { ...info, pid: ns.nrOfGlobal(info.pid) } : info;
  }

  sendToTask(t: Task, sig: number, info: S.SigInfo, fromOutside = false): void {
    if (sig === 0 || t.state === 'dead' || t.tg.exiting) return;
    info = this.localInfo(t.tg, info);
    if (this.overHardCap(sig)) return;
    if (this.initShielded(t.tg, sig, fromOutside)) return;
    if (sig === S.SIGKILL) {
      this.k.exitGroup(t.tg, sig);
      return;
    }
    this.prepare(t.tg, sig);
    const blocked = (t.sigmask & S.sigBit(sig)) !== 0n;
    if (this.discards(t, sig)) return;
    t.pending.set(sig, info);
    t.tg.signalWaiters.notify(EVENT_IN);
    if (!blocked) this.kick(t, sig);
  }

  /**
   * A signal to the owner of a file (fcntl F_SETOWN/F_SETOWN_EX: type 0 a
   * thread, 1 a process, 2 a process group; id 0 nobody): SIGIO and SIGURG.
   */
  sendToOwner(type: number, id: number, sig: number, info: S.SigInfo, from: LandlockDomain | null = null): void {
    if (id === 0) return;
    // Landlock's file_send_sigiotask hook: from is the domain of whoever set the owner (FileAsync.landlock).
    const scoped = (d: LandlockDomain | null): boolean => landlockScoped(from, d, LANDLOCK_SCOPE_SIGNAL);
    if (type === 0) {
      const task = this.k.tasks.get(id);
      if (task && !scoped(task.creds.landlock)) task.sendSignal(sig, info);
    } else if (type === 1) {
      const tg = this.k.groups.get(id);
      if (tg && !tg.zombie && !scoped(tg.leader.creds.landlock)) this.sendToGroup(tg, sig, info);
    } else {
      for (const tg of this.k.groups.values()) if (tg.pgid === id && !tg.zombie && !scoped(tg.leader.creds.landlock)) this.sendToGroup(tg, sig, info);
    }
  }

  sendToGroup(tg: ThreadGroup, sig: number, info: S.SigInfo, fromOutside = false): void {
    if (sig === 0 || tg.exiting || tg.zombie) return;
    info = this.localInfo(tg, info);
    if (this.overHardCap(sig)) return;
    if (this.initShielded(tg, sig, fromOutside)) return;
    if (sig === S.SIGKILL) {
      this.k.exitGroup(tg, sig);
      return;
    }
    this.prepare(tg, sig);
    // Linux's choice: the main thread if it can take the signal, else any thread that can.
    const bit = S.sigBit(sig);
    let anyUnblocked: Task | undefined;
    for (const t of tg.tasks) {
      if (t.state === 'dead' || t.sigmask & bit) continue;
      anyUnblocked = t;
      break;
    }
    if (anyUnblocked && this.discards(anyUnblocked, sig)) return;
    tg.pending.set(sig, info);
    tg.signalWaiters.notify(EVENT_IN);
    if (anyUnblocked) this.kick(anyUnblocked, sig);
  }

  /**
   * Make a task notice a new signal: interrupt its block, wake it from a stop
   * for SIGCONT, or bring it back from application code that may never make
   * a system call (a busy loop). A vfork parent waits for its child, which
   * holds the context.
   */
  private kick(t: Task, sig: number): void {
    if (t.state === 'blocked') t.wakeForSignal();
    else if (t.state === 'stopped') t.wakeForSignal();
    else if (t.paused) this.frozenFatal(t, sig);
    else if (t.state === 'running' && t.ctx.owner === t) t.ctx.interrupt();
  }

  /**
   * A task held by a freezer takes no signal until the thaw, but one that
   * would kill its process without a core dump (default action, untraced)
   * ends it at once, as Linux's sending side makes such a signal a group
   * kill (so a frozen process dies of SIGTERM).
   */
  private frozenFatal(t: Task, sig: number): void {
    if (this.k.pausing || !frozenTask(this.k, t) || t.ptrace !== null) return;
    if (t.tg.actions[sig].handler !== S.SIG_DFL || S.defaultAction(sig) !== 'term') return;
    this.k.exitGroup(t.tg, sig);
  }

  /** Take the next deliverable signal (thread-directed first, lowest number first), or null. */
  private dequeue(t: Task): [number, S.SigInfo] | null {
    for (const set of [t.pending, t.tg.pending]) {
      let best = 0;
      for (const sig of set.keys()) {
        if (t.sigmask & S.sigBit(sig) && !(S.sigBit(sig) & S.UNBLOCKABLE)) continue;
        if (best === 0 || sig < best) best = sig;
      }
      if (best) {
        const si = set.take(best)!;
        timerSignalTaken(t.tg, si);
        return [best, si];
      }
    }
    return null;
  }

  /**
   * Deliver pending signals before returning to the application. Applies the
   * restart rules when inSyscall. Returns 'run' (resume), 'stop' (the group
   * stopped: wait for SIGCONT), 'dead', or 'ptrace': a traced task must stop
   * for its tracer first (what for is in t.ptrace.next), then deliver again.
   */
  deliver(t: Task, inSyscall: boolean): 'run' | 'stop' | 'dead' | 'ptrace' {
    // The common case, nothing pending and no restart to consider, costs nothing.
    if (t.pending.size === 0 && t.tg.pending.size === 0 && t.savedSigmask === null && !t.tg.exiting && t.ptrace === null) {
      if (inSyscall) {
        const rax = t.ctx.regs.get(Reg.RAX);
        if (rax <= -ERESTARTSYS && rax >= -ERESTART_RESTARTBLOCK) this.restart(t, false, 0);
      }
      return 'run';
    }
    const regs = t.ctx.regs;
    for (;;) {
      if (t.state === 'dead' || t.tg.exiting) return 'dead';
      const tr = t.ptrace;
      let next: [number, S.SigInfo] | null;
      if (tr !== null && tr.injected !== null) {
        // The signal the tracer passed on: acted on now, or queued again if blocked.
        next = [tr.injected.sig, tr.injected.info];
        tr.injected = null;
        if (t.sigmask & S.sigBit(next[0]) && !(S.sigBit(next[0]) & S.UNBLOCKABLE)) {
          t.pending.set(next[0], next[1]);
          continue;
        }
      } else {
        if (tr !== null && tr.trapPending) {
          tr.next = { kind: 'trap' };
          return 'ptrace';
        }
        next = this.dequeue(t);
        if (!next) break;
        if (tr !== null && next[0] !== S.SIGKILL) {
          tr.next = { kind: 'signal', sig: next[0], info: next[1] };
          return 'ptrace';
        }
      }
      const [sig, info] = next;
      if (this.k.strace) this.k.strace.signal(t, sig, info);
      const act = t.tg.actions[sig];
      if (act.handler === S.SIG_IGN) continue;
      if (act.handler === S.SIG_DFL) {
        const d = S.defaultAction(sig);
        if (d === 'ign' || d === 'cont') continue;
        if (d === 'stop') {
          this.groupStop(t.tg, sig);
          if (inSyscall) this.restart(t, false, 0);
          return 'stop';
        }
        if (tr !== null && tr.options & PTRACE_O_TRACEEXIT) {
          tr.next = { kind: 'exit', sig };
          return 'ptrace';
        }
        // A core-dumping signal writes the core first (memory still mapped); the status then says so.
        const dumped = d === 'core' && (this.k.hooks.coreDump?.(t, sig, info) ?? false);
        this.k.exitGroup(t.tg, sig | (dumped ? CORE_DUMPED : 0));
        return 'dead';
      }
      if (inSyscall) this.restart(t, true, act.flags);
      const saved = t.savedSigmask;
      const before = saved ?? t.sigmask;
      t.savedSigmask = null;
      const regsBefore = regs.snapshot();
      try {
        const fp = t.ctx.getFpState();
        setupFrame(t.mm, regs, fp, sig, S.encodeSigInfo(info), act.handler, act.restorer, before, t.altStack, (act.flags & S.SA_ONSTACK) !== 0);
        t.ctx.setFpState(initFpState(fp));
      } catch (e) {
        if (!(e instanceof Errno)) throw e;
        // The frame did not fit (a bad or read-only stack): Linux's
        // force_sigsegv. SIGSEGV itself kills; another signal is dropped and
        // a SIGSEGV forced in its place, its handler (or default) run next,
        // with the registers and FPU state as they were.
        regs.restore(regsBefore);
        t.savedSigmask = saved;
        if (sig === S.SIGSEGV) {
          this.k.exitGroup(t.tg, S.SIGSEGV);
          return 'dead';
        }
        this.k.runner.forceSignal(t, S.SIGSEGV, { signo: S.SIGSEGV, code: S.SI_KERNEL, addr: 0 });
        continue;
      }
      t.sigmask = (before | act.mask | ((act.flags & S.SA_NODEFER) ? 0n : S.sigBit(sig))) & ~S.UNBLOCKABLE;
      // SA_RESETHAND puts back the default handler only: flags and mask stay, as a later sigaction reads them on Linux.
      if (act.flags & S.SA_RESETHAND) t.tg.actions[sig] = { ...act, handler: S.SIG_DFL };
      return 'run';
    }
    if (inSyscall) this.restart(t, false, 0);
    if (t.savedSigmask !== null) {
      t.sigmask = t.savedSigmask;
      t.savedSigmask = null;
    }
    return 'run';
  }

  /** Linux's restart rules for a syscall that returned -ERESTART*. */
  private restart(t: Task, handler: boolean, flags: number): void {
    const regs = t.ctx.regs;
    if (regs.get(Reg.ORIG_RAX) < 0) return; // not returning from a syscall (rt_sigreturn, execve)
    const rax = regs.get(Reg.RAX);
    const code = -rax;
    if (code !== ERESTARTSYS && code !== ERESTARTNOHAND && code !== ERESTART_RESTARTBLOCK && code !== ERESTARTNOINTR) return;
    let again: boolean;
    if (!handler || code === ERESTARTNOINTR) again = true;
    else if (code === ERESTARTSYS) again = (flags & S.SA_RESTART) !== 0;
    else again = false;
    if (!again) {
      regs.set(Reg.RAX, -E.EINTR);
      return;
    }
    regs.set(Reg.RAX, code === ERESTART_RESTARTBLOCK ? NR_RESTART_SYSCALL : regs.get(Reg.ORIG_RAX));
    regs.set(Reg.RIP, regs.get(Reg.RIP) - 2);
  }

  private groupStop(tg: ThreadGroup, sig: number): void {
    if (tg.stopped) return;
    tg.stopped = true;
    // Every thread stops: one running application code is brought back, one
    // blocked in a call unwinds to restart it after SIGCONT; both park on the way out.
    for (const t of tg.tasks) {
      if (t.state === 'running' && t.ctx.owner === t) t.ctx.interrupt();
      else if (t.state === 'blocked') t.wakeForSignal();
    }
    tg.contReport = null;
    tg.stopReport = { kind: 'stopped', status: (sig << 8) | 0x7f, si: { signo: S.SIGCHLD, code: S.CLD_STOPPED, pid: tg.pid, status: sig } };
    this.notifyParent(tg, S.CLD_STOPPED, sig);
  }

  /** Tell the parent about a stop or continue (SIGCHLD unless SA_NOCLDSTOP) and wake its waiters. */
  notifyParent(tg: ThreadGroup, code: number, status: number): void {
    const p = tg.parent;
    if (!p) return;
    p.childQueue.notify(0xffffffff);
    if (p.actions[S.SIGCHLD].flags & S.SA_NOCLDSTOP) return;
    this.sendToGroup(p, S.SIGCHLD, { signo: S.SIGCHLD, code, pid: tg.pid, uid: 0, status });
  }

  /** rt_sigreturn. */
  sigreturn(t: Task): void {
    const r = restoreFrame(t.mm, t.ctx.regs);
    t.sigmask = r.mask & ~S.UNBLOCKABLE;
    if (r.fp) t.ctx.setFpState(r.fp);
  }
}
