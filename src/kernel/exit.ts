// The end of threads and processes: exit(2) of one thread (the leader stays
// as the process's face until the last one goes), exit_group and fatal
// signals, de_thread at execve, zombies, reparenting to a subreaper or pid 1,
// the exit signal to the parent (or the tracer first), and reaping.

import { KEEP_REGS, VFORK_WAIT } from './runner';
import * as S from '../abi/signals';
import { exitTimers } from './itimers';
import { sampleRss } from './rusage';
import type { Kernel } from './kernel';
import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import { isNsInit } from './pid_ns';

export class Exits {
  constructor(private readonly k: Kernel) {}

  /**
   * execve from a multi-threaded process: every other thread dies (its
   * robust list and clear_child_tid handled, its host thread ended), and the
   * exec'ing thread becomes the leader, taking the leader's tid.
   */
  deThread(t: Task): void {
    const tg = t.tg;
    if (tg.tasks.size === 1) return;
    const leader = tg.leader;
    for (const x of [...tg.tasks]) {
      if (x === t) continue;
      this.killTask(x, false);
      this.k.ptrace.unlink(x);
      tg.tasks.delete(x);
      this.k.tasks.delete(x.tid);
      this.k.releasePid(x.tid);
    }
    if (leader !== t) {
      const old = t.tid;
      this.k.tasks.delete(t.tid);
      t.tid = leader.tid;
      t.threadPid = leader.threadPid;
      this.k.tasks.set(t.tid, t);
      this.k.releasePid(old);
      t.ownComm = null;
    }
  }

  /** exit_group, a fatal signal, or the last thread's exit: the whole process goes. */
  exitGroup(tg: ThreadGroup, signal: number, code = 0): void {
    if (tg.exiting) return;
    tg.exiting = true;
    // signal may carry the core-dumped bit (0x80), as the wait status does.
    tg.exitStatus = signal ? signal & 0xff : (code & 0xff) << 8;
    const core = (signal & 0x80) !== 0;
    signal &= 0x7f;
    // Contexts need no ending one by one when the address space goes with the group.
    let users = 0;
    const mm = tg.leader.mm;
    for (const t of tg.tasks) if (t.state !== 'dead' && t.mm === mm && !t.vforkParent) users++;
    const wholeAs = users === mm.users;
    for (const t of tg.tasks) {
      this.killTask(t, wholeAs);
      this.k.tasks.delete(t.tid);
      this.k.releasePid(t.tid);
    }
    // Each traced thread's end is its tracer's to collect (under its tid), before the leader's.
    for (const t of [...tg.tasks]) if (this.k.ptrace.threadExited(t, tg.exitStatus)) tg.tasks.delete(t);
    this.k.ptrace.tracerExit(tg);
    exitTimers(this.k, tg);
    this.becomeZombie(tg, signal, code, core);
  }

  /** End one task: its futex duties, its CPU time, its share of the memory and files; its host thread unless asGoes (the address space is released with it). */
  private killTask(t: Task, asGoes: boolean): void {
    if (t.state === 'dead') return;
    // A bad pointer in the exiting task's own bookkeeping is its problem, not the exit's.
    try {
      this.k.futexes.taskExit(t);
    } catch {
      /* as below */
    }
    for (const h of this.k.hooks.taskExit) {
      try {
        h(t);
      } catch {
        /* as above */
      }
    }
    // The peak size is the address space's: sampled when its last user goes, not at every thread's exit.
    if (t.mm.users === 1) sampleRss(t.tg, t.mm);
    // Freeze the CPU time before the stub goes (a vfork child shares its parent's stub: not its own).
    if (!t.vforkParent) {
      // Precise: the process's clock must not lose what its threads ran.
      const c = t.ctx.cpuTime(true);
      t.tg.finalUserNs += c.userNs;
      t.tg.finalSysNs += c.sysNs;
    }
    const wasStopped = t.state === 'stopped';
    t.state = 'dead';
    // The lowest nice may rise now that this task is gone.
    if (t.nice < 0) this.k.hostSched.niceChanged(null);
    t.wakeForSignal();
    if (wasStopped) t.tg.contQueue.notify(0xffffffff);
    this.k.tasks.delete(t.tid);
    if (t.vforkWaiter) this.k.lifecycle.releaseVfork(t);
    if (t.vforkParent) {
      // The parent keeps the address space.
      this.k.lifecycle.releaseVfork(t);
      if (--t.mm.users === 0) t.mm.release();
    } else if (t.mm.users === 1) {
      t.mm.users = 0;
      t.mm.release();
    } else {
      t.mm.users--;
      if (!asGoes) t.ctx.release();
    }
    t.fdTable.unshare();
    this.k.releasePid(t.tid);
  }

  /**
   * Who adopts the orphans of tg: the nearest living ancestor in tg's PID
   * namespace that is a child subreaper (PR_SET_CHILD_SUBREAPER), else the
   * namespace's init.
   */
  private newReaper(tg: ThreadGroup, init: ThreadGroup): ThreadGroup {
    const ns = tg.tgPid?.ns;
    for (let r = tg.parent; r && r !== init && r.tgPid?.ns === ns; r = r.parent) if (r.procState?.subreaper && !r.exiting) return r;
    return init;
  }

