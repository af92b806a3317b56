// devpts: the sandbox's /dev/pts. `ptmx` (c 5:2, mode 0666 as container
// runtimes mount it with ptmxmode=666; /dev/ptmx links to it) opens a new
// pty pair and makes its slave node N appear, owned by the opener's fs uid,
// group tty (or the opener's group when the image has no tty group), mode
// 0620. The node goes when the master closes; the number is given again
// (lowest free first) once both ends are closed. The caller's own terminal,
// when it is a host pty, keeps its host number here so that ttyname(3) finds it.
import { Errno, E } from '../../abi/errno';
import { CAP_SYS_ADMIN } from '../../abi/capability';
import { capableInit } from '../../auth/userns';
import { devMajor, devMinor, dtype, makedev, O_NOCTTY, S_IFCHR, S_IFDIR, UNNUMBERED_DEV, type DirEntry, type InodeAttrs, type SetAttr, type StatFs } from '../../abi/fs';
import { nowNs } from '../../host/clock';
import { Dentry, type VPath } from '../../vfs/dentry';
import type { FileDescription } from '../../vfs/file';
import { applyAttrs, Inode, type FilesystemImpl } from '../../vfs/inode';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { donatedFdStat, makeHostFdFile } from '../hostfd/hostfd';
import type { HostStdio } from '../hostfd/terminal';
import { MasterFile, SlaveFile, type PtyEnd } from './files';
import type { PtyHost } from './ioctl';
import { Pty } from './pty';

const DEVPTS_SUPER_MAGIC = 0x1cd1;
/** /proc/sys/kernel/pty/max's default: opening ptmx past it is ENOSPC. */
const PTY_MAX = 4096;

class PtsInode extends Inode {
  readonly a: InodeAttrs;
  constructor(readonly fs: DevPtsFs, readonly ino: number, mode: number, rdev: number, uid: number, gid: number) {
    super();
    const t = nowNs();
    this.a = { mode, uid, gid, nlink: 1, size: 0, blocks: 0, blksize: 1024, rdev, atimeNs: t, mtimeNs: t, ctimeNs: t, btimeNs: t };
  }
  attrs(): InodeAttrs {
    return { ...this.a };
  }
  override get mode(): number {
    return this.a.mode;
  }
  override setattr(s: SetAttr): void {
    if (s.size !== undefined) return; // O_TRUNC on a device is ignored
    applyAttrs(this.a, s);
  }
}

class PtmxInode extends PtsInode {
  constructor(fs: DevPtsFs) {
    super(fs, 2, S_IFCHR | 0o666, makedev(5, 2), 0, 0);
  }
  override open(ctx: unknown, path: VPath, flags: number): FileDescription {
    return this.fs.openMaster(ctx as Task, path, this, flags);
  }
}

class SlaveInode extends PtsInode {
  constructor(fs: DevPtsFs, readonly pty: Pty, uid: number, gid: number) {
    // Numbered as Linux does: index + 3, after the root (1) and ptmx (2).
    super(fs, pty.index + 3, S_IFCHR | 0o620, makedev(136 + (pty.index >> 8), pty.index & 0xff), uid, gid);
  }
  override open(ctx: unknown, path: VPath, flags: number, openFlags = O_NOCTTY): FileDescription {
    const t = ctx as Task | null;
    const f = this.fs.openSlave(t, this.pty, path, this, flags);
    // A session leader without a terminal that opens one without O_NOCTTY takes it, if no session has it.
    const tg = t?.tg;
    const p = this.pty;
    if (!(openFlags & O_NOCTTY) && tg && tg.pid === tg.sid && p.session === null && !this.fs.sessionHasTty(tg.sid)) {
      p.session = tg.sid;
      p.foreground = tg.pgid;
      p.detached.clear();
    }
    return f;
  }
}

/** The caller's host terminal, shown at its host number. */
class HostTtyInode extends PtsInode {
  constructor(fs: DevPtsFs, ino: number, private readonly stdio: HostStdio, private readonly hostFd: number, rdev: number, mode: number, uid: number, gid: number) {
    super(fs, ino, S_IFCHR | (mode & 0o7777), rdev, uid, gid);
  }
  override open(_ctx: unknown, _path: VPath, flags: number): FileDescription {
    return makeHostFdFile(this.hostFd, flags, this.stdio);
  }
}

class PtsRoot extends PtsInode {
  constructor(fs: DevPtsFs) {
    super(fs, 1, S_IFDIR | 0o755, 0, 0, 0);
    this.a.nlink = 2;
  }
  override lookup(name: string): Inode | null {
    return this.fs.lookup(name);
  }
  override readdir(): DirEntry[] {
    return this.fs.entries().map(([name, i]) => ({ name, ino: i.ino, type: dtype(i.mode) }));
  }
}

