// PIDFD_GET_INFO (Linux 6.13; exit status 6.15, core dumps 6.16): what a
// pidfd's process is, asked through ioctl(2) with a struct pidfd_info the
// caller sizes (extensible: at least its first version's 64 bytes, at most
// what the ioctl number can say, 16383; the bytes past the kernel's struct
// are zeroed). Unasked the answer holds the process's numbers (PID), its
// credentials (CREDS) and its cgroup (CGROUPID); the exit status (EXIT) once
// the process is reaped, and only then; the core dump state (COREDUMP) when
// asked. A process outside the caller's PID namespace is ESRCH, as Linux
// before 6.18.14 (later: EREMOTE), the answer its LTP tests expect of the
// release the sandbox reports. The other pidfd ioctls (the namespace
// getters, Linux 6.11) are ENOTTY.
import { E, Errno } from '../abi/errno';
import { gidFrom, uidFrom } from '../auth/userns';
import { pidNsOf, tgidIn, type Pid } from '../kernel/pid_ns';
import type { Task } from '../kernel/task';
import type { FileDescription } from '../vfs/file';
import { stateOf } from './sys_info';
import { PidFdFile } from './sys_pidfd';

const PIDFS_IOCTL_MAGIC = 0xff;
const PIDFD_GET_INFO_NR = 11;
const IOC_READ_WRITE = 3;
/** PIDFD_INFO_SIZE_VER0, and the struct as this kernel fills it (VER1, with the core dump fields). */
const SIZE_VER0 = 64;
const SIZE_KERNEL = 72;

const PIDFD_INFO_PID = 1n;
const PIDFD_INFO_CREDS = 2n;
const PIDFD_INFO_CGROUPID = 4n;
const PIDFD_INFO_EXIT = 8n;
const PIDFD_INFO_COREDUMP = 16n;

const PIDFD_COREDUMPED = 1, PIDFD_COREDUMP_SKIP = 2, PIDFD_COREDUMP_USER = 4, PIDFD_COREDUMP_ROOT = 8;
/** The root cgroup's id, 1 as on Linux: a reaped process's (its own is not kept). */
const ROOT_CGROUP_ID = 1n;

/** The core dump mode bits for a dumpable setting (0 never, 1 as the user, 2 as root). */
function dumpMode(dumpable: number): number {
  return dumpable === 1 ? PIDFD_COREDUMP_USER : dumpable === 2 ? PIDFD_COREDUMP_ROOT : PIDFD_COREDUMP_SKIP;
}

/** Whether the caller's PID namespace is pid's own or an ancestor of it (null: a pid of the root namespace). */
function visibleTo(t: Task, pid: Pid | null): boolean {
  const mine = pidNsOf(t);
  return pid ? pid.nrIn(mine) !== 0 : mine.level === 0;
}

function pidfdInfo(t: Task, f: PidFdFile, size: number, arg: number): number {
  if (arg === 0) throw new Errno(E.EINVAL);
  const asked = t.mm.readBigU64(arg);
  const tg = f.tg;
  if (!visibleTo(t, tg ? tg.tgPid : f.deadPid)) throw new Errno(E.ESRCH);
  const out = Buffer.alloc(Math.max(size, SIZE_KERNEL));
  let mask = 0n;
  if (f.reaped) {
    // Only the exit information is left, and only for one who asks for it.
    if (!(asked & PIDFD_INFO_EXIT)) throw new Errno(E.ESRCH);
    mask |= PIDFD_INFO_EXIT | PIDFD_INFO_CGROUPID;
    out.writeInt32LE(f.exitStatus | 0, 60);
    if (asked & PIDFD_INFO_COREDUMP) {
      mask |= PIDFD_INFO_COREDUMP;
      out.writeUInt32LE(f.dumpedMode ? PIDFD_COREDUMPED | dumpMode(f.dumpedMode) : 0, 64);
    }
  } else {
    // A zombie whose threads a tracer still has to collect may have none left to name its credentials.
    if (!tg || tg.tasks.size === 0) throw new Errno(E.ESRCH);
    const ns = pidNsOf(t);
    const c = tg.leader.creds;
    const uns = t.creds.userns;
    const ids = [uidFrom(uns, c.uid), gidFrom(uns, c.gid), uidFrom(uns, c.euid), gidFrom(uns, c.egid), uidFrom(uns, c.suid), gidFrom(uns, c.sgid), uidFrom(uns, c.fsuid), gidFrom(uns, c.fsgid)];
    ids.forEach((v, i) => out.writeUInt32LE(v >>> 0, 28 + 4 * i));
    const pid = tgidIn(tg, ns);
    if (pid === 0) throw new Errno(E.ESRCH);
    out.writeUInt32LE(pid, 16); // pid: the process's, as its pidfd names its leader
    out.writeUInt32LE(pid, 20); // tgid
    out.writeUInt32LE(tg.parent ? tgidIn(tg.parent, ns) : 0, 24);
    mask |= PIDFD_INFO_PID | PIDFD_INFO_CREDS | PIDFD_INFO_CGROUPID;
    if (asked & PIDFD_INFO_COREDUMP) {
      mask |= PIDFD_INFO_COREDUMP;
      // A process that exited and dumped core reports the dump; a live one whether it would.
      const core = tg.zombie ? ((tg.exitStatus ?? 0) & 0x80 ? PIDFD_COREDUMPED | dumpMode(stateOf(tg).dumpable) : 0) : dumpMode(stateOf(tg).dumpable);
      out.writeUInt32LE(core, 64);
    }
  }
  out.writeBigUInt64LE(mask, 0);
  out.writeBigUInt64LE(tg && !f.reaped ? BigInt(t.kernel.cgroups.of(tg).id) : ROOT_CGROUP_ID, 8);
  t.mm.copyOut(arg, out.subarray(0, size));
  return 0;
}

/**
 * The answer to a pidfd request on f, or null when f is not a pidfd. The
 * request must be PIDFD_GET_INFO read-write with a size from the first
 * version up (ENOTTY otherwise, as Linux 6.18 validates extensible ioctls).
 */
export function pidfdIoctl(t: Task, f: FileDescription, cmd: number, arg: number): number | null {
  if (!(f instanceof PidFdFile)) return null;
  const dir = cmd >>> 30, size = (cmd >>> 16) & 0x3fff, type = (cmd >>> 8) & 0xff, nr = cmd & 0xff;
  if (dir !== IOC_READ_WRITE || type !== PIDFS_IOCTL_MAGIC || nr !== PIDFD_GET_INFO_NR || size < SIZE_VER0) throw new Errno(E.ENOTTY);
  return pidfdInfo(t, f, size, arg);
}
