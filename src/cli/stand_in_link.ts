// The sandbox process's side of a pod container's stand-in
// (stand_in_elf.ts): the other ends of the two pipes it holds as fds 3 and
// 4, which create passed with its request (host/fdpass.ts). Signal
// numbers come down the signal pipe (only those the stand-in passes on are taken: the pipe is the stand-in's, and whoever writes to it
// is no more trusted than a `kill`); its end means the stand-in is gone
// (killed: the container goes with it). The container's wait status goes up
// the status pipe when it ends, and the stand-in exits as it did.

import * as fs from 'node:fs';
import type { Socket } from 'node:net';
import { net } from './lazy_builtins';
import { STAND_IN_SIGNALS } from './stand_in_elf';
import { makeNonBlocking } from '../host/fdpass';

export class StandInLink {
  private status: number;

  private constructor(status: number, private readonly sock: Socket) {
    this.status = status;
  }

  /**
   * A stand-in's pipes (owned from here: the status pipe's write end and the
   * signal pipe's read end, checked by the caller); onSignal for each signal
   * it passes on, onGone once it is gone.
   */
  static open(status: number, signals: number, onSignal: (sig: number) => void, onGone: () => void): StandInLink {
    // Non-blocking: a write of the status never waits for a stand-in that does not read.
    makeNonBlocking(status);
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
