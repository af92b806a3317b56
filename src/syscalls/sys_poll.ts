// poll, ppoll, select, pselect6: readiness of several file descriptions at
// once. Each description reports readiness(mask) and notifies its queue when
// that may change; host-backed descriptions arm a host watch first.

import { E, Errno, ERESTARTNOHAND, ERESTARTSYS } from '../abi/errno';
import type { Task } from '../kernel/task';
import { EVENT_ERR, EVENT_HUP, WaitQueue } from '../abi/waitqueue';
import type { FileDescription } from '../vfs/file';
import { i32, type SyscallDef } from '../kernel/syscall';

import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI } from '../abi/poll';
const POLLRDNORM = 0x40, POLLRDBAND = 0x80, POLLWRNORM = 0x100;

interface Entry {
  fd: number;
  events: number;
  file: FileDescription | null;
}

function arm(f: FileDescription, events: number): void {
  const w = (f as unknown as { watch?: (ev: number) => boolean }).watch;
  if (typeof w === 'function') w.call(f, events);
}

/** Wait until at least one entry is ready (or the deadline): returns revents per entry. */
async function waitReady(t: Task, entries: Entry[], deadline: number | undefined): Promise<number[]> {
  const check = (): number[] =>
    entries.map((e) => {
      if (e.fd < 0) return 0;
      if (!e.file) return POLLNVAL;
      return e.file.readiness(e.events | POLLERR | POLLHUP) & (e.events | POLLERR | POLLHUP);
    });
  for (;;) {
    const rev = check();
    if (rev.some((r) => r !== 0)) return rev;
    if (deadline !== undefined && t.kernel.monotonicNs() >= deadline) return rev;
    // One queue gathers every file's notifications.
    const q = new WaitQueue();
    const subs: Array<{ file: FileDescription; w: { mask: number; wake: (ev: number) => void } }> = [];
    for (const e of entries) {
      if (!e.file) continue;
      const w = { mask: 0xffffffff, wake: (ev: number) => q.notify(ev) };
      e.file.queue.add(w);
      subs.push({ file: e.file, w });
      arm(e.file, e.events);
    }
    try {
      // Re-check after subscribing: readiness may have changed in between.
      const again = check();
      if (again.some((r) => r !== 0)) return again;
      const r = await t.block(q, 0xffffffff | EVENT_ERR | EVENT_HUP, deadline);
      if (r === 0 && deadline !== undefined) return check();
    } finally {
      for (const s of subs) s.file.queue.remove(s.w);
    }
  }
}

function timeoutDeadline(t: Task, ms: number): number | undefined {
  if (ms < 0) return undefined;
  return t.kernel.monotonicNs() + ms * 1e6;
}

function tsDeadline(t: Task, addr: number): number | undefined {
  if (addr === 0) return undefined;
  const b = t.mm.copyIn(addr, 16);
  const sec = Number(b.readBigInt64LE(0));
  const nsec = Number(b.readBigInt64LE(8));
  if (sec < 0 || nsec < 0 || nsec >= 1e9) throw new Errno(E.EINVAL);
  return t.kernel.monotonicNs() + sec * 1e9 + nsec;
}

async function doPoll(t: Task, fdsAddr: number, nfds: number, deadline: number | undefined): Promise<number> {
  if (nfds > t.fdTable.limit || nfds < 0) throw new Errno(E.EINVAL);
  const raw = t.mm.copyIn(fdsAddr, nfds * 8);
  const entries: Entry[] = [];
  for (let i = 0; i < nfds; i++) {
    const fd = raw.readInt32LE(i * 8);
    const events = raw.readUInt16LE(i * 8 + 4);
    let file: FileDescription | null = null;
    if (fd >= 0) file = t.fdTable.lookup(fd);
    entries.push({ fd, events: events | 0, file });
  }
  const rev = await waitReady(t, entries, deadline);
  let n = 0;
  rev.forEach((r, i) => {
    raw.writeUInt16LE(r & 0xffff, i * 8 + 6);
    if (r) n++;
  });
  t.mm.copyOut(fdsAddr, raw);
  return n;
}

async function poll(t: Task, a: number[]): Promise<number> {
  try {
    return await doPoll(t, a[0], a[1], timeoutDeadline(t, i32(a[2])));
  } catch (e) {
    if (e instanceof Errno && e.errno === ERESTARTSYS) throw new Errno(ERESTARTNOHAND);
    throw e;
  }
}

async function withSigmask<T>(t: Task, maskAddr: number, size: number, fn: () => Promise<T>): Promise<T> {
  if (maskAddr === 0) return fn();
  if (size !== 8) throw new Errno(E.EINVAL);
  const mask = t.mm.readBigU64(maskAddr) & ~((1n << 8n) | (1n << 18n));
  const old = t.sigmask;
  t.sigmask = mask;
  try {
    const r = await fn();
    t.sigmask = old;
    return r;
  } catch (e) {
    // A handler runs with the temporary mask; the old one returns after it.
    t.savedSigmask = old;
    throw e;
  }
}

