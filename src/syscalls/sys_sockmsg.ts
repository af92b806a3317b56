// The data calls of sockets: send, sendto, sendmsg, sendmmsg and their recv
// counterparts. struct msghdr and the control messages (SCM_RIGHTS,
// SCM_CREDENTIALS; SCM_PIDFD received) are decoded and encoded here; sockets see buffers, open
// descriptions and credentials. Descriptions in flight hold a reference; the
// receiver's RLIMIT_NOFILE applies when they are installed (MSG_CTRUNC and
// the rest closed when it is reached or the control buffer is too small).
import { E, Errno } from '../abi/errno';
import { CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN } from '../abi/capability';
import {
  AF_INET, AF_INET6, CMSG_HDR, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, SCM_CREDENTIALS, SCM_MAX_FD, SCM_PIDFD, SCM_RIGHTS, SOL_SOCKET, SO_PASSCRED, SO_PASSPIDFD,
  cmsgAlign, cmsgSpace,
} from '../abi/socket';
import { SO_TIMESTAMPING_NEW, SO_TIMESTAMPING_OLD } from '../abi/inet';
import { hasCapability } from '../auth/creds';
import type { Task } from '../kernel/task';
import { pidNsOf } from '../kernel/pid_ns';
import { ThreadGroup } from '../kernel/thread_group';
import { installSocketPidfd } from './sys_pidfd';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import type { Cmsg, RecvResult, SendSource, UCred } from '../socket/socket';
import type { FileDescription } from '../vfs/file';
import { namesFor, readSockaddr, sockOf, writeSockaddr } from './sys_socket';
import { readIovecs } from './sysutil';

/** net.core.optmem_max: the most control data one sendmsg may carry. */
const OPTMEM_MAX = 131072;
const MSGHDR = 56;
const MMSGHDR = 64;
const UIO_MAXIOV = 1024;
const MSG_WAITFORONE = 0x10000;

interface MsgHdr {
  name: number;
  namelen: number;
  iov: Array<[number, number]>;
  control: number;
  controllen: number;
}

function readMsgHdr(t: Task, addr: number): MsgHdr {
  const b = t.mm.copyIn(addr, MSGHDR);
  const iovlen = Number(b.readBigUInt64LE(24));
  if (iovlen > UIO_MAXIOV) throw new Errno(E.EMSGSIZE);
  const controllen = Number(b.readBigUInt64LE(40));
  return {
    name: Number(b.readBigUInt64LE(0)),
    namelen: b.readInt32LE(8),
    iov: readIovecs(t, Number(b.readBigUInt64LE(16)), iovlen),
    control: Number(b.readBigUInt64LE(32)),
    controllen,
  };
}

/** The bytes of an iovec array, checked now and copied as the socket takes them. */
function iovSource(t: Task, iov: Array<[number, number]>): SendSource {
  const vecs = iov.filter(([, n]) => n > 0);
  let length = 0;
  for (const [p, n] of vecs) {
    t.mm.checkRange(p, n, false);
    length += n;
  }
  return {
    length,
    slice(off: number, n: number): Buffer {
      const out = Buffer.allocUnsafe(n);
      let at = 0;
      let base = 0;
      for (const [p, len] of vecs) {
        if (at >= n) break;
        if (off < base + len) {
          const from = Math.max(off, base) - base;
          const k = Math.min(len - from, n - at);
          t.mm.copyIn(p + from, k).copy(out, at);
          at += k;
          off += k;
        }
        base += len;
      }
      return out;
    },
  };
}

