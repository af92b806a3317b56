// The data path of unix sockets. Streams: a send is cut into messages no
// larger than half the send buffer and waits while the sender's bytes in
// flight exceed SO_SNDBUF (partial counts on interruption or O_NONBLOCK, as
// Linux); a receive reads across messages but stops after one that carried
// descriptors, and between messages of different senders' credentials.
// Datagrams and seqpackets: one message per send and per receive, cut to the
// buffer with MSG_TRUNC.
import { Errno, E } from '../../abi/errno';
import {
  MSG_DONTWAIT, MSG_OOB, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, RCV_SHUTDOWN, SEND_SHUTDOWN,
} from '../../abi/socket';
import { EVENT_IN, EVENT_OUT } from '../../abi/waitqueue';
import type { FileCtx } from '../../vfs/ctx';
import type { FileDescription, MaybePromise } from '../../vfs/file';
import { procOf, type RecvResult, type SendRequest, type UCred } from '../socket';
import { MSG_OVERHEAD, type Msg } from './queue';
import type { UnixSocket } from './unix';

/** SCM_CREDENTIALS a message carries unless the sender gave its own: real ids. */
const scmCred = (t: FileCtx): UCred => ({ pid: t.pid, uid: t.creds.uid, gid: t.creds.gid, proc: procOf(t) });

const mayBlock = (s: UnixSocket, flags: number): boolean => !s.nonblocking && !(flags & MSG_DONTWAIT);

/** Wait for an event on s, then go on with next(); a signal after progress returns the progress. */
function waitThen<T>(t: FileCtx, s: UnixSocket, mask: number, partial: T | null, next: () => MaybePromise<T>): Promise<T> {
  return t.block(s, mask).then(next, (e: unknown) => {
    if (partial !== null) return partial;
    throw e;
  });
}

export function sendStream(s: UnixSocket, t: FileCtx, req: SendRequest, done: number): MaybePromise<number> {
  if (req.flags & MSG_OOB) throw new Errno(E.EOPNOTSUPP);
  if (req.addr) throw new Errno(s.connected ? E.EISCONN : E.EOPNOTSUPP);
  const len = req.data.length;
  for (;;) {
    const p = s.peer;
    if (!s.connected || !p) throw new Errno(E.ENOTCONN);
    if (s.shut & SEND_SHUTDOWN || p.dead) {
      if (done > 0) return done;
      throw s.pipeError(t, req.flags);
    }
    if (len === 0) return 0;
    if (s.inFlight < s.sndbuf) {
      const n = Math.min(len - done, Math.max(1, (s.sndbuf >> 1) - MSG_OVERHEAD));
      try {
        p.recvQ.push({ data: req.data.slice(done, n), from: s, addr: s.name, rights: req.rights, cred: req.cred ?? scmCred(t), stampNs: 0 });
      } catch (e) {
        if (done > 0) return done;
        throw e;
      }
      req.rights = null;
      done += n;
      p.wake();
      if (done >= len) return done;
      continue;
    }
    if (!mayBlock(s, req.flags)) {
      if (done > 0) return done;
      throw new Errno(E.EAGAIN);
    }
    return waitThen(t, s, EVENT_OUT, done > 0 ? done : null, () => sendStream(s, t, req, done));
  }
}

export function sendDgram(s: UnixSocket, t: FileCtx, req: SendRequest): MaybePromise<number> {
  if (req.flags & MSG_OOB) throw new Errno(E.EOPNOTSUPP);
  const len = req.data.length;
  let p: UnixSocket | null;
  if (s.connBased) {
    // seqpacket: connection-oriented, as a stream.
    if (req.addr) throw new Errno(s.connected ? E.EISCONN : E.EOPNOTSUPP);
    if (!s.connected) throw new Errno(E.ENOTCONN);
    // EPIPE without SIGPIPE: only streams raise it.
    if (s.shut & SEND_SHUTDOWN || !s.peer || s.peer.dead) throw new Errno(E.EPIPE);
    p = s.peer;
  } else {
    if (s.shut & SEND_SHUTDOWN) throw new Errno(E.EPIPE);
    p = req.addr ? s.lookup(req.addr, req.names) : s.peer;
    if (!p) throw new Errno(E.ENOTCONN);
    if (p.dead) {
      if (p === s.peer) s.peer = null;
      throw new Errno(E.ECONNREFUSED);
    }
    if (p.peer && p.peer !== s && !p.peer.dead) throw new Errno(E.EPERM);
    if (p !== s.peer) s.checkScope(t, p);
    if (p.shut & RCV_SHUTDOWN) throw new Errno(E.EPIPE);
  }
  if (len + MSG_OVERHEAD > s.sndbuf) throw new Errno(E.EMSGSIZE);
  if (s.passcred || s.passpidfd) s.autobind();
  if (s.inFlight + len + MSG_OVERHEAD > s.sndbuf || (!s.connBased && p.dgramQueueFull(s))) {
    if (!mayBlock(s, req.flags)) throw new Errno(E.EAGAIN);
    // A full receiver wakes its senders when it is read (or goes).
    const target = p;
    return t.block(s.inFlight + len + MSG_OVERHEAD > s.sndbuf ? s : target, EVENT_OUT | EVENT_IN).then(() => sendDgram(s, t, req));
  }
  p.recvQ.push({ data: req.data.slice(0, len), from: s, addr: s.name, rights: req.rights, cred: req.cred ?? scmCred(t), stampNs: p.arrivalNs() });
  req.rights = null;
  p.wake();
  return len;
}

