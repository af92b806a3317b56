// The only module that touches the host file system (read-only). The Gofer
// process will replace it later, so the interface stays small: lstat,
// readdir, readlink, open for reading, pread, close. Paths are byte strings
// (latin1 JS strings) and are handed to the host as Buffers.
import * as fs from 'node:fs';

export interface HostStat {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  birthtimeNs: bigint;
}

/** A host error carrying the Linux errno. */
export class HostError extends Error {
  constructor(readonly errno: number, msg: string) {
    super(msg);
  }
}

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    const n = (e as { errno?: number }).errno;
    if (typeof n === 'number') throw new HostError(Math.abs(n), String((e as Error).message));
    throw e;
  }
}

const b = (p: string): Buffer => Buffer.from(p, 'latin1');

/** lstat, or null if the path does not exist. */
export function lstat(path: string): HostStat | null {
  const s = wrap(() => fs.lstatSync(b(path), { bigint: true, throwIfNoEntry: false }));
  if (!s) return null;
  return {
    dev: Number(s.dev), ino: Number(s.ino), mode: Number(s.mode), nlink: Number(s.nlink), uid: Number(s.uid), gid: Number(s.gid),
    rdev: Number(s.rdev), size: Number(s.size), blksize: Number(s.blksize), blocks: Number(s.blocks),
    atimeNs: s.atimeNs, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs, birthtimeNs: s.birthtimeNs,
  };
}

/** Names in a directory (without "." and ".."). */
export function readdir(path: string): string[] {
  return wrap(() => fs.readdirSync(b(path), { encoding: 'buffer' })).map((n) => n.toString('latin1'));
}

export function readlink(path: string): string {
  return wrap(() => fs.readlinkSync(b(path), { encoding: 'buffer' })).toString('latin1');
}

export function openRead(path: string): number {
  // O_NOFOLLOW: the VFS resolves symlinks itself; never let the host follow one out of the tree.
  return wrap(() => fs.openSync(b(path), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK));
}

export function pread(fd: number, buf: Buffer, off: number): number {
  return wrap(() => fs.readSync(fd, buf, 0, buf.length, off));
}

export function close(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* already closed: nothing to undo */
  }
}

/** fstat of a host fd donated to the sandbox (stdio). */
export function fstat(fd: number): HostStat {
  const s = wrap(() => fs.fstatSync(fd, { bigint: true }));
  return {
    dev: Number(s.dev), ino: Number(s.ino), mode: Number(s.mode), nlink: Number(s.nlink), uid: Number(s.uid), gid: Number(s.gid),
    rdev: Number(s.rdev), size: Number(s.size), blksize: Number(s.blksize), blocks: Number(s.blocks),
    atimeNs: s.atimeNs, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs, birthtimeNs: s.birthtimeNs,
  };
}

/** Canonical absolute path of a host path (resolves symlinks), or null if it does not exist. */
export function realpath(path: string): string | null {
  try {
    return fs.realpathSync(b(path), { encoding: 'buffer' }).toString('latin1');
  } catch {
    return null;
  }
}
