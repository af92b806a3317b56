// SKELETON, being written by the kernel work: a Task is one application thread.
import type { MemoryAccess } from '../mm/access';
import type { FdTable } from '../vfs/fd_table';
import type { FsContext } from '../vfs/fs_context';
import type { Credentials } from './creds';
import type { WaitQueue } from './waitqueue';
import type { Kernel } from './kernel';

export class Task {
  tid = 1;
  declare mm: MemoryAccess;
  declare fdTable: FdTable;
  declare fs: FsContext;
  declare creds: Credentials;
  declare kernel: Kernel;

  get pid(): number {
    return this.tid;
  }

  /**
   * Block until q is notified with an event in mask, a signal interrupts
   * (rejects with Errno(EINTR)), or the monotonic deadline in ns passes (resolves 0).
   * Resolves with the events that woke the task.
   */
  block(_q: WaitQueue, _mask: number, _deadlineNs?: number): Promise<number> {
    throw new Error('not yet');
  }

  /** Send a signal to this thread (e.g. SIGPIPE on a broken pipe). */
  sendSignal(_sig: number): void {}
}
