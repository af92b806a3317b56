// POSIX message queues: mq_open, mq_unlink, mq_timedsend, mq_timedreceive,
// mq_notify, mq_getsetattr (man 2 mq_open & co; the queues, one set per
// IPC namespace, are kernel/ipc/mqueue.ts, the descriptions and the mqueue
// file system fsimpl/mqueue).
import { E, Errno, ERESTARTNOHAND, ERESTARTSYS } from '../abi/errno';
import { CAP_SYS_RESOURCE, CAP_FOWNER } from '../abi/capability';
import { O_ACCMODE, O_CLOEXEC, O_CREAT, O_EXCL, O_NONBLOCK, O_RDONLY, O_WRONLY } from '../abi/fs';
import { ALL_EVENTS, EVENT_IN, EVENT_OUT } from '../abi/waitqueue';
import { NSIG, SIGEV_NONE, SIGEV_SIGNAL } from '../abi/signals';
import { decodeTimespec, TIMESPEC_SIZE } from '../abi/time';
import { RLIMIT_MSGQUEUE } from '../abi/resource';
import { type Credentials, hasCapability } from '../auth/creds';
import { capableInit, idsMapped } from '../auth/userns';
import type { Task } from '../kernel/task';
import { tgidIn } from '../kernel/pid_ns';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { HARD_MSGMAX, HARD_MSGSIZEMAX, MessageQueue, MQ_PRIO_MAX, type MqAttr } from '../kernel/ipc/mqueue';
import { MqFile } from '../fsimpl/mqueue/mqueue';
import { mqueueFsOf } from '../fsimpl/mqueue/fs';
import { vfsOf } from './sysutil';

const SI_MESGQ = -3;

function readName(t: Task, addr: number): string {
  const name = t.mm.readCString(addr, 4096);
  if (name.length > 255) throw new Errno(E.ENAMETOOLONG);
  if (name === '') throw new Errno(E.ENOENT);
  if (name.includes('/')) throw new Errno(E.EACCES);
  return name;
}

/** A capability over a queue counts in the caller's user namespace only when the queue's owner and group are mapped there. */
function capOverQueue(c: Credentials, cap: number, q: MessageQueue): boolean {
  return hasCapability(c, cap) && idsMapped(c.userns, q.uid, q.gid);
}

function permitted(t: Task, q: MessageQueue, want: number): boolean {
  const c = t.creds;
  let bits = q.mode;
  if (c.fsuid === q.uid) bits >>= 6;
  else if (c.inGroup(q.gid)) bits >>= 3;
  return (want & ~bits & 7) === 0 || capOverQueue(c, 1 /* CAP_DAC_OVERRIDE */, q);
}

function mqOpen(t: Task, nameAddr: number, oflag: number, mode: number, attrAddr: number): number {
  const ns = t.nsproxy.ipc.mq;
  const name = readName(t, nameAddr);
  const acc = oflag & O_ACCMODE;
  if (acc === O_ACCMODE) throw new Errno(E.EINVAL);
  let q = ns.queues.get(name);
  if (q) {
    if (oflag & O_CREAT && oflag & O_EXCL) throw new Errno(E.EEXIST);
    const want = acc === O_RDONLY ? 4 : acc === O_WRONLY ? 2 : 6;
    if (!permitted(t, q, want)) throw new Errno(E.EACCES);
  } else {
    if (!(oflag & O_CREAT)) throw new Errno(E.ENOENT);
    // Linux asks capable(): the initial user namespace decides, whichever IPC namespace the queue is in.
    const privileged = capableInit(t.creds, CAP_SYS_RESOURCE);
    ns.checkRoom(privileged);
    let attr: MqAttr = ns.defaultAttr();
    if (attrAddr) {
      const b = t.mm.copyIn(attrAddr, 64);
      attr = { maxmsg: Number(b.readBigInt64LE(8)), msgsize: Number(b.readBigInt64LE(16)) };
      if (attr.maxmsg <= 0 || attr.msgsize <= 0) throw new Errno(E.EINVAL);
      if (!privileged && (attr.maxmsg > ns.msgMax || attr.msgsize > ns.msgsizeMax)) throw new Errno(E.EINVAL);
      if (attr.maxmsg > HARD_MSGMAX || attr.msgsize > HARD_MSGSIZEMAX) throw new Errno(E.EINVAL);
    }
    const c = t.creds;
    q = ns.create(name, attr, mode & ~t.fs.umask, {
      uid: c.uid, fsuid: c.fsuid, fsgid: c.fsgid, rlimit: t.tg.rlimits[RLIMIT_MSGQUEUE].cur, privileged, budget: t.heapBudget,
    });
  }
  const node = mqueueFsOf(ns, vfsOf(t).devs, t.heapBudget).nodeOf(q);
  const f = new MqFile(q, ns, acc | (oflag & O_NONBLOCK), node, null);
  try {
    return t.fdTable.install(f, (oflag & O_CLOEXEC) !== 0);
  } catch (e) {
    f.decRef();
    throw e;
  }
}

