// prctl(2): per-process (and per-thread) knobs. Settings live in
// ThreadGroup.procState (sys_info.ts stateOf, copied at fork); the
// capability-related options change the credentials (auth/creds.ts); the
// parent-death signal and child subreaper flags are acted on by the kernel
// when a parent exits (Lifecycle). PR_SET_PTRACER is EINVAL, as on a kernel
// without Yama (the host's); options not listed are EINVAL too.

import { seccompMode, setFilter, setStrict } from './sys_seccomp';
import { capBit, hasCapability } from '../auth/creds';
import { CAP_LAST_CAP, CAP_SETPCAP, CAP_SYS_RESOURCE, SECBIT_KEEP_CAPS, SECBIT_NO_CAP_AMBIENT_RAISE, SECURE_ALL_BITS, SECURE_ALL_LOCKS } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import { MDWE_NO_INHERIT, MDWE_REFUSE_EXEC_GAIN, TASK_SIZE } from '../abi/mm';
import type { Task } from '../kernel/task';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { capable, need, stateOf } from './sys_info';

const TASK_COMM_LEN = 16;

/** PR_SET_NAME: the first 15 bytes of a string (longer ones are cut, not refused). */
function readComm(t: Task, addr: number): string {
  try {
    return t.mm.readCString(addr, TASK_COMM_LEN);
  } catch (e) {
    if (e instanceof Errno && e.errno === E.ENAMETOOLONG) return t.mm.copyIn(addr, TASK_COMM_LEN - 1).toString('latin1');
    throw e;
  }
}


const PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4;
const PR_GET_KEEPCAPS = 7, PR_SET_KEEPCAPS = 8, PR_SET_NAME = 15, PR_GET_NAME = 16;
const PR_GET_SECCOMP = 21, PR_SET_SECCOMP = 22, PR_CAPBSET_READ = 23, PR_CAPBSET_DROP = 24, PR_GET_SECUREBITS = 27, PR_SET_SECUREBITS = 28;
const PR_SET_CHILD_SUBREAPER = 36, PR_GET_CHILD_SUBREAPER = 37;
const PR_SET_NO_NEW_PRIVS = 38, PR_GET_NO_NEW_PRIVS = 39, PR_CAP_AMBIENT = 47;
const PR_GET_TSC = 25, PR_SET_TSC = 26, PR_TSC_ENABLE = 1, PR_TSC_SIGSEGV = 2;
const PR_SET_TIMERSLACK = 29, PR_GET_TIMERSLACK = 30, PR_SET_MM = 35;
const PR_SET_MDWE = 65, PR_GET_MDWE = 66, PR_GET_AUXV = 0x41555856;
/** sizeof(mm->saved_auxv) on x86-64 (Linux 6.18): what PR_GET_AUXV returns, whatever the vector's own length. */
const SAVED_AUXV_SIZE = 448;
const PR_CAP_AMBIENT_IS_SET = 1, PR_CAP_AMBIENT_RAISE = 2, PR_CAP_AMBIENT_LOWER = 3, PR_CAP_AMBIENT_CLEAR_ALL = 4;

function capValid(c: number): boolean {
  return c >= 0 && c <= CAP_LAST_CAP;
}

/** PR_CAP_AMBIENT: a capability may be ambient only while permitted and inheritable. */
function capAmbient(t: Task, op: number, cap: number, arg4: number, arg5: number): number {
  if (op === PR_CAP_AMBIENT_CLEAR_ALL) {
    need(!cap && !arg4 && !arg5);
    const c = t.creds.clone();
    c.capAmbient = 0n;
    t.creds = c;
    return 0;
  }
  need(!arg4 && !arg5 && capValid(cap));
  const bit = capBit(cap);
  const o = t.creds;
  switch (op) {
    case PR_CAP_AMBIENT_IS_SET:
      return o.capAmbient & bit ? 1 : 0;
    case PR_CAP_AMBIENT_RAISE:
    case PR_CAP_AMBIENT_LOWER: {
      const raise = op === PR_CAP_AMBIENT_RAISE;
      if (raise && (!(o.capPermitted & bit) || !(o.capInheritable & bit) || o.securebits & SECBIT_NO_CAP_AMBIENT_RAISE)) throw new Errno(E.EPERM);
      const c = o.clone();
      c.capAmbient = raise ? c.capAmbient | bit : c.capAmbient & ~bit;
      t.creds = c;
      return 0;
    }
    default:
      throw new Errno(E.EINVAL);
  }
}

