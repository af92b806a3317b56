// System V message queues: msgget, msgsnd, msgrcv, msgctl (the queues are
// kernel/ipc/msg.ts, one namespace per sandbox).
import { E, Errno, ERESTARTNOHAND, ERESTARTSYS } from '../abi/errno';
import { ALL_EVENTS } from '../abi/waitqueue';
import { CAP_SYS_RESOURCE } from '../abi/capability';
import { hasCapability } from '../auth/creds';
import type { Task } from '../kernel/task';
import { i32, type SyscallDef } from '../kernel/syscall';
import { checkAccess, checkOwner, encodePerm, setPerm, getOrCreate, IPC_INFO, IPC_SET, newPerm } from '../kernel/ipc/ipc';
import { commonCtl, type CtlKind } from './sysv_ctl';
import { MSGMNB, MsgQueue } from '../kernel/ipc/msg';

const IPC_NOWAIT = 0o4000, MSG_NOERROR = 0o10000, MSG_EXCEPT = 0o20000, MSG_COPY = 0o40000;
const MSG_STAT = 11, MSG_INFO = 12, MSG_STAT_ANY = 13;

function msgget(t: Task, key: number, flags: number): number {
  const ns = t.nsproxy.ipc.msg;
  return getOrCreate(ns.set, t.creds, key, flags, ((flags >> 6) | (flags >> 3) | flags) & 7, () => {}, () =>
    new MsgQueue(newPerm(t.creds, key, flags), ns.msgmnb, t.kernel.realtimeNs(), t.heapBudget));
}

/** Wait on q's queue; a signal ends it with EINTR whatever SA_RESTART says (only a pause restarts it). */
async function waitOn(t: Task, q: MsgQueue): Promise<void> {
  try {
    await t.block(q.queue, ALL_EVENTS);
  } catch (e) {
    if (!(e instanceof Errno) || e.errno !== ERESTARTSYS) throw e;
    if (t.kernel.pausing && !t.hasInterruptingSignal()) throw new Errno(ERESTARTNOHAND);
    throw new Errno(E.EINTR);
  }
}

async function msgsnd(t: Task, id: number, addr: number, size: number, flags: number): Promise<number> {
  const ns = t.nsproxy.ipc.msg;
  if (size < 0 || size > ns.msgmax) throw new Errno(E.EINVAL);
  const type = t.mm.copyIn(addr, 8).readBigInt64LE(0);
  if (type < 1n) throw new Errno(E.EINVAL);
  const text = Buffer.from(t.mm.copyIn(addr + 8, size));
  const q = ns.set.get(id);
  checkAccess(t.creds, q.perm, 2);
  for (;;) {
    if (q.removed) throw new Errno(E.EIDRM);
    if (q.fits(size)) break;
    if (flags & IPC_NOWAIT) throw new Errno(E.EAGAIN);
    await waitOn(t, q);
  }
  q.push({ type, text });
  q.lspid = t.tg.pid;
  q.stimeNs = t.kernel.realtimeNs();
  q.queue.notify(ALL_EVENTS);
  return 0;
}

async function msgrcv(t: Task, id: number, addr: number, size: number, type: bigint, flags: number): Promise<number> {
  const ns = t.nsproxy.ipc.msg;
  if (size < 0) throw new Errno(E.EINVAL);
  if (flags & MSG_COPY && (!(flags & IPC_NOWAIT) || flags & MSG_EXCEPT)) throw new Errno(E.EINVAL);
  const q = ns.set.get(id);
  checkAccess(t.creds, q.perm, 4);
  for (;;) {
    if (q.removed) throw new Errno(E.EIDRM);
    // MSG_COPY: the message at index type, left on the queue.
    const i = flags & MSG_COPY ? (type >= 0n && type < BigInt(q.messages.length) ? Number(type) : -1) : q.find(type, (flags & MSG_EXCEPT) !== 0);
    if (i >= 0) {
      const m = q.messages[i];
      if (m.text.length > size && !(flags & MSG_NOERROR)) throw new Errno(E.E2BIG);
      const n = Math.min(size, m.text.length);
      const out = Buffer.alloc(8 + n);
      out.writeBigInt64LE(m.type, 0);
      m.text.copy(out, 8, 0, n);
      t.mm.copyOut(addr, out);
      if (!(flags & MSG_COPY)) {
        q.take(i);
        q.lrpid = t.tg.pid;
        q.rtimeNs = t.kernel.realtimeNs();
        q.queue.notify(ALL_EVENTS);
      }
      return n;
    }
    if (flags & IPC_NOWAIT) throw new Errno(E.ENOMSG);
    await waitOn(t, q);
  }
}

