// The narrow view of a task that the VFS and file systems use. The kernel's
// Task satisfies it; unit tests pass a small fake.
import type { Credentials } from '../auth/creds';
import type { Waitable } from '../abi/waitqueue';
import type { HeapBudget } from '../abi/accounting';
import type { FrameSource } from '../mm/mappable';

export interface FileCtx {
  creds: Credentials;
  readonly pid: number;
  /** Block until q (a queue or a file) reports an event in mask; rejects with Errno(EINTR) on a signal. */
  block(q: Waitable, mask: number, deadlineNs?: number): Promise<number>;
  sendSignal(sig: number): void;
  /** The sandbox's budget of Sentry heap for kernel objects (absent in unit tests). */
  readonly heapBudget?: HeapBudget;
  /** The memory file, where pipe buffers live (absent in unit tests). */
  readonly frames?: FrameSource;
}

/** Process group of a task, when the kernel provides one (used for terminal foreground groups). */
export function pgidOf(t: FileCtx): number {
  const g = (t as unknown as { tg?: { pgid?: number } }).tg?.pgid;
  return typeof g === 'number' ? g : t.pid;
}

/** Session id of a task (tg.sid in the kernel), or its pid. */
export function sidOf(t: FileCtx): number {
  const s = (t as unknown as { tg?: { sid?: number } }).tg?.sid;
  return typeof s === 'number' ? s : t.pid;
}

export const SIGPIPE = 13;
