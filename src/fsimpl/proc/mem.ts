// /proc/PID/mem: the process's memory at file offset = address, as a tracer
// sees it (gdb reads and writes through it; ptrace's PEEK/POKE are the same
// access). Opening needs ptrace access to the process; the address space is
// the one it had at open (an exec replaces it: EIO then, as Linux's file
// holds the old mm). Unmapped addresses and those beyond the application's
// top (the platform's stub) are EIO.

import { Errno, E } from '../../abi/errno';
import { ptraceMayAccess } from '../../kernel/ptrace';
import { tracerRead, tracerWrite } from '../../kernel/ptrace_regs';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import type { MemoryManager } from '../../mm/mm';
import type { VPath } from '../../vfs/dentry';
import type { FileCtx } from '../../vfs/ctx';
import { FileDescription, seekPosition } from '../../vfs/file';
import { S_IFREG, SEEK_CUR, SEEK_SET } from '../../abi/fs';
import { inoOf, ProcInode, type Entry, type NodeMaker } from './nodes';
import { callerOf, ensureExists, hasResources } from './task_info';
import type { ProcFs } from './procfs';

/** Reads and writes are cut into pieces of at most this size (as Linux's page-sized bounce buffer, larger). */
const CHUNK = 1 << 20;

class MemNode extends ProcInode {
  constructor(private readonly procfs: ProcFs, m: NodeMaker, private readonly tg: ThreadGroup, private readonly t: Task) {
    super(m.fs, inoOf(`${m.key}/mem`), S_IFREG | 0o600, m.owner, m.timeNs);
  }
  override open(ctx: unknown, path: VPath, flags: number): FileDescription {
    ensureExists(this.tg);
    if (!hasResources(this.tg, this.t)) throw new Errno(E.EACCES);
    const c = callerOf(this.procfs.kernel, ctx);
    if (c && !ptraceMayAccess(c, this.t)) throw new Errno(E.EACCES);
    return new MemFile(path, this, flags, this.t.mm);
  }
}

class MemFile extends FileDescription {
  /** Linux gives this file no splice operations (splice: EINVAL). */
  override canSplice(): boolean {
    return false;
  }

  constructor(path: VPath, node: MemNode, flags: number, private readonly mm: MemoryManager) {
    super(path, node, flags);
  }
  private live(): MemoryManager {
    if (this.mm.users === 0) throw new Errno(E.EIO);
    return this.mm;
  }
  override read(t: FileCtx, len: number): Buffer {
    const b = this.pread(t, len, this.offset);
    this.offset += b.length;
    return b;
  }
  override pread(_t: FileCtx, len: number, off: number): Buffer {
    const mm = this.live();
    const n = Math.min(len, CHUNK);
    // A read that starts on a mapped page and runs into a hole returns what it got.
    const out: Buffer[] = [];
    let done = 0;
    while (done < n) {
      const step = Math.min(n - done, 4096 - ((off + done) % 4096));
      try {
        out.push(tracerRead(mm, off + done, step));
      } catch (e) {
        if (done === 0) throw e;
        break;
      }
      done += step;
    }
    return Buffer.concat(out);
  }
  override write(t: FileCtx, data: Buffer): number {
    const n = this.pwrite(t, data, this.offset);
    this.offset += n;
    return n;
  }
  override pwrite(_t: FileCtx, data: Buffer, off: number): number {
    const mm = this.live();
    const n = Math.min(data.length, CHUNK);
    let done = 0;
    while (done < n) {
      const step = Math.min(n - done, 4096 - ((off + done) % 4096));
      try {
        tracerWrite(mm, off + done, data.subarray(done, done + step));
      } catch (e) {
        if (done === 0) throw e;
        break;
      }
      done += step;
    }
    return done;
  }
  override seek(off: number, whence: number): number {
    if (whence !== SEEK_SET && whence !== SEEK_CUR) throw new Errno(E.EINVAL);
    this.offset = seekPosition(this.offset, null, off, whence);
    return this.offset;
  }
}

/** The mem entry of a /proc/PID directory. */
export function memEntry(fs: ProcFs, m: NodeMaker, tg: ThreadGroup, t: Task): Entry {
  return ['mem', () => new MemNode(fs, m, tg, t)];
}
