// The sandbox process's side of a pod container's stand-in
// (stand_in_elf.ts): the two pipes it holds as fds 3 and 4, opened here
// through /proc once create proved that the client holds the request's
// secret. Signal numbers come down the signal pipe (only those the stand-in
// passes on are taken: the pipe is the stand-in's, and whoever writes to it
// is no more trusted than a `kill`); its end means the stand-in is gone
// (killed: the container goes with it). The container's wait status goes up
// the status pipe when it ends, and the stand-in exits as it did.

import * as fs from 'node:fs';
import type { Socket } from 'node:net';
import { net } from './lazy_builtins';
import { STAND_IN_SIGNALS } from './stand_in_elf';

export class StandInLink {
  private status: number;

  private constructor(status: number, private readonly sock: Socket) {
    this.status = status;
  }

  /** Open the pipes of stand-in client; onSignal for each signal it passes on, onGone once it is gone. */
  static open(client: number, onSignal: (sig: number) => void, onGone: () => void): StandInLink {
    const fifo = (fd: number): number => {
      if (!fs.fstatSync(fd).isFIFO()) throw new Error(`host process ${client} has no stand-in's pipes`);
      return fd;
    };
    const status = fs.openSync(`/proc/${client}/fd/3`, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    let signals = -1;
    try {
      fifo(status);
      signals = fifo(fs.openSync(`/proc/${client}/fd/4`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
    } catch (e) {
      fs.closeSync(status);
      if (signals >= 0) fs.closeSync(signals);
      throw e;
    }
    const sock = new (net().Socket)({ fd: signals, readable: true, writable: false });
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      let i = 0;
      for (; i + 4 <= buf.length; i += 4) {
        const sig = buf.readUInt32LE(i);
        if (STAND_IN_SIGNALS.includes(sig)) onSignal(sig);
      }
      buf = buf.subarray(i);
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', onGone);
    return new StandInLink(status, sock);
  }

  /** The container ended with wait status st: the stand-in exits as it did. */
  exited(st: number): void {
    if (this.status < 0) return;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(st >>> 0);
    try {
      fs.writeSync(this.status, b);
    } catch {
      // the stand-in is gone (EPIPE)
    }
    fs.closeSync(this.status);
    this.status = -1;
  }

  close(): void {
    this.sock.destroy();
    if (this.status >= 0) fs.closeSync(this.status);
    this.status = -1;
  }
}
