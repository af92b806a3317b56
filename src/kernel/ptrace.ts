// ptrace between sandboxed tasks: who traces whom, the ptrace-stops a tracee
// enters (signal delivery, syscall enter/exit, events, group stop, trap) and
// how they reach the tracer through wait4/waitid. The Sentry's own use of
// host ptrace (platform/ptrace) has nothing to do with this.
//
// A ptrace-stop holds the tracee's context the way a group stop does (state
// 'stopped'): its registers and memory are the tracer's to read and change,
// and a continuation, called when the tracer resumes it with the signal it
// passed, carries on where the stop was taken. State is per Task (Linux traces
// threads), reported per ThreadGroup since a process is one task today.

import * as P from '../abi/ptrace';
import * as S from '../abi/signals';
import { E, Errno } from '../abi/errno';
import { CAP_SYS_PTRACE } from '../abi/capability';
import { nsCapable } from '../auth/userns';
import { landlockWithin } from '../auth/creds';
import { Reg } from '../platform/platform';
import type { Kernel } from './kernel';
import type { Task } from './task';
import type { ChildEvent, ThreadGroup } from './thread_group';
import { pidNsOf, tidIn } from './pid_ns';

export type StopKind = 'signal' | 'syscall-enter' | 'syscall-exit' | 'event' | 'group' | 'trap';

/** What SignalManager.deliver left for the runner when it returned 'ptrace'. */
export type PtraceNext = { kind: 'signal'; sig: number; info: S.SigInfo } | { kind: 'trap' } | { kind: 'exit'; sig: number };

/**
 * Linux's ptrace_may_access for attaching (real credentials), also the rule
 * for /proc/PID/mem: the tracer's real uid and gid must match all three of
 * the target's, or the tracer has CAP_SYS_PTRACE; a process made non-dumpable
 * needs CAP_SYS_PTRACE too. The capability counts in the target's user
 * namespace (a namespace's root may not trace outside it).
 */
export function ptraceMayAccess(tracer: Task, target: Task): boolean {
  if (tracer.tg === target.tg) return true;
  const c = tracer.creds;
  const d = target.creds;
  // Landlock: a restricted task reaches only tasks restricted at least as much (its domain or one made under it).
  if (!landlockWithin(c.landlock, d.landlock)) return false;
  const cap = nsCapable(c, d.userns, CAP_SYS_PTRACE);
  const sameIds = c.uid === d.uid && c.uid === d.euid && c.uid === d.suid && c.gid === d.gid && c.gid === d.egid && c.gid === d.sgid;
  if (!sameIds && !cap) return false;
  const dumpable = target.tg.procState?.dumpable ?? 1;
  return dumpable === 1 || cap;
}

/** The tracee side of a ptrace link (Task.ptrace). */
export class Tracee {
  options = 0;
  /** The last resume was PTRACE_SYSCALL: stop at the next syscall entry and exit. */
  syscallTrace = false;
  /** The last resume was PTRACE_SYSEMU(_SINGLESTEP): stop at the next syscall entry, which then never runs. */
  sysemu = false;
  /** The last resume was PTRACE_SINGLESTEP: a system call served meanwhile ends with a trap. */
  stepping = false;
  /** ... and set TF itself: cleared at the next stop. */
  forcedTF = false;
  /** The ptrace-stop the task is in, null while it runs or blocks. */
  stop: StopKind | null = null;
  /** The stop's wait status bits: signal | event << 8 (status = code << 8 | 0x7f). */
  code = 0;
  /** The stop is not yet reported through wait. */
  unreported = false;
  /** PTRACE_LISTEN: still stopped, but not in a stop the tracer may operate on. */
  listening = false;
  eventMsg = 0;
  /** The stop's siginfo (PTRACE_GETSIGINFO; SETSIGINFO replaces it). */
  siginfo: S.SigInfo | null = null;
  /** A stop asked for (PTRACE_INTERRUPT, an auto-attached seized child): taken on the way back to the application. */
  trapPending = false;
  /** The signal the tracer passed at a signal-delivery stop: delivered without another stop. */
  injected: { sig: number; info: S.SigInfo } | null = null;
  /** The tracer let it run on out of a group stop its process is still in. */
  ranThroughGroupStop = false;
  /** Events to report before the current system call returns (fork, exec, vfork done), in order. */
  readonly pendingEvents: Array<{ event: number; msg: number }> = [];
  /** The number of the call at the last syscall-enter stop. */
  syscallNr = -1;
  /** Set by deliver() when it returns 'ptrace'. */
  next: PtraceNext | null = null;
  resumeFn: ((sig: number) => void) | null = null;
  /**
   * A traced thread other than its process's leader has exited with this
   * wait status; it stays linked until its tracer's wait collects it.
   */
  exitStatus: number | null = null;
  /** dr0-dr7 as the tracer set them (there are no hardware breakpoints: dr7 stays disabled). */
  readonly debugRegs: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n];

  constructor(readonly tracer: Task, readonly seized: boolean) {}

  /** In a ptrace-stop the tracer may operate on. */
  get inStop(): boolean {
    return this.stop !== null && !this.listening;
  }
}