function mqUnlink(t: Task, nameAddr: number): number {
  const ns = t.nsproxy.ipc.mq;
  const q = ns.queues.get(readName(t, nameAddr));
  if (!q) throw new Errno(E.ENOENT);
  // The mqueue root is a sticky, world-writable directory.
  if (t.creds.fsuid !== q.uid && !capOverQueue(t.creds, CAP_FOWNER, q)) throw new Errno(E.EACCES);
  ns.unlink(q);
  return 0;
}

function mqFile(t: Task, fd: number): MqFile {
  const f = t.fdTable.get(fd);
  if (!(f instanceof MqFile)) throw new Errno(E.EBADF);
  return f;
}

/** An absolute CLOCK_REALTIME timeout as a monotonic deadline (undefined: none). */
function deadlineOf(t: Task, addr: number): number | undefined {
  if (!addr) return undefined;
  const abs = decodeTimespec(t.mm.copyIn(addr, TIMESPEC_SIZE));
  return t.kernel.monotonicNs() + (abs - t.kernel.realtimeNs());
}

/** Block for events on q until the deadline: ETIMEDOUT after it, EINTR for a signal (never restarted, as Linux). */
async function wait(t: Task, f: MqFile, events: number, deadline: number | undefined): Promise<void> {
  if (f.flags & O_NONBLOCK) throw new Errno(E.EAGAIN);
  if (deadline !== undefined && t.kernel.monotonicNs() >= deadline) throw new Errno(E.ETIMEDOUT);
  try {
    const r = await t.block(f.mq.queue, events, deadline);
    if (r === 0 && deadline !== undefined) throw new Errno(E.ETIMEDOUT);
  } catch (e) {
    if (!(e instanceof Errno) || e.errno !== ERESTARTSYS) throw e;
    if (t.kernel.pausing && !t.hasInterruptingSignal()) throw new Errno(ERESTARTNOHAND);
    throw new Errno(E.EINTR);
  }
}

async function timedsend(t: Task, fd: number, msg: number, len: number, prio: number, tmo: number): Promise<number> {
  const deadline = deadlineOf(t, tmo);
  const f = mqFile(t, fd);
  if ((f.flags & O_ACCMODE) === O_RDONLY) throw new Errno(E.EBADF);
  if (len > f.mq.attr.msgsize) throw new Errno(E.EMSGSIZE);
  if (prio >= MQ_PRIO_MAX) throw new Errno(E.EINVAL);
  const text = Buffer.from(t.mm.copyIn(msg, len));
  const q = f.mq;
  while (q.full) await wait(t, f, EVENT_OUT, deadline);
  const wasEmpty = q.count === 0;
  q.push(text, prio);
  q.touch();
  // A notification goes out for a message on an empty queue nobody waits on.
  if (wasEmpty && q.notify && q.receivers === 0) {
    const n = q.notify;
    q.notify = null;
    const tg = t.kernel.groups.get(n.pid);
    if (tg && n.signo) {
      const raw = Buffer.alloc(128);
      raw.writeInt32LE(n.signo, 0);
      raw.writeInt32LE(SI_MESGQ, 8);
      // The sender as the receiver's PID namespace numbers it.
      const pid = tg.tgPid ? tgidIn(t.tg, tg.tgPid.ns) : t.tg.pid;
      raw.writeInt32LE(pid, 16);
      raw.writeUInt32LE(t.creds.uid, 20);
      raw.writeBigUInt64LE(n.value, 24);
      t.kernel.signals.sendToGroup(tg, n.signo, { signo: n.signo, code: SI_MESGQ, pid, uid: t.creds.uid, raw });
    }
  }
  q.queue.notify(ALL_EVENTS);
  return 0;
}

