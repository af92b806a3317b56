// POSIX message queues (man 7 mq_overview): the named queues of one IPC
// namespace, messages ordered by priority then arrival, a registration for
// mq_notify, and the per-user RLIMIT_MSGQUEUE accounting. A queue is also
// the file that the namespace's mqueue file system shows (its mode, owner
// and times are the file's); that file system and the descriptions are
// fsimpl/mqueue.

import { E, Errno } from '../../abi/errno';
import { nowNs } from '../../host/clock';
import { WaitQueue } from '../../abi/waitqueue';
import { HEAP_COST, type HeapBudget } from '../../abi/accounting';
import type { FilesystemImpl } from '../../vfs/inode';

/** Linux's defaults and hard limits (ipc/mqueue.c, /proc/sys/fs/mqueue). */
export const MQ_PRIO_MAX = 32768;
export const HARD_MSGMAX = 65536, HARD_MSGSIZEMAX = 16 * 1024 * 1024;
/** The least msg_max and msg_default, msgsize_max and msgsize_default that /proc/sys/fs/mqueue accepts. */
export const MIN_MSGMAX = 1, MIN_MSGSIZEMAX = 128;
/** What struct msg_msg and a priority tree node cost in RLIMIT_MSGQUEUE's formula (x86-64). */
const MSG_MSG_SIZE = 48, TREE_NODE_SIZE = 40;
/** The size Linux gives a queue's file, and what each entry adds to the directory's (ipc/mqueue.c). */
export const FILENT_SIZE = 80, DIRENT_SIZE = 20;

export interface MqAttr {
  maxmsg: number;
  msgsize: number;
}

export interface MqNotify {
  /** The registered process (its pid). */
  pid: number;
  /** SIGEV_SIGNAL's signal, 0 for SIGEV_NONE. */
  signo: number;
  value: bigint;
}

export class MessageQueue {
  /** Messages by priority, highest first, each priority in arrival order. */
  private readonly byPrio = new Map<number, Buffer[]>();
  count = 0;
  bytes = 0;
  notify: MqNotify | null = null;
  /** Tasks blocked in mq_timedreceive (a notification is only sent when none is). */
  receivers = 0;
  readonly queue = new WaitQueue();
  unlinked = false;
  /** Open descriptions: the queue is freed when unlinked and closed by all. */
  opens = 0;
  /** The file's size (FILENT_SIZE; truncate(2) changes it and nothing else) and times. */
  size = FILENT_SIZE;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;

  /** budget: the sandbox's heap budget, charged for the messages. */
  constructor(
    readonly name: string, readonly attr: MqAttr, public uid: number, public gid: number, public mode: number,
    readonly owner: number, readonly rlimitBytes: number, private readonly budget: HeapBudget | null,
  ) {
    this.atimeNs = this.mtimeNs = this.ctimeNs = nowNs();
  }

  get full(): boolean {
    return this.count >= this.attr.maxmsg;
  }

  /** A send or a receive: Linux stamps all three times. */
  touch(): void {
    this.atimeNs = this.mtimeNs = this.ctimeNs = nowNs();
  }

  push(text: Buffer, prio: number): void {
    this.budget?.charge(text.length + 64, E.ENOMEM);
    let l = this.byPrio.get(prio);
    if (!l) this.byPrio.set(prio, (l = []));
    l.push(text);
    this.count++;
    this.bytes += text.length;
  }

  /** The oldest message of the highest priority. */
  shift(): [Buffer, number] | null {
    let best = -1;
    for (const p of this.byPrio.keys()) if (p > best) best = p;
    if (best < 0) return null;
    const l = this.byPrio.get(best)!;
    const m = l.shift()!;
    if (l.length === 0) this.byPrio.delete(best);
    this.count--;
    this.bytes -= m.length;
    this.budget?.uncharge(m.length + 64);
    return [m, best];
  }

  drain(): void {
    while (this.shift()) {}
  }

  /** The queue is gone: give back its own charge (MqNamespace.create's). */
  release(): void {
    this.budget?.uncharge(HEAP_COST.inode + this.name.length);
  }
}

