// System V message queues (man 2 msgget, msgsnd, msgrcv, msgctl). Message
// text lives in the Sentry heap: every message is charged to the sandbox's
// heap budget, besides each queue's own byte limit (msg_qbytes).

import { IpcSet, type IpcObject, type IpcPerm } from './ipc';
import { WaitQueue } from '../../abi/waitqueue';
import type { HeapBudget } from '../../abi/accounting';

/** Linux's defaults: MSGMNI, MSGMAX, MSGMNB. */
export const MSGMNI = 32000, MSGMAX = 8192, MSGMNB = 16384;
/** Sentry heap charged per message besides its text. */
const MESSAGE_COST = 96;

export interface Message {
  type: bigint;
  text: Buffer;
}

export class MsgQueue implements IpcObject {
  id = 0;
  readonly messages: Message[] = [];
  bytes = 0;
  qbytes: number;
  stimeNs = 0;
  rtimeNs = 0;
  ctimeNs: number;
  lspid = 0;
  lrpid = 0;
  removed = false;
  /** Woken when a message arrives or leaves, and at IPC_RMID. */
  readonly queue = new WaitQueue();

  constructor(readonly perm: IpcPerm, qbytes: number, nowNs: number, private readonly budget: HeapBudget | null) {
    this.qbytes = qbytes;
    this.ctimeNs = nowNs;
  }

  /** Whether a message of size bytes fits now (Linux also bounds the count by qbytes). */
  fits(size: number): boolean {
    return this.bytes + size <= this.qbytes && this.messages.length + 1 <= this.qbytes;
  }

  push(m: Message): void {
    this.budget?.charge(MESSAGE_COST + m.text.length, 12 /* ENOMEM */);
    this.messages.push(m);
    this.bytes += m.text.length;
  }

  take(i: number): Message {
    const [m] = this.messages.splice(i, 1);
    this.bytes -= m.text.length;
    this.budget?.uncharge(MESSAGE_COST + m.text.length);
    return m;
  }

  /** Index of the message msgrcv's type selects, or -1. */
  find(type: bigint, except: boolean): number {
    if (type === 0n) return this.messages.length ? 0 : -1;
    if (type > 0n) return this.messages.findIndex((m) => (except ? m.type !== type : m.type === type));
    let best = -1;
    for (let i = 0; i < this.messages.length; i++) {
      const t = this.messages[i].type;
      if (t <= -type && (best < 0 || t < this.messages[best].type)) best = i;
    }
    return best;
  }

  drop(): void {
    while (this.messages.length) this.take(0);
  }
}

export class MsgNamespace {
  msgmni = MSGMNI;
  msgmax = MSGMAX;
  msgmnb = MSGMNB;
  readonly set = new IpcSet<MsgQueue>(() => this.msgmni);

  /** IPC_RMID: messages go, waiters get EIDRM. */
  remove(q: MsgQueue): void {
    q.removed = true;
    this.set.remove(q);
    q.drop();
    q.queue.notify(0xffffffff);
  }
}
