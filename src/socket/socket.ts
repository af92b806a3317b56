// The socket layer: a socket is an open file description whose operations are
// the socket calls. sys_socket.ts decodes the arguments (addresses, msghdr,
// control messages) and calls these methods; families (unix/) implement them.
// read(2) and write(2) on a socket are recv and send with no flags.
import { Errno, E } from '../abi/errno';
import { MSG_NOSIGNAL } from '../abi/socket';
import { S_IFSOCK, O_RDWR, type InodeAttrs } from '../abi/fs';
import type { FileCtx } from '../vfs/ctx';
import { anonAttrs, FileDescription, type MaybePromise } from '../vfs/file';
import type { PseudoFs } from '../vfs/numbering';
import type { MemoryAccess } from '../mm/access';
import type { NetNamespace } from '../kernel/net_ns';

/** Credentials carried by a message (SCM_CREDENTIALS) or a connection (SO_PEERCRED). */
export interface UCred {
  pid: number;
  uid: number;
  gid: number;
  /**
   * The process pid names, as Linux's struct pid reference: what SO_PEERPIDFD
   * and SCM_PIDFD make a pidfd of (the kernel's ThreadGroup; opaque here).
   * Absent when no process stands behind the number.
   */
  proc?: object;
}

/** The process of a task (the kernel's ThreadGroup), when the kernel provides one. */
export const procOf = (t: FileCtx): object | undefined => (t as unknown as { tg?: object }).tg;

/** SO_PEERCRED's view of a task: effective ids. */
export const credOf = (t: FileCtx): UCred => ({ pid: t.pid, uid: t.creds.euid, gid: t.creds.egid, proc: procOf(t) });

/** What the syscall layer gives a socket to resolve path names with, for the calling task. */
export interface SocketNames {
  /** Make the socket node at path (EEXIST if the path exists): its identity. */
  makeNode(path: string): { dev: number; ino: number };
  /** The socket node at path, with write permission checked (ECONNREFUSED if it is not a socket). */
  findNode(path: string): { dev: number; ino: number };
}

/**
 * The bytes of a send, read from the sender as the socket takes them: a
 * stream send of many megabytes never sits in the Sentry's heap whole.
 */
export interface SendSource {
  readonly length: number;
  /** A copy of n bytes from offset off. */
  slice(off: number, n: number): Buffer;
}

export const bufferSource = (b: Buffer): SendSource => ({ length: b.length, slice: (off, n) => Buffer.from(b.subarray(off, off + n)) });

/** What sendmsg hands a socket: the bytes, the destination (raw sockaddr) and the control data decoded. */
export interface SendRequest {
  data: SendSource;
  flags: number;
  addr: Buffer | null;
  /** SCM_RIGHTS: descriptions with a reference taken for the message (the socket owns them from now on). */
  rights: FileDescription[] | null;
  /** SCM_CREDENTIALS as given (checked by the caller), else null: the sender's own are attached. */
  cred: UCred | null;
  /** For a destination given by path. */
  names?: SocketNames;
  /** Control messages of other levels than SOL_SOCKET (IPV6_HOPLIMIT...), for the protocol to take or refuse. */
  control?: Cmsg[];
}

/** One control message: level, type and its data. */
export interface Cmsg {
  level: number;
  type: number;
  data: Buffer;
}

export interface RecvResult {
  data: Buffer;
  /** The return value: data.length, or the datagram's full length with MSG_TRUNC asked. */
  n: number;
  /** msg_flags. */
  flags: number;
  /** The sender's address (raw sockaddr), or null when it has none. */
  addr: Buffer | null;
  /** Descriptions received (the caller installs them, owning one reference of each). */
  rights: FileDescription[] | null;
  cred: UCred | null;
  /** Control messages of other levels (IPV6_HOPLIMIT...), written after those of SOL_SOCKET. */
  control?: Cmsg[];
}

export abstract class SocketFile extends FileDescription {
  readonly ino: number;
  /** References held by messages in flight (SCM_RIGHTS), for the unix cycle collector. */
  inflight = 0;
  /** The network namespace the socket was made in (kernel/net_ns.ts), whose interfaces its ioctls see; null: its user's. */
  netns: NetNamespace | null = null;

  constructor(
    readonly family: number,
    readonly type: number,
    readonly protocol: number,
    nonblock: number,
    private readonly sockfs: PseudoFs,
  ) {
    super(null, null, O_RDWR | nonblock);
    this.ino = sockfs.ino();
  }

  abstract bind(t: FileCtx, addr: Buffer, names?: SocketNames): void;
  abstract listen(t: FileCtx, backlog: number): void;
  /** A connected socket from the queue; nonblock is the new file's O_NONBLOCK. */
  abstract accept(t: FileCtx, nonblock: number): MaybePromise<SocketFile>;
  abstract connect(t: FileCtx, addr: Buffer, names?: SocketNames): MaybePromise<void>;
  abstract sendmsg(t: FileCtx, req: SendRequest): MaybePromise<number>;
  abstract recvmsg(t: FileCtx, len: number, flags: number): MaybePromise<RecvResult>;
  abstract shutdown(how: number): void;
  /** The raw sockaddr of this socket, and of its peer (ENOTCONN if none). */
  abstract sockname(): Buffer;
  abstract peername(): Buffer;
  /** The address accept(2) reports for a socket it hands out: the peer's, as it was when accepted. */
  acceptedPeer(): Buffer {
    return this.peername();
  }
  /** Options at SOL_SOCKET and the family's levels; the value's bytes (ENOPROTOOPT for unknown ones). */
  abstract getsockopt(t: FileCtx, level: number, name: number): Buffer;
  abstract setsockopt(t: FileCtx, level: number, name: number, val: Buffer): void;

  /** EPIPE, with SIGPIPE unless the caller asked MSG_NOSIGNAL. */
  protected brokenPipe(t: FileCtx, flags: number): Errno {
    if (!(flags & MSG_NOSIGNAL)) t.sendSignal(13);
    return new Errno(E.EPIPE);
  }

  override read(t: FileCtx, len: number): MaybePromise<Buffer> {
    const r = this.recvmsg(t, len, 0);
    if (r instanceof Promise) return r.then((x) => this.dropControl(x));
    return this.dropControl(r);
  }

  /** read(2) cannot take descriptors: those that came are closed, as Linux does. */
  private dropControl(r: RecvResult): Buffer {
    if (r.rights) for (const f of r.rights) f.decRef();
    return r.data;
  }

  override write(t: FileCtx, data: Buffer): MaybePromise<number> {
    return this.sendmsg(t, { data: bufferSource(data), flags: 0, addr: null, rights: null, cred: null });
  }

  override writeFromUser(t: FileCtx, mem: MemoryAccess, addr: number, len: number): MaybePromise<number> {
    mem.checkRange(addr, len, false);
    const data: SendSource = { length: len, slice: (off, n) => mem.copyIn(addr + off, n) };
    return this.sendmsg(t, { data, flags: 0, addr: null, rights: null, cred: null });
  }

  override canPoll(): boolean {
    return true;
  }
  override supportsNowait(): boolean {
    return false;
  }
  override stat(): InodeAttrs {
    return anonAttrs(S_IFSOCK | 0o777, this.ino);
  }
  override ids(): { dev: number; ino: number } {
    return { dev: this.sockfs.dev, ino: this.ino };
  }
}