/** Decode the control messages of a sendmsg: descriptions (with a reference taken) and credentials. */
function readControl(t: Task, ptr: number, len: number): { rights: FileDescription[] | null; cred: UCred | null; other: Cmsg[] | null } {
  let rights: FileDescription[] | null = null;
  let cred: UCred | null = null;
  let other: Cmsg[] | null = null;
  if (len === 0) return { rights, cred, other };
  if (len > OPTMEM_MAX) throw new Errno(E.ENOBUFS);
  const c = t.mm.copyIn(ptr, len);
  try {
    for (let off = 0; off + CMSG_HDR <= len; ) {
      const clen = Number(c.readBigUInt64LE(off));
      if (clen < CMSG_HDR || clen > len - off) throw new Errno(E.EINVAL);
      const level = c.readInt32LE(off + 8);
      const type = c.readInt32LE(off + 12);
      if (level === SOL_SOCKET) {
        if (type === SCM_RIGHTS) {
          const n = Math.floor((clen - CMSG_HDR) / 4);
          if ((rights?.length ?? 0) + n > SCM_MAX_FD) throw new Errno(E.EINVAL);
          for (let i = 0; i < n; i++) {
            const f = t.fdTable.get(c.readInt32LE(off + CMSG_HDR + 4 * i));
            f.incRef();
            (rights ??= []).push(f);
          }
        } else if (type === SCM_CREDENTIALS) {
          if (clen !== CMSG_HDR + 12) throw new Errno(E.EINVAL);
          // The pid is the sender's number in its own PID namespace: kept kernel-wide, translated again for the receiver.
          const ns = pidNsOf(t), vpid = c.readInt32LE(off + 16);
          cred = { pid: ns.parent ? ns.globalOf(vpid) : vpid, uid: c.readInt32LE(off + 20), gid: c.readInt32LE(off + 24) };
          checkCred(t, cred);
          // The process the pid names now (SCM_PIDFD's), as Linux looks the pid up at send.
          cred.proc = t.kernel.groups.get(cred.pid);
        } else if (type === SO_TIMESTAMPING_OLD || type === SO_TIMESTAMPING_NEW) {
          // An inet socket's per-message stamp flags (doSend refuses them elsewhere, as Linux's __scm_send).
          (other ??= []).push({ level, type, data: Buffer.from(c.subarray(off + CMSG_HDR, off + clen)) });
        } else throw new Errno(E.EINVAL);
      } else {
        (other ??= []).push({ level, type, data: Buffer.from(c.subarray(off + CMSG_HDR, off + clen)) });
      }
      off += cmsgAlign(clen);
    }
  } catch (e) {
    if (rights) for (const f of rights) f.decRef();
    throw e;
  }
  return { rights, cred, other };
}