export class DevPtsFs implements FilesystemImpl, PtyHost {
  readonly name = 'devpts';
  readonly readonly = false; // nodes can be chmod'ed and chown'ed; nothing can be created
  readonly dynamic = true;
  readonly noBirthTime = true;
  private readonly rootInode = new PtsRoot(this);
  private readonly ptmx = new PtmxInode(this);
  /** Live slave nodes by number (from the master's open to its close). */
  private readonly nodes = new Map<number, SlaveInode>();
  /** Pairs by number, until both ends are closed. */
  private readonly ptys = new Map<number, Pty>();
  private hostTty: { index: number; node: HostTtyInode } | null = null;

  /**
   * ttyGid: the tty group of the image (null: none, the opener's group is used).
   * stdio: the caller's terminal, shown here when it is a host pty.
   */
  constructor(private readonly ttyGid: number | null, readonly stdio: HostStdio | null, readonly dev = UNNUMBERED_DEV) {
    const term = stdio?.terminal;
    if (!stdio || !term) return;
    try {
      const st = donatedFdStat(term.hostFd);
      const major = devMajor(st.rdev);
      if (major < 136 || major > 143) return;
      const index = (major - 136) * 256 + devMinor(st.rdev);
      this.hostTty = { index, node: new HostTtyInode(this, index + 3, stdio, term.hostFd, st.rdev, st.mode, st.uid, st.gid) };
      term.node = { dev: this.dev, ino: index + 3 };
    } catch {
      // No usable terminal: not shown.
    }
  }

  root(): Inode {
    return this.rootInode;
  }

  statfs(): StatFs {
    return { type: DEVPTS_SUPER_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255, flags: 0 };
  }

  lookup(name: string): Inode | null {
    if (name === 'ptmx') return this.ptmx;
    if (!/^(0|[1-9][0-9]*)$/.test(name)) return null;
    const n = Number(name);
    if (this.hostTty && this.hostTty.index === n) return this.hostTty.node;
    return this.nodes.get(n) ?? null;
  }

  entries(): Array<[string, Inode]> {
    const out: Array<[string, Inode]> = [['ptmx', this.ptmx]];
    const nums = [...this.nodes.keys()];
    if (this.hostTty) nums.push(this.hostTty.index);
    for (const n of nums.sort((a, b) => a - b)) out.push([String(n), this.lookup(String(n)) as Inode]);
    return out;
  }

  /** /dev/ptmx: a new pair, the lowest free number, its slave node made now. */
  openMaster(t: Task, path: VPath, inode: Inode, flags: number): MasterFile {
    let index = 0;
    while (this.ptys.has(index) || this.hostTty?.index === index) index++;
    if (index >= PTY_MAX) throw new Errno(E.ENOSPC);
    const pty = new Pty(index, t.kernel, this, t.heapBudget ?? null, (p) => this.ptys.delete(p.index));
    this.ptys.set(index, pty);
    this.nodes.set(index, new SlaveInode(this, pty, t.creds.fsuid, this.ttyGid ?? t.creds.fsgid));
    return new MasterFile(path, inode, flags, pty);
  }

  openSlave(t: Task | null, pty: Pty, path: VPath, inode: Inode, flags: number): SlaveFile {
    if (pty.locked || !pty.masterOpen) throw new Errno(E.EIO);
    if (pty.exclusive && !(t && capableInit(t.creds, CAP_SYS_ADMIN))) throw new Errno(E.EBUSY);
    return new SlaveFile(path, inode, flags, pty);
  }

  /** TIOCGPTPEER: the slave of a master's pair, opened through its node (even if its name was unlinked from view). */
  openPeer(end: PtyEnd, flags: number): PtyEnd {
    const pty = end.pty;
    const node = this.nodes.get(pty.index);
    if (!node || !end.path) throw new Errno(E.EIO);
    // The slave's path: its node beside the master's ptmx in this devpts mount (what /proc/PID/fd shows).
    const dentry = new Dentry(node, String(pty.index), end.path.dentry.parent);
    return this.openSlave(null, pty, { mount: end.path.mount, dentry }, node, flags | 0o100000);
  }

  /** The master closed: its slave's node goes. */
  masterGone(pty: Pty): void {
    this.nodes.delete(pty.index);
  }

  /** The pty that is the controlling terminal of tg, if one of this devpts is. */
  controllingTty(tg: ThreadGroup): Pty | null {
    for (const p of this.ptys.values()) if (p.controls(tg)) return p;
    return null;
  }

  /** Whether session sid has a controlling terminal: a pty of this devpts or the caller's terminal. */
  sessionHasTty(sid: number): boolean {
    for (const p of this.ptys.values()) if (p.session === sid) return true;
    const term = this.stdio?.terminal;
    return !!term && (term.session ?? 1) === sid;
  }

  /** The controlling process tg exited: its terminal hangs up for its session. */
  sessionLeaderExit(tg: ThreadGroup): void {
    for (const p of this.ptys.values()) if (p.session === tg.sid) p.hangup(true);
  }

  /** The slave's node for /dev/tty opens of the controlling terminal. */
  slaveNode(pty: Pty): Inode | null {
    return this.nodes.get(pty.index) ?? null;
  }
}

/** The id of group name in the text of a group(5) file, or null. */
export function groupId(text: string, name: string): number | null {
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0] === name && /^[0-9]+$/.test(f[2])) return Number(f[2]);
  }
  return null;
}
