// seccomp(2) and prctl's PR_SET_SECCOMP/PR_GET_SECCOMP: a task attaching
// filters to itself (the filters and their actions are kernel/seccomp.ts).
import { E, Errno } from '../abi/errno';
import { CAP_SYS_ADMIN } from '../abi/capability';
import { hasCapability } from '../auth/creds';
import type { Task } from '../kernel/task';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import {
  attach, checkProgram, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE, SECCOMP_RET_TRAP, SECCOMP_RET_USER_NOTIF, type SeccompFilter,
} from '../kernel/seccomp';

const SECCOMP_SET_MODE_STRICT = 0, SECCOMP_SET_MODE_FILTER = 1, SECCOMP_GET_ACTION_AVAIL = 2, SECCOMP_GET_NOTIF_SIZES = 3;
const FLAG_TSYNC = 1, FLAG_LOG = 2, FLAG_SPEC_ALLOW = 4, FLAG_NEW_LISTENER = 8, FLAG_TSYNC_ESRCH = 16, FLAG_WAIT_KILLABLE_RECV = 32;
const AVAILABLE = [SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP, SECCOMP_RET_ERRNO, SECCOMP_RET_USER_NOTIF,
  SECCOMP_RET_TRACE, SECCOMP_RET_LOG, SECCOMP_RET_ALLOW];

/** The mode /proc/PID/status and PR_GET_SECCOMP report: 0 none, 1 strict, 2 filter. */
export function seccompMode(t: Task): number {
  return t.seccompStrict ? 1 : t.seccomp ? 2 : 0;
}

export function setStrict(t: Task): number {
  if (t.seccomp) throw new Errno(E.EINVAL); // a filter is in force: no change of mode
  t.seccompStrict = true;
  return 0;
}

export function setFilter(t: Task, flags: number, progAddr: number): number {
  const known = FLAG_TSYNC | FLAG_LOG | FLAG_SPEC_ALLOW | FLAG_NEW_LISTENER | FLAG_TSYNC_ESRCH | FLAG_WAIT_KILLABLE_RECV;
  if (flags & ~known) throw new Errno(E.EINVAL);
  // Notification listeners (SECCOMP_RET_USER_NOTIF's supervisor) are not offered.
  if (flags & (FLAG_NEW_LISTENER | FLAG_WAIT_KILLABLE_RECV)) throw new Errno(E.EINVAL);
  if (flags & FLAG_TSYNC_ESRCH && !(flags & FLAG_TSYNC)) throw new Errno(E.EINVAL);
  const fprog = t.mm.copyIn(progAddr, 16);
  const len = fprog.readUInt16LE(0);
  const addr = Number(fprog.readBigUInt64LE(8));
  const prog = checkProgram(t.mm.copyIn(addr, len * 8));
  if (!t.tg.procState?.noNewPrivs && !hasCapability(t.creds, CAP_SYS_ADMIN)) throw new Errno(E.EACCES);
  if (t.seccompStrict) throw new Errno(E.EINVAL);
  if (flags & FLAG_TSYNC) {
    // Every other thread must run the caller's filters or an older part of
    // them; the first that does not is named (its tid), or ESRCH if asked.
    for (const x of t.tg.tasks) {
      if (x === t || x.state === 'dead') continue;
      if (x.seccompStrict || !isAncestor(x.seccomp, t.seccomp)) {
        if (flags & FLAG_TSYNC_ESRCH) throw new Errno(E.ESRCH);
        return x.tid;
      }
    }
  }
  t.seccomp = attach(t.seccomp, prog, (flags & FLAG_LOG) !== 0);
  if (flags & FLAG_TSYNC) for (const x of t.tg.tasks) if (x.state !== 'dead') x.seccomp = t.seccomp;
  return 0;
}

/** Whether filter a is b or one of the filters b was attached on top of. */
function isAncestor(a: SeccompFilter | null, b: SeccompFilter | null): boolean {
  if (a === null) return true;
  for (let f = b; f !== null; f = f.prev) if (f === a) return true;
  return false;
}

function seccomp(t: Task, op: number, flags: number, args: number): number {
  switch (op) {
    case SECCOMP_SET_MODE_STRICT:
      if (flags !== 0 || args !== 0) throw new Errno(E.EINVAL);
      return setStrict(t);
    case SECCOMP_SET_MODE_FILTER:
      return setFilter(t, flags, args);
    case SECCOMP_GET_ACTION_AVAIL: {
      if (flags !== 0) throw new Errno(E.EINVAL);
      const action = t.mm.readU32(args);
      if (!AVAILABLE.includes(action >>> 0)) throw new Errno(E.EOPNOTSUPP);
      return 0;
    }
    case SECCOMP_GET_NOTIF_SIZES: {
      if (flags !== 0) throw new Errno(E.EINVAL);
      const b = Buffer.alloc(6);
      b.writeUInt16LE(80, 0); // struct seccomp_notif
      b.writeUInt16LE(24, 2); // struct seccomp_notif_resp
      b.writeUInt16LE(64, 4); // struct seccomp_data
      t.mm.copyOut(args, b);
      return 0;
    }
    default:
      throw new Errno(E.EINVAL);
  }
}

export const defs: SyscallDef[] = [
  {
    nr: 317, name: 'seccomp', args: ['int', 'hex', 'ptr'], fn: (t, a) => seccomp(t, i32(a[0]), u32(a[1]), a[2]),
    partial: 'no notification listener (SECCOMP_FILTER_FLAG_NEW_LISTENER is EINVAL; USER_NOTIF and TRACE without a tracer return ENOSYS, as on Linux with nobody to ask); TSYNC syncs the threads (no_new_privs is per process here)',
  },
];
