// Signal dispositions, masks, waiting for signals, and the alternate stack.

import { E, Errno, ERESTART_RESTARTBLOCK, ERESTARTNOHAND } from '../abi/errno';
import { vTask, vGroup } from '../kernel/pid_ns';
import { decodeTimespec, TIMESPEC_SIZE } from '../abi/time';
import { KEEP_REGS } from '../kernel/runner';
import * as S from '../abi/signals';
import { i64, onAltStack, SS_DISABLE, SS_ONSTACK, u64 } from '../kernel/signal_frame';
import type { Task } from '../kernel/task';
import { timerSignalTaken } from '../kernel/posix_timers';
import { Reg } from '../platform/platform';
import { checkKill } from './sigperm';
import { i32, type SyscallDef } from '../kernel/syscall';

const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
const MINSIGSTKSZ = 2048;

function rtSigaction(t: Task, a: number[]): number {
  const sig = i32(a[0]);
  const act = a[1];
  const old = a[2];
  if (a[3] !== 8) throw new Errno(E.EINVAL);
  if (sig < 1 || sig > S.NSIG) throw new Errno(E.EINVAL);
  if (act && (sig === S.SIGKILL || sig === S.SIGSTOP)) throw new Errno(E.EINVAL);
  const cur = t.tg.actions[sig];
  let next: S.SigAction | null = null;
  if (act) {
    const b = t.mm.copyIn(act, 32);
    // Addresses are kept as signed numbers (exact for every user address);
    // any 64-bit value must still read back without overflowing.
    next = {
      handler: Number(b.readBigInt64LE(0)),
      flags: Number(b.readBigUInt64LE(8) & 0xffffffffn),
      restorer: Number(b.readBigInt64LE(16)),
      mask: b.readBigUInt64LE(24) & ~S.UNBLOCKABLE,
    };
  }
  if (old) {
    const b = Buffer.alloc(32);
    b.writeBigInt64LE(i64(cur.handler), 0);
    b.writeBigUInt64LE(BigInt(cur.flags >>> 0), 8);
    b.writeBigInt64LE(i64(cur.restorer), 16);
    b.writeBigUInt64LE(cur.mask, 24);
    t.mm.copyOut(old, b);
  }
  if (next) {
    t.tg.actions[sig] = next;
    // Setting SIG_IGN (or a default-ignore SIG_DFL) discards what is pending.
    if (next.handler === S.SIG_IGN || (next.handler === S.SIG_DFL && S.defaultAction(sig) === 'ign')) {
      t.tg.pending.delete(sig);
      for (const x of t.tg.tasks) x.pending.delete(sig);
    }
  }
  return 0;
}

function rtSigprocmask(t: Task, a: number[]): number {
  const how = i32(a[0]);
  if (a[3] !== 8) throw new Errno(E.EINVAL);
  const old = t.sigmask;
  if (a[1]) {
    const set = t.mm.readBigU64(a[1]) & ~S.UNBLOCKABLE;
    if (how === SIG_BLOCK) t.sigmask |= set;
    else if (how === SIG_UNBLOCK) t.sigmask &= ~set;
    else if (how === SIG_SETMASK) t.sigmask = set;
    else throw new Errno(E.EINVAL);
  }
  if (a[2]) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(old);
    t.mm.copyOut(a[2], b);
  }
  return 0;
}

function pendingSet(t: Task): bigint {
  let m = 0n;
  for (const s of t.pending.keys()) m |= S.sigBit(s);
  for (const s of t.tg.pending.keys()) m |= S.sigBit(s);
  return m;
}

function rtSigpending(t: Task, a: number[]): number {
  if (a[1] > 8) throw new Errno(E.EINVAL);
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(pendingSet(t) & t.sigmask);
  t.mm.copyOut(a[0], b.subarray(0, a[1]));
  return 0;
}

