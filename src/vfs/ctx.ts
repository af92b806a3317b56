// The narrow view of a task that the VFS and file systems use. The kernel's
// Task satisfies it; unit tests pass a small fake.
import type { Credentials } from '../auth/creds';
import type { Waitable } from '../abi/waitqueue';
import type { HeapBudget } from '../abi/accounting';
import type { FrameSource } from '../mm/mappable';
import type { MemCharge } from '../platform/memcharge';

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
  /** The memory charge group of the task's address space: what its writes make the kernel hold is charged to it (absent in unit tests). */
  readonly memCharge?: MemCharge | null;
}

/** Process group of a task, when the kernel provides one (used for terminal foreground groups). */
export function pgidOf(t: FileCtx): number {
  const g = (t as unknown as { tg?: { pgid?: number } }).tg?.pgid;
  return typeof g === 'number' ? g : t.pid;
}

/**
 * The clock block() deadlines are in (the kernel's monotonic ns), read
 * through the task; without a kernel (unit tests) the Node process's own.
 */
export function monotonicOf(t: FileCtx): () => number {
  const k = (t as unknown as { kernel?: { monotonicNs?: () => number } }).kernel;
  if (k && typeof k.monotonicNs === 'function') return () => k.monotonicNs!();
  return () => Math.round(performance.now() * 1e6);
}

/** Session id of a task (tg.sid in the kernel), or its pid. */
export function sidOf(t: FileCtx): number {
  const s = (t as unknown as { tg?: { sid?: number } }).tg?.sid;
  return typeof s === 'number' ? s : t.pid;
}

export const SIGPIPE = 13;
