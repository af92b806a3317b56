// /proc/PID/ns/ (one magic link per namespace kind, "mnt:[4026531832]", to
// an inode of nsfs whose number is the namespace's) and the user namespace
// files /proc/PID/uid_map, gid_map and setgroups with Linux's rules for who
// may write them once (man 7 user_namespaces). Writers are judged by the
// writing task's credentials (Linux takes the opener's: the same task in
// every use the tools make of these files).
import { CAP_SETFCAP, CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN } from '../../abi/capability';
import { E, Errno } from '../../abi/errno';
import { S_IFDIR, S_IFREG, type InodeAttrs, type StatFs } from '../../abi/fs';
import { nowNs } from '../../host/clock';
import { UID_GID_MAP_MAX_EXTENTS } from '../../abi/mount';
import type { Credentials } from '../../auth/creds';
import { gidTo, type IdExtent, type IdMap, nsCapable, uidTo, type UserNamespace } from '../../auth/userns';
import type { AnyNamespace, NsKind } from '../../kernel/namespaces';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import { pidNsOf } from '../../kernel/pid_ns';
import { Dentry, Mount, type VPath } from '../../vfs/dentry';
import { Inode, type FilesystemImpl } from '../../vfs/inode';
import type { Entry, NodeMaker } from './nodes';
import type { ProcFs } from './procfs';
import { callerOf, checkInspect, ensureExists, hasResources } from './task_info';

const NSFS_MAGIC = 0x6e736673;

/** nsfs: one inode per namespace, named by its number; what setns(2) takes. */
export class NsFs implements FilesystemImpl {
  readonly name = 'nsfs';
  // Shown "rw" as Linux does; nothing can be written (the inodes refuse with EINVAL).
  readonly readonly = false;
  readonly dynamic = true;
  readonly noBirthTime = true;
  private readonly inodes = new WeakMap<AnyNamespace, NsInode>();
  private readonly rootInode: NsInode;
  private mountObj: Mount | null = null;
  private readonly birthNs = nowNs();

  constructor(
    readonly dev: number,
    private readonly mountId: () => number,
  ) {
    this.rootInode = new NsInode(this, null, 'mnt', 1, this.birthNs);
  }

  root(): Inode {
    return this.rootInode;
  }

  statfs(): StatFs {
    return { type: NSFS_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255, flags: 0 };
  }

  /** The location of namespace ns (what /proc/PID/ns/KIND resolves to). */
  pathOf(kind: NsKind, ns: AnyNamespace): VPath {
    if (!this.mountObj) this.mountObj = new Mount(this.mountId(), this, new Dentry(this.rootInode, '', null), null, null, { readonly: false, noexec: false });
    let i = this.inodes.get(ns);
    if (!i) {
      i = new NsInode(this, ns, kind, ns.inum, this.birthNs);
      this.inodes.set(ns, i);
    }
    return { mount: this.mountObj, dentry: new Dentry(i, `${kind}:[${ns.inum}]`, null) };
  }
}

/** A namespace as a file: S_IFREG 0444, its number as inode number; reading it is EINVAL. */
export class NsInode extends Inode {
  constructor(
    readonly fs: NsFs,
    readonly ns: AnyNamespace | null,
    readonly kind: NsKind,
    readonly ino: number,
    private readonly timeNs: bigint,
  ) {
    super();
  }
  override get mode(): number {
    return this.ns ? S_IFREG | 0o444 : S_IFDIR | 0o555;
  }
  attrs(): InodeAttrs {
    const t = this.timeNs;
    return { mode: this.mode, uid: 0, gid: 0, nlink: 1, size: 0, blocks: 0, blksize: 4096, rdev: 0, atimeNs: t, mtimeNs: t, ctimeNs: t, btimeNs: t };
  }
  override readAt(): Buffer {
    throw new Errno(E.EINVAL);
  }
  override writeAt(): number {
    throw new Errno(E.EINVAL);
  }
}

const KINDS: Array<[string, NsKind]> = [
  ['cgroup', 'cgroup'], ['ipc', 'ipc'], ['mnt', 'mnt'], ['net', 'net'], ['pid', 'pid'], ['pid_for_children', 'pid'],
  ['time', 'time'], ['time_for_children', 'time'], ['user', 'user'], ['uts', 'uts'],
];

