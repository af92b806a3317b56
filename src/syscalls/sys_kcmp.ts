// kcmp(2): whether two tasks share a kernel object (an open file, the
// address space, the fd table, the fs context, the signal handlers, the I/O
// context, the System V semaphore undo list, a file in an epoll set), as
// checkpointing tools and pidfd_getfd's callers ask. The answer is 0 for the
// same object and 1 or 2 otherwise, in an order scrambled per sandbox
// (kernel/kcmp_order.ts). Both tasks must be open to the caller as to a
// ptrace reader with real credentials (EPERM), found in its PID namespace
// (ESRCH).
//
// What each type compares here: KCMP_SYSVSEM the process's undo list, none
// until it holds an adjustment (processes do not share lists: CLONE_SYSVSEM
// is not kept across processes, so only threads compare equal once one
// exists); KCMP_IO the I/O context, which no task has (as Linux's before
// their first block I/O or ioprio_set), so it is always 0.
import { E, Errno } from '../abi/errno';
import { ptraceMayAccess } from '../kernel/ptrace';
import { vTask } from '../kernel/pid_ns';
import type { Task } from '../kernel/task';
import { i32, type SyscallDef } from '../kernel/syscall';
import { EpollFile } from '../vfs/epoll';
import type { FileDescription } from '../vfs/file';

const KCMP_FILE = 0, KCMP_VM = 1, KCMP_FILES = 2, KCMP_FS = 3, KCMP_SIGHAND = 4, KCMP_IO = 5, KCMP_SYSVSEM = 6, KCMP_EPOLL_TFD = 7;

/** fd's open file in task's table, O_PATH ones included as Linux's lookup takes them: EBADF if none. */
function fileOf(task: Task, fd: number): FileDescription {
  return task.fdTable.getRaw(fd);
}

/**
 * KCMP_EPOLL_TFD: idx1's file in task1 against the target registered in
 * task2's epoll set under slot { efd, tfd, toff } (struct kcmp_epoll_slot
 * at addr): EBADF without the files, EINVAL if efd is not an epoll set,
 * ENOENT if it has no toff-th entry for tfd.
 */
function epollTarget(t: Task, task1: Task, task2: Task, idx1: number, addr: number): number {
  const slot = t.mm.copyIn(addr, 12);
  const file = fileOf(task1, idx1);
  const ep = fileOf(task2, slot.readUInt32LE(0) | 0);
  if (!(ep instanceof EpollFile)) throw new Errno(E.EINVAL);
  const target = ep.targetFile(slot.readUInt32LE(4) | 0, slot.readUInt32LE(8));
  if (!target) throw new Errno(E.ENOENT);
  return t.kernel.kcmpOrder.compare(file, target);
}

/** The System V undo list of a process: none while it holds no adjustment. */
function semUndoOf(task: Task): object | null {
  return task.tg.semUndo.size ? task.tg.semUndo : null;
}

function kcmp(t: Task, pid1: number, pid2: number, type: number, idx1: number, idx2: number): number {
  const task1 = vTask(t, pid1);
  const task2 = vTask(t, pid2);
  if (!task1 || !task2 || task1.state === 'dead' || task2.state === 'dead') throw new Errno(E.ESRCH);
  if (!ptraceMayAccess(t, task1) || !ptraceMayAccess(t, task2)) throw new Errno(E.EPERM);
  const order = t.kernel.kcmpOrder;
  switch (type) {
    case KCMP_FILE:
      return order.compare(fileOf(task1, i32(idx1)), fileOf(task2, i32(idx2)));
    case KCMP_VM:
      return order.compare(task1.mm, task2.mm);
    case KCMP_FILES:
      return order.compare(task1.fdTable, task2.fdTable);
    case KCMP_FS:
      return order.compare(task1.fs, task2.fs);
    case KCMP_SIGHAND:
      return order.compare(task1.tg.actions, task2.tg.actions);
    case KCMP_IO:
      return order.compare(null, null);
    case KCMP_SYSVSEM:
      return order.compare(semUndoOf(task1), semUndoOf(task2));
    case KCMP_EPOLL_TFD:
      return epollTarget(t, task1, task2, i32(idx1), idx2);
    default:
      throw new Errno(E.EINVAL);
  }
}

export const defs: SyscallDef[] = [
  {
    nr: 312, name: 'kcmp', args: ['int', 'int', 'int', 'hex', 'hex'],
    partial: 'KCMP_IO is always 0 (no task has an I/O context); KCMP_SYSVSEM compares equal across processes only while neither holds an undo adjustment (CLONE_SYSVSEM is not kept between processes)',
    fn: (t, a) => kcmp(t, i32(a[0]), i32(a[1]), i32(a[2]), a[3], a[4]),
  },
];
