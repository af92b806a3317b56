// POSIX message queues (man 7 mq_overview): named queues of one sandbox,
// messages ordered by priority then arrival, a registration for mq_notify,
// and the per-user RLIMIT_MSGQUEUE accounting. The file descriptions that
// open them are fsimpl/mqueue.

import { WaitQueue } from '../../abi/waitqueue';
import type { HeapBudget } from '../../abi/accounting';

/** Linux's defaults and hard limits (ipc/mqueue.c, /proc/sys/fs/mqueue). */
export const MQ_PRIO_MAX = 32768;
export const HARD_MSGMAX = 65536, HARD_MSGSIZEMAX = 16 * 1024 * 1024;
/** What struct msg_msg and a priority tree node cost in RLIMIT_MSGQUEUE's formula (x86-64). */
const MSG_MSG_SIZE = 48, TREE_NODE_SIZE = 40;

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

  constructor(readonly name: string, readonly attr: MqAttr, public uid: number, public gid: number, public mode: number, readonly owner: number, readonly rlimitBytes: number) {}

  get full(): boolean {
    return this.count >= this.attr.maxmsg;
  }

  push(text: Buffer, prio: number, budget: HeapBudget | null): void {
    budget?.charge(text.length + 64, 12 /* ENOMEM */);
    let l = this.byPrio.get(prio);
    if (!l) this.byPrio.set(prio, (l = []));
    l.push(text);
    this.count++;
    this.bytes += text.length;
  }

  /** The oldest message of the highest priority. */
  shift(budget: HeapBudget | null): [Buffer, number] | null {
    let best = -1;
    for (const p of this.byPrio.keys()) if (p > best) best = p;
    if (best < 0) return null;
    const l = this.byPrio.get(best)!;
    const m = l.shift()!;
    if (l.length === 0) this.byPrio.delete(best);
    this.count--;
    this.bytes -= m.length;
    budget?.uncharge(m.length + 64);
    return [m, best];
  }

  drain(budget: HeapBudget | null): void {
    while (this.shift(budget)) {}
  }
}

/** RLIMIT_MSGQUEUE's charge for a queue with these attributes, as Linux computes it. */
export function mqBytes(a: MqAttr): number {
  return a.maxmsg * MSG_MSG_SIZE + Math.min(a.maxmsg, MQ_PRIO_MAX) * TREE_NODE_SIZE + a.maxmsg * a.msgsize;
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

  /** The last opener closed an unlinked queue, or an unopened one was unlinked: give back its charge. */
  free(q: MessageQueue, budget: HeapBudget | null): void {
    q.drain(budget);
    this.live--;
    this.userBytes.set(q.owner, (this.userBytes.get(q.owner) ?? 0) - q.rlimitBytes);
  }
}
