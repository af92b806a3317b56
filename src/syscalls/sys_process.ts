// Process creation, execution, exit, waiting, and process/session identity.

import type { Cgroup } from '../kernel/cgroup';
import { cgroupToCloneInto } from '../fsimpl/cgroupfs/cgroupfs';
import { E, Errno } from '../abi/errno';
import * as L from '../kernel/lifecycle';
import { VFORK_WAIT } from '../kernel/runner';
import * as S from '../abi/signals';
import type { Task } from '../kernel/task';
import type { ThreadGroup } from '../kernel/thread_group';
import type { ChildSelector } from '../kernel/wait';
import { i32, type SyscallDef } from '../kernel/syscall';
import { checkKill } from './sigperm';
import { encodeRusage, rusageOf } from '../kernel/rusage';
import { checkNproc } from './nproc';
import { nsCapable } from '../auth/userns';
import { CAP_CHECKPOINT_RESTORE, CAP_SYS_ADMIN } from '../abi/capability';
import { NEW_NS_FLAGS } from '../kernel/namespaces';
import { findGroup, findTask, pidNsOf, tgidIn, tidIn } from '../kernel/pid_ns';
import { copyStructIn, readPath, startOf } from './sysutil';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW } from '../abi/fs';
import { installPidfd, pidfdTarget } from './sys_pidfd';
import { CLONE_NEWTIME, CLONE_NEWUSER, CLONE_PARENT, CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_SIGHAND, CLONE_THREAD, CLONE_VFORK, CLONE_VM, WALL, WCLONE, WCONTINUED, WEXITED, WNOHANG, WNOTHREAD, WNOWAIT, WSTOPPED, WUNTRACED } from '../abi/sched';

const MAX_ARGS = 0x7fffffff;

function readStringArray(t: Task, addr: number): string[] {
  const out: string[] = [];
  if (addr === 0) return out;
  let total = 0;
  for (let i = 0; i < MAX_ARGS; i++) {
    const p = t.mm.readU64(addr + i * 8);
    if (p === 0) break;
    let s: string;
    try {
      s = t.mm.readCString(p, 131072 + 1);
    } catch (e) {
      // One string over MAX_ARG_STRLEN is "argument list too long", not a long name.
      if (e instanceof Errno && e.errno === E.ENAMETOOLONG) throw new Errno(E.E2BIG);
      throw e;
    }
    total += s.length + 1 + 8;
    if (total > 32 * 1024 * 1024) throw new Errno(E.E2BIG);
    out.push(s);
  }
  return out;
}

function spawn(t: Task, opts: Parameters<Task['kernel']['lifecycle']['clone']>[1]): number | Promise<number> {
  checkNproc(t);
  return t.kernel.lifecycle.clone(t, opts);
}

function clone(t: Task, a: number[]): number | Promise<number> {
  // x86-64 argument order: flags, newsp, parent_tidptr, child_tidptr, tls.
  const flags = a[0] >>> 0;
  const args = { flags: flags & ~0xff & ~CLONE_PIDFD, stack: a[1], parentTid: a[2], childTid: a[3], tls: a[4], exitSignal: flags & 0xff };
  if (!(flags & CLONE_PIDFD)) return spawn(t, args);
  // The pidfd goes where the parent's tid would: not both.
  if (flags & CLONE_PARENT_SETTID) throw new Errno(E.EINVAL);
  return cloneWithPidfd(t, args, a[2]);
}

/** clone with CLONE_PIDFD: the pidfd is written to pidfdAddr; not for a thread. */
function cloneWithPidfd(t: Task, args: L.CloneArgs, pidfdAddr: number): number | Promise<number> {
  if (args.flags & CLONE_THREAD) throw new Errno(E.EINVAL);
  checkNproc(t);
  // Made (and written out) before the child exists, so EMFILE or EFAULT leave no child behind.
  const { fd, file } = installPidfd(t, null, 0);
  let r: number | Promise<number>;
  try {
    t.mm.writeI32(pidfdAddr, fd);
    r = t.kernel.lifecycle.clone(t, args);
  } catch (e) {
    t.fdTable.close(fd);
    throw e;
  }
  const child = r === VFORK_WAIT ? t.vforkChild : findTask(t.kernel.tasks, pidNsOf(t), r as number);
  if (child) file.attach(child.tg);
  return r;
}

