// wait4 and waitid: finding a child (or a tracee) with something to report,
// and consuming the report. Tracees come first, per task: Linux traces
// threads, so a traced thread's stops and its exit are reported under its
// tid (to a waiter that asks for __WALL or __WCLONE), and a traced process's
// leader is reported only once its traced threads' exits are collected.

import { E, Errno } from '../abi/errno';
import * as S from '../abi/signals';
import { WALL, WCLONE, WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WUNTRACED } from '../abi/sched';
import type { Kernel } from './kernel';
import { accountReaped } from './rusage';
import type { Task } from './task';
import type { ChildEvent, ThreadGroup } from './thread_group';

/** Which children a wait is for: by process, and for a traced thread also by its tid. */
export type ChildSelector = (c: ThreadGroup, tid?: number) => boolean;

/** What a wait found: the process, the event, and for a traced thread the thread (its tid is the answer). */
export interface WaitResult {
  tg: ThreadGroup;
  ev: ChildEvent;
  task?: Task;
}

function exitEvent(c: ThreadGroup): ChildEvent {
  return { kind: 'exited', status: c.exitStatus ?? 0, si: c.exitSigInfo ?? { signo: S.SIGCHLD, code: S.CLD_EXITED, pid: c.pid } };
}

/** Find a child event matching the selector; ECHILD when no child matches at all. */
function findChild(k: Kernel, t: Task, sel: ChildSelector, options: number): WaitResult | null {
  let any = false;
  const pt = k.ptrace;
  // Tasks this process traces: their ptrace-stops (whatever the options ask
  // for) and their exits come here first; clone children included.
  for (const x of pt.tracedTasks(t.tg)) {
    const c = x.tg;
    const thread = x !== c.leader;
    if (!sel(c, x.tid)) continue;
    // A thread is a clone child: only __WALL or __WCLONE see it.
    if (thread && !(options & (WALL | WCLONE))) continue;
    any = true;
    const ev = pt.taskStopEvent(t.tg, x);
    if (ev) return { tg: c, ev, task: x };
    if (thread) {
      const status = x.ptrace?.exitStatus ?? null;
      if (status !== null && options & WEXITED) {
        const killed = status & 0x7f;
        const si = { signo: S.SIGCHLD, code: killed ? S.CLD_KILLED : S.CLD_EXITED, pid: x.tid, uid: x.creds.uid, status: killed || (status >> 8) & 0xff };
        return { tg: c, ev: { kind: 'exited', status, si }, task: x };
      }
      continue;
    }
    // The leader's exit waits until the tracer has collected its traced threads' exits.
    if (c.zombie && !c.reaped && options & WEXITED && !pt.threadExitsPending(t.tg, c)) return { tg: c, ev: exitEvent(c) };
  }
  for (const c of t.tg.children) {
    if (!sel(c)) continue;
    const cloneChild = c.exitSignal !== S.SIGCHLD;
    if (!(options & WALL) && (!!(options & WCLONE) !== cloneChild)) continue;
    any = true;
    // Traced by another process: its exit is the tracer's to report first.
    if (c.zombie && options & WEXITED && !pt.exitForTracer(c)) return { tg: c, ev: exitEvent(c) };
    if (c.stopReport && options & WUNTRACED) return { tg: c, ev: c.stopReport };
    if (c.contReport && options & WCONTINUED) return { tg: c, ev: c.contReport };
  }
  if (!any) throw new Errno(E.ECHILD);
  return null;
}

/** Take the report found out of the tables (unless WNOWAIT): reap, unlink, or mark it seen. */
function consume(k: Kernel, t: Task, found: WaitResult): void {
  const c = found.tg;
  const x = found.task;
  if (found.ev.kind === 'exited' && x && x !== c.leader) {
    // A traced thread's exit: the tracer has collected it.
    k.ptrace.unlink(x);
  } else if (found.ev.kind === 'exited' && c.parent !== t.tg) {
    // A tracer reaped a tracee that is not its child: the real parent is told now.
    for (const y of c.tasks) k.ptrace.unlink(y);
    k.lifecycle.notifyExit(c);
  } else if (found.ev.kind === 'exited') {
    accountReaped(t.tg, c);
    k.lifecycle.reap(c);
  } else if (found.ev.kind === 'traced') k.ptrace.consumed(x ?? c.leader);
  else if (found.ev.kind === 'stopped') c.stopReport = null;
  else c.contReport = null;
}

export async function waitForChild(k: Kernel, t: Task, sel: ChildSelector, options: number): Promise<WaitResult | null> {
  // A child's exit both signals and wakes the parent: as on Linux, what
  // changed is looked at before the signal interrupts the wait.
  let interrupted: unknown = null;
  for (;;) {
    const found = findChild(k, t, sel, options);
    if (found) {
      if (!(options & WNOWAIT)) consume(k, t, found);
      return found;
    }
    if (options & WNOHANG) return null;
    if (interrupted) throw interrupted;
    try {
      await t.block(t.tg.childQueue, 0xffffffff);
    } catch (e) {
      interrupted = e;
    }
  }
}