export class Ptrace {
  constructor(private readonly k: Kernel) {}

  // ---- attaching and detaching ---------------------------------------------------

  /** PTRACE_ATTACH / PTRACE_SEIZE. */
  attach(tracer: Task, target: Task, seize: boolean, options: number): void {
    if (target.tg === tracer.tg) throw new Errno(E.EPERM);
    if (target.state === 'dead' || target.tg.exiting || target.tg.zombie) throw new Errno(E.EPERM);
    if (!ptraceMayAccess(tracer, target)) throw new Errno(E.EPERM);
    if (target.ptrace !== null) throw new Errno(E.EPERM);
    this.link(tracer, target, seize, options);
    // PTRACE_ATTACH stops the tracee with a SIGSTOP, sent as by the tracer.
    if (!seize) this.k.signals.sendToTask(target, S.SIGSTOP, { signo: S.SIGSTOP, code: S.SI_USER, pid: tracer.pid, uid: tracer.creds.uid });
    // Already in a group stop: the tracer is to see it (strace -p of a stopped process).
    this.k.runner.unpark(target);
  }

  /** PTRACE_TRACEME: the real parent becomes the tracer. */
  traceme(t: Task): void {
    const p = t.tg.parent;
    if (t.ptrace !== null || !p || p.exiting || p.zombie) throw new Errno(E.EPERM);
    // Landlock: a parent restricted outside the caller's domain may not become its tracer.
    if (!landlockWithin(p.leader.creds.landlock, t.creds.landlock)) throw new Errno(E.EPERM);
    this.link(p.leader, t, false, 0);
  }

  private link(tracer: Task, target: Task, seize: boolean, options: number): void {
    const tr = new Tracee(tracer, seize);
    tr.options = options;
    target.ptrace = tr;
    tracer.tracees.add(target);
  }

  /** Cut the link (detach, the tracer's reap, the tracer's exit). */
  unlink(t: Task): void {
    const tr = t.ptrace;
    if (!tr) return;
    t.ptrace = null;
    tr.tracer.tracees.delete(t);
  }

  /** PTRACE_DETACH from a ptrace-stop: the tracee goes on as if resumed with sig. */
  detach(t: Task, sig: number): void {
    const tr = t.ptrace!;
    const fn = tr.resumeFn;
    tr.resumeFn = null;
    this.unlink(t);
    if (tr.forcedTF) t.ctx.regs.set(Reg.EFLAGS, t.ctx.regs.get(Reg.EFLAGS) & ~P.EFLAGS_TF);
    this.continueWith(t, fn, sig);
  }

