// pipe, pipe2.
import { Errno, E } from '../abi/errno';
import type { Task } from '../kernel/task';
import { makePipe, pipeCharge, pipeStartLimit } from '../fsimpl/pipe/pipe';
import { O_CLOEXEC, O_DIRECT, O_NONBLOCK } from '../abi/fs';
import { u32, type SyscallDef } from '../kernel/syscall';

function pipe2(t: Task, addr: number, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) throw new Errno(E.EINVAL);
  const vfs = t.kernel.vfs;
  const [r, w] = makePipe(flags, t.mm.memfile.heap, vfs.pipefs, t.mm.memfile, pipeStartLimit(t.creds, vfs.pipeMaxSize), pipeCharge(t.creds, vfs.pipeUsers));
  const cloexec = (flags & O_CLOEXEC) !== 0;
  let rfd: number;
  try {
    rfd = t.fdTable.install(r, cloexec);
  } catch (e) {
    r.decRef();
    w.decRef();
    throw e;
  }
  let wfd: number;
  try {
    wfd = t.fdTable.install(w, cloexec);
  } catch (e) {
    t.fdTable.close(rfd);
    w.decRef();
    throw e;
  }
  const b = Buffer.alloc(8);
  b.writeInt32LE(rfd, 0);
  b.writeInt32LE(wfd, 4);
  try {
    t.mm.copyOut(addr, b);
  } catch (e) {
    t.fdTable.close(rfd);
    t.fdTable.close(wfd);
    throw e;
  }
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 22, name: 'pipe', args: ['fdpair_out'], fn: (t, a) => pipe2(t, a[0], 0) },
  { nr: 293, name: 'pipe2', args: ['fdpair_out', 'fdflags'], fn: (t, a) => pipe2(t, a[0], u32(a[1])) },
];
