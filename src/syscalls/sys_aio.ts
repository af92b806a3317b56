// Linux native AIO: io_setup, io_destroy, io_submit, io_getevents, io_cancel.
// As Linux does for buffered files, a read, write or sync runs when it is
// submitted and its completion goes straight into the ring; the ring is an
// ordinary shared mapping in the process's memory (the context id is its
// address), laid out as Linux lays it out (struct aio_ring, then io_events),
// so libaio and programs that read the ring themselves work. Contexts go with
// io_destroy, exec and exit; the events they reserve are bounded sandbox-wide
// by fs.aio-max-nr (EAGAIN beyond), and each ring is one VMA (ENOMEM at
// max_map_count). IOCB_CMD_POLL waits (one shot) on the file's queue and
// is the one request io_cancel can end. Eventfd notification
// (IOCB_FLAG_RESFD) and per-request RWF_* flags are refused with EINVAL.

import { Errno, E, ERESTARTNOHAND, ERESTARTSYS } from '../abi/errno';
import { O_APPEND } from '../abi/fs';
import { PROT_READ, PROT_WRITE, TASK_SIZE } from '../abi/mm';
import { AIO_MAX_NR, AIO_RING_HEADER, AIO_RING_MAGIC, AioContext, IO_EVENT_SIZE } from '../kernel/aio';
import type { FamilyHooks } from '../kernel/lifecycle';
import type { Task } from '../kernel/task';
import type { ThreadGroup } from '../kernel/thread_group';
import { u32, type SyscallDef } from '../kernel/syscall';
import type { FileDescription } from '../vfs/file';
import { EVENT_ERR, EVENT_HUP, type Waiter } from '../abi/waitqueue';
import { beforeWrite } from './filelimits';
import { readIovecs } from './sysutil';
import { readTimespec } from './sys_time';
import { withSigmask } from './sys_poll';
import { checkExpand } from './vmlimits';

const IOCB_CMD_PREAD = 0, IOCB_CMD_PWRITE = 1, IOCB_CMD_FSYNC = 2, IOCB_CMD_FDSYNC = 3, IOCB_CMD_POLL = 5, IOCB_CMD_PREADV = 7, IOCB_CMD_PWRITEV = 8;
const IOCB_FLAG_RESFD = 1;
const IOCB_SIZE = 64;
const PAGE = 4096;
/** The most one request moves (sys_read_write.ts's bound for one call). */
const MAX_CHUNK = 64 * 1024 * 1024;

function contexts(tg: ThreadGroup): Map<number, AioContext> {
  if (!tg.aio) tg.aio = new Map();
  return tg.aio;
}

function lookup(t: Task, id: number): AioContext {
  const ctx = t.tg.aio?.get(id);
  if (!ctx || ctx.dead) throw new Errno(E.EINVAL);
  return ctx;
}

/** A long argument: negative when its 64-bit value has the sign bit. */
function long(v: number): number {
  return v >= 2 ** 63 ? -1 : v;
}

function ioSetup(t: Task, nrEvents: number, ctxp: number): number {
  if (t.mm.readBigU64(ctxp) !== 0n || nrEvents === 0) throw new Errno(E.EINVAL);
  // Linux doubles the request (and raises it to 4 per CPU) for its per-CPU counters.
  const slots = Math.max(nrEvents, t.kernel.hostInfo.ncpu * 4) * 2;
  if (slots > 0x10000000 / IO_EVENT_SIZE) throw new Errno(E.EINVAL);
  if (nrEvents > AIO_MAX_NR) throw new Errno(E.EAGAIN);
  const ringLen = Math.ceil((AIO_RING_HEADER + slots * IO_EVENT_SIZE) / PAGE) * PAGE;
  const nr = (ringLen - AIO_RING_HEADER) / IO_EVENT_SIZE;
  const k = t.kernel;
  const mm = t.mm;
  checkExpand(t, ringLen, false);
  const addr = mm.findFree(ringLen);
  mm.mapAt(addr, ringLen, PROT_READ | PROT_WRITE, true, null, 0);
  if (k.aioNr + nrEvents > AIO_MAX_NR) {
    mm.unmapRange(addr, ringLen);
    throw new Errno(E.EAGAIN);
  }
  const all = contexts(t.tg);
  const used = new Set([...all.values()].map((c) => c.index));
  let index = 0;
  while (used.has(index)) index++;
  const ctx = new AioContext(addr, index, nr, nrEvents, ringLen);
  const head = Buffer.alloc(AIO_RING_HEADER);
  [index, nr, 0, 0, AIO_RING_MAGIC, 1, 0, AIO_RING_HEADER].forEach((v, i) => head.writeUInt32LE(v >>> 0, i * 4));
  mm.kernelWrite(addr, head);
  k.aioNr += nrEvents;
  all.set(addr, ctx);
  try {
    mm.writeU64(ctxp, addr);
  } catch (e) {
    destroy(t, ctx);
    throw e;
  }
  return 0;
}

