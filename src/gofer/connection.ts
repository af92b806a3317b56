// The socket to one Gofer (gofer/channel.ts), shared by the clients of its
// trees (gofer/client.ts, gofer/client_rw.ts): the hello, and one blocking
// request and reply at a time.
import { HostError } from '../host/hostfs';
import * as libc from '../host/libc';
import { Channel, ChannelClosed } from './channel';
import { GoferClient, type GoferClientLimits } from './client';
import { WritableGoferClient } from './client_rw';
import { MAX_REPLY, type Op, Reader, Writer } from './protocol';

const EIO = 5;

/** The socket to one Gofer, shared by the clients of its trees. */
export class GoferConnection {
  private readonly ch: Channel;
  private readonly w = new Writer(1024);
  /** Per tree: served writable; null until the Gofer's hello (read at the first tree() call, so its start-up overlaps the Sentry's). */
  private writable: boolean[] | null = null;
  /** Requests sent since start (tests and the benchmark count round trips with it), and per op code (--stats). */
  roundTrips = 0;
  readonly perOp = new Map<number, number>();

  constructor(fd: number) {
    this.ch = new Channel(fd, MAX_REPLY);
  }

  private hello(): boolean[] {
    if (this.writable) return this.writable;
    const { r } = this.recv();
    const w: boolean[] = [];
    for (let i = r.u32(); i > 0; i--) w.push(r.u8() !== 0);
    this.writable = w;
    return w;
  }

  /** The client of tree i (0: the root file system), writable if the Gofer serves it so. */
  tree(i: number, limits: Partial<GoferClientLimits> = {}): GoferClient {
    const w = this.hello();
    if (i < 0 || i >= w.length) throw new Error(`the Gofer serves no tree ${i}`);
    return w[i] ? new WritableGoferClient(this, i, limits) : new GoferClient(this, i, limits);
  }

  /** A request with op, its fields written by fill. */
  begin(op: Op): Writer {
    return this.w.reset().u8(op).u8(0).u16(0);
  }

  private recv(): { r: Reader; fd: number; fds: number[] } {
    let m: { msg: Buffer; fds: number[] };
    try {
      m = this.ch.recvWithFds();
    } catch (e) {
      if (e instanceof ChannelClosed) throw new HostError(EIO, `the Gofer is gone (${e.message})`);
      throw e;
    }
    const r = new Reader(m.msg);
    const errno = r.i32();
    if (errno !== 0) {
      for (const fd of m.fds) libc.close(fd);
      throw new HostError(errno, `gofer: errno ${errno}`);
    }
    return { r, fd: m.fds.length > 0 ? m.fds[0] : -1, fds: m.fds };
  }

  /** Send the request begun with begin() and wait for its reply (fd: the first descriptor it carried, or -1; fds: the first keep of them, in order). */
  call(keep = 1): { r: Reader; fd: number; fds: number[] } {
    this.roundTrips++;
    const msg = this.w.view();
    this.perOp.set(msg[0], (this.perOp.get(msg[0]) ?? 0) + 1);
    try {
      this.ch.send(msg);
    } catch (e) {
      if (e instanceof ChannelClosed) throw new HostError(EIO, `the Gofer is gone (${e.message})`);
      throw e;
    }
    const rep = this.recv();
    // Descriptors past those the request can bring (a Gofer bug) are not kept.
    for (const fd of rep.fds.splice(keep)) libc.close(fd);
    return rep;
  }

  close(): void {
    this.ch.close();
  }
}