  /** The tracer's process exits: every tracee is detached (killed with PTRACE_O_EXITKILL). */
  tracerExit(tg: ThreadGroup): void {
    for (const me of tg.tasks) {
      for (const t of [...me.tracees]) {
        const tr = t.ptrace!;
        if (t.tg.zombie) {
          this.unlink(t);
          // The real parent learns about the exit now (unless it is the one exiting: reparenting does it).
          if (t === t.tg.leader && t.tg.parent && t.tg.parent !== tg && !t.tg.reaped) this.k.lifecycle.notifyExit(t.tg);
          continue;
        }
        if (tr.options & P.PTRACE_O_EXITKILL) {
          this.unlink(t);
          this.k.exitGroup(t.tg, S.SIGKILL);
          continue;
        }
        if (tr.stop !== null) this.detach(t, 0);
        else this.unlink(t);
      }
    }
  }

  // ---- stops -------------------------------------------------------------------------

  /**
   * Enter a ptrace-stop: the tracer is told (SIGCHLD, CLD_TRAPPED, unless it
   * set SA_NOCLDSTOP, and its waiters are woken); resume(sig) runs when it
   * lets the tracee go.
   */
  enterStop(t: Task, kind: StopKind, code: number, info: S.SigInfo | null, resume: (sig: number) => void): void {
    const tr = t.ptrace!;
    if (tr.forcedTF) {
      tr.forcedTF = false;
      t.ctx.regs.set(Reg.EFLAGS, t.ctx.regs.get(Reg.EFLAGS) & ~P.EFLAGS_TF);
    }
    tr.stop = kind;
    tr.code = code;
    tr.unreported = true;
    tr.listening = false;
    tr.siginfo = info ?? { signo: S.SIGTRAP, code, pid: t.pid, uid: t.creds.uid };
    tr.resumeFn = resume;
    t.state = 'stopped';
    this.notifyTracer(tr.tracer.tg, S.CLD_TRAPPED, code & 0x7f, t);
  }

  private notifyTracer(p: ThreadGroup, code: number, status: number, t: Task): void {
    p.childQueue.notify(0xffffffff);
    // SA_NOCLDSTOP holds back stops, not exits.
    if (code !== S.CLD_EXITED && code !== S.CLD_KILLED && p.actions[S.SIGCHLD].flags & S.SA_NOCLDSTOP) return;
    this.k.signals.sendToGroup(p, S.SIGCHLD, { signo: S.SIGCHLD, code, pid: t.tid, uid: t.creds.uid, status });
  }

  /** Let a stopped tracee go (PTRACE_CONT & co): mode says where it stops next. */
  resume(t: Task, mode: 'cont' | 'syscall' | 'step' | 'sysemu' | 'sysemu-step', sig: number): void {
    const tr = t.ptrace!;
    tr.syscallTrace = mode === 'syscall';
    tr.sysemu = mode === 'sysemu' || mode === 'sysemu-step';
    tr.stepping = mode === 'step' || mode === 'sysemu-step';
    if (tr.stepping) {
      const fl = t.ctx.regs.get(Reg.EFLAGS);
      if (!(fl & P.EFLAGS_TF)) {
        tr.forcedTF = true;
        t.ctx.regs.set(Reg.EFLAGS, fl | P.EFLAGS_TF);
      }
    }
    const fn = tr.resumeFn;
    tr.resumeFn = null;
    this.continueWith(t, fn, sig);
  }

  private continueWith(t: Task, fn: ((sig: number) => void) | null, sig: number): void {
    const tr = t.ptrace;
    if (tr) {
      tr.stop = null;
      tr.listening = false;
      tr.unreported = false;
    }
    if (t.state === 'dead' || !fn) return;
    t.state = 'running';
    this.k.noteWake();
    queueMicrotask(() => {
      if (t.state === 'dead') return;
      try {
        fn(sig);
      } catch (e) {
        this.k.runner.kernelBug(t, e);
      }
    });
  }

