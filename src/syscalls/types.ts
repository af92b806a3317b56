// The shape of a system call handler and of a family's table entries.
// Arguments arrive as numbers: the register value read as a signed 64-bit
// integer, exact within +-2^53 (addresses, sizes, offsets, fds, flags). Use
// u32()/i32() for 32-bit C types. Handlers return the non-negative result or
// throw Errno; a handler that blocks returns a Promise.

import type { Task } from '../kernel/task';

export type SyscallHandler = (t: Task, a: number[]) => number | Promise<number>;

/**
 * Argument formats for --strace decoding: 'fd', 'int', 'uint', 'hex', 'oct',
 * 'size', 'ptr', 'str' (NUL-terminated path/string), 'buf' (output buffer,
 * length in the next argument), 'inbuf' (input buffer, length next), 'signal',
 * 'openflags', 'atfd', 'clockid'. Unknown formats print as hex.
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

/** Linux's AT_FDCWD is -100 in an int argument. */
export const AT_FDCWD = -100;