function result(data: Buffer, n: number, flags: number, m: Msg | null): RecvResult {
  return { data, n, flags, addr: m ? m.addr : null, rights: null, cred: m ? m.cred : null };
}

/** The descriptions of m for the reader: taken off the message, or (MSG_PEEK) a new reference each. */
function takeRights(s: UnixSocket, m: Msg, peek: boolean): FileDescription[] | null {
  const r = m.rights;
  if (!r) return null;
  if (peek) {
    for (const f of r) f.incRef();
    return [...r];
  }
  return s.recvQ.takeRights(m);
}

const sameCred = (a: UCred, b: UCred): boolean => a.pid === b.pid && a.uid === b.uid && a.gid === b.gid && a.proc === b.proc;

export function recvStream(s: UnixSocket, t: FileCtx, len: number, flags: number, parts: Buffer[] = [], got = 0, first: Msg | null = null): MaybePromise<RecvResult> {
  if (flags & MSG_OOB) throw new Errno(E.EINVAL);
  if (s.listening || !s.connected) throw new Errno(E.EINVAL);
  const peek = (flags & MSG_PEEK) !== 0;
  const target = flags & MSG_WAITALL && !peek ? len : 1;
  let rights: FileDescription[] | null = null;
  let cred: UCred | null = first ? first.cred : null;
  let i = 0;
  while (got < len && !rights) {
    const m = s.recvQ.at(peek ? i : 0);
    if (!m) break;
    if (cred && !sameCred(cred, m.cred)) break;
    if (!first) first = m;
    cred = m.cred;
    const n = Math.min(len - got, m.data.length - m.off);
    parts.push(Buffer.from(m.data.subarray(m.off, m.off + n)));
    got += n;
    rights = takeRights(s, m, peek);
    if (peek) i++;
    else {
      m.off += n;
      if (m.off === m.data.length) {
        s.recvQ.shift();
        s.wake(); // datagram senders wait on the receiver for room
      }
    }
  }
  const done = (): RecvResult => {
    const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    const r = result(data, data.length, 0, first);
    r.rights = rights;
    r.addr = first ? first.addr : null;
    return r;
  };
  if (got >= target || rights || len === 0) return done();
  if (got > 0 && s.recvQ.length > 0) return done(); // next message from someone else
  if (s.err) {
    if (got > 0) return done();
    const e = s.err;
    s.err = 0;
    throw new Errno(e);
  }
  if (s.shut & RCV_SHUTDOWN) return done();
  if (!mayBlock(s, flags)) {
    if (got > 0) return done();
    throw new Errno(E.EAGAIN);
  }
  const sofar = got > 0 ? done() : null;
  return waitThen(t, s, EVENT_IN, sofar, () => recvStream(s, t, len, flags, parts, got, first));
}

export function recvDgram(s: UnixSocket, t: FileCtx, len: number, flags: number): MaybePromise<RecvResult> {
  if (flags & MSG_OOB) throw new Errno(E.EOPNOTSUPP);
  if (s.connBased && !s.connected) throw new Errno(s.listening ? E.EINVAL : E.ENOTCONN);
  const m = s.recvQ.at(0);
  if (!m) {
    if (s.err) {
      const e = s.err;
      s.err = 0;
      throw new Errno(e);
    }
    if (s.shut & RCV_SHUTDOWN) return result(Buffer.alloc(0), 0, 0, null);
    if (!mayBlock(s, flags)) throw new Errno(E.EAGAIN);
    return waitThen(t, s, EVENT_IN, null, () => recvDgram(s, t, len, flags));
  }
  const size = m.data.length;
  const n = Math.min(len, size);
  const peek = (flags & MSG_PEEK) !== 0;
  const r = result(Buffer.from(m.data.subarray(0, n)), flags & MSG_TRUNC ? size : n, size > len ? MSG_TRUNC : 0, m);
  r.rights = takeRights(s, m, peek);
  const stamp = s.stamps.read(m.stampNs, () => s.realtimeNs());
  if (stamp) r.control = [stamp];
  if (!peek) {
    s.recvQ.shift();
    s.wake(); // datagram senders wait on the receiver for room
  }
  return r;
}