  /** PTRACE_LISTEN at a group stop: stays stopped; a SIGCONT of its process makes it trap again. */
  listen(t: Task): void {
    const tr = t.ptrace!;
    tr.listening = true;
    tr.unreported = false;
    // Continued already (a SIGCONT since the stop was reported): trap again at once.
    if (!t.tg.stopped) {
      this.enterStop(t, 'trap', S.SIGTRAP | (P.PTRACE_EVENT_STOP << 8), null, tr.resumeFn ?? (() => {}));
      return;
    }
    const waiter = {
      mask: 0xffffffff,
      wake: () => {
        t.tg.contQueue.remove(waiter);
        if (t.state === 'dead' || t.ptrace !== tr || !tr.listening) return;
        this.k.noteWake();
        this.enterStop(t, 'trap', S.SIGTRAP | (P.PTRACE_EVENT_STOP << 8), null, tr.resumeFn ?? (() => {}));
      },
    };
    t.tg.contQueue.add(waiter);
  }

  /** PTRACE_INTERRUPT: trap as soon as possible (at once out of a blocking call, which restarts). */
  interrupt(t: Task): void {
    const tr = t.ptrace!;
    if (tr.stop !== null && !tr.listening) return;
    if (tr.listening) {
      this.enterStop(t, 'trap', S.SIGTRAP | (P.PTRACE_EVENT_STOP << 8), null, tr.resumeFn ?? (() => {}));
      return;
    }
    tr.trapPending = true;
    if (t.state === 'blocked') t.wakeForSignal();
    else if (t.state === 'running' && t.ctx.owner === t) t.ctx.interrupt();
  }

  /**
   * The syscall-enter stop; go(skip) serves the call as the registers now say
   * (orig_rax -1: skipped), or skips it under PTRACE_SYSEMU, rax then being
   * the result.
   */
  syscallEnter(t: Task, go: (skip: boolean) => void): void {
    const tr = t.ptrace!;
    const emulated = tr.sysemu;
    const regs = t.ctx.regs;
    tr.syscallNr = regs.get(Reg.ORIG_RAX);
    regs.set(Reg.RAX, -E.ENOSYS);
    tr.eventMsg = P.EVENTMSG_SYSCALL_ENTRY;
    this.enterStop(t, 'syscall-enter', this.syscallCode(tr), null, (sig) => {
      if (sig) t.sendSignal(sig, { signo: sig, code: S.SI_USER, pid: tr.tracer.pid, uid: tr.tracer.creds.uid });
      go(emulated || regs.get(Reg.ORIG_RAX) === -1);
    });
  }

  /** On the way out of a call: pending event stops, then the syscall-exit stop, then done(). */
  syscallExit(t: Task, done: () => void): void {
    const tr = t.ptrace;
    if (!tr || t.state === 'dead') {
      done();
      return;
    }
    const ev = tr.pendingEvents.shift();
    if (ev) {
      tr.eventMsg = ev.msg;
      this.enterStop(t, 'event', S.SIGTRAP | (ev.event << 8), null, () => this.syscallExit(t, done));
      return;
    }
    if (tr.stepping && !tr.sysemu) {
      // The CPU's trap would come one instruction late: the step ends at the call's return, as on Linux.
      this.k.runner.forceSignal(t, S.SIGTRAP, { signo: S.SIGTRAP, code: P.TRAP_BRKPT, addr: t.ctx.regs.get(Reg.RIP) });
    }
    if (!tr.syscallTrace) {
      done();
      return;
    }
    const regs = t.ctx.regs;
    // execve leaves orig_rax at -1 for the new image; Linux keeps the call's number.
    if (regs.get(Reg.ORIG_RAX) === -1 && (tr.syscallNr === 59 || tr.syscallNr === 322)) regs.set(Reg.ORIG_RAX, tr.syscallNr);
    tr.eventMsg = P.EVENTMSG_SYSCALL_EXIT;
    this.enterStop(t, 'syscall-exit', this.syscallCode(tr), null, (sig) => {
      if (sig) t.sendSignal(sig, { signo: sig, code: S.SI_USER, pid: tr.tracer.pid, uid: tr.tracer.creds.uid });
      done();
    });
  }

  private syscallCode(tr: Tracee): number {
    return S.SIGTRAP | (tr.options & P.PTRACE_O_TRACESYSGOOD ? 0x80 : 0);
  }

