// A userfaultfd (userfaultfd(2)): the context that serves the missing pages
// of the ranges it registered in the address space that made it. A task
// that touches one blocks (kernel/userfault.ts) and its message waits here
// until read(2) hands it to the handler; UFFDIO_COPY, ZEROPAGE or WAKE
// (ioctl.ts) wake it. Closing the last reference unregisters every range
// and wakes every waiter, whose pages then fill as unregistered memory does.
// With the UFFD_FEATURE_EVENT_* features it also queues the events of
// mm/userfault_events.ts (fork, mremap, munmap, madvise), read after the
// pending faults, a fork's with a new descriptor of the reader for the
// child's context. What it keeps is one message per blocked task (a task
// waits for each of its events in turn): bounded by the tasks.

import { E, Errno } from '../../abi/errno';
import { EVENT_ERR, EVENT_IN, EVENT_RDNORM } from '../../abi/waitqueue';
import { O_CLOEXEC, O_NONBLOCK, O_RDONLY } from '../../abi/fs';
import { PAGE_SIZE } from '../../abi/mm';
import {
  UFFD_USER_MODE_ONLY, UFFD_EVENT_FORK, UFFD_EVENT_PAGEFAULT, UFFD_FEATURE_EXACT_ADDRESS, UFFD_FEATURE_SIGBUS, UFFD_FEATURE_THREAD_ID, UFFD_MSG_SIZE,
} from '../../abi/userfaultfd';
import { AnonFile, type MaybePromise } from '../../vfs/file';
import type { FileCtx } from '../../vfs/ctx';
import type { MemoryManager } from '../../mm/mm';
import type { Task } from '../../kernel/task';
import { userfaultIoctl } from './ioctl';
import { PendingFault, unregisterAll, type UserfaultCtx } from '../../mm/userfault';
import type { UffdEvent } from '../../mm/userfault_events';

const READ_EVENTS = EVENT_IN | EVENT_RDNORM;

export class UserfaultFile extends AnonFile implements UserfaultCtx {
  /** UFFDIO_API done: the features chosen (Linux's UFFD_FEATURE_INITIALIZED). */
  initialized = false;
  features = 0;
  /** Messages not read yet, oldest first. */
  private readonly unread: PendingFault[] = [];
  /** Every task waiting, its message read or not (UFFDIO_WAKE wakes both). */
  private readonly waiting = new Set<PendingFault>();
  /** Events posted and not read yet, oldest first (each has its acting task waiting). */
  private readonly events: UffdEvent[] = [];
  changing = 0;
  released = false;

  constructor(
    /** The address space whose ranges it serves: the creator's, whoever uses the descriptor later (Linux's ctx->mm). */
    readonly mm: MemoryManager,
    flags: number,
    readonly userModeOnly: boolean,
    /** O_CLOEXEC at creation: a fork event's descriptor gets it too. */
    readonly cloexec = false,
  ) {
    super('[userfaultfd]', flags, true);
  }

  get sigbus(): boolean {
    return (this.features & UFFD_FEATURE_SIGBUS) !== 0;
  }

  /**
   * Readable while a message waits. An error before UFFDIO_API, and always
   * without O_NONBLOCK, as Linux's userfaultfd_poll (a message may be gone
   * before the read: only a non-blocking reader can poll safely).
   */
  override readiness(mask: number): number {
    if (!this.initialized || !(this.flags & O_NONBLOCK)) return EVENT_ERR;
    return this.unread.length > 0 || this.events.length > 0 ? READ_EVENTS & mask : 0;
  }

  post(ev: UffdEvent): void {
    this.events.push(ev);
    this.queue.notify(READ_EVENTS);
  }

  withdraw(ev: UffdEvent): void {
    this.changing--;
    const i = this.events.indexOf(ev);
    if (i >= 0) this.events.splice(i, 1);
    // A fork event nobody read: the child's context goes, and the child's ranges are registered no more (Linux's userfaultfd_release_new).
    if (!ev.read) ev.child?.abandon();
  }

  forkCtx(child: MemoryManager): UserfaultFile {
    const f = new UserfaultFile(child, this.flags, this.userModeOnly, this.cloexec);
    f.initialized = true;
    f.features = this.features;
    return f;
  }