async function ppoll(t: Task, a: number[]): Promise<number> {
  const deadline = tsDeadline(t, a[2]);
  try {
    return await withSigmask(t, a[3], a[4], () => doPoll(t, a[0], a[1], deadline));
  } catch (e) {
    if (e instanceof Errno && e.errno === ERESTARTSYS) throw new Errno(ERESTARTNOHAND);
    throw e;
  }
}

async function doSelect(t: Task, nfds: number, rAddr: number, wAddr: number, eAddr: number, deadline: number | undefined): Promise<number> {
  if (nfds < 0 || nfds > t.fdTable.limit) throw new Errno(E.EINVAL);
  const bytes = Math.ceil(nfds / 64) * 8;
  const sets = [rAddr, wAddr, eAddr].map((p) => (p ? t.mm.copyIn(p, bytes) : null));
  const masks = [POLLIN | POLLRDNORM | POLLHUP | POLLERR, POLLOUT | POLLWRNORM | POLLERR, POLLPRI | POLLRDBAND];
  const entries: Entry[] = [];
  const owners: number[] = [];
  for (let fd = 0; fd < nfds; fd++) {
    let events = 0;
    sets.forEach((s, k) => {
      if (s && s[fd >> 3] & (1 << (fd & 7))) events |= [POLLIN, POLLOUT, POLLPRI][k];
    });
    if (!events) continue;
    if (!t.fdTable.has(fd)) throw new Errno(E.EBADF);
    // An O_PATH descriptor has no file to poll: select reports it in every set asked.
    entries.push({ fd, events, file: t.fdTable.lookup(fd) });
    owners.push(fd);
  }
  const rev = await waitReady(t, entries, deadline);
  const out = sets.map((s) => (s ? Buffer.alloc(s.length) : null));
  let n = 0;
  rev.forEach((r, i) => {
    const fd = owners[i];
    sets.forEach((s, k) => {
      if (!s || !(s[fd >> 3] & (1 << (fd & 7)))) return;
      if (r & (masks[k] | POLLNVAL)) {
        out[k]![fd >> 3] |= 1 << (fd & 7);
        n++;
      }
    });
  });
  [rAddr, wAddr, eAddr].forEach((p, k) => {
    if (p) t.mm.copyOut(p, out[k]!);
  });
  return n;
}

async function select(t: Task, a: number[]): Promise<number> {
  let deadline: number | undefined;
  if (a[4]) {
    const b = t.mm.copyIn(a[4], 16);
    const sec = Number(b.readBigInt64LE(0));
    const usec = Number(b.readBigInt64LE(8));
    if (sec < 0 || usec < 0 || usec >= 1e6) throw new Errno(E.EINVAL);
    deadline = t.kernel.monotonicNs() + sec * 1e9 + usec * 1e3;
  }
  try {
    const n = await doSelect(t, i32(a[0]), a[1], a[2], a[3], deadline);
    if (a[4]) writeRemaining(t, a[4], deadline!, 1e3);
    return n;
  } catch (e) {
    if (e instanceof Errno && e.errno === ERESTARTSYS) throw new Errno(ERESTARTNOHAND);
    throw e;
  }
}

function writeRemaining(t: Task, addr: number, deadline: number, unit: number): void {
  const left = Math.max(0, deadline - t.kernel.monotonicNs());
  const b = Buffer.alloc(16);
  b.writeBigInt64LE(BigInt(Math.floor(left / 1e9)), 0);
  b.writeBigInt64LE(BigInt(Math.floor((left % 1e9) / unit)), 8);
  t.mm.copyOut(addr, b);
}

async function pselect6(t: Task, a: number[]): Promise<number> {
  const deadline = tsDeadline(t, a[4]);
  let maskAddr = 0;
  let size = 0;
  if (a[5]) {
    const b = t.mm.copyIn(a[5], 16);
    maskAddr = Number(b.readBigUInt64LE(0));
    size = Number(b.readBigUInt64LE(8));
  }
  try {
    return await withSigmask(t, maskAddr, size, () => doSelect(t, i32(a[0]), a[1], a[2], a[3], deadline));
  } catch (e) {
    if (e instanceof Errno && e.errno === ERESTARTSYS) throw new Errno(ERESTARTNOHAND);
    throw e;
  }
}


export const defs: SyscallDef[] = [
  { nr: 7, name: 'poll', fn: poll, args: ['pollfd', 'uint', 'int'] },
  { nr: 271, name: 'ppoll', fn: ppoll, args: ['pollfd', 'uint', 'timespec', 'sigset_n', 'size'] },
  { nr: 23, name: 'select', fn: select, args: ['int', 'ptr', 'ptr', 'ptr', 'ptr'] },
  { nr: 270, name: 'pselect6', fn: pselect6, args: ['int', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr'] },
];
