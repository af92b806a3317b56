// Signal-driven I/O (fcntl(2) "Managing signals"): the owner of a description
// (F_SETOWN, F_SETOWN_EX), the signal to send (F_SETSIG) and O_ASYNC (F_SETFL,
// FIOASYNC). While O_ASYNC is set, a waiter on the description's queue turns
// readiness events into signals to the owner. Files say which events count
// through asyncEvents(); for the others O_ASYNC is only a flag, as on Linux
// for files without fasync support.

import { E, Errno } from '../abi/errno';
import type { Kernel } from '../kernel/kernel';
import * as S from '../abi/signals';
import type { Task } from '../kernel/task';
import { pidNsOf } from '../kernel/pid_ns';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_RDNORM, EVENT_WRNORM, type Waiter } from '../abi/waitqueue';
import type { FileAsync, FileDescription } from '../vfs/file';
import { O_ASYNC } from '../abi/fs';

export const F_OWNER_TID = 0, F_OWNER_PID = 1, F_OWNER_PGRP = 2;
const SIGIO = 29;
const POLL_IN = 1, POLL_OUT = 2, POLL_MSG = 3;
import { POLLIN, POLLMSG, POLLOUT, POLLRDNORM, POLLWRBAND, POLLWRNORM } from '../abi/poll';
const SI_KERNEL = 0x80;

function stateOf(f: FileDescription): FileAsync {
  if (!f.async) f.async = { ownerType: F_OWNER_PID, owner: 0, sig: 0, fd: -1, waiter: null, landlock: null };
  return f.async;
}

/** Turns queue events of one description into signals to its owner. */
class SigioWaiter implements Waiter {
  constructor(private readonly k: Kernel, private readonly f: FileDescription, readonly mask: number) {}

  wake(events: number): void {
    const a = this.f.async;
    if (!a || a.owner === 0 || !(this.f.flags & O_ASYNC)) return;
    if (events & (EVENT_IN | EVENT_RDNORM | EVENT_HUP) & this.mask) this.send(a, POLL_IN, POLLIN | POLLRDNORM | POLLMSG);
    if (events & (EVENT_OUT | EVENT_WRNORM | EVENT_ERR) & this.mask) this.send(a, POLL_OUT, POLLOUT | POLLWRNORM | POLLWRBAND);
  }

  private send(a: FileAsync, reason: number, band: number): void {
    sendSigio(this.k, a, a.fd, reason, band);
  }
}

/**
 * Signal a description's owner: SIGIO without details, or its F_SETSIG
 * signal with si_code reason, si_band band and si_fd fd.
 */
export function sendSigio(k: Kernel, a: FileAsync, fd: number, reason: number, band: number): void {
  let info: S.SigInfo;
  if (a.sig === 0) info = { signo: SIGIO, code: SI_KERNEL };
  else {
    const raw = Buffer.alloc(128);
    raw.writeInt32LE(reason, 8); // si_code
    raw.writeBigInt64LE(BigInt(band), 16); // si_band
    raw.writeInt32LE(fd, 24); // si_fd
    info = { signo: a.sig, code: reason, raw };
  }
  k.signals.sendToOwner(a.ownerType, a.owner, info.signo, info, a.landlock);
}

/**
 * F_SETLEASE makes the caller's process the description's owner (as Linux's
 * lease set-up); a break signals it as a POLL_MSG event on fd.
 */
export function leaseNotifier(t: Task, f: FileDescription, fd: number): () => void {
  const a = stateOf(f);
  a.ownerType = F_OWNER_PID;
  a.owner = t.tg.pid;
  a.landlock = null;
  const k = t.kernel;
  return () => sendSigio(k, stateOf(f), fd, POLL_MSG, POLLIN | POLLRDNORM | POLLMSG);
}

/** Check that an owner exists (ESRCH otherwise), then record it; owner 0 clears. */
export function setOwner(t: Task, f: FileDescription, type: number, id: number): void {
  if (type !== F_OWNER_TID && type !== F_OWNER_PID && type !== F_OWNER_PGRP) throw new Errno(E.EINVAL);
  if (id < 0) throw new Errno(E.EINVAL);
  const k = t.kernel;
  // Kept kernel-wide: the caller names the owner in its PID namespace.
  const ns = pidNsOf(t);
  if (id !== 0 && ns.parent) id = ns.globalOf(id) || -1;
  if (id !== 0) {
    let found: boolean;
    if (type === F_OWNER_TID) found = k.tasks.has(id);
    else if (type === F_OWNER_PID) found = k.groups.has(id);
    else found = [...k.groups.values()].some((tg) => tg.pgid === id);
    if (!found) throw new Errno(E.ESRCH);
  }
  const a = stateOf(f);
  a.ownerType = type;
  a.owner = id;
  // Landlock's file_set_fowner hook: the setter's domain, unless the owner is in its own process (always allowed).
  const own = type === F_OWNER_TID ? k.tasks.get(id)?.tg === t.tg : type === F_OWNER_PID && id === t.tg.pid;
  a.landlock = own ? null : t.creds.landlock;
}

/** F_GETOWN: a process group is reported negated; numbers are the caller's PID namespace's. */
export function getOwner(t: Task, f: FileDescription): number {
  const a = f.async;
  if (!a) return 0;
  const id = pidNsOf(t).nrOfGlobal(a.owner);
  return a.ownerType === F_OWNER_PGRP ? -id : id;
}

export function getOwnerEx(t: Task, f: FileDescription): { type: number; id: number } {
  const a = f.async;
  return a ? { type: a.ownerType, id: pidNsOf(t).nrOfGlobal(a.owner) } : { type: 0, id: 0 };
}

export function setSig(f: FileDescription, sig: number): void {
  if (sig < 0 || sig > S.NSIG) throw new Errno(E.EINVAL);
  stateOf(f).sig = sig;
}

export function getSig(f: FileDescription): number {
  return f.async?.sig ?? 0;
}

/** Set or clear O_ASYNC through fd (F_SETFL, FIOASYNC), starting or stopping the signals. */
export function setAsync(t: Task, fd: number, f: FileDescription, on: boolean): void {
  const was = (f.flags & O_ASYNC) !== 0;
  if (on) f.flags |= O_ASYNC;
  else f.flags &= ~O_ASYNC;
  if (on === was) return;
  const a = stateOf(f);
  if (a.waiter) {
    f.eventUnregister(a.waiter);
    a.waiter = null;
  }
  const events = f.asyncEvents();
  if (!on || events === 0) return;
  a.fd = fd;
  a.waiter = new SigioWaiter(t.kernel, f, events);
  f.eventRegister(a.waiter);
}