/** RLIMIT_MSGQUEUE's charge for a queue with these attributes, as Linux computes it. */
export function mqBytes(a: MqAttr): number {
  return a.maxmsg * MSG_MSG_SIZE + Math.min(a.maxmsg, MQ_PRIO_MAX) * TREE_NODE_SIZE + a.maxmsg * a.msgsize;
}

/** Who creates a queue: its ids, RLIMIT_MSGQUEUE, and whether it has CAP_SYS_RESOURCE (over the initial user namespace, as Linux's capable()). */
export interface MqCreator {
  uid: number;
  fsuid: number;
  fsgid: number;
  rlimit: number;
  privileged: boolean;
  budget: HeapBudget | null;
}

export class MqNamespace {
  /** /proc/sys/fs/mqueue: queues_max, msg_max, msgsize_max, msg_default, msgsize_default. */
  queuesMax = 256;
  msgMax = 10;
  msgsizeMax = 8192;
  msgDefault = 10;
  msgsizeDefault = 8192;
  readonly queues = new Map<string, MessageQueue>();
  /** Live queues (unlinked but open ones too), against queues_max. */
  live = 0;
  /** RLIMIT_MSGQUEUE bytes in use, per user. */
  readonly userBytes = new Map<number, number>();
  /** The mqueue file system showing these queues (fsimpl/mqueue), made when first needed. */
  fs: FilesystemImpl | null = null;
  /** The file system's root directory: owned by whoever made the namespace; its times change with its entries. */
  rootMode = 0o1777;
  dirMtimeNs: bigint;
  dirCtimeNs: bigint;

  constructor(public rootUid = 0, public rootGid = 0) {
    this.dirMtimeNs = this.dirCtimeNs = nowNs();
  }

  /** A queue created without attributes (mq_open with none, open(2) in the file system): the defaults, capped by the maxima. */
  defaultAttr(): MqAttr {
    return { maxmsg: Math.min(this.msgMax, this.msgDefault), msgsize: Math.min(this.msgsizeMax, this.msgsizeDefault) };
  }

  /**
   * A new queue, by mq_open(O_CREAT) or open(2) with O_CREAT in the file
   * system: queues_max (unless privileged) and the creator's RLIMIT_MSGQUEUE
   * bound it. mode has the umask applied.
   */
  create(name: string, attr: MqAttr, mode: number, c: MqCreator): MessageQueue {
    this.checkRoom(c.privileged);
    const bytes = mqBytes(attr);
    const used = this.userBytes.get(c.uid) ?? 0;
    if (used + bytes > c.rlimit) throw new Errno(E.EMFILE);
    // The queue itself is Sentry heap too: a privileged creator (no queues_max) with no RLIMIT_MSGQUEUE is bounded here.
    c.budget?.charge(HEAP_COST.inode + name.length, E.ENOMEM);
    this.userBytes.set(c.uid, used + bytes);
    const q = new MessageQueue(name, attr, c.fsuid, c.fsgid, mode & 0o777, c.uid, bytes, c.budget);
    this.queues.set(name, q);
    this.live++;
    this.dirMtimeNs = this.dirCtimeNs = q.ctimeNs;
    return q;
  }

  /** queues_max, which Linux checks before it looks at a new queue's attributes (ENOSPC comes first). */
  checkRoom(privileged: boolean): void {
    if (this.live >= this.queuesMax && !privileged) throw new Errno(E.ENOSPC);
  }

  /** mq_unlink or unlink(2): the name goes now, the queue when its last description closes. */
  unlink(q: MessageQueue): void {
    this.queues.delete(q.name);
    q.unlinked = true;
    this.dirMtimeNs = this.dirCtimeNs = q.ctimeNs = nowNs();
    if (q.opens === 0) this.free(q);
  }

  /** The last opener closed an unlinked queue, or an unopened one was unlinked: give back its charge. */
  free(q: MessageQueue): void {
    q.drain();
    q.release();
    this.live--;
    this.userBytes.set(q.owner, (this.userBytes.get(q.owner) ?? 0) - q.rlimitBytes);
  }
}