/**
 * The namespace /proc/PID/ns/NAME names: pid is the task's own PID
 * namespace, pid_for_children where its children go (ENOENT while that is a
 * new namespace without a process yet, as Linux).
 */
function nsOf(t: Task, name: string, kind: NsKind): AnyNamespace {
  if (name === 'time_for_children') return t.nsproxy.timeForChildren;
  if (name === 'pid') return pidNsOf(t);
  if (name === 'pid_for_children' && t.nsproxy.pid.parent && !t.nsproxy.pid.init) throw new Errno(E.ENOENT);
  return t.nsproxy.get(kind, t.creds);
}

/** /proc/PID/ns: dr-x--x--x, links readable by whoever may inspect the process. */
export function nsDir(fs: ProcFs, m: NodeMaker, tg: ThreadGroup, t: Task): Entry {
  const k = fs.kernel;
  const live = () => {
    ensureExists(tg);
    if (!hasResources(tg, t)) throw new Errno(E.ENOENT);
  };
  const sub = m.sub('ns');
  return m.dir('ns', {
    list: () => KINDS.map(([name, kind]) => sub.link(name, {
      target: (ctx) => {
        live();
        checkInspect(k, ctx, t);
        return `${kind}:[${nsOf(t, name, kind).inum}]`;
      },
      resolve: (ctx) => {
        live();
        checkInspect(k, ctx, t);
        return fs.nsfs.pathOf(kind, nsOf(t, name, kind));
      },
    })),
  }, 0o511);
}

// ---------------------------------------------------------------- id maps

function formatMap(map: IdMap, ns: UserNamespace, reader: UserNamespace, up: (ns: UserNamespace, kid: number) => number): string {
  // Lower IDs are shown in the reader's namespace, or the parent's when the reader is inside ns.
  const lowerNs = reader === ns && ns.parent ? ns.parent : reader;
  return map.extents.map((e) => `${String(e.first).padStart(10)} ${String(up(lowerNs, e.lower) >>> 0).padStart(10)} ${String(e.count).padStart(10)}\n`).join('');
}

/** The ID of kernel ID kid in ns, or -1 (shown as 4294967295) when unmapped. */
const uidUp = (ns: UserNamespace, kid: number) => (ns.parent ? ns.uidMap.up(kid) : kid);
const gidUp = (ns: UserNamespace, kid: number) => (ns.parent ? ns.gidMap.up(kid) : kid);

/** Lines "first lower count" as Linux's map_write parses them; EINVAL for anything else. */
function parseMap(text: string): IdExtent[] {
  const out: IdExtent[] = [];
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const m = /^[ \t\v\f\r]*(\d+)[ \t\v\f\r]+(\d+)[ \t\v\f\r]+(\d+)[ \t\v\f\r]*$/.exec(lines[i]);
    if (!m) throw new Errno(E.EINVAL);
    const [first, lower, count] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (first > 0xffffffff || lower > 0xffffffff || count > 0xffffffff) throw new Errno(E.EINVAL);
    if (first === 0xffffffff || lower === 0xffffffff) throw new Errno(E.EINVAL);
    if (count === 0 || first + count > 0xffffffff || lower + count > 0xffffffff) throw new Errno(E.EINVAL);
    const overlaps = out.some((e) => (first < e.first + e.count && e.first < first + count) || (lower < e.lower + e.count && e.lower < lower + count));
    if (overlaps) throw new Errno(E.EINVAL);
    if (out.length + 1 === UID_GID_MAP_MAX_EXTENTS && i + 1 < lines.length) throw new Errno(E.EINVAL);
    out.push({ first, lower, count });
  }
  return out;
}

