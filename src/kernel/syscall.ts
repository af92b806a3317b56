// The shape of a system call handler and of a family's table entries.
// Arguments arrive as numbers: the register value read as a signed 64-bit
// integer, exact within +-2^53 (addresses, sizes, offsets, fds, flags). Use
// u32()/i32() for 32-bit C types. Handlers return the non-negative result or
// throw Errno; a handler that blocks returns a Promise.

import type { Task } from './task';

export type SyscallHandler = (t: Task, a: number[]) => number | Promise<number>;

/**
 * Argument kinds for --strace (decoders in src/kernel/strace/, one file per
 * family; an unknown kind prints as hex). Kinds ending in _out, and buf, are
 * decoded when the call returns (what the kernel wrote); the others at entry.
 * Numbers: 'int', 'uint', 'size', 'hex', 'oct', 'ptr', 'ptr_out'. Files: 'fd',
 * 'atfd', 'str' (path), 'openflags', 'access_mode', 'atflags', 'whence',
 * 'stat_out', 'dirents', 'fdpair_out'. Data: 'buf' (length = result), 'inbuf'
 * (length next), 'iovec', 'iovec_out', 'fcntl_cmd'/'fcntl_arg',
 * 'ioctl_req'/'ioctl_arg'. Processes: 'clone', 'argv', 'envp', 'wstatus_out',
 * 'wait_opts', 'futex_op'/'futex_arg', 'prctl_op'/'prctl_arg', 'rlimit'.
 * Signals: 'signal', 'sigset', 'sigaction', 'sigmask_how'. Time and memory:
 * 'clockid', 'timespec', 'timespec_out', 'timeval', 'itimerval', 'prot',
 * 'mapflags'. The full list is the decoder tables' keys.
 */
export interface SyscallDef {
  nr: number;
  name: string;
  fn: SyscallHandler;
  args?: string[];
  /** Set when only part of the Linux behaviour exists: what is missing (for COMPATIBILITY.md). */
  partial?: string;
}

export function u32(x: number): number {
  return x >>> 0;
}

export function i32(x: number): number {
  return x | 0;
}

