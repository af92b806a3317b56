// A task whose access met a missing page of a userfaultfd's range waits for
// the context to serve it (mm/userfault.ts, fsimpl/userfaultfd): a fault of
// the application runs its instruction again once woken (a new fault, and a
// new message, if the page is still missing); an access of the Sentry in a
// system call restarts the call. The wait is interruptible as Linux's: a
// signal ends it (the instruction faults again after the handler; the
// Sentry's access fails with EFAULT), SIGKILL ends the task. A system call
// that changed a registered range (mm/userfault_events.ts) waits at its end
// for each of its events to be read, killably only, as Linux's.

import { E, ERESTARTNOINTR } from '../abi/errno';
import { EVENT_IN } from '../abi/waitqueue';
import { PAGE_SIZE } from '../abi/mm';
import * as S from '../abi/signals';
import { poisonedAt, type UserfaultCtx, type UserfaultPending } from '../mm/userfault';
import { dropTold, isRemoveNote, nextRemove, type UffdEvent } from '../mm/userfault_events';
import type { Task } from './task';
import type { TaskRunner } from './runner';

/** The application faulted on a missing page of a registered range (handleFault said 'uffd'). */
export function userFault(runner: TaskRunner, t: Task, addr: number): void {
  if (poisonedAt(t.mm, addr)) {
    // As Linux 6.18 answers a poison marker: SIGBUS, BUS_ADRERR.
    runner.forceSignal(t, S.SIGBUS, { signo: S.SIGBUS, code: S.BUS_ADRERR, addr });
    runner.returnToUser(t, false);
    return;
  }
  const at = t.mm.userfaultAt(addr);
  if (at === null) {
    runner.returnToUser(t, false); // served meanwhile: run the instruction again
    return;
  }
  const ctx = at.ctx;
  if (ctx.sigbus) {
    runner.forceSignal(t, S.SIGBUS, { signo: S.SIGBUS, code: S.BUS_ADRERR, addr });
    runner.returnToUser(t, false);
    return;
  }
  // Each round is a fresh fault, not the application's own repeating one.
  t.faultRepeats = 0;
  t.lastFaultAddr = -1;
  // The platform does not tell a read fault from a write: a missing page's flags stay 0 (docs/COMPATIBILITY.md); only a write faults on a write-protected one.
  const pf = ctx.fault(addr, at.flags, t.tid);
  // Counted as a call in progress: the loop knows a continuation is to come, a pause waits for it.
  t.kernel.asyncCallStarted();
  runner.inFlight++;
  const again = (): void => {
    t.kernel.asyncCallDone();
    runner.inFlight--;
    try {
      ctx.forget(pf);
      if (t.state !== 'dead') runner.returnToUser(t, false);
    } catch (e) {
      runner.kernelBug(t, e);
    }
  };
  t.block(pf.queue, EVENT_IN).then(again, again);
}

/**
 * A system call's access met a missing page (UserfaultPending): wait for
 * the context, then restart the call from the start (ERESTARTNOINTR). The
 * Sentry checks buffers before it consumes input (MemoryManager.checkRange),
 * so a call that restarts has not taken anything yet.
 */
export async function kernelFault(t: Task, e: UserfaultPending): Promise<number> {
  const ctx: UserfaultCtx = e.ctx;
  const pf = ctx.fault(Math.floor(e.addr / PAGE_SIZE) * PAGE_SIZE, e.flags, t.tid);
  try {
    await t.block(pf.queue, EVENT_IN);
  } catch {
    // A signal: Linux's fault gives up and the access fails.
    return -E.EFAULT;
  } finally {
    ctx.forget(pf);
  }
  return -ERESTARTNOINTR;
}

/** A fatal signal is on its way: the wait for an event ends. */
function dying(t: Task): boolean {
  return t.state === 'dead' || t.tg.exiting || t.pending.has(S.SIGKILL) || t.tg.pending.has(S.SIGKILL);
}

/**
 * The mask of a killable wait: every signal that would not kill the task
 * (a handler, a stop) held back, so that only a fatal one (SIGKILL, or
 * one whose default action ends the process, as Linux makes those
 * SIGKILL) ends it.
 */
function killableMask(t: Task): bigint {
  let mask = t.sigmask;
  for (let sig = 1; sig <= S.NSIG; sig++) {
    const act = S.defaultAction(sig);
    if (t.tg.actions[sig].handler !== S.SIG_DFL || (act !== 'term' && act !== 'core')) mask |= S.sigBit(sig);
  }
  return mask & ~S.UNBLOCKABLE;
}

/**
 * Post ev and wait until it is read, its context closed, or the task
 * killed (Linux's TASK_KILLABLE). Anything else that interrupts (a pause
 * of the sandbox, SIGSTOP) ends the wait with the event withdrawn: the
 * call returns, and the monitor does not see it.
 */
async function waitEvent(t: Task, ev: UffdEvent): Promise<void> {
  if (ev.ctx.released || dying(t)) return;
  ev.ctx.post(ev);
  const mask = t.sigmask;
  t.sigmask = killableMask(t);
  try {
    while (!ev.read && !ev.ctx.released && !dying(t)) {
      try {
        await t.block(ev.queue, EVENT_IN);
      } catch {
        break;
      }
    }
  } finally {
    t.sigmask = mask;
  }
}

/**
 * The end of a system call: the userfaultfd events it caused are posted
 * and waited for in turn (one at a time, so that a context holds one per
 * task), then the call's result goes back.
 */
export function awaitEvents(t: Task, r: number | Promise<number>): number | Promise<number> {
  const notes = t.mm.uffdEvents;
  if (notes.length === 0) return r;
  t.mm.uffdEvents = [];
  const tell = async (ev: UffdEvent): Promise<void> => {
    try {
      await waitEvent(t, ev);
    } finally {
      ev.ctx.withdraw(ev);
    }
  };
  return (async () => {
    let done = 0;
    try {
      const v = await r;
      for (const note of notes) {
        done++;
        if (isRemoveNote(note)) {
          for (let ev = nextRemove(t.mm, note); ev !== null && !dying(t); ev = nextRemove(t.mm, note)) {
            await tell(ev);
            dropTold(note, note.at);
          }
          if (!dying(t)) dropTold(note, note.end);
        } else {
          await tell(note);
        }
      }
      return v;
    } finally {
      // Events not waited for (the call failed): their contexts change no more.
      for (const note of notes.slice(done)) if (!isRemoveNote(note)) note.ctx.withdraw(note);
      // A fork child held until now starts (its context dropped if nobody read the event).
      for (const note of notes) if (!isRemoveNote(note)) note.startChild?.();
    }
  })();
}