/** struct clone_args: its first version's size, and the most a caller may pass (the rest must be zero). */
const CLONE_ARGS_SIZE_VER0 = 64;
const CLONE_ARGS_MAX = 4096;
const CLONE_CLEAR_SIGHAND = 0x100000000;
const CLONE_INTO_CGROUP = 0x200000000;
const CLONE_DETACHED = 0x400000;

/**
 * clone3(struct clone_args *, size): clone's flags as 64 bits, the exit
 * signal and the pidfd's address apart, the stack as a base and a size.
 */
/**
 * clone3's set_tid, read here (EFAULT) with new namespaces refused without
 * CAP_SYS_ADMIN first (EPERM), as Linux orders them; each pid is then
 * checked level by level where it is taken (PidNamespace.alloc: its range,
 * CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN over that namespace, whether it is free).
 */
function readSetTid(t: Task, flags: number, setTid: bigint, count: number): NonNullable<L.CloneArgs['setTid']> {
  const raw = t.mm.copyIn(Number(setTid), count * 4);
  if (flags & NEW_NS_FLAGS & ~CLONE_NEWUSER && !(flags & CLONE_NEWUSER) && !nsCapable(t.creds, t.creds.userns, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  const tids = Array.from({ length: count }, (_, i) => raw.readInt32LE(4 * i));
  // The credentials of the caller at the call: the child's are a copy of them until it runs.
  const creds = t.creds;
  const mayChoose = (ns: { owner: Parameters<typeof nsCapable>[1] }) => nsCapable(creds, ns.owner, CAP_CHECKPOINT_RESTORE) || nsCapable(creds, ns.owner, CAP_SYS_ADMIN);
  return { tids, mayChoose };
}

function clone3(t: Task, addr: number, size: number): number | Promise<number> {
  if (size < CLONE_ARGS_SIZE_VER0) throw new Errno(E.EINVAL);
  if (size > CLONE_ARGS_MAX) throw new Errno(E.E2BIG);
  // A newer caller's extra fields are fine only if unused; an older one's missing fields read as zero.
  const raw = copyStructIn(t, addr, size, 88);
  const u64 = (off: number) => raw.readBigUInt64LE(off);
  const flags = u64(0), pidfd = u64(8), childTid = u64(16), parentTid = u64(24), exitSignal = u64(32);
  const stack = u64(40), stackSize = u64(48), tls = u64(56), setTid = u64(64), setTidSize = u64(72), cgroup = u64(80);
  const known = BigInt(0xffffff00 & ~CLONE_DETACHED) | BigInt(CLONE_NEWTIME) | BigInt(CLONE_CLEAR_SIGHAND) | BigInt(CLONE_INTO_CGROUP);
  // The exit signal has its own field: the rest of the low byte of flags (clone's CSIGNAL) is refused, as is CLONE_DETACHED;
  // CLONE_NEWTIME, in that byte, only clone3 can ask for.
  if (flags & ~known) throw new Errno(E.EINVAL);
  if (exitSignal > BigInt(S.NSIG) || (exitSignal !== 0n && (flags & BigInt(CLONE_THREAD | CLONE_PARENT)) !== 0n)) throw new Errno(E.EINVAL);
  if ((flags & BigInt(CLONE_CLEAR_SIGHAND)) !== 0n && (flags & BigInt(CLONE_SIGHAND)) !== 0n) throw new Errno(E.EINVAL);
  if (setTidSize > 32n || (setTid === 0n && setTidSize !== 0n) || (setTid !== 0n && setTidSize === 0n)) throw new Errno(E.EINVAL);
  // A stack is a base and a size, both or neither.
  if ((stack === 0n) !== (stackSize === 0n)) throw new Errno(E.EINVAL);
  if (stack + stackSize > 0x7fffffffffffn) throw new Errno(E.EINVAL);
  const chosen = setTidSize !== 0n ? readSetTid(t, Number(flags & 0xffffffffn), setTid, Number(setTidSize)) : undefined;
  const into = flags & BigInt(CLONE_INTO_CGROUP) ? intoCgroup(t, cgroup, size) : undefined;
  const low = Number(flags & 0xffffffffn);
  const args: L.CloneArgs = {
    flags: low & ~CLONE_PIDFD,
    // The stack grows down from the top of the area given.
    stack: Number(stack + stackSize),
    parentTid: Number(parentTid),
    childTid: Number(childTid),
    tls: Number(BigInt.asIntN(64, tls)),
    exitSignal: Number(exitSignal),
    clearSighand: (flags & BigInt(CLONE_CLEAR_SIGHAND)) !== 0n,
    setTid: chosen,
    cgroup: into,
  };
  if (low & CLONE_PIDFD) return cloneWithPidfd(t, args, Number(pidfd));
  return spawn(t, args);
}

/**
 * CLONE_INTO_CGROUP's target: an fd of a cgroup2 directory (EBADF for any
 * other file), a cgroup still there (ENOENT, as Linux's lookup of it) without controllers given to
 * children (EBUSY, the no-internal-process rule), with delegation's checks
 * on the caller (EACCES, ENOENT: fsimpl/cgroupfs/control.ts); EINVAL for an fd past
 * INT_MAX or a struct too old to have the field.
 */
function intoCgroup(t: Task, fd: bigint, size: number): Cgroup {
  if (fd > 0x7fffffffn || size < 88) throw new Errno(E.EINVAL);
  const inode = t.fdTable.getRaw(Number(fd)).inode; // O_PATH too, as Linux takes it (fget_raw)
  const c = inode ? cgroupToCloneInto(inode, t) : null;
  if (!c) throw new Errno(E.EBADF);
  return c;
}

/**
 * execve and execveat. A program found through a directory fd or an fd of
 * its own gets the name Linux makes up for it, /dev/fd/N or /dev/fd/N/path
 * (its AT_EXECFN, and a script's path as its interpreter sees it), and
 * cannot be a script if that fd is close-on-exec.
 */
function execveat(t: Task, dirfd: number, pathAddr: number, argvAddr: number, envpAddr: number, flags: number): number {
  if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) throw new Errno(E.EINVAL);
  const path = readPath(t, pathAddr);
  if (path === '' && !(flags & AT_EMPTY_PATH)) throw new Errno(E.ENOENT);
  const argv = readStringArray(t, argvAddr);
  // An empty argv gets an empty argv[0], as Linux adds since 5.18 (programs assume argc >= 1).
  if (argv.length === 0) argv.push('');
  const envp = readStringArray(t, envpAddr);
  const lc = t.kernel.lifecycle;
  const vfs = lc.execVfs;
  if (!vfs) throw new Error('no VFS for exec');
  const follow = !(flags & AT_SYMLINK_NOFOLLOW);
  const viaFd = dirfd !== AT_FDCWD && !path.startsWith('/');
  const cloexec = viaFd && t.fdTable.getCloexec(dirfd);
  if (path === '') {
    // An O_PATH descriptor names a file to execute: looked up raw.
    const vp = dirfd === AT_FDCWD ? t.fs.cwd : t.fdTable.getRaw(dirfd).path;
    const openFirst = () => {
      if (!vp) throw new Errno(E.EACCES); // a pipe, a socket
      return vfs.execFileAt(t, vp);
    };
    return lc.execve(t, viaFd ? `/dev/fd/${dirfd}` : '', argv, envp, { openFirst, pathInaccessible: cloexec, nameFromFile: true });
  }
  if (!viaFd && follow) return lc.execve(t, path, argv, envp);
  const start = startOf(t, dirfd, path);
  const name = viaFd ? `/dev/fd/${dirfd}/${path}` : path;
  return lc.execve(t, name, argv, envp, { openFirst: () => vfs.openForExec(t, path, start, follow), pathInaccessible: cloexec, nameFromFile: false });
}

/** The kernel-wide id of number nr in the caller's PID namespace (0: none); a pgid of the root namespace is taken as it is. */
function globalIn(t: Task, nr: number): number {
  const ns = pidNsOf(t);
  return ns.parent ? ns.globalOf(nr) : nr;
}

function selector(t: Task, pid: number): ChildSelector {
  if (pid === -1) return () => true;
  // A traced thread is waited for by its tid.
  if (pid > 0) {
    const g = globalIn(t, pid);
    return (c, tid) => g !== 0 && (tid ?? c.pid) === g;
  }
  if (pid === 0) {
    const pg = t.tg.pgid;
    return (c) => c.pgid === pg;
  }
  const pg = globalIn(t, -pid);
  return (c) => pg !== 0 && c.pgid === pg;
}

async function wait4(t: Task, a: number[]): Promise<number> {
  const pid = i32(a[0]);
  const statusAddr = a[1];
  const options = a[2] >>> 0;
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE)) throw new Errno(E.EINVAL);
  if (pid === -2147483648) throw new Errno(E.ESRCH);
  const r = await t.kernel.lifecycle.wait(t, selector(t, pid), options | WEXITED);
  if (!r) return 0;
  if (statusAddr) t.mm.writeI32(statusAddr, r.ev.status);
  if (a[3]) t.mm.copyOut(a[3], encodeRusage(rusageOf(r.tg, 'both')));
  const ns = pidNsOf(t);
  return r.task ? tidIn(r.task, ns) : tgidIn(r.tg, ns);
}