/** Unmap the ring (whatever is there now, as Linux does) and give back its reservation. */
function destroy(t: Task, ctx: AioContext): void {
  for (const p of [...ctx.polls.values()]) p.cancel();
  ctx.dead = true;
  t.tg.aio?.delete(ctx.id);
  t.kernel.aioNr -= ctx.maxReqs;
  ctx.queue.notify(0xffffffff);
  // A ring sealed by the application (mseal) stays mapped; the context is gone all the same, as on Linux.
  if (!t.mm.firstSealed(ctx.id, ctx.id + ctx.ringLen)) t.mm.unmapRange(ctx.id, ctx.ringLen);
}

/** Contexts die with the address space: at exec and exit, the ring already gone with the old memory. */
function dropAll(tg: ThreadGroup): void {
  const all = tg.aio;
  if (!all) return;
  for (const ctx of all.values()) {
    ctx.dead = true;
    for (const p of [...ctx.polls.values()]) p.cancel();
    ctx.queue.notify(0xffffffff);
  }
  let reserved = 0;
  for (const ctx of all.values()) reserved += ctx.maxReqs;
  tg.aio = null;
  const k = [...tg.tasks][0]?.kernel;
  if (k) k.aioNr -= reserved;
}

/** Events in the ring: from the head the application left to the kernel's tail. */
function ringHead(t: Task, ctx: AioContext): number {
  try {
    return t.mm.readU32(ctx.id + 8) % ctx.nr;
  } catch {
    return ctx.tail; // the ring was unmapped: nothing to read
  }
}

function pending(t: Task, ctx: AioContext): number {
  return (ctx.tail - ringHead(t, ctx) + ctx.nr) % ctx.nr;
}

function complete(t: Task, ctx: AioContext, data: bigint, obj: number, res: number): void {
  if (ctx.dead) return;
  const ev = Buffer.alloc(IO_EVENT_SIZE);
  ev.writeBigUInt64LE(data, 0);
  ev.writeBigUInt64LE(BigInt(obj), 8);
  ev.writeBigInt64LE(BigInt(res), 16);
  try {
    t.mm.kernelWrite(ctx.id + AIO_RING_HEADER + ctx.tail * IO_EVENT_SIZE, ev);
    ctx.tail = (ctx.tail + 1) % ctx.nr;
    t.mm.kernelWrite(ctx.id + 12, Buffer.from(Uint32Array.of(ctx.tail).buffer));
  } catch (e) {
    if (!(e instanceof Errno)) throw e; // the application unmapped its ring: the event is lost, as its memory is
  }
  ctx.queue.notify(0xffffffff);
}

function errnoOf(e: unknown): number {
  if (e instanceof Errno) return -e.errno;
  throw e;
}

/** Run one request's I/O; the result (bytes or -errno) is its completion. Errors of the request itself are thrown. */
function runIo(t: Task, f: FileDescription, op: number, buf: number, nbytes: number, off: number): number | Promise<number> {
  const vector = op === IOCB_CMD_PREADV || op === IOCB_CMD_PWRITEV;
  const raw = vector ? readIovecs(t, buf, nbytes) : [[buf, nbytes] as [number, number]];
  for (const [base, len] of raw) if (len && base + len > TASK_SIZE) throw new Errno(E.EFAULT);
  // As read and write: one request moves at most MAX_CHUNK (a short transfer), so no length makes the Sentry allocate more.
  let left = MAX_CHUNK;
  const iov = raw.map(([base, len]): [number, number] => {
    const n = Math.min(len, left);
    left -= n;
    return [base, n];
  });
  const total = MAX_CHUNK - left;
  if (off < 0) throw new Errno(E.EINVAL);
  try {
    if (op === IOCB_CMD_PREAD || op === IOCB_CMD_PREADV) {
      const scatter = (d: Buffer): number => {
        let done = 0;
        for (const [base, len] of iov) {
          const n = Math.min(len, d.length - done);
          if (n <= 0) break;
          t.mm.copyOut(base, d.subarray(done, done + n));
          done += n;
        }
        return done;
      };
      const d = f.pread(t, total, off);
      return d instanceof Promise ? d.then(scatter, errnoOf) : scatter(d);
    }
    const data = Buffer.concat(iov.map(([base, len]) => (len ? t.mm.copyIn(base, len) : Buffer.alloc(0))));
    const append = (f.flags & O_APPEND) !== 0;
    const n = beforeWrite(t, f, off, data.length, append);
    const w = append ? f.appendWrite(t, data.subarray(0, n), off) : f.pwrite(t, data.subarray(0, n), off);
    return w instanceof Promise ? w.catch(errnoOf) : w;
  } catch (e) {
    return errnoOf(e);
  }
}

