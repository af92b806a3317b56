// process_vm_readv, process_vm_writev (man 2 process_vm_readv) between
// processes of the sandbox, and membarrier (man 2 membarrier).
import { E, Errno } from '../abi/errno';
import { vTask } from '../kernel/pid_ns';
import type { Task } from '../kernel/task';
import { ptraceMayAccess } from '../kernel/ptrace';
import { i32, type SyscallDef } from '../kernel/syscall';
import type { FamilyHooks } from '../kernel/lifecycle';
import { readIovecs } from './sysutil';

const PAGE = 4096;

/**
 * Copy between the caller's local vectors and the target's remote ones, in
 * page-sized pieces: the transfer stops at the first fault on either side
 * and reports what was copied (EFAULT only for nothing).
 */
function transfer(t: Task, a: number[], write: boolean): number {
  if (a[5] !== 0) throw new Errno(E.EINVAL);
  const local = readIovecs(t, a[1], i32(a[2]));
  const remote = readIovecs(t, a[3], i32(a[4]));
  const target = vTask(t, i32(a[0]));
  if (!target || target.state === 'dead' || target.tg.zombie) throw new Errno(E.ESRCH);
  // PTRACE_MODE_ATTACH_REALCREDS, the rule ptrace itself and /proc/PID/mem follow.
  if (!ptraceMayAccess(t, target)) throw new Errno(E.EPERM);
  const rmm = target.mm;
  let done = 0;
  let li = 0, loff = 0;
  for (const [rbase, rlen] of remote) {
    let roff = 0;
    while (roff < rlen) {
      while (li < local.length && loff >= local[li][1]) {
        li++;
        loff = 0;
      }
      if (li >= local.length) return done;
      const raddr = rbase + roff, laddr = local[li][0] + loff;
      const n = Math.min(rlen - roff, local[li][1] - loff, PAGE - (raddr % PAGE));
      try {
        if (write) rmm.copyOut(raddr, t.mm.copyIn(laddr, n));
        else t.mm.copyOut(laddr, rmm.copyIn(raddr, n));
      } catch (e) {
        if (e instanceof Errno && e.errno === E.EFAULT && done > 0) return done;
        throw e;
      }
      done += n;
      roff += n;
      loff += n;
    }
  }
  return done;
}

const MEMBARRIER_CMD_QUERY = 0, MEMBARRIER_CMD_PRIVATE_EXPEDITED = 8, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 16;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE = 32, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64;
const MEMBARRIER_CMD_GET_REGISTRATIONS = 512;
const SUPPORTED = MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED |
  MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE | MEMBARRIER_CMD_GET_REGISTRATIONS;

/**
 * The private expedited barriers: every other thread of the process passes a
 * barrier before the call returns. A process has one thread today, so the
 * call itself is the barrier (threads will have to interrupt their running
 * siblings here). The global ones are not offered (QUERY leaves them out).
 */
function membarrier(t: Task, cmd: number, flags: number): number {
  if (flags !== 0) throw new Errno(E.EINVAL);
  const reg = t.tg.membarrierRegistered;
  switch (cmd) {
    case MEMBARRIER_CMD_QUERY:
      return SUPPORTED;
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
      t.tg.membarrierRegistered |= cmd;
      return 0;
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED:
      if (!(reg & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)) throw new Errno(E.EPERM);
      return 0;
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE:
      if (!(reg & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE)) throw new Errno(E.EPERM);
      return 0;
    case MEMBARRIER_CMD_GET_REGISTRATIONS:
      return reg;
    default:
      throw new Errno(E.EINVAL);
  }
}

export const hooks: FamilyHooks = {
  exec: (tg) => {
    tg.membarrierRegistered = 0;
  },
};

export const defs: SyscallDef[] = [
  { nr: 310, name: 'process_vm_readv', args: ['int', 'ptr', 'uint', 'ptr', 'uint', 'hex'], fn: (t, a) => transfer(t, a, false) },
  { nr: 311, name: 'process_vm_writev', args: ['int', 'ptr', 'uint', 'ptr', 'uint', 'hex'], fn: (t, a) => transfer(t, a, true) },
  {
    nr: 324, name: 'membarrier', args: ['int', 'hex', 'int'], fn: (t, a) => membarrier(t, i32(a[0]), i32(a[1])),
    partial: 'the global barriers (MEMBARRIER_CMD_GLOBAL, GLOBAL_EXPEDITED) and the rseq one are not offered: QUERY leaves them out, and they fail with EINVAL',
  },
];