async function waitid(t: Task, a: number[]): Promise<number> {
  const idtype = i32(a[0]);
  const id = i32(a[1]);
  const infop = a[2];
  const options = a[3] >>> 0;
  const P_ALL = 0, P_PID = 1, P_PGID = 2, P_PIDFD = 3;
  if (options & ~(WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT | WNOTHREAD | WALL | WCLONE)) throw new Errno(E.EINVAL);
  if (!(options & (WEXITED | WSTOPPED | WCONTINUED))) throw new Errno(E.EINVAL);
  let sel: ChildSelector;
  if (idtype === P_ALL) sel = () => true;
  else if (idtype === P_PID) {
    if (id <= 0) throw new Errno(E.EINVAL);
    const g = globalIn(t, id);
    sel = (c, tid) => g !== 0 && (tid ?? c.pid) === g;
  } else if (idtype === P_PGID) {
    if (id < 0) throw new Errno(E.EINVAL);
    const pg = id === 0 ? t.tg.pgid : globalIn(t, id);
    sel = (c) => pg !== 0 && c.pgid === pg;
  } else if (idtype === P_PIDFD) {
    // A pidfd opened O_NONBLOCK makes the wait WNOHANG, and "nothing yet" EAGAIN unless the caller asked WNOHANG itself.
    const target = pidfdTarget(t, id);
    sel = (c) => c === target.tg;
    if (target.nonblock && !(options & WNOHANG)) {
      const r = await t.kernel.lifecycle.wait(t, sel, options | WNOHANG);
      if (!r) throw new Errno(E.EAGAIN);
      return waitidResult(t, r, infop, a[4]);
    }
  } else throw new Errno(E.EINVAL);
  const r = await t.kernel.lifecycle.wait(t, sel, options);
  return waitidResult(t, r, infop, a[4]);
}