async function rtSigsuspend(t: Task, a: number[]): Promise<number> {
  if (a[1] !== 8) throw new Errno(E.EINVAL);
  const mask = t.mm.readBigU64(a[0]) & ~S.UNBLOCKABLE;
  t.savedSigmask = t.sigmask;
  t.sigmask = mask;
  try {
    for (;;) await t.block(null, 0);
  } catch (e) {
    // The handler runs with the temporary mask; the old one comes back at sigreturn.
    if (e instanceof Errno) throw new Errno(ERESTARTNOHAND);
    throw e;
  }
}

async function pause(t: Task): Promise<number> {
  for (;;) {
    try {
      await t.block(null, 0);
    } catch {
      throw new Errno(ERESTARTNOHAND);
    }
  }
}

function rtSigtimedwait(t: Task, a: number[]): Promise<number> {
  if (a[3] !== 8) throw new Errno(E.EINVAL);
  const set = t.mm.readBigU64(a[0]) & ~S.UNBLOCKABLE;
  let deadline: number | undefined;
  if (a[2]) {
    deadline = t.kernel.monotonicNs() + decodeTimespec(t.mm.copyIn(a[2], TIMESPEC_SIZE));
  }
  return sigtimedwaitUntil(t, set, a[1], deadline);
}

/**
 * Wait for a signal in set until the monotonic deadline (none: forever),
 * writing its siginfo to info. Also the continuation restart_syscall runs
 * after a pause unwound a timed wait.
 */
export async function sigtimedwaitUntil(t: Task, set: bigint, info: number, deadline: number | undefined): Promise<number> {
  const take = (): number => {
    for (const pend of [t.pending, t.tg.pending]) {
      for (const sig of [...pend.keys()].sort((x, y) => x - y)) {
        if (set & S.sigBit(sig)) {
          const si = pend.take(sig)!;
          timerSignalTaken(t.tg, si);
          if (info) t.mm.copyOut(info, S.encodeSigInfo(si));
          return sig;
        }
      }
    }
    return 0;
  };
  const saved = t.sigmask;
  for (;;) {
    const got = take();
    if (got) return got;
    if (deadline !== undefined && t.kernel.monotonicNs() >= deadline) throw new Errno(E.EAGAIN);
    // The waited-for signals are unblocked while sleeping; the old mask stays
    // known as realBlocked so that one of them arriving is queued, not dropped
    // as ignored (SIGCHLD's default action).
    t.sigmask = saved & ~set;
    t.realBlocked = saved;
    t.waitedSignals = set;
    let r: number;
    try {
      r = await t.block(null, 0, deadline);
    } catch (e) {
      if (!(e instanceof Errno)) throw e;
      const paused = t.kernel.pausing && !t.hasInterruptingSignal();
      t.sigmask = saved;
      const got2 = take();
      if (got2) return got2;
      // Only a pause unwinds to a restart (the wait goes on after resume, to the same deadline).
      if (paused && deadline === undefined) throw new Errno(ERESTARTNOHAND);
      if (paused && deadline !== undefined) {
        t.restartBlock = { kind: 'sigtimedwait', set, info, deadline };
        throw new Errno(ERESTART_RESTARTBLOCK);
      }
      // Linux never restarts sigtimedwait: another signal ends it with EINTR.
      throw new Errno(E.EINTR);
    } finally {
      t.sigmask = saved;
      t.realBlocked = 0n;
      t.waitedSignals = 0n;
    }
    if (r === 0 && deadline !== undefined) {
      const late = take();
      if (late) return late;
      throw new Errno(E.EAGAIN);
    }
  }
}