function prctl(t: Task, a: number[]): number {
  const [, arg2, arg3, arg4, arg5] = a;
  const s = stateOf(t.tg);
  const option = i32(a[0]);
  const noExtra = !(arg3 || arg4 || arg5);
  switch (option) {
    case PR_SET_PDEATHSIG:
      need(arg2 >= 0 && arg2 <= 64);
      s.pdeathsig = arg2;
      return 0;
    case PR_GET_PDEATHSIG: case PR_GET_CHILD_SUBREAPER:
      t.mm.writeI32(arg2, option === PR_GET_PDEATHSIG ? s.pdeathsig : Number(s.subreaper));
      return 0;
    case PR_GET_DUMPABLE:
      return s.dumpable;
    case PR_GET_KEEPCAPS:
      return t.creds.securebits & SECBIT_KEEP_CAPS ? 1 : 0;
    case PR_SET_DUMPABLE:
      need(arg2 === 0 || arg2 === 1);
      s.dumpable = arg2;
      return 0;
    case PR_SET_KEEPCAPS: {
      need(arg2 === 0 || arg2 === 1);
      if (t.creds.securebits & (SECBIT_KEEP_CAPS << 1)) throw new Errno(E.EPERM); // locked
      const c = t.creds.clone();
      c.securebits = arg2 ? c.securebits | SECBIT_KEEP_CAPS : c.securebits & ~SECBIT_KEEP_CAPS;
      t.creds = c;
      return 0;
    }
    case PR_GET_SECUREBITS:
      return t.creds.securebits;
    case PR_SET_SECUREBITS: {
      const old = t.creds.securebits;
      const bits = u32(arg2);
      // A locked flag may not change, a lock may not be lifted, and it takes CAP_SETPCAP.
      const locked = (old & SECURE_ALL_LOCKS) >> 1;
      if (locked & (old ^ bits) || old & SECURE_ALL_LOCKS & ~bits || bits & ~(SECURE_ALL_BITS | SECURE_ALL_LOCKS) || !hasCapability(t.creds, CAP_SETPCAP)) {
        throw new Errno(E.EPERM);
      }
      const c = t.creds.clone();
      c.securebits = bits;
      t.creds = c;
      return 0;
    }
    case PR_SET_NAME:
      t.comm = readComm(t, arg2);
      return 0;
    case PR_GET_NAME: {
      const b = Buffer.alloc(TASK_COMM_LEN);
      Buffer.from(t.comm, 'latin1').copy(b, 0, 0, TASK_COMM_LEN - 1);
      t.mm.copyOut(arg2, b);
      return 0;
    }
    case PR_GET_SECCOMP:
      return seccompMode(t);
    case PR_SET_SECCOMP:
      if (arg2 === 1) return setStrict(t);
      if (arg2 === 2) return setFilter(t, 0, arg3);
      throw new Errno(E.EINVAL);
    case PR_CAPBSET_READ:
      need(capValid(arg2));
      return t.creds.capBounding & capBit(arg2) ? 1 : 0;
    case PR_CAPBSET_DROP: {
      if (!hasCapability(t.creds, CAP_SETPCAP)) throw new Errno(E.EPERM);
      need(capValid(arg2));
      const c = t.creds.clone();
      c.capBounding &= ~capBit(arg2);
      t.creds = c;
      return 0;
    }
    case PR_SET_CHILD_SUBREAPER:
      s.subreaper = arg2 !== 0;
      return 0;
    case PR_SET_NO_NEW_PRIVS:
      need(arg2 === 1 && noExtra);
      s.noNewPrivs = true;
      return 0;
    case PR_GET_NO_NEW_PRIVS:
      need(!arg2 && noExtra);
      return s.noNewPrivs ? 1 : 0;
    case PR_CAP_AMBIENT:
      return capAmbient(t, arg2, arg3, arg4, arg5);
    case PR_SET_TIMERSLACK:
      // Realtime tasks have no slack; 0 goes back to the value the process started with.
      if (t.sched.policy === 1 || t.sched.policy === 2) return 0;
      s.timerSlackNs = arg2 === 0 ? s.defaultTimerSlackNs : arg2;
      return 0;
    case PR_GET_TIMERSLACK:
      return t.sched.policy === 1 || t.sched.policy === 2 ? 0 : s.timerSlackNs;
    case PR_SET_MM:
      return setMm(t, arg2, arg3, arg4, arg5);
    case PR_GET_TSC:
      t.mm.writeI32(arg2, t.tscSigsegv ? PR_TSC_SIGSEGV : PR_TSC_ENABLE);
      return 0;
    case PR_SET_TSC: {
      // Linux takes arg2 as an unsigned int and ignores the other arguments.
      const mode = u32(arg2);
      need(mode === PR_TSC_ENABLE || mode === PR_TSC_SIGSEGV);
      // Only the host thread that runs the application can make rdtsc fault (and the vDSO with it).
      if (!t.ctx.setTsc) throw new Errno(E.EINVAL);
      t.tscSigsegv = mode === PR_TSC_SIGSEGV;
      t.ctx.setTsc(t.tscSigsegv);
      return 0;
    }
    case PR_GET_AUXV: {
      need(!arg4 && !arg5);
      const n = Math.min(SAVED_AUXV_SIZE, arg3);
      if (n > 0) {
        const b = Buffer.alloc(SAVED_AUXV_SIZE);
        t.mm.auxv.copy(b, 0, 0, Math.min(t.mm.auxv.length, SAVED_AUXV_SIZE));
        t.mm.copyOut(arg2, b.subarray(0, n));
      }
      return SAVED_AUXV_SIZE;
    }
    case PR_SET_MDWE: {
      const bits = arg2;
      need(!arg3 && !arg4 && !arg5 && bits >= 0 && bits <= (MDWE_REFUSE_EXEC_GAIN | MDWE_NO_INHERIT));
      need(!(bits & MDWE_NO_INHERIT) || (bits & MDWE_REFUSE_EXEC_GAIN) !== 0);
      // Set once: it can be set again as it is, never changed or cleared.
      if (t.mm.mdwe && t.mm.mdwe !== bits) throw new Errno(E.EPERM);
      t.mm.mdwe = bits;
      return 0;
    }
    case PR_GET_MDWE:
      need(!arg2 && !arg3 && !arg4 && !arg5);
      return t.mm.mdwe;
    default: // PR_SET_PTRACER (no Yama), PR_SET_VMA, ...
      t.kernel.logOnce(`prctl-${option}`, `prctl: option ${option} (0x${(option >>> 0).toString(16)}) is not supported: EINVAL`);
      throw new Errno(E.EINVAL);
  }
}