async function timedreceive(t: Task, fd: number, msg: number, len: number, prioAddr: number, tmo: number): Promise<number> {
  const deadline = deadlineOf(t, tmo);
  const f = mqFile(t, fd);
  if ((f.flags & O_ACCMODE) === O_WRONLY) throw new Errno(E.EBADF);
  if (len < f.mq.attr.msgsize) throw new Errno(E.EMSGSIZE);
  const q = f.mq;
  while (q.count === 0) {
    q.receivers++;
    try {
      await wait(t, f, EVENT_IN, deadline);
    } finally {
      q.receivers--;
    }
  }
  const [text, prio] = q.shift()!;
  q.touch();
  q.queue.notify(ALL_EVENTS);
  t.mm.copyOut(msg, text);
  if (prioAddr) t.mm.writeU32(prioAddr, prio);
  return text.length;
}

function notify(t: Task, fd: number, sevAddr: number): number {
  // The notification is read and checked before the descriptor (Linux's order: a bad sigevent is EINVAL even on a bad fd).
  const ev = sevAddr ? t.mm.copyIn(sevAddr, 64) : null;
  const value = ev ? ev.readBigUInt64LE(0) : 0n, signo = ev ? ev.readInt32LE(8) : 0, how = ev ? ev.readInt32LE(12) : SIGEV_NONE;
  if (how !== SIGEV_NONE && how !== SIGEV_SIGNAL) throw new Errno(E.EINVAL); // SIGEV_THREAD needs a netlink socket
  if (how === SIGEV_SIGNAL && (signo < 1 || signo > NSIG)) throw new Errno(E.EINVAL);
  const q = mqFile(t, fd).mq;
  if (!ev) {
    if (q.notify?.pid === t.tg.pid) q.notify = null;
    return 0;
  }
  if (q.notify && t.kernel.groups.has(q.notify.pid)) throw new Errno(E.EBUSY);
  q.notify = { pid: t.tg.pid, signo: how === SIGEV_SIGNAL ? signo : 0, value };
  return 0;
}

function getsetattr(t: Task, fd: number, newAddr: number, oldAddr: number): number {
  const nb = newAddr ? t.mm.copyIn(newAddr, 64) : null;
  const f = mqFile(t, fd);
  if (oldAddr) {
    const b = Buffer.alloc(64);
    b.writeBigInt64LE(BigInt(f.flags & O_NONBLOCK), 0);
    b.writeBigInt64LE(BigInt(f.mq.attr.maxmsg), 8);
    b.writeBigInt64LE(BigInt(f.mq.attr.msgsize), 16);
    b.writeBigInt64LE(BigInt(f.mq.count), 24);
    t.mm.copyOut(oldAddr, b);
  }
  if (nb) {
    const flags = Number(nb.readBigInt64LE(0));
    if (flags & ~O_NONBLOCK) throw new Errno(E.EINVAL);
    f.flags = (f.flags & ~O_NONBLOCK) | flags;
  }
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 240, name: 'mq_open', args: ['str', 'openflags', 'open_mode', 'ptr'], fn: (t, a) => mqOpen(t, a[0], i32(a[1]), u32(a[2]), a[3]) },
  { nr: 241, name: 'mq_unlink', args: ['str'], fn: (t, a) => mqUnlink(t, a[0]) },
  { nr: 242, name: 'mq_timedsend', args: ['fd', 'inbuf', 'size', 'uint', 'timespec'], fn: (t, a) => timedsend(t, i32(a[0]), a[1], a[2], u32(a[3]), a[4]) },
  { nr: 243, name: 'mq_timedreceive', args: ['fd', 'buf', 'size', 'ptr', 'timespec'], fn: (t, a) => timedreceive(t, i32(a[0]), a[1], a[2], a[3], a[4]) },
  {
    nr: 244, name: 'mq_notify', args: ['fd', 'ptr'], fn: (t, a) => notify(t, i32(a[0]), a[1]),
    partial: 'SIGEV_THREAD (a netlink socket from libc) is EINVAL',
  },
  { nr: 245, name: 'mq_getsetattr', args: ['fd', 'ptr', 'ptr'], fn: (t, a) => getsetattr(t, i32(a[0]), a[1], a[2]) },
];