function waitidResult(t: Task, r: Awaited<ReturnType<Task['kernel']['lifecycle']['wait']>>, infop: number, ru: number): number {
  if (infop) {
    if (!r) t.mm.copyOut(infop, Buffer.alloc(128));
    // The child's pid as the waiter's namespace numbers it.
    else t.mm.copyOut(infop, S.encodeSigInfo({ ...r.ev.si, signo: S.SIGCHLD, pid: pidNsOf(t).nrOfGlobal(r.ev.si.pid ?? 0) }));
  }
  // Linux writes the rusage only when a child was found.
  if (ru && r) t.mm.copyOut(ru, encodeRusage(rusageOf(r.tg, 'both')));
  return 0;
}

function kill(t: Task, pid: number, sig: number): number {
  if (sig < 0 || sig > S.NSIG) throw new Errno(E.EINVAL);
  const info: S.SigInfo = { signo: sig, code: S.SI_USER, pid: t.pid, uid: t.creds.uid };
  const k = t.kernel;
  k.signals.checkHardCap(sig);
  const ns = pidNsOf(t);
  const send = (tg: ThreadGroup, thread?: Task): void => {
    checkKill(t, tg, sig, thread);
    if (!tg.zombie && sig !== 0) k.signals.sendToGroup(tg, sig, info, k.signals.fromOutside(t, tg));
  };
  if (pid > 0) {
    // Any thread's id names its process (Linux finds the task, checks it, then signals its group).
    const tg = findGroup(k.groups, ns, pid);
    const task = tg ? undefined : findTask(k.tasks, ns, pid);
    if (!tg && !task) throw new Errno(E.ESRCH);
    send(tg ?? task!.tg, task); // a zombie still exists for kill(2)
    return 0;
  }
  // Linux: a group signal succeeds if any member took it, else fails with the
  // last member's error; -1 (everyone but init and the caller) never reports EPERM.
  // -1: every process the caller's namespace numbers, but its init and the caller.
  const pg = pid === 0 ? t.tg.pgid : pid === -1 ? 0 : globalIn(t, -pid);
  const targets = [...k.groups.values()].filter((tg) => (pid === -1 ? tgidIn(tg, ns) > 1 && tg !== t.tg : pg !== 0 && tg.pgid === pg));
  if (targets.length === 0) throw new Errno(E.ESRCH);
  let ok = false;
  let err: Errno | null = null;
  for (const tg of targets) {
    try {
      send(tg);
      ok = true;
    } catch (e) {
      if (!(e instanceof Errno)) throw e;
      if (pid !== -1 || e.errno !== E.EPERM) err = e;
    }
  }
  if (pid === -1 ? err : !ok && err) throw err;
  return 0;
}