// PR_SET_MM_ARG_END (9) and PR_SET_MM_ENV_START (10) lie between these two and are taken by the same range check.
const PR_SET_MM_ARG_START = 8, PR_SET_MM_ENV_END = 11;
const PR_SET_MM_AUXV = 12, PR_SET_MM_MAP = 14, PR_SET_MM_MAP_SIZE = 15;
const PRCTL_MM_MAP_SIZE = 104; // sizeof(struct prctl_mm_map)
const MMAP_MIN_ADDR = 0x10000;

/**
 * PR_SET_MM: where /proc/PID/cmdline and environ read from (ARG_START..ENV_END),
 * for a caller with CAP_SYS_RESOURCE, checked as Linux checks it (the address
 * inside the user range and mapped, the pairs in order). The code, data, brk
 * and stack fields, AUXV, EXE_FILE and the whole-map form are EINVAL.
 */
function setMm(t: Task, opt: number, addr: number, arg4: number, arg5: number): number {
  if (arg5 || (arg4 && opt !== PR_SET_MM_AUXV && opt !== PR_SET_MM_MAP && opt !== PR_SET_MM_MAP_SIZE)) throw new Errno(E.EINVAL);
  if (opt === PR_SET_MM_MAP_SIZE) {
    t.mm.writeU32(addr, PRCTL_MM_MAP_SIZE);
    return 0;
  }
  if (!capable(t, CAP_SYS_RESOURCE)) throw new Errno(E.EPERM);
  if (opt < PR_SET_MM_ARG_START || opt > PR_SET_MM_ENV_END) {
    t.kernel.logOnce(`prctl-mm-${opt}`, `prctl(PR_SET_MM, ${opt}) is not supported: EINVAL`);
    throw new Errno(E.EINVAL);
  }
  if (addr >= TASK_SIZE || addr < MMAP_MIN_ADDR) throw new Errno(E.EINVAL);
  const mm = t.mm;
  const m = { argStart: mm.argStart, argEnd: mm.argEnd, envStart: mm.envStart, envEnd: mm.envEnd };
  const field = (['argStart', 'argEnd', 'envStart', 'envEnd'] as const)[opt - PR_SET_MM_ARG_START];
  m[field] = addr;
  need(m.argStart <= m.argEnd && m.envStart <= m.envEnd);
  if (!mm.vmas.lowerBound(addr)) throw new Errno(E.EFAULT); // Linux asks find_vma: a VMA at or above addr
  Object.assign(mm, m);
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 157, name: 'prctl', args: ['prctl_op', 'prctl_arg', 'prctl_arg', 'prctl_arg', 'prctl_arg'], fn: prctl,
    partial: 'supported: PDEATHSIG, DUMPABLE, KEEPCAPS, SECUREBITS, NAME (per process), GET/SET_SECCOMP, CAPBSET_READ/DROP, CHILD_SUBREAPER, NO_NEW_PRIVS, CAP_AMBIENT, TIMERSLACK, GET/SET_TSC (per thread, on the host thread that runs it), SET/GET_MDWE, GET_AUXV, SET_MM (ARG_START/END, ENV_START/END, MAP_SIZE; the other fields are EINVAL); PR_SET_PTRACER is EINVAL as without Yama; all other options (PR_SET_VMA, ...) are EINVAL' },
];