/** Linux's new_idmap_permitted: the writer may map only itself, unless privileged over the parent namespace. */
function idmapPermitted(w: Credentials, ns: UserNamespace, uid: boolean, ext: IdExtent[]): boolean {
  const parent = ns.parent as UserNamespace;
  // Mapping the parent's root needs CAP_SETFCAP over the parent (file capabilities would otherwise be forged).
  if (uid && ext.some((e) => e.lower === 0)) {
    const ok = w.userns === ns ? ns.parentCouldSetfcap : nsCapable(w, parent, CAP_SETFCAP);
    if (!ok) return false;
  }
  if (ext.length === 1 && ext[0].count === 1 && ns.owner === w.euid) {
    if (uid && uidTo(parent, ext[0].lower) === w.euid) return true;
    if (!uid && !ns.setgroupsAllowed && gidTo(parent, ext[0].lower) === w.egid) return true;
  }
  return nsCapable(w, parent, uid ? CAP_SETUID : CAP_SETGID);
}

function writeMap(k: ProcFs['kernel'], ctx: unknown, t: Task, data: Buffer, uid: boolean): number {
  const w = callerOf(k, ctx);
  if (!w) throw new Errno(E.EPERM);
  const ns = t.creds.userns;
  const wc = w.creds;
  if (!ns.parent) throw new Errno(E.EPERM);
  if (wc.userns !== ns && wc.userns !== ns.parent) throw new Errno(E.EPERM);
  if (data.length >= 4096) throw new Errno(E.EINVAL);
  const map = uid ? ns.uidMap : ns.gidMap;
  if (map.extents.length) throw new Errno(E.EPERM);
  if (!nsCapable(wc, ns, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  const ext = parseMap(data.toString('latin1'));
  if (ext.length === 0) throw new Errno(E.EINVAL);
  if (!idmapPermitted(wc, ns, uid, ext)) throw new Errno(E.EPERM);
  // The lower IDs are the parent's: every range must be mapped there as a whole.
  const parentMap = uid ? ns.parent.uidMap : ns.parent.gidMap;
  const kernel = ext.map((e) => ({ first: e.first, lower: ns.parent!.parent ? parentMap.downRange(e.lower, e.count) : e.lower, count: e.count }));
  if (kernel.some((e) => e.lower < 0)) throw new Errno(E.EPERM);
  map.extents = kernel;
  return data.length;
}

function writeSetgroups(k: ProcFs['kernel'], ctx: unknown, t: Task, data: Buffer): number {
  const w = callerOf(k, ctx);
  const ns = t.creds.userns;
  if (!w || !nsCapable(w.creds, ns, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  if (data.length >= 8) throw new Errno(E.EINVAL);
  const s = data.toString('latin1');
  let allow: boolean;
  if (s.startsWith('allow')) allow = true;
  else if (s.startsWith('deny')) allow = false;
  else throw new Errno(E.EINVAL);
  if (s.slice(allow ? 5 : 4).trim() !== '') throw new Errno(E.EINVAL);
  if (allow && !ns.setgroupsAllowed) throw new Errno(E.EPERM);
  if (!allow && ns.gidMap.extents.length) throw new Errno(E.EPERM);
  ns.setgroupsAllowed = allow;
  return data.length;
}

/** uid_map, gid_map and setgroups of the process's user namespace. */
export function idMapEntries(fs: ProcFs, m: NodeMaker, tg: ThreadGroup, t: Task): Entry[] {
  const k = fs.kernel;
  const readerNs = (ctx: unknown) => callerOf(k, ctx)?.creds.userns ?? t.creds.userns.root;
  return [
    m.rwFile('gid_map', (ctx) => (ensureExists(tg), formatMap(t.creds.userns.gidMap, t.creds.userns, readerNs(ctx), gidUp)),
      (data, ctx) => (ensureExists(tg), writeMap(k, ctx, t, data, false))),
    m.rwFile('setgroups', () => (ensureExists(tg), t.creds.userns.setgroupsAllowed ? 'allow\n' : 'deny\n'),
      (data, ctx) => (ensureExists(tg), writeSetgroups(k, ctx, t, data))),
    m.rwFile('uid_map', (ctx) => (ensureExists(tg), formatMap(t.creds.userns.uidMap, t.creds.userns, readerNs(ctx), uidUp)),
      (data, ctx) => (ensureExists(tg), writeMap(k, ctx, t, data, true))),
  ];
}