/** tgkill, and tkill with tgid null (no process to match). */
function tgkill(t: Task, tgid: number | null, tid: number, sig: number): number {
  if (sig < 0 || sig > S.NSIG || tid <= 0 || (tgid !== null && tgid <= 0)) throw new Errno(E.EINVAL);
  const ns = pidNsOf(t);
  const target = findTask(t.kernel.tasks, ns, tid);
  if (!target || (tgid !== null && tgidIn(target.tg, ns) !== tgid)) throw new Errno(E.ESRCH);
  checkKill(t, target.tg, sig, target);
  t.kernel.signals.checkHardCap(sig);
  // SI_TKILL does not override the receiver's RLIMIT_SIGPENDING (kill's SI_USER does): a real-time signal past it is EAGAIN.
  if (sig >= S.SIGRTMIN) t.kernel.signals.checkQueueLimit(target.tg);
  if (sig) t.kernel.signals.sendToTask(target, sig, { signo: sig, code: S.SI_TKILL, pid: t.pid, uid: t.creds.uid }, t.kernel.signals.fromOutside(t, target.tg));
  return 0;
}

function setpgid(t: Task, pid: number, pgid: number): number {
  const k = t.kernel;
  if (pgid < 0) throw new Errno(E.EINVAL);
  const target = pid === 0 ? t.tg : findGroup(k.groups, pidNsOf(t), pid);
  if (!target || (target !== t.tg && target.parent !== t.tg)) throw new Errno(E.ESRCH);
  if (target !== t.tg) {
    // A child (a zombie too, until reaped) in the caller's session that has not exec'd yet.
    if (target.sid !== t.tg.sid) throw new Errno(E.EPERM);
    if (target.execed) throw new Errno(E.EACCES);
  }
  if (target.sid === target.pid) throw new Errno(E.EPERM); // a session leader
  const newPg = pgid === 0 ? target.pid : globalIn(t, pgid);
  if (newPg === 0) throw new Errno(E.EPERM);
  if (newPg !== target.pid) {
    const exists = [...k.groups.values()].some((g) => g.pgid === newPg && g.sid === t.tg.sid);
    if (!exists) throw new Errno(E.EPERM);
  }
  const old = target.pgid;
  target.pgid = newPg;
  k.releasePid(old);
  return 0;
}

function getpgid(t: Task, pid: number): number {
  const ns = pidNsOf(t);
  const tg = pid === 0 ? t.tg : findGroup(t.kernel.groups, ns, pid);
  if (!tg) throw new Errno(E.ESRCH);
  return ns.nrOfGlobal(tg.pgid);
}

function getsid(t: Task, pid: number): number {
  const ns = pidNsOf(t);
  const tg = pid === 0 ? t.tg : findGroup(t.kernel.groups, ns, pid);
  if (!tg) throw new Errno(E.ESRCH);
  return ns.nrOfGlobal(tg.sid);
}