  abandon(): void {
    this.decRef();
  }

  fault(addr: number, flags: number, tid: number): PendingFault {
    const at = this.features & UFFD_FEATURE_EXACT_ADDRESS ? addr : Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
    const pf = new PendingFault(at, flags, tid);
    this.unread.push(pf);
    this.waiting.add(pf);
    this.queue.notify(READ_EVENTS);
    return pf;
  }

  forget(pf: PendingFault): void {
    this.waiting.delete(pf);
    if (pf.read) return;
    const i = this.unread.indexOf(pf);
    if (i >= 0) this.unread.splice(i, 1);
  }

  /** Wake the tasks waiting for a page in [start, end). */
  wake(start: number, end: number): void {
    for (const pf of [...this.waiting]) {
      if (pf.addr >= start && pf.addr < end) pf.queue.notify(EVENT_IN);
    }
  }

  override ioctl(t: FileCtx, cmd: number, arg: number): number {
    return userfaultIoctl(t as Task, this, cmd, arg);
  }

  /**
   * As many messages as fit in len (EINVAL below one), pending faults
   * before events as Linux's; the first may block, the rest do not. A fork
   * event installs the child's context in the reader's table: when that
   * fails (EMFILE) the event stays, and the read fails unless it has
   * messages already.
   */
  override read(t: FileCtx, len: number, nowait = false): MaybePromise<Buffer> {
    if (!this.initialized || len < UFFD_MSG_SIZE) throw new Errno(E.EINVAL);
    if (this.unread.length === 0 && this.events.length === 0) {
      if (this.flags & O_NONBLOCK || nowait) throw new Errno(E.EAGAIN);
      return t.block(this, READ_EVENTS).then(() => this.read(t, len, nowait));
    }
    const max = Math.floor(len / UFFD_MSG_SIZE);
    const msgs: Buffer[] = [];
    while (msgs.length < max) {
      const m = Buffer.alloc(UFFD_MSG_SIZE);
      const pf = this.unread.shift();
      if (pf !== undefined) {
        pf.read = true;
        m.writeUInt8(UFFD_EVENT_PAGEFAULT, 0);
        m.writeBigUInt64LE(BigInt(pf.flags), 8);
        m.writeBigUInt64LE(BigInt(pf.addr), 16);
        if (this.features & UFFD_FEATURE_THREAD_ID) m.writeUInt32LE(pf.tid, 24);
      } else {
        const ev = this.events[0];
        if (ev === undefined) break;
        m.writeUInt8(ev.event, 0);
        if (ev.event === UFFD_EVENT_FORK) {
          let fd: number;
          try {
            fd = (t as Task).fdTable.install(ev.child as UserfaultFile, this.cloexec);
          } catch (e) {
            if (msgs.length === 0) throw e;
            break;
          }
          m.writeUInt32LE(fd, 8);
        } else {
          ev.args.forEach((a, i) => m.writeBigUInt64LE(BigInt(a), 8 + 8 * i));
        }
        this.events.shift();
        ev.read = true;
        ev.queue.notify(EVENT_IN);
      }
      msgs.push(m);
    }
    return Buffer.concat(msgs);
  }

  protected override release(): void {
    this.released = true;
    unregisterAll(this.mm, this);
    this.wake(0, Infinity);
    // The acting tasks stop waiting for events nobody will read.
    for (const ev of this.events) ev.queue.notify(EVENT_IN);
  }
}

/** A new userfaultfd in t's descriptor table (userfaultfd(2), USERFAULTFD_IOC_NEW); flags are checked here. */
export function newUserfaultfd(t: Task, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY)) throw new Errno(E.EINVAL);
  const f = new UserfaultFile(t.mm, O_RDONLY | (flags & O_NONBLOCK), (flags & UFFD_USER_MODE_ONLY) !== 0, (flags & O_CLOEXEC) !== 0);
  try {
    return t.fdTable.install(f, (flags & O_CLOEXEC) !== 0);
  } catch (e) {
    f.decRef();
    throw e;
  }
}
