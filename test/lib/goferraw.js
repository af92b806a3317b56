'use strict';
// A raw client of the Gofer (src/gofer), speaking its protocol directly as a
// compromised Sentry would (test/integration/gofer*.test.js).

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const DIST = path.join(h.ROOT, 'dist');
const { spawnGofer } = require(path.join(DIST, 'gofer', 'spawn.js'));
const { Channel } = require(path.join(DIST, 'gofer', 'channel.js'));
const { Writer, Reader } = require(path.join(DIST, 'gofer', 'protocol.js'));

// Op codes (src/gofer/protocol.ts Op, a const enum: not in the compiled module).
const OP = {
  ROOT: 1, WALK: 2, STAT: 3, READDIR: 4, READLINK: 5, OPEN: 6, LOOKUP: 7, CREATE: 10, MKDIR: 11, SYMLINK: 12, MKNOD: 13, LINK: 14, UNLINK: 15, RENAME: 16,
  SETATTR: 17, FSYNC: 19, GETXATTR: 21, SETXATTR: 22, LISTXATTR: 23, REMOVEXATTR: 24, STATFS: 25, WATCH: 26, UNWATCH: 27, FEED: 28, OPEN_MANY: 29,
};

/** A raw client: one request, one reply (errno, reader, fd). */
class Raw {
  constructor(trees) {
    const { fd, pid } = spawnGofer(trees);
    this.outer = pid;
    this.ch = new Channel(fd, 1 << 17);
    const hello = this.recv();
    assert.strictEqual(hello.errno, 0, 'the Gofer says hello');
    // spawnGofer's pid is unshare's; the Gofer is its one child (pid 1 of its own PID namespace).
    this.pid = Number(fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(/\s+/)[0]);
    assert.ok(this.pid > 0, 'the Gofer process is found');
  }
  recv() {
    const { msg, fds } = this.ch.recvWithFds();
    const r = new Reader(msg);
    return { errno: r.i32(), r, fd: fds.length > 0 ? fds[0] : -1, fds };
  }
  send(buf) {
    this.ch.send(buf);
    return this.recv();
  }
  req(op, fill = () => {}) {
    const w = new Writer().u8(op).u8(0).u16(0);
    fill(w);
    return this.send(w.view());
  }
  walk(id, names) {
    return this.req(OP.WALK, (w) => {
      w.u32(id).u16(names.length);
      for (const n of names) w.str(n);
    });
  }
  alive() {
    try {
      process.kill(this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  close() {
    this.ch.close();
    try {
      process.kill(this.outer, 'SIGKILL');
    } catch {}
  }
}

module.exports = { OP, Raw };