function setsid(t: Task): number {
  const tg = t.tg;
  for (const g of t.kernel.groups.values()) if (g.pgid === tg.pid) throw new Errno(E.EPERM);
  const oldSid = tg.sid, oldPg = tg.pgid;
  tg.sid = tg.pid;
  tg.pgid = tg.pid;
  t.kernel.releasePid(oldSid);
  t.kernel.releasePid(oldPg);
  return tgidIn(tg, pidNsOf(t));
}

export const defs: SyscallDef[] = [
  { nr: 57, name: 'fork', fn: (t) => spawn(t, { flags: 0, stack: 0, parentTid: 0, childTid: 0, tls: 0, exitSignal: S.SIGCHLD }), args: [] },
  { nr: 58, name: 'vfork', fn: (t) => spawn(t, { flags: CLONE_VM | CLONE_VFORK, stack: 0, parentTid: 0, childTid: 0, tls: 0, exitSignal: S.SIGCHLD }), args: [] },
  { nr: 56, name: 'clone', fn: clone, args: ['clone', 'none', 'none', 'none', 'none'], partial: 'threads of a traced process are not traced; a new network namespace (CLONE_NEWNET) is as unshare(2) notes' },
  { nr: 435, name: 'clone3', fn: (t, a) => clone3(t, a[0], a[1]), args: ['ptr', 'size'], partial: 'EINVAL for what clone refuses' },
  { nr: 59, name: 'execve', fn: (t, a) => execveat(t, -100, a[0], a[1], a[2], 0), args: ['str', 'argv', 'envp'] },
  { nr: 322, name: 'execveat', fn: (t, a) => execveat(t, i32(a[0]), a[1], a[2], a[3], a[4]), args: ['atfd', 'str', 'argv', 'envp', 'atflags'] },
  { nr: 60, name: 'exit', fn: (t, a) => t.kernel.lifecycle.exit(t, a[0] & 0xff, false), args: ['int'] },
  { nr: 231, name: 'exit_group', fn: (t, a) => t.kernel.lifecycle.exit(t, a[0] & 0xff, true), args: ['int'] },
  { nr: 61, name: 'wait4', fn: wait4, args: ['int', 'wstatus_out', 'wait_opts', 'ptr_out'] },
  { nr: 247, name: 'waitid', fn: waitid, args: ['idtype', 'int', 'siginfo_out', 'waitid_opts', 'ptr_out'] },
  { nr: 39, name: 'getpid', fn: (t) => tgidIn(t.tg, pidNsOf(t)), args: [] },
  // 0 when the parent is outside the caller's PID namespace (the init of a nested one).
  { nr: 110, name: 'getppid', fn: (t) => (t.tg.parent ? tgidIn(t.tg.parent, pidNsOf(t)) : 0), args: [] },
  { nr: 186, name: 'gettid', fn: (t) => tidIn(t, pidNsOf(t)), args: [] },
  { nr: 218, name: 'set_tid_address', fn: (t, a) => { t.clearChildTid = a[0]; return tidIn(t, pidNsOf(t)); }, args: ['hex'] },
  { nr: 62, name: 'kill', fn: (t, a) => kill(t, i32(a[0]), i32(a[1])), args: ['int', 'signal'] },
  { nr: 234, name: 'tgkill', fn: (t, a) => tgkill(t, i32(a[0]), i32(a[1]), i32(a[2])), args: ['int', 'int', 'signal'] },
  { nr: 200, name: 'tkill', fn: (t, a) => tgkill(t, null, i32(a[0]), i32(a[1])), args: ['int', 'signal'] },
  { nr: 109, name: 'setpgid', fn: (t, a) => setpgid(t, i32(a[0]), i32(a[1])), args: ['int', 'int'] },
  { nr: 121, name: 'getpgid', fn: (t, a) => getpgid(t, i32(a[0])), args: ['int'] },
  { nr: 111, name: 'getpgrp', fn: (t) => pidNsOf(t).nrOfGlobal(t.tg.pgid), args: [] },
  { nr: 124, name: 'getsid', fn: (t, a) => getsid(t, i32(a[0])), args: ['int'] },
  { nr: 112, name: 'setsid', fn: setsid, args: [] },
];