  private becomeZombie(tg: ThreadGroup, signal: number, code: number, core: boolean): void {
    const ns = tg.tgPid?.ns ?? null;
    const nsInit = isNsInit(tg);
    const init = ns?.parent ? ns.init : this.k.groups.get(1);
    const reaper = init && init !== tg ? this.newReaper(tg, init) : null;
    let uid = 0;
    for (const t of tg.tasks) uid = t.creds.uid;
    if (nsInit && ns?.parent) {
      // The init of a nested namespace: nobody may enter any more, and every
      // other process in it (and below it) is killed (Linux's
      // zap_pid_ns_processes); its children and the orphans are reaped here.
      ns.adding = false;
      for (const other of [...this.k.groups.values()]) {
        if (other !== tg && !other.zombie && other.tgPid && ns.contains(other.tgPid.ns)) this.exitGroup(other, S.SIGKILL);
      }
    }
    // Orphans go to their reaper; if a namespace's init itself dies, the whole namespace dies with it.
    for (const c of tg.children) {
      if (nsInit || !reaper) {
        c.parent = null;
        this.exitGroup(c, S.SIGKILL);
        if (c.zombie) this.reap(c);
      } else {
        // Linux's reparenting: the parent-death signal first (from the dying
        // parent), then the new parent always gets SIGCHLD (not what clone
        // asked for), and a child that is already a zombie is announced to it
        // now, or reaped at once if it ignores SIGCHLD.
        c.parent = reaper;
        const pdeath = c.procState?.pdeathsig ?? 0;
        if (pdeath && !c.zombie) this.k.signals.sendToGroup(c, pdeath, { signo: pdeath, code: S.SI_USER, pid: tg.pid, uid });
        c.exitSignal = S.SIGCHLD;
        reaper.children.add(c);
        if (c.zombie && !c.reaped) this.notifyExit(c);
      }
    }
    tg.children.clear();
    tg.zombie = true;
    tg.exitQueue.notify(0xffffffff);
    tg.stopped = false;
    tg.pending.clear();
    if (tg.pid === 1) {
      this.k.initStatus = tg.exitStatus;
      for (const other of [...this.k.groups.values()]) if (other !== tg && !other.zombie) this.exitGroup(other, S.SIGKILL);
      this.reap(tg);
      return;
    }
    const p = tg.parent;
    if (!p) {
      this.reap(tg);
      return;
    }
    tg.exitSigInfo = {
      signo: S.SIGCHLD,
      code: core ? S.CLD_DUMPED : signal ? S.CLD_KILLED : S.CLD_EXITED,
      pid: tg.pid,
      uid: 0,
      status: signal ? signal : code & 0xff,
    };
    this.notifyExit(tg);
  }

  /**
   * Tell a zombie's parent: its exit signal, then reaped at once if the
   * parent ignores SIGCHLD, and wake its waiters. A traced process tells its
   * tracer first; its parent learns when the tracer reaps it or goes away.
   */
  notifyExit(tg: ThreadGroup): void {
    const p = tg.parent;
    if (!p) return;
    const si = tg.exitSigInfo ?? { signo: S.SIGCHLD, code: S.CLD_EXITED, pid: tg.pid };
    if (this.k.ptrace.exitForTracer(tg)) {
      this.k.ptrace.notifyTracerOfExit(tg, si);
      return;
    }
    const act = p.actions[S.SIGCHLD];
    const traced = this.k.ptrace.tracerOf(tg) !== null;
    const autoReap = !traced && tg.exitSignal === S.SIGCHLD && (act.handler === S.SIG_IGN || (act.flags & S.SA_NOCLDWAIT) !== 0);
    // clone takes any byte as the exit signal; one past the last signal is never sent, as in Linux.
    if (tg.exitSignal > 0 && tg.exitSignal <= S.NSIG) this.k.signals.sendToGroup(p, tg.exitSignal, { ...si, signo: tg.exitSignal });
    if (autoReap) this.reap(tg);
    p.childQueue.notify(0xffffffff);
  }

  reap(tg: ThreadGroup): void {
    if (tg.reaped) return;
    tg.reaped = true;
    for (const t of tg.tasks) this.k.ptrace.unlink(t);
    tg.parent?.children.delete(tg);
    this.k.cgroups.reaped(tg);
    this.k.groups.delete(tg.pid);
    this.k.releasePid(tg.pid);
    this.k.releasePid(tg.pgid);
    this.k.releasePid(tg.sid);
    tg.exitQueue.notify(0xffffffff);
  }

  /**
   * exit(2) of a single-threaded process is exit_group. A tracee with
   * PTRACE_O_TRACEEXIT stops first (the call is held meanwhile, as a vfork
   * parent's is).
   */
  exit(t: Task, code: number, group: boolean): number {
    const exit = () => {
      this.exitTask(t, code, group);
      this.k.runner.finishParked(t, KEEP_REGS);
    };
    if (this.k.ptrace.exitEvent(t, (code & 0xff) << 8, exit)) return VFORK_WAIT;
    this.exitTask(t, code, group);
    return KEEP_REGS;
  }

  /**
   * exit(2) ends the calling thread only; the process ends with its last
   * thread, whose code is the process's status (as Linux reports it). The
   * leader stays, dead, as the process's face until then (its tid stays taken).
   */
  private exitTask(t: Task, code: number, group: boolean): void {
    this.endThread(t, group, 0, code);
  }

  endThread(t: Task, group: boolean, signal: number, code: number): void {
    const tg = t.tg;
    let others = false;
    for (const x of tg.tasks) if (x !== t && x.state !== 'dead') others = true;
    if (group || !others || tg.exiting) {
      this.exitGroup(tg, signal, code);
      return;
    }
    this.killTask(t, false);
    if (t !== tg.leader) {
      if (!this.k.ptrace.threadExited(t, signal ? signal & 0x7f : (code & 0xff) << 8)) this.k.ptrace.unlink(t);
      tg.tasks.delete(t);
      this.k.tasks.delete(t.tid);
      this.k.releasePid(t.tid);
    }
  }
}