/**
 * A pending IOCB_CMD_POLL: a waiter on the file's queue (holding a reference
 * to the file) until the file is ready, then one completion whose result is
 * the ready events, as the wake-up reported them.
 */
class AioPoll implements Waiter {
  readonly mask: number;

  constructor(private readonly t: Task, private readonly ctx: AioContext, private readonly f: FileDescription, private readonly data: bigint, private readonly addr: number, events: number) {
    this.mask = events | EVENT_ERR | EVENT_HUP;
  }

  start(): void {
    const ready = this.f.readiness(this.mask) & this.mask;
    if (ready) {
      complete(this.t, this.ctx, this.data, this.addr, ready);
      return;
    }
    this.f.incRef();
    this.f.eventRegister(this);
    this.ctx.polls.set(this.addr, this);
    this.ctx.inflight++;
  }

  wake(key: number): void {
    const res = key & this.f.readiness(0xffffffff);
    if (!(res & this.mask)) return;
    this.finish(res);
  }

  /** io_cancel: the request ends with result 0. */
  cancel(): void {
    this.finish(0);
  }

  private finish(res: number): void {
    this.f.eventUnregister(this);
    this.ctx.polls.delete(this.addr);
    this.ctx.inflight--;
    this.f.decRef();
    complete(this.t, this.ctx, this.data, this.addr, res);
  }
}

function submitOne(t: Task, ctx: AioContext, addr: number): void {
  const b = t.mm.copyIn(addr, IOCB_SIZE);
  if (b.readBigUInt64LE(48) !== 0n) throw new Errno(E.EINVAL); // aio_reserved2
  const nbytes = b.readBigUInt64LE(32);
  if (nbytes >= 1n << 63n) throw new Errno(E.EINVAL);
  if (ctx.inflight + pending(t, ctx) >= ctx.nr - 1) throw new Errno(E.EAGAIN);
  if (b.readUInt32LE(56) & IOCB_FLAG_RESFD) throw new Errno(E.EINVAL, 'IOCB_FLAG_RESFD (eventfd) is not supported');
  t.mm.writeU32(addr + 8, 0); // aio_key: KIOCB_KEY
  const op = b.readUInt16LE(16);
  const rwFlags = b.readInt32LE(12);
  const f = t.fdTable.get(b.readUInt32LE(20));
  const buf = Number(b.readBigUInt64LE(24));
  const off = Number(b.readBigInt64LE(40));
  const data = b.readBigUInt64LE(0);
  let res: number | Promise<number>;
  switch (op) {
    case IOCB_CMD_FSYNC:
    case IOCB_CMD_FDSYNC:
      if (buf || off || nbytes || rwFlags) throw new Errno(E.EINVAL);
      f.sync(op === IOCB_CMD_FDSYNC); // EINVAL for what cannot be synced, before anything is queued
      res = 0;
      break;
    case IOCB_CMD_PREAD:
    case IOCB_CMD_PREADV:
    case IOCB_CMD_PWRITE:
    case IOCB_CMD_PWRITEV: {
      const write = op === IOCB_CMD_PWRITE || op === IOCB_CMD_PWRITEV;
      if (write ? !f.writable : !f.readable) throw new Errno(E.EBADF);
      if (rwFlags) throw new Errno(E.EINVAL, 'per-request RWF_* flags are not supported');
      res = runIo(t, f, op, buf, Number(nbytes), off);
      break;
    }
    case IOCB_CMD_POLL:
      if (buf > 0xffff || off || nbytes || rwFlags || !f.canPoll()) throw new Errno(E.EINVAL);
      if (ctx.polls.has(addr)) throw new Errno(E.EINVAL);
      new AioPoll(t, ctx, f, data, addr, buf).start();
      return;
    default: // IOCB_CMD_NOOP and others are EINVAL on Linux too
      throw new Errno(E.EINVAL);
  }
  if (typeof res === 'number') {
    complete(t, ctx, data, addr, res);
    return;
  }
  ctx.inflight++;
  void res.then((r) => {
    ctx.inflight--;
    complete(t, ctx, data, addr, r);
  });
}

function ioSubmit(t: Task, id: number, nrArg: number, iocbpp: number): number {
  let nr = long(nrArg);
  if (nr < 0) throw new Errno(E.EINVAL);
  const ctx = lookup(t, id);
  nr = Math.min(nr, ctx.nr);
  let i = 0;
  for (; i < nr; i++) {
    try {
      submitOne(t, ctx, Number(t.mm.readBigU64(iocbpp + i * 8)));
    } catch (e) {
      if (i === 0 || !(e instanceof Errno)) throw e;
      break;
    }
  }
  return i;
}

