// poll, ppoll, select, pselect6: readiness of several file descriptions at
// once, through the one readiness interface of FileDescription: register a
// waiter on each (eventRegister; host-backed files arm their host watch
// there), check readiness(mask), sleep until a waiter is woken or the
// deadline passes, unregister.

import { E, Errno, ERESTART_RESTARTBLOCK, ERESTARTNOHAND, ERESTARTSYS } from '../abi/errno';
import { decodeTimespec, decodeTimeval, encodeTimespec, encodeTimeval, TIMESPEC_SIZE } from '../abi/time';
import type { Task } from '../kernel/task';
import { ALL_EVENTS, WaitQueue, type Waiter } from '../abi/waitqueue';
import type { FileDescription } from '../vfs/file';
import { i32, type SyscallDef } from '../kernel/syscall';

import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI } from '../abi/poll';
import { personalityOf } from './sys_info';

/** personality(2)'s STICKY_TIMEOUTS: select and poll leave the timeout as given. */
const STICKY_TIMEOUTS = 0x4000000;
const POLLRDNORM = 0x40, POLLRDBAND = 0x80, POLLWRNORM = 0x100;

interface Entry {
  fd: number;
  events: number;
  file: FileDescription | null;
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
    const wake = (ev: number): void => q.notify(ev);
    const subs: Array<{ file: FileDescription; w: Waiter }> = [];
    try {
      for (const e of entries) {
        if (!e.file) continue;
        const w: Waiter = { mask: e.events | POLLERR | POLLHUP, wake };
        e.file.eventRegister(w);
        subs.push({ file: e.file, w });
      }
      // Re-check after registering: readiness may have changed in between.
      const again = check();
      if (again.some((r) => r !== 0)) return again;
      const r = await t.block(q, ALL_EVENTS, deadline);
      if (r === 0 && deadline !== undefined) return check();
    } finally {
      for (const s of subs) s.file.eventUnregister(s.w);
    }
  }
}

function timeoutDeadline(t: Task, ms: number): number | undefined {
  if (ms < 0) return undefined;
  return t.kernel.monotonicNs() + ms * 1e6;
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

/**
 * poll: interrupted without a timeout, it restarts as it was; with one, it
 * goes on to the same deadline through restart_syscall (do_restart_poll).
 */
async function poll(t: Task, a: number[]): Promise<number> {
  return restartPoll(t, a[0], a[1], timeoutDeadline(t, i32(a[2])));
}

export async function restartPoll(t: Task, fds: number, nfds: number, deadline: number | undefined): Promise<number> {
  try {
    return await doPoll(t, fds, nfds, deadline);
  } catch (e) {
    if (!(e instanceof Errno) || e.errno !== ERESTARTSYS) throw e;
    if (deadline === undefined) throw new Errno(ERESTARTNOHAND);
    t.restartBlock = { kind: 'poll', fds, nfds, deadline };
    throw new Errno(ERESTART_RESTARTBLOCK);
  }
}

export async function withSigmask<T>(t: Task, maskAddr: number, size: number, fn: () => Promise<T>): Promise<T> {
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
  const tmo = timeoutArg(t, a[2], false);
  return withTimeLeft(t, tmo, () => withSigmask(t, a[3], a[4], () => doPoll(t, a[0], a[1], tmo?.deadline)));
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
  const tmo = timeoutArg(t, a[4], true);
  return withTimeLeft(t, tmo, () => doSelect(t, i32(a[0]), a[1], a[2], a[3], tmo?.deadline));
}

/** The timeout argument of select (a timeval) or ppoll/pselect6 (a timespec). */
interface TimeoutArg {
  addr: number;
  deadline: number;
  zero: boolean;
  asTimeval: boolean;
}

function timeoutArg(t: Task, addr: number, asTimeval: boolean): TimeoutArg | undefined {
  if (addr === 0) return undefined;
  const b = t.mm.copyIn(addr, TIMESPEC_SIZE);
  const ns = asTimeval ? decodeTimeval(b) : decodeTimespec(b);
  return { addr, deadline: t.kernel.monotonicNs() + ns, zero: ns === 0, asTimeval };
}

/**
 * select, pselect6 and ppoll write the time left back into the caller's
 * timeout on every return, an interrupted one included, so that their plain
 * restart (ERESTARTNOHAND) goes on with what is left (Linux's
 * poll_select_finish). A zero timeout is left alone; if the write faults,
 * an interrupted call reports EINTR rather than restart with the old value.
 * A process with the STICKY_TIMEOUTS personality keeps its timeout as given
 * (and so cannot restart either: EINTR).
 */
async function withTimeLeft(t: Task, tmo: TimeoutArg | undefined, fn: () => Promise<number>): Promise<number> {
  let ret: number | Errno;
  try {
    ret = await fn();
  } catch (e) {
    if (!(e instanceof Errno)) throw e;
    ret = e.errno === ERESTARTSYS ? new Errno(ERESTARTNOHAND) : e;
  }
  if (tmo && !tmo.zero && personalityOf(t.tg) & STICKY_TIMEOUTS) {
    if (ret instanceof Errno && ret.errno === ERESTARTNOHAND) ret = new Errno(E.EINTR);
  } else if (tmo && !tmo.zero) {
    const left = Math.max(0, tmo.deadline - t.kernel.monotonicNs());
    const b = Buffer.alloc(16);
    if (tmo.asTimeval) encodeTimeval(b, 0, left);
    else encodeTimespec(b, 0, left);
    try {
      t.mm.copyOut(tmo.addr, b);
    } catch (e) {
      if (!(e instanceof Errno)) throw e;
      if (ret instanceof Errno && ret.errno === ERESTARTNOHAND) ret = new Errno(E.EINTR);
    }
  }
  if (ret instanceof Errno) throw ret;
  return ret;
}

async function pselect6(t: Task, a: number[]): Promise<number> {
  const tmo = timeoutArg(t, a[4], false);
  let maskAddr = 0;
  let size = 0;
  if (a[5]) {
    const b = t.mm.copyIn(a[5], 16);
    maskAddr = Number(b.readBigUInt64LE(0));
    size = Number(b.readBigUInt64LE(8));
  }
  return withTimeLeft(t, tmo, () => withSigmask(t, maskAddr, size, () => doSelect(t, i32(a[0]), a[1], a[2], a[3], tmo?.deadline)));
}


export const defs: SyscallDef[] = [
  { nr: 7, name: 'poll', fn: poll, args: ['pollfd', 'uint', 'int'] },
  { nr: 271, name: 'ppoll', fn: ppoll, args: ['pollfd', 'uint', 'timespec', 'sigset_n', 'size'] },
  { nr: 23, name: 'select', fn: select, args: ['int', 'ptr', 'ptr', 'ptr', 'ptr'] },
  { nr: 270, name: 'pselect6', fn: pselect6, args: ['int', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr'] },
];
