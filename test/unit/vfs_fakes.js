// Shared fakes for the VFS unit tests (loaded by vfs*.test.js; has no tests itself).
'use strict';
const { Credentials } = require('../../dist/auth/creds');

/** A FrameSource over plain Buffers, counting references like MemoryFile. */
class FakeFrames {
  constructor() {
    this.pages = [];
    this.refs = [];
  }
  alloc(n) {
    const f = this.pages.length;
    for (let i = 0; i < n; i++) {
      this.pages.push(Buffer.alloc(4096));
      this.refs.push(1);
    }
    return f;
  }
  bytes(f) {
    return this.pages[f];
  }
  incRef(f) {
    this.refs[f]++;
  }
  decRef(f, n = 1) {
    for (let i = f; i < f + n; i++) if (--this.refs[i] === 0) this.pages[i].fill(0);
  }
  live() {
    return this.refs.filter((r) => r > 0).length;
  }
}

/** A task with just what files need: creds, pid, block (on a WaitQueue), sendSignal. */
function fakeTask(uid = 0) {
  const creds = new Credentials(uid, uid, uid, uid, uid, uid, uid, uid);
  return {
    creds,
    pid: 100 + uid,
    signals: [],
    interrupted: false,
    block(q, mask) {
      return new Promise((resolve) => {
        const w = {
          mask,
          wake: (ev) => {
            q.eventUnregister(w);
            resolve(ev);
          },
        };
        q.eventRegister(w);
      });
    },
    sendSignal(sig) {
      this.signals.push(sig);
    },
  };
}

/** A fake MemoryAccess over one Buffer at address 0x1000. */
function fakeMemory(size = 1 << 16) {
  const base = 0x1000;
  const mem = Buffer.alloc(size);
  const at = (a, n) => {
    if (a < base || a + n > base + size) {
      const { Errno } = require('../../dist/abi/errno');
      throw new Errno(14);
    }
    return a - base;
  };
  return {
    base,
    mem,
    checkRange: (a, n) => {
      if (n > 0) at(a, n);
    },
    prefix: (a, n) => (n <= 0 || a < base ? 0 : Math.max(0, Math.min(n, base + size - a))),
    copyIn: (a, n) => Buffer.from(mem.subarray(at(a, n), at(a, n) + n)),
    copyOut: (a, d) => Buffer.from(d).copy(mem, at(a, d.length)),
    copyInto: (a, d) => d.set(mem.subarray(at(a, d.length), at(a, d.length) + d.length)),
    fillFrom: (a, n, fill) => fill(mem.subarray(at(a, n), at(a, n) + n)),
    drainTo: (a, n, drain) => {
      if (n > 0) drain(mem.subarray(at(a, n), at(a, n) + n), 0);
    },
    readCString: (a, max) => {
      const o = at(a, 1);
      const end = mem.indexOf(0, o);
      if (end < 0 || end - o >= max) throw new Error('bad string');
      return mem.toString('latin1', o, end);
    },
    readU32: (a) => mem.readUInt32LE(at(a, 4)),
    readI32: (a) => mem.readInt32LE(at(a, 4)),
    readU64: (a) => Number(mem.readBigUInt64LE(at(a, 8))),
    readI64: (a) => Number(mem.readBigInt64LE(at(a, 8))),
    readBigU64: (a) => mem.readBigUInt64LE(at(a, 8)),
    writeU32: (a, v) => mem.writeUInt32LE(v >>> 0, at(a, 4)),
    writeI32: (a, v) => mem.writeInt32LE(v | 0, at(a, 4)),
    writeU64: (a, v) => mem.writeBigUInt64LE(BigInt(v), at(a, 8)),
    writeI64: (a, v) => mem.writeBigInt64LE(BigInt(v), at(a, 8)),
  };
}

/** Expect fn to throw Errno with the given number. */
function errnoOf(fn) {
  try {
    fn();
  } catch (e) {
    if (typeof e.errno === 'number' && e.constructor.name === 'Errno') return e.errno;
    throw e;
  }
  return 0;
}

async function errnoOfAsync(p) {
  try {
    await p;
  } catch (e) {
    if (typeof e.errno === 'number' && e.constructor.name === 'Errno') return e.errno;
    throw e;
  }
  return 0;
}

module.exports = { FakeFrames, fakeTask, fakeMemory, errnoOf, errnoOfAsync };