function msqidDs(q: MsgQueue): Buffer {
  const b = Buffer.alloc(120);
  encodePerm(b, 0, q.perm);
  b.writeBigInt64LE(BigInt(Math.floor(q.stimeNs / 1e9)), 48);
  b.writeBigInt64LE(BigInt(Math.floor(q.rtimeNs / 1e9)), 56);
  b.writeBigInt64LE(BigInt(Math.floor(q.ctimeNs / 1e9)), 64);
  b.writeBigUInt64LE(BigInt(q.bytes), 72);
  b.writeBigUInt64LE(BigInt(q.messages.length), 80);
  b.writeBigUInt64LE(BigInt(q.qbytes), 88);
  b.writeInt32LE(q.lspid, 96);
  b.writeInt32LE(q.lrpid, 100);
  return b;
}

const MSG_CTL: CtlKind<MsgQueue> = { stat: MSG_STAT, statAny: MSG_STAT_ANY, ds: msqidDs, dsSize: 120 };

function msgctl(t: Task, id: number, cmd: number, buf: number): number {
  const ns = t.nsproxy.ipc.msg;
  cmd &= ~0x100; // IPC_64
  switch (cmd) {
    case IPC_INFO: case MSG_INFO: {
      let msgs = 0, bytes = 0;
      for (const q of ns.set.values()) {
        msgs += q.messages.length;
        bytes += q.bytes;
      }
      const info = cmd === MSG_INFO;
      const b = Buffer.alloc(32);
      // struct msginfo: msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql, msgseg.
      [info ? ns.set.size : Math.floor((ns.msgmni * ns.msgmnb) / 1024), info ? msgs : MSGMNB, ns.msgmax, ns.msgmnb, ns.msgmni, 16, info ? bytes : MSGMNB]
        .forEach((v, i) => b.writeInt32LE(v, i * 4));
      b.writeUInt16LE(0xffff, 28);
      t.mm.copyOut(buf, b);
      return ns.set.maxIndex;
    }
    case IPC_SET: {
      const b = t.mm.copyIn(buf, 120);
      const q = ns.set.get(id);
      checkOwner(t.creds, q.perm);
      const qbytes = Number(b.readBigUInt64LE(88));
      if (qbytes > ns.msgmnb && !hasCapability(t.creds, CAP_SYS_RESOURCE)) throw new Errno(E.EPERM);
      q.qbytes = qbytes;
      setPerm(q.perm, b);
      q.ctimeNs = t.kernel.realtimeNs();
      q.queue.notify(ALL_EVENTS);
      return 0;
    }
  }
  const common = commonCtl(t, ns, MSG_CTL, cmd, id, buf);
  if (common === undefined) throw new Errno(E.EINVAL);
  return common;
}

export const defs: SyscallDef[] = [
  { nr: 68, name: 'msgget', args: ['int', 'hex'], fn: (t, a) => msgget(t, i32(a[0]), i32(a[1])) },
  { nr: 69, name: 'msgsnd', args: ['int', 'ptr', 'size', 'hex'], fn: (t, a) => msgsnd(t, i32(a[0]), a[1], a[2], i32(a[3])) },
  { nr: 70, name: 'msgrcv', args: ['int', 'ptr', 'size', 'long', 'hex'], fn: (t, a) => msgrcv(t, i32(a[0]), a[1], a[2], BigInt(a[3]), i32(a[4])) },
  {
    nr: 71, name: 'msgctl', args: ['int', 'int', 'ptr'], fn: (t, a) => msgctl(t, i32(a[0]), i32(a[1]), a[2]),
  },
];