function sigaltstack(t: Task, a: number[]): number {
  const rsp = t.ctx.regs.get(Reg.RSP);
  const cur = t.altStack;
  const onStack = onAltStack(cur, rsp);
  if (a[1]) {
    const b = Buffer.alloc(24);
    b.writeBigInt64LE(i64(cur.sp), 0);
    b.writeInt32LE(onStack ? SS_ONSTACK : cur.size === 0 ? SS_DISABLE : cur.flags & ~SS_ONSTACK, 8);
    b.writeBigUInt64LE(u64(cur.size), 16);
    t.mm.copyOut(a[1], b);
  }
  if (a[0]) {
    const b = t.mm.copyIn(a[0], 24);
    const sp = Number(b.readBigInt64LE(0));
    const flags = b.readInt32LE(8);
    const size = Number(b.readBigUInt64LE(16));
    if (onStack) throw new Errno(E.EPERM);
    const SS_AUTODISARM = 1 << 31;
    if ((flags & ~SS_AUTODISARM) !== 0 && (flags & ~SS_AUTODISARM) !== SS_DISABLE && (flags & ~SS_AUTODISARM) !== SS_ONSTACK) throw new Errno(E.EINVAL);
    if (flags & SS_DISABLE) t.altStack = { sp: 0, size: 0, flags: SS_DISABLE };
    else {
      if (size < MINSIGSTKSZ) throw new Errno(E.ENOMEM);
      t.altStack = { sp, size, flags: 0 };
    }
  }
  return 0;
}

function rtSigreturn(t: Task): number {
  try {
    t.kernel.signals.sigreturn(t);
  } catch (e) {
    if (!(e instanceof Errno)) throw e;
    t.kernel.runner.forceSignal(t, S.SIGSEGV, { signo: S.SIGSEGV, code: S.SI_KERNEL, addr: 0 });
  }
  return KEEP_REGS;
}

/** rt_sigqueueinfo / rt_tgsigqueueinfo: a signal with caller-supplied siginfo (sigqueue(3)). */
function sigqueueinfo(t: Task, tgid: number, tid: number, sig: number, uinfo: number): number {
  if (sig < 0 || sig > S.NSIG) throw new Errno(E.EINVAL);
  const raw = t.mm.copyIn(uinfo, 128);
  const code = raw.readInt32LE(8);
  // rt_sigqueueinfo's pid may be any thread's id: it names that thread's process.
  const tg = tid < 0 ? vGroup(t, tgid) ?? vTask(t, tgid)?.tg : vGroup(t, tgid);
  if (!tg || tg.zombie) throw new Errno(E.ESRCH);
  let target: Task | undefined;
  if (tid >= 0) {
    target = vTask(t, tid);
    if (!target || target.tg !== tg) throw new Errno(E.ESRCH);
  }
  // Only the kernel may claim kernel codes, except toward oneself.
  if ((code >= 0 || code === S.SI_TKILL) && tg !== t.tg) throw new Errno(E.EPERM);
  checkKill(t, tg, sig, target);
  if (sig === 0) return 0;
  t.kernel.signals.checkQueueLimit(target?.tg ?? tg);
  const info: S.SigInfo = { signo: sig, code, raw };
  if (target) target.sendSignal(sig, info);
  else t.kernel.signals.sendToGroup(tg, sig, info);
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 129, name: 'rt_sigqueueinfo', fn: (t, a) => sigqueueinfo(t, i32(a[0]), -1, i32(a[1]), a[2]), args: ['int', 'signal', 'ptr'] },
  { nr: 297, name: 'rt_tgsigqueueinfo', fn: (t, a) => sigqueueinfo(t, i32(a[0]), i32(a[1]), i32(a[2]), a[3]), args: ['int', 'int', 'signal', 'ptr'] },
  { nr: 13, name: 'rt_sigaction', fn: rtSigaction, args: ['signal', 'sigaction', 'sigaction_out', 'size'] },
  { nr: 14, name: 'rt_sigprocmask', fn: rtSigprocmask, args: ['sigmask_how', 'sigset', 'sigset_out', 'size'] },
  { nr: 15, name: 'rt_sigreturn', fn: rtSigreturn, args: ['sigreturn_mask'] },
  { nr: 127, name: 'rt_sigpending', fn: rtSigpending, args: ['sigset_n_out', 'size'] },
  { nr: 130, name: 'rt_sigsuspend', fn: rtSigsuspend, args: ['sigset_n', 'size'] },
  { nr: 128, name: 'rt_sigtimedwait', fn: rtSigtimedwait, args: ['sigset', 'ptr_out', 'timespec', 'size'] },
  { nr: 34, name: 'pause', fn: pause, args: [] },
  { nr: 131, name: 'sigaltstack', fn: sigaltstack, args: ['stack', 'stack_out'] },
];