/** Copy up to max events from the ring to the application, advancing the ring's head. */
function reap(t: Task, ctx: AioContext, max: number, out: number): number {
  const head = ringHead(t, ctx);
  const n = Math.min(max, pending(t, ctx));
  for (let i = 0; i < n; i++) {
    const slot = (head + i) % ctx.nr;
    t.mm.copyOut(out + i * IO_EVENT_SIZE, t.mm.copyIn(ctx.id + AIO_RING_HEADER + slot * IO_EVENT_SIZE, IO_EVENT_SIZE));
  }
  if (n) t.mm.writeU32(ctx.id + 8, (head + n) % ctx.nr);
  return n;
}

/** interrupted: what a signal that ends the wait with no event gives (io_getevents EINTR, io_pgetevents ERESTARTNOHAND). */
async function ioGetevents(t: Task, id: number, minArg: number, nrArg: number, events: number, timeout: number, interrupted: number = E.EINTR): Promise<number> {
  const min = long(minArg);
  const nr = long(nrArg);
  if (min > nr || min < 0 || nr < 0) throw new Errno(E.EINVAL);
  const ctx = lookup(t, id);
  const deadline = timeout ? t.kernel.monotonicNs() + readTimespec(t, timeout) : undefined;
  let got = 0;
  for (;;) {
    got += reap(t, ctx, nr - got, events + got * IO_EVENT_SIZE);
    if (got >= min || got >= nr || ctx.dead) return got;
    if (deadline !== undefined && t.kernel.monotonicNs() >= deadline) return got;
    try {
      await t.block(ctx.queue, 0xffffffff, deadline);
    } catch (e) {
      // A signal ends the wait with what was gathered, or EINTR; only a pause restarts it.
      if (e instanceof Errno && e.errno === ERESTARTSYS && !t.kernel.pausing) {
        if (got) return got;
        throw new Errno(interrupted);
      }
      throw e;
    }
  }
}

/** io_pgetevents: io_getevents with a signal mask in force while it waits (usig: {sigset_t *mask; size_t size}). */
function ioPgetevents(t: Task, a: number[]): Promise<number> {
  let mask = 0;
  let size = 0;
  if (a[5]) {
    const b = t.mm.copyIn(a[5], 16);
    mask = Number(b.readBigUInt64LE(0));
    size = Number(b.readBigUInt64LE(8));
  }
  return withSigmask(t, mask, size, () => ioGetevents(t, a[0], a[1], a[2], a[3], a[4], ERESTARTNOHAND));
}

function ioCancel(t: Task, id: number, iocb: number): number {
  // The iocb's key is read before the context is looked up (Linux's order: a bad pointer is EFAULT whatever the context).
  if (t.mm.readU32(iocb + 8) !== 0) throw new Errno(E.EINVAL); // not an iocb the kernel took
  const ctx = lookup(t, id);
  // Reads, writes and syncs completed when they were submitted; a waiting
  // poll is ended, its event (result 0) delivered through the ring.
  const p = ctx.polls.get(iocb);
  if (!p) throw new Errno(E.EINVAL);
  p.cancel();
  throw new Errno(E.EINPROGRESS);
}

export const hooks: FamilyHooks = { exec: dropAll, taskExit: (t) => dropAll(t.tg) };

const P = 'I/O runs when submitted (as Linux does for buffered files); IOCB_FLAG_RESFD and per-request RWF_* flags are EINVAL';

export const defs: SyscallDef[] = [
  { nr: 206, name: 'io_setup', fn: (t, a) => ioSetup(t, u32(a[0]), a[1]), args: ['uint', 'ptr'] },
  { nr: 207, name: 'io_destroy', fn: (t, a) => (destroy(t, lookup(t, a[0])), 0), args: ['hex'] },
  { nr: 209, name: 'io_submit', fn: (t, a) => ioSubmit(t, a[0], a[1], a[2]), args: ['hex', 'int', 'ptr'], partial: P },
  { nr: 208, name: 'io_getevents', fn: (t, a) => ioGetevents(t, a[0], a[1], a[2], a[3], a[4]), args: ['hex', 'int', 'int', 'ptr', 'timespec'] },
  { nr: 333, name: 'io_pgetevents', fn: ioPgetevents, args: ['hex', 'int', 'int', 'ptr', 'timespec', 'ptr'] },
  { nr: 210, name: 'io_cancel', fn: (t, a) => ioCancel(t, a[0], a[1]), args: ['hex', 'ptr', 'ptr'], partial: 'reads, writes and syncs complete at submission, so only a waiting IOCB_CMD_POLL can be cancelled (EINPROGRESS); others are EINVAL, as for a finished request' },
];
