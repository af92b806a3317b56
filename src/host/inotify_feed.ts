// HostChangeFeed on the host's inotify: one instance per watched tree, made
// when the sandbox first watches a file of it (in the Sentry, or in the
// Gofer, which donates the descriptor: gofer/watches.ts; the Sentry then
// reads it with readInotifyEvents). A node is watched through the
// tree's O_PATH descriptor of it (/proc/self/fd/N, so no host path is ever
// walked), which follows nothing but that descriptor.

import * as libc from './libc';
import { HostError, type HostChange, type HostChangeFeed, type HostNode } from './hostfs';
import {
  IN_ATTRIB, IN_CLOEXEC, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MODIFY, IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO, IN_NONBLOCK,
} from '../abi/inotify';

const SYS_INOTIFY_ADD_WATCH = 254;
const SYS_INOTIFY_RM_WATCH = 255;
const SYS_INOTIFY_INIT1 = 294;
const EAGAIN = 11;
/** What is watched on the host: changes only (see HostChangeFeed). */
const HOST_MASK = IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;
/** struct inotify_event without its name. */
const EVENT_HEADER = 16;

export class HostInotifyFeed implements HostChangeFeed {
  readonly fd: number;
  private readonly buf = Buffer.alloc(64 * 1024);

  /** pathFdOf: the tree's O_PATH descriptor of a node (valid for the moment of the call). */
  constructor(private readonly pathFdOf: (n: HostNode) => number) {
    this.fd = libc.syscall3(SYS_INOTIFY_INIT1, IN_NONBLOCK | IN_CLOEXEC, 0, 0);
    if (this.fd < 0) {
      const e = libc.errno();
      throw new HostError(e, `inotify_init1: errno ${e}`);
    }
  }

  add(n: HostNode): number {
    const wd = libc.syscallPath(SYS_INOTIFY_ADD_WATCH, this.fd, Buffer.from(`/proc/self/fd/${this.pathFdOf(n)}\0`, 'latin1'), HOST_MASK, 0);
    if (wd < 0) {
      const e = libc.errno();
      throw new HostError(e, `inotify_add_watch: errno ${e}`);
    }
    return wd;
  }

  remove(id: number): void {
    // EINVAL when the host dropped the watch already (its file deleted): nothing to do.
    libc.syscall3(SYS_INOTIFY_RM_WATCH, this.fd, id, 0);
  }

  take(): HostChange[] {
    return readInotifyEvents(this.fd, this.buf);
  }
}

/** The events queued now on an inotify descriptor (non-blocking), oldest first; buf: a buffer to read into. */
export function readInotifyEvents(fd: number, buf: Buffer): HostChange[] {
  const out: HostChange[] = [];
  for (;;) {
    const n = libc.read(fd, buf, buf.length);
    if (n <= 0) {
      if (n < 0 && libc.errno() !== EAGAIN) throw new HostError(libc.errno(), 'read of the inotify feed');
      return out;
    }
    for (let at = 0; at + EVENT_HEADER <= n; ) {
      const len = buf.readUInt32LE(at + 12);
      const raw = buf.subarray(at + EVENT_HEADER, at + EVENT_HEADER + len);
      const nul = raw.indexOf(0);
      out.push({
        id: buf.readInt32LE(at), mask: buf.readUInt32LE(at + 4), cookie: buf.readUInt32LE(at + 8),
        name: len > 0 ? raw.subarray(0, nul < 0 ? raw.length : nul).toString('latin1') : null,
      });
      at += EVENT_HEADER + len;
    }
  }
}