  /**
   * What deliver() left (a signal to report, a trap, an exit by signal):
   * enter that stop; then() goes on as the return to the application would.
   */
  deliveryStop(t: Task, then: () => void): void {
    const tr = t.ptrace!;
    const next = tr.next;
    tr.next = null;
    if (!next) {
      then();
      return;
    }
    if (next.kind === 'trap') {
      tr.trapPending = false;
      this.enterStop(t, 'trap', S.SIGTRAP | (P.PTRACE_EVENT_STOP << 8), null, () => then());
      return;
    }
    if (next.kind === 'exit') {
      tr.eventMsg = next.sig & 0x7f;
      this.enterStop(t, 'event', S.SIGTRAP | (P.PTRACE_EVENT_EXIT << 8), null, () => this.k.exitGroup(t.tg, next.sig));
      return;
    }
    this.enterStop(t, 'signal', next.sig, next.info, (sig) => {
      if (sig) {
        const info = tr.siginfo && sig === tr.siginfo.signo ? tr.siginfo : { signo: sig, code: S.SI_USER, pid: tr.tracer.pid, uid: tr.tracer.creds.uid };
        // Detached meanwhile (PTRACE_DETACH with a signal): delivered as any pending signal.
        if (t.ptrace === tr) tr.injected = { sig, info };
        else t.pending.set(sig, info);
      }
      then();
    });
  }

  /** A traced task enters a group stop: the tracer sees it (with PTRACE_EVENT_STOP if seized), the task stays until resumed. */
  groupStop(t: Task, sig: number, then: () => void): void {
    const tr = t.ptrace!;
    tr.ranThroughGroupStop = false;
    const code = tr.seized ? sig | (P.PTRACE_EVENT_STOP << 8) : sig;
    this.enterStop(t, 'group', code, { signo: sig, code, pid: t.pid, uid: t.creds.uid }, () => {
      tr.ranThroughGroupStop = true;
      then();
    });
    // Linux has no siginfo for a group stop of a task attached the old way (GETSIGINFO: EINVAL).
    if (!tr.seized) tr.siginfo = null;
  }

  /** exit/exit_group with PTRACE_O_TRACEEXIT: the exit event stop, then exit. Returns false when no stop is due. */
  exitEvent(t: Task, status: number, exit: () => void): boolean {
    const tr = t.ptrace;
    if (!tr || !(tr.options & P.PTRACE_O_TRACEEXIT)) return false;
    tr.eventMsg = status;
    this.enterStop(t, 'event', S.SIGTRAP | (P.PTRACE_EVENT_EXIT << 8), null, () => exit());
    return true;
  }

  // ---- lifecycle events ------------------------------------------------------------

  /** fork/vfork/clone by a traced task: the child is traced too when the tracer asked for it (or CLONE_PTRACE). */
  onClone(parent: Task, child: Task, flags: number, exitSignal: number): void {
    const tr = parent.ptrace;
    if (!tr) return;
    const CLONE_VFORK = 0x4000, CLONE_PTRACE = 0x2000, CLONE_UNTRACED = 0x800000;
    let event = 0;
    if (!(flags & CLONE_UNTRACED)) {
      const kind = flags & CLONE_VFORK ? P.PTRACE_EVENT_VFORK : exitSignal !== S.SIGCHLD ? P.PTRACE_EVENT_CLONE : P.PTRACE_EVENT_FORK;
      const opt = kind === P.PTRACE_EVENT_VFORK ? P.PTRACE_O_TRACEVFORK : kind === P.PTRACE_EVENT_CLONE ? P.PTRACE_O_TRACECLONE : P.PTRACE_O_TRACEFORK;
      if (tr.options & opt) event = kind;
    }
    if (!event && !(flags & CLONE_PTRACE)) return;
    this.link(tr.tracer, child, tr.seized, tr.options);
    // The child's first stop: SIGSTOP, or for a seized tracer a PTRACE_EVENT_STOP trap.
    if (tr.seized) child.ptrace!.trapPending = true;
    else child.pending.set(S.SIGSTOP, { signo: S.SIGSTOP, code: S.SI_USER, pid: 0, uid: 0 });
    // The new task's id as the tracer's PID namespace numbers it.
    if (event) tr.pendingEvents.push({ event, msg: tidIn(child, pidNsOf(tr.tracer)) });
  }