/** Credentials a sender may claim: its own, unless privileged (unix(7)). */
function checkCred(t: Task, c: UCred): void {
  const k = t.creds;
  if (c.pid !== t.pid && !hasCapability(k, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  if (c.uid !== k.uid && c.uid !== k.euid && c.uid !== k.suid && !hasCapability(k, CAP_SETUID)) throw new Errno(E.EPERM);
  if (c.gid !== k.gid && c.gid !== k.egid && c.gid !== k.sgid && !hasCapability(k, CAP_SETGID)) throw new Errno(E.EPERM);
}

async function doSend(t: Task, fd: number, data: SendSource, flags: number, addr: Buffer | null, ctl: { rights: FileDescription[] | null; cred: UCred | null; other?: Cmsg[] | null }): Promise<number> {
  let s;
  try {
    s = sockOf(t, fd);
  } catch (e) {
    if (ctl.rights) for (const f of ctl.rights) f.decRef();
    throw e;
  }
  if (s.family !== AF_INET && s.family !== AF_INET6 && ctl.other?.some((m) => m.level === SOL_SOCKET)) {
    if (ctl.rights) for (const f of ctl.rights) f.decRef();
    throw new Errno(E.EINVAL);
  }
  return s.sendmsg(t, { data, flags, addr, rights: ctl.rights, cred: ctl.cred, names: namesFor(t), control: ctl.other ?? undefined });
}

function sendto(t: Task, a: number[]): Promise<number> {
  sockOf(t, a[0]);
  const data = iovSource(t, [[a[1], Math.min(u32(a[2]), 0x7ffff000)]]);
  const addr = a[4] ? readSockaddr(t, a[4], a[5]) : null;
  return doSend(t, a[0], data, i32(a[3]), addr, { rights: null, cred: null });
}

function sendmsg1(t: Task, fd: number, hdrAddr: number, flags: number): Promise<number> {
  sockOf(t, fd);
  const h = readMsgHdr(t, hdrAddr);
  const addr = h.name && h.namelen ? readSockaddr(t, h.name, h.namelen) : null;
  const data = iovSource(t, h.iov);
  return doSend(t, fd, data, flags, addr, readControl(t, h.control, h.controllen));
}

/** The int of an SCM_PIDFD message, with the room it takes (its CMSG_SPACE, or what is left). */
function pidfdCmsg(value: number, left: number): Buffer {
  const b = Buffer.alloc(Math.min(cmsgSpace(4), left));
  b.writeBigUInt64LE(BigInt(CMSG_HDR + 4), 0);
  b.writeInt32LE(SOL_SOCKET, 8);
  b.writeInt32LE(SCM_PIDFD, 12);
  b.writeInt32LE(value, CMSG_HDR);
  return b;
}

/**
 * Control messages for a receiver, in Linux's order (6.8 and later): the
 * receive timestamp, credentials (SO_PASSCRED), descriptions installed
 * while they fit, the sender's pidfd (SO_PASSPIDFD), then the IP levels'. No control buffer: MSG_CTRUNC if any was due.
 */
function writeControl(t: Task, r: RecvResult, pass: { cred: boolean; pidfd: boolean }, ptr: number, room: number, flags: number): { len: number; flags: number } {
  const out: Buffer[] = [];
  let used = 0;
  let mflags = 0;
  if (ptr === 0 && (pass.cred || pass.pidfd || r.rights)) mflags |= MSG_CTRUNC;
  // Other levels as Linux's put_cmsg: a header that does not fit is dropped, data that does not fit is cut, both with MSG_CTRUNC.
  const put = (m: Cmsg): void => {
    const left = ptr === 0 ? 0 : room - used;
    if (left < CMSG_HDR) {
      mflags |= MSG_CTRUNC;
      return;
    }
    let clen = CMSG_HDR + m.data.length;
    if (left < clen) {
      mflags |= MSG_CTRUNC;
      clen = left;
    }
    const b = Buffer.alloc(Math.min(cmsgSpace(m.data.length), left));
    b.writeBigUInt64LE(BigInt(clen), 0);
    b.writeInt32LE(m.level, 8);
    b.writeInt32LE(m.type, 12);
    m.data.copy(b, CMSG_HDR, 0, clen - CMSG_HDR);
    out.push(b);
    used += b.length;
  };
  // SOL_SOCKET's own (the receive timestamp) come first, as Linux's unix_dgram_recvmsg puts the stamp before scm_recv's.
  for (const m of r.control ?? []) if (m.level === SOL_SOCKET) put(m);
  if (pass.cred && r.cred) {
    if (ptr === 0 || room - used < cmsgSpace(12)) mflags |= MSG_CTRUNC;
    else {
      const b = Buffer.alloc(cmsgSpace(12));
      b.writeBigUInt64LE(BigInt(CMSG_HDR + 12), 0);
      b.writeInt32LE(SOL_SOCKET, 8);
      b.writeInt32LE(SCM_CREDENTIALS, 12);
      b.writeInt32LE(pidNsOf(t).nrOfGlobal(r.cred.pid), 16);
      b.writeInt32LE(r.cred.uid, 20);
      b.writeInt32LE(r.cred.gid, 24);
      out.push(b);
      used += b.length;
    }
  }
  if (r.rights) {
    const fit = ptr === 0 ? 0 : Math.max(0, Math.floor((room - used - CMSG_HDR) / 4));
    const fds: number[] = [];
    for (const f of r.rights) {
      if (fds.length < fit) {
        try {
          fds.push(t.fdTable.install(f, (flags & MSG_CMSG_CLOEXEC) !== 0));
          continue;
        } catch {
          // RLIMIT_NOFILE reached: this one and the rest are closed.
        }
      }
      f.decRef();
    }
    if (fds.length < r.rights.length) mflags |= MSG_CTRUNC;
    r.rights = null;
    if (fds.length > 0) {
      const b = Buffer.alloc(Math.min(cmsgSpace(4 * fds.length), room - used));
      b.writeBigUInt64LE(BigInt(CMSG_HDR + 4 * fds.length), 0);
      b.writeInt32LE(SOL_SOCKET, 8);
      b.writeInt32LE(SCM_RIGHTS, 12);
      fds.forEach((fd, i) => b.writeInt32LE(fd, CMSG_HDR + 4 * i));
      out.push(b);
      used += b.length;
    }
  }
  if (pass.pidfd && ptr !== 0) {
    // Room for the header and an int, else MSG_CTRUNC; a pidfd that cannot be installed (RLIMIT_NOFILE) is sent as -errno, as Linux does.
    if (room - used < CMSG_HDR + 4) mflags |= MSG_CTRUNC;
    else if (r.cred?.proc instanceof ThreadGroup) {
      let v: number;
      try {
        v = installSocketPidfd(t, r.cred.proc);
      } catch (e) {
        if (!(e instanceof Errno)) throw e;
        v = -e.errno;
      }
      const b = pidfdCmsg(v, room - used);
      out.push(b);
      used += b.length;
    }
  }
  for (const m of r.control ?? []) if (m.level !== SOL_SOCKET) put(m);
  if (used > 0) t.mm.copyOut(ptr, Buffer.concat(out));
  return { len: used, flags: mflags };
}

function scatter(t: Task, iov: Array<[number, number]>, data: Buffer): void {
  let pos = 0;
  for (const [p, n] of iov) {
    if (pos >= data.length) break;
    const k = Math.min(n, data.length - pos);
    if (k > 0) t.mm.copyOut(p, data.subarray(pos, pos + k));
    pos += k;
  }
}

/** Descriptions a call without a control buffer received: closed, as Linux does. */
function dropRights(r: RecvResult): void {
  if (r.rights) for (const f of r.rights) f.decRef();
  r.rights = null;
}

async function recvfrom(t: Task, a: number[]): Promise<number> {
  const s = sockOf(t, a[0]);
  const len = Math.min(u32(a[2]), 0x7ffff000);
  if (len > 0) t.mm.checkRange(a[1], len, true);
  const r = await s.recvmsg(t, len, i32(a[3]));
  dropRights(r);
  if (r.data.length) t.mm.copyOut(a[1], r.data);
  if (a[4]) writeSockaddr(t, a[4], a[5], r.addr ?? Buffer.alloc(0));
  return r.n;
}

/** Which credentials messages the socket asked for (SO_PASSCRED, SO_PASSPIDFD; only unix sockets know the latter). */
function passes(t: Task, s: ReturnType<typeof sockOf>): { cred: boolean; pidfd: boolean } {
  const on = (name: number): boolean => {
    try {
      return s.getsockopt(t, SOL_SOCKET, name).readInt32LE(0) !== 0;
    } catch {
      return false;
    }
  };
  return { cred: on(SO_PASSCRED), pidfd: on(SO_PASSPIDFD) };
}

async function recvmsg1(t: Task, fd: number, hdrAddr: number, flags: number): Promise<number> {
  const s = sockOf(t, fd);
  const h = readMsgHdr(t, hdrAddr);
  if (h.namelen < 0) throw new Errno(E.EINVAL);
  let len = 0;
  for (const [p, n] of h.iov) {
    if (n > 0) t.mm.checkRange(p, n, true);
    len += n;
  }
  const r = await s.recvmsg(t, len, flags);
  let ctl: { len: number; flags: number };
  try {
    scatter(t, h.iov, r.data);
    ctl = writeControl(t, r, passes(t, s), h.control, h.controllen, flags);
  } finally {
    dropRights(r);
  }
  const sa = r.addr ?? Buffer.alloc(0);
  if (h.name && sa.length) t.mm.copyOut(h.name, sa.subarray(0, Math.min(h.namelen, sa.length)));
  const b = Buffer.alloc(4);
  b.writeInt32LE(h.name ? sa.length : 0, 0);
  t.mm.copyOut(hdrAddr + 8, b);
  const cl = Buffer.alloc(8);
  cl.writeBigUInt64LE(BigInt(ctl.len), 0);
  t.mm.copyOut(hdrAddr + 40, cl);
  const fl = Buffer.alloc(4);
  // Linux starts msg_flags from the call's MSG_CMSG_CLOEXEC.
  fl.writeInt32LE(r.flags | ctl.flags | (flags & MSG_CMSG_CLOEXEC), 0);
  t.mm.copyOut(hdrAddr + 48, fl);
  return r.n;
}

/** sendmmsg/recvmmsg: one call per entry, msg_len filled in; an error after the first entry ends the batch. */
async function mmsg(t: Task, a: number[], send: boolean): Promise<number> {
  sockOf(t, a[0]);
  if (!send && a[4]) throw new Errno(E.EOPNOTSUPP); // a timeout is not supported
  const n = Math.min(u32(a[2]), UIO_MAXIOV);
  let flags = i32(a[3]);
  let done = 0;
  for (; done < n; done++) {
    const at = a[1] + done * MMSGHDR;
    let got: number;
    try {
      got = send ? await sendmsg1(t, a[0], at, flags) : await recvmsg1(t, a[0], at, flags & ~MSG_WAITFORONE);
    } catch (e) {
      if (done > 0) break;
      throw e;
    }
    const b = Buffer.alloc(4);
    b.writeUInt32LE(got, 0);
    t.mm.copyOut(at + MSGHDR, b);
    if (!send && flags & MSG_WAITFORONE) flags |= MSG_DONTWAIT;
  }
  return done;
}

const INET_CMSG = 'host-mode inet sockets: datagram sockets pass IP_RETOPTS (IPv4 options, up to 40 bytes, checked by the host), IP_PKTINFO, IP_TTL, IP_TOS, IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS and the IPv6 extension headers (IPV6_HOPOPTS, IPV6_DSTOPTS, IPV6_RTHDRDSTOPTS, IPV6_RTHDR: lengths checked first, as Linux) to the host and give back IP_RECVOPTS\'s and IP_RECVRETOPTS\' options, IP_PKTINFO, IP_TTL, IP_TOS, IP_ORIGDSTADDR, their IPv6 counterparts, the extension headers IPV6_RECVHOPOPTS, IPV6_RECVDSTOPTS and IPV6_RECVRTHDR ask for, and SO_TIMESTAMP\'s four forms (a stream\'s too, its last chunk\'s) (other types of the destination\'s IP level, such as IPV6_DONTFRAG, are EINVAL); SCM_RIGHTS is ignored, as on Linux; SO_TIMESTAMPING\'s per-message flags pass (streams too), its SCM_TIMESTAMPING stamps come back, and MSG_ERRQUEUE gives the entry with its extended error (IP_RECVERR, IPV6_RECVERR) and stamps';

const SEND_PARTIAL = 'on the Sentry\'s stack MSG_MORE on a UDP socket (corked datagrams) is EOPNOTSUPP and SO_TIMESTAMPING\'s per-message send stamps EINVAL; in host mode urgent data sends no SIGURG';

export const defs: SyscallDef[] = [
  { nr: 44, name: 'sendto', args: ['fd', 'inbuf', 'size', 'msg_flags', 'sockaddr', 'size'], fn: sendto, partial: SEND_PARTIAL },
  { nr: 45, name: 'recvfrom', args: ['fd', 'buf', 'size', 'msg_flags', 'sockaddr_out', 'int_out'], fn: recvfrom },
  { nr: 46, name: 'sendmsg', args: ['fd', 'ptr', 'msg_flags'], fn: (t, a) => sendmsg1(t, a[0], a[1], i32(a[2])), partial: `${INET_CMSG}; ${SEND_PARTIAL}` },
  { nr: 47, name: 'recvmsg', args: ['fd', 'ptr_out', 'msg_flags'], fn: (t, a) => recvmsg1(t, a[0], a[1], i32(a[2])), partial: INET_CMSG },
  { nr: 299, name: 'recvmmsg', args: ['fd', 'ptr', 'uint', 'hex', 'ptr'], fn: (t, a) => mmsg(t, a, false), partial: 'no timeout: EOPNOTSUPP when one is given' },
  { nr: 307, name: 'sendmmsg', args: ['fd', 'ptr', 'uint', 'hex'], fn: (t, a) => mmsg(t, a, true) },
];
