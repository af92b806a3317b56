// dup, dup2, dup3, fcntl, flock.
import { fcntlNotify } from './dnotify';
import { capableInit } from '../auth/userns';
import { CAP_LEASE, CAP_SYS_RESOURCE } from '../abi/capability';
import { Errno, E } from '../abi/errno';
import type { Task } from '../kernel/task';
import { pidNsOf } from '../kernel/pid_ns';
import { PipeFile, pipeLimited } from '../fsimpl/pipe/pipe';
import type { FileDescription } from '../vfs/file';
import { checkOwner } from '../vfs/perm';
import { F_RDLCK, F_UNLCK, F_WRLCK } from '../vfs/locks';
import { FS_APPEND_FL, O_APPEND, O_ASYNC, O_CLOEXEC, O_DIRECT, O_NOATIME, O_NONBLOCK, O_PATH, S_IFMT, S_IFREG, SEEK_CUR, SEEK_END, SEEK_SET } from '../abi/fs';
import { F_OWNER_PGRP, F_OWNER_PID, getOwner, getOwnerEx, getSig, leaseNotifier, setAsync, setOwner, setSig } from './fasync';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { F_ADD_SEALS, F_GET_SEALS } from '../abi/memfd';
import { addSeals, getSeals } from './sys_memfd';

const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_GETLK = 5, F_SETLK = 6, F_SETLKW = 7;
const F_SETOWN = 8, F_GETOWN = 9, F_SETSIG = 10, F_GETSIG = 11, F_SETOWN_EX = 15, F_GETOWN_EX = 16;
const F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38;
const F_SETLEASE = 1024, F_GETLEASE = 1025, F_NOTIFY = 1026, F_DUPFD_CLOEXEC = 1030, F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032;
const SETFL_MASK = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;

/** struct flock {short type; short whence; off_t start; off_t len; pid_t pid} (32 bytes) -> absolute [start, end]. */
function readFlock(t: Task, f: FileDescription, addr: number): { type: number; start: number; end: number; raw: Buffer } {
  const raw = t.mm.copyIn(addr, 32);
  const type = raw.readInt16LE(0);
  const whence = raw.readInt16LE(2);
  let start = Number(raw.readBigInt64LE(8));
  const len = Number(raw.readBigInt64LE(16));
  if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) throw new Errno(E.EINVAL);
  if (whence === SEEK_CUR) start += f.offset;
  else if (whence === SEEK_END) start += f.stat().size;
  else if (whence !== SEEK_SET) throw new Errno(E.EINVAL);
  let end: number;
  if (len > 0) end = start + len - 1;
  else if (len === 0) end = Infinity;
  else {
    end = start - 1;
    start += len;
  }
  if (start < 0) throw new Errno(E.EINVAL);
  return { type, start, end, raw };
}

async function lockCmd(t: Task, f: FileDescription, cmd: number, arg: number): Promise<number> {
  const table = f.locks(true);
  if (!table) throw new Errno(E.EBADF);
  const ofd = cmd >= F_OFD_GETLK;
  const l = readFlock(t, f, arg);
  if (ofd && l.raw.readInt32LE(24) !== 0) throw new Errno(E.EINVAL); // l_pid must be 0 for OFD locks
  const owner: object = ofd ? f : t.fdTable;
  if (cmd === F_GETLK || cmd === F_OFD_GETLK) {
    if (l.type === F_UNLCK) throw new Errno(E.EINVAL);
    const c = table.test(owner, l.type, l.start, l.end);
    const out = Buffer.alloc(32);
    l.raw.copy(out);
    if (!c) out.writeInt16LE(F_UNLCK, 0);
    else {
      out.writeInt16LE(c.type, 0);
      out.writeInt16LE(SEEK_SET, 2);
      out.writeBigInt64LE(BigInt(c.start), 8);
      out.writeBigInt64LE(c.end === Infinity ? 0n : BigInt(c.end - c.start + 1), 16);
      // The holder as the caller's PID namespace numbers it (-1: an OFD lock).
      out.writeInt32LE(c.pid > 0 ? pidNsOf(t).nrOfGlobal(c.pid) : c.pid, 24);
    }
    t.mm.copyOut(arg, out);
    return 0;
  }
  if (l.type === F_RDLCK && !f.readable) throw new Errno(E.EBADF);
  if (l.type === F_WRLCK && !f.writable) throw new Errno(E.EBADF);
  await table.set(t, owner, ofd ? -1 : t.pid, l.type, l.start, l.end, cmd === F_SETLKW || cmd === F_OFD_SETLKW);
  return 0;
}

/** F_SETLEASE: regular files only (EINVAL), owned by the caller or with CAP_LEASE (EACCES); the rules are locks.ts's. */
function setLease(t: Task, fd: number, f: FileDescription, type: number): number {
  if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) throw new Errno(E.EINVAL);
  const inode = f.inode;
  if (!inode || !f.path || (inode.mode & S_IFMT) !== S_IFREG || !f.countsOpen) throw new Errno(E.EINVAL);
  const a = inode.attrs();
  if (t.creds.fsuid !== a.uid && !capableInit(t.creds, CAP_LEASE)) throw new Errno(E.EACCES);
  const opens = { descriptions: inode.openDescriptions, writers: inode.writeCount, holderWrites: f.writable };
  inode.lockTable().setLease(f, type, opens, leaseNotifier(t, f, fd));
  return 0;
}

