// The Gofer's writing requests (CREATE to REMOVEXATTR), split from server.ts:
// each names its nodes by id through the server's bounded table and goes to
// the tree's WritableHostFiles, which refuses a read-only tree (EROFS). The
// server turns whatever is thrown into an error reply.
import { HostError, type HostSetAttr } from '../host/hostfs';
import { NAME_MAX, Op, type Reader, SA_ATIME, SA_MODE, SA_MTIME, SA_OWNER, SA_SIZE, TARGET_MAX, XATTR_MAX, MAX_REPLY } from './protocol';
import type { Entry, GoferServer } from './server';

const EPERM = 1;
const EXDEV = 18;
const ENOSYS = 38;
const EMSGSIZE = 90;
const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

function sameTree(a: Entry, b: Entry): void {
  if (a.tree !== b.tree) throw new HostError(EXDEV, 'across trees');
}

export function serveWrite(s: GoferServer, op: number, r: Reader): void {
  switch (op) {
    case Op.CREATE:
    case Op.MKDIR: {
      const d = s.entry(r.u32());
      const name = s.name(r);
      const mode = r.u32();
      const owner = { uid: r.i32(), gid: r.i32() };
      const f = s.writable(d.tree);
      const n = op === Op.CREATE ? f.create(d.node, name, mode, owner) : f.mkdir(d.node, name, mode, owner);
      s.trees[d.tree].release?.(n);
      s.putNode(d.tree, n);
      return;
    }
    case Op.SYMLINK: {
      const d = s.entry(r.u32());
      const name = s.name(r);
      const target = r.str(TARGET_MAX);
      const owner = { uid: r.i32(), gid: r.i32() };
      s.putNode(d.tree, s.writable(d.tree).symlink(d.node, name, target, owner));
      return;
    }
    case Op.MKNOD: {
      const d = s.entry(r.u32());
      const name = s.name(r);
      const mode = r.u32();
      const rdev = r.u64();
      const owner = { uid: r.i32(), gid: r.i32() };
      // Never a device node on the host, whatever the Sentry asks (it refuses them itself: fsimpl/hostfs/write.ts).
      if ((mode & S_IFMT) === S_IFCHR || (mode & S_IFMT) === S_IFBLK) throw new HostError(EPERM, 'device nodes are not made on the host');
      s.putNode(d.tree, s.writable(d.tree).mknod(d.node, name, mode, rdev, owner));
      return;
    }
    case Op.LINK: {
      const t = s.entry(r.u32());
      const d = s.entry(r.u32());
      const name = s.name(r);
      sameTree(t, d);
      s.putNode(d.tree, s.writable(d.tree).link(t.node, d.node, name));
      return;
    }
    case Op.UNLINK: {
      const d = s.entry(r.u32());
      const name = s.name(r);
      const isDir = r.u8() !== 0;
      s.writable(d.tree).unlink(d.node, name, isDir);
      return;
    }
    case Op.RENAME: {
      const od = s.entry(r.u32());
      const on = s.name(r);
      const nd = s.entry(r.u32());
      const nn = s.name(r);
      const flags = r.u32();
      sameTree(od, nd);
      s.writable(od.tree).rename(od.node, on, nd.node, nn, flags);
      return;
    }
    case Op.SETATTR: {
      const e = s.entry(r.u32());
      const mask = r.u8();
      const mode = r.u32();
      const uid = r.i32();
      const gid = r.i32();
      const size = r.u64();
      const atime = s.time(r);
      const mtime = s.time(r);
      const a: HostSetAttr = {};
      if (mask & SA_MODE) a.mode = mode & 0o7777;
      if (mask & SA_OWNER) Object.assign(a, { uid, gid });
      if (mask & SA_SIZE) a.size = size;
      if (mask & SA_ATIME) a.atime = atime;
      if (mask & SA_MTIME) a.mtime = mtime;
      const f = s.writable(e.tree);
      try {
        s.w.stat(f.setattr(e.node, a));
      } finally {
        s.trees[e.tree].release?.(e.node);
      }
      return;
    }
    case Op.FSYNC: {
      const e = s.entry(r.u32());
      s.writable(e.tree).fsync(e.node, r.u8() !== 0);
      return;
    }
    case Op.GETXATTR: {
      const e = s.entry(r.u32());
      const v = s.writable(e.tree).getxattr(e.node, r.str(NAME_MAX));
      if (v.length > XATTR_MAX) throw new HostError(EMSGSIZE, 'xattr too long');
      s.w.bytes(v);
      return;
    }
    case Op.SETXATTR: {
      const e = s.entry(r.u32());
      const name = r.str(NAME_MAX);
      const value = r.bytes(XATTR_MAX);
      s.writable(e.tree).setxattr(e.node, name, value, r.u32());
      return;
    }
    case Op.LISTXATTR: {
      const e = s.entry(r.u32());
      const names = s.writable(e.tree).listxattr(e.node);
      s.w.u32(names.length);
      for (const n of names) {
        if (s.w.len + n.length + 2 > MAX_REPLY) throw new HostError(EMSGSIZE, 'xattr list too long');
        s.w.str(n);
      }
      return;
    }
    case Op.REMOVEXATTR: {
      const e = s.entry(r.u32());
      s.writable(e.tree).removexattr(e.node, r.str(NAME_MAX));
      return;
    }
    default:
      throw new HostError(ENOSYS, `unknown op ${op}`);
  }
}