  /** A vfork child let go of its parent. */
  onVforkDone(parent: Task, child: Task): void {
    const tr = parent.ptrace;
    if (tr && tr.options & P.PTRACE_O_TRACEVFORKDONE) tr.pendingEvents.push({ event: P.PTRACE_EVENT_VFORK_DONE, msg: tidIn(child, pidNsOf(tr.tracer)) });
  }

  /** A traced task's execve succeeded: PTRACE_EVENT_EXEC, or the old-style SIGTRAP. */
  onExec(t: Task): void {
    const tr = t.ptrace;
    if (!tr) return;
    if (tr.options & P.PTRACE_O_TRACEEXEC) tr.pendingEvents.push({ event: P.PTRACE_EVENT_EXEC, msg: tidIn(t, pidNsOf(tr.tracer)) });
    else if (!tr.seized) t.pending.set(S.SIGTRAP, { signo: S.SIGTRAP, code: S.SI_USER, pid: t.pid, uid: t.creds.uid });
  }

  /** The task that traces tg's (only) task, if any. */
  tracerOf(tg: ThreadGroup): Task | null {
    for (const t of tg.tasks) if (t.ptrace) return t.ptrace.tracer;
    return null;
  }

  /** Whether a zombie's exit is for its tracer first (a tracer other than its parent). */
  exitForTracer(tg: ThreadGroup): boolean {
    const tracer = this.tracerOf(tg);
    return tracer !== null && tracer.tg !== tg.parent;
  }

  /** A traced process exited: its tracer (not its parent) is told first, with SIGCHLD. */
  notifyTracerOfExit(tg: ThreadGroup, si: S.SigInfo): void {
    const tracer = this.tracerOf(tg)!;
    this.k.signals.sendToGroup(tracer.tg, S.SIGCHLD, { ...si, signo: S.SIGCHLD });
    tracer.tg.childQueue.notify(0xffffffff);
  }

  /** The ptrace-stop of x reported to waiter w's process (under x's tid), if x is traced by it and stopped. */
  taskStopEvent(w: ThreadGroup, x: Task): ChildEvent | null {
    const tr = x.ptrace;
    if (!tr || tr.tracer.tg !== w || tr.stop === null || !tr.unreported || x.state === 'dead') return null;
    return { kind: 'traced', status: (tr.code << 8) | 0x7f, si: { signo: S.SIGCHLD, code: S.CLD_TRAPPED, pid: x.tid, uid: x.creds.uid, status: tr.code } };
  }

  /** wait consumed x's ptrace-stop report. */
  consumed(x: Task): void {
    if (x.ptrace) x.ptrace.unreported = false;
  }

  /** Tasks traced by w's tasks. */
  *tracedTasks(w: ThreadGroup): Generator<Task> {
    for (const me of w.tasks) yield* me.tracees;
  }

  /**
   * A traced thread that is not its process's leader ended with wait status
   * status: its tracer is told (SIGCHLD, as Linux does for any traced task)
   * and collects the exit with wait under the thread's tid. Returns whether
   * it is kept for that (false: not traced, or the leader).
   */
  threadExited(t: Task, status: number): boolean {
    const tr = t.ptrace;
    if (!tr || t === t.tg.leader) return false;
    tr.exitStatus = status;
    tr.stop = null;
    tr.resumeFn = null;
    const killed = status & 0x7f;
    this.notifyTracer(tr.tracer.tg, killed ? S.CLD_KILLED : S.CLD_EXITED, killed || (status >> 8) & 0xff, t);
    return true;
  }

  /** Whether w's process still has to collect the exit of a traced thread of c (c's leader is reported after). */
  threadExitsPending(w: ThreadGroup, c: ThreadGroup): boolean {
    for (const x of this.tracedTasks(w)) if (x.tg === c && x !== c.leader && x.ptrace?.exitStatus !== null) return true;
    return false;
  }
}