async function fcntl(t: Task, fd: number, cmd: number, arg: number): Promise<number> {
  const f = t.fdTable.getRaw(fd);
  // An O_PATH descriptor allows only what treats it as a descriptor number.
  if (f.flags & O_PATH && cmd !== F_DUPFD && cmd !== F_DUPFD_CLOEXEC && cmd !== F_GETFD && cmd !== F_SETFD && cmd !== F_GETFL) throw new Errno(E.EBADF);
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      if (i32(arg) < 0 || i32(arg) >= t.fdTable.limit) throw new Errno(E.EINVAL);
      return t.fdTable.dup(fd, i32(arg), cmd === F_DUPFD_CLOEXEC);
    case F_GETFD:
      return t.fdTable.getCloexec(fd) ? 1 : 0;
    case F_SETFD:
      t.fdTable.setCloexec(fd, (arg & 1) !== 0);
      return 0;
    case F_GETFL:
      return f.flags;
    case F_SETFL:
      // An append-only file's descriptors keep O_APPEND.
      if ((u32(arg) ^ f.flags) & O_APPEND && f.inode && (f.inode.attrs().flags ?? 0) & FS_APPEND_FL) throw new Errno(E.EPERM);
      if (u32(arg) & O_NOATIME && !(f.flags & O_NOATIME) && f.inode) checkOwner(t.creds, f.stat());
      f.flags = (f.flags & ~SETFL_MASK & ~O_ASYNC) | (u32(arg) & SETFL_MASK & ~O_ASYNC) | (f.flags & O_ASYNC);
      setAsync(t, fd, f, (u32(arg) & O_ASYNC) !== 0);
      f.flagsChanged();
      return 0;
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      return lockCmd(t, f, cmd, arg);
    case F_GETPIPE_SZ:
      if (!(f instanceof PipeFile)) throw new Errno(E.EBADF);
      return f.pipeSize;
    case F_SETPIPE_SZ:
      if (!(f instanceof PipeFile)) throw new Errno(E.EBADF);
      return f.setPipeSize(u32(arg), capableInit(t.creds, CAP_SYS_RESOURCE), t.kernel.vfs.pipeMaxSize, pipeLimited(t.creds));
    case F_GETOWN:
      return getOwner(t, f);
    case F_SETOWN: {
      const id = i32(arg);
      setOwner(t, f, id < 0 ? F_OWNER_PGRP : F_OWNER_PID, Math.abs(id));
      return 0;
    }
    case F_GETOWN_EX: {
      const o = getOwnerEx(t, f);
      const b = Buffer.alloc(8);
      b.writeInt32LE(o.type, 0);
      b.writeInt32LE(o.id, 4);
      t.mm.copyOut(arg, b);
      return 0;
    }
    case F_SETOWN_EX: {
      const b = t.mm.copyIn(arg, 8);
      setOwner(t, f, b.readInt32LE(0), b.readInt32LE(4));
      return 0;
    }
    case F_GETSIG:
      return getSig(f);
    case F_SETSIG:
      setSig(f, i32(arg));
      return 0;
    case F_GETLEASE:
      return f.inode?.locks ? f.inode.locks.getLease(f) : F_UNLCK;
    case F_NOTIFY:
      return fcntlNotify(t, fd, f, u32(arg));
    case F_SETLEASE:
      return setLease(t, fd, f, i32(arg));
    case F_ADD_SEALS:
      return addSeals(t, f, u32(arg));
    case F_GET_SEALS:
      return getSeals(f);
    default:
      throw new Errno(E.EINVAL);
  }
}

export const defs: SyscallDef[] = [
  { nr: 32, name: 'dup', args: ['fd'], fn: (t, a) => t.fdTable.dup(i32(a[0])) },
  {
    nr: 33, name: 'dup2', args: ['fd', 'fd'],
    fn: (t, a) => {
      const oldfd = i32(a[0]);
      const newfd = i32(a[1]);
      return t.fdTable.dup2(oldfd, newfd, false);
    },
  },
  {
    nr: 292, name: 'dup3', args: ['fd', 'fd', 'fdflags'],
    fn: (t, a) => {
      const oldfd = i32(a[0]);
      const newfd = i32(a[1]);
      const flags = u32(a[2]);
      if (flags & ~O_CLOEXEC) throw new Errno(E.EINVAL);
      // Linux refuses newfd == oldfd before looking the descriptor up.
      if (oldfd === newfd) throw new Errno(E.EINVAL);
      return t.fdTable.dup2(oldfd, newfd, (flags & O_CLOEXEC) !== 0);
    },
  },
  {
    nr: 72, name: 'fcntl', args: ['fd', 'fcntl_cmd', 'fcntl_arg'], fn: (t, a) => fcntl(t, i32(a[0]), i32(a[1]), a[2]),
    partial: 'O_ASYNC signals (SIGIO or the F_SETSIG signal) are sent for pipes and FIFOs only, without the sender permission check',
  },
  {
    nr: 73, name: 'flock', args: ['fd', 'int'],
    fn: async (t, a) => {
      const f = t.fdTable.get(i32(a[0]));
      const table = f.locks(true);
      if (!table) throw new Errno(E.EBADF);
      await table.flock(t, f, i32(a[1]));
      return 0;
    },
  },
];
