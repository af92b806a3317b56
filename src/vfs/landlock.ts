// Landlock's file system rules (man 7 landlock; Linux's security/landlock/fs.c
// for the facts): a task's domain is a stack of rulesets (layers); an access
// to a file is allowed when every layer that handles the right grants it by a
// rule on the file or on a directory above it, walking up through mount
// points to the namespace root. Rights a layer does not handle stay allowed,
// except REFER: moving or linking a file to another directory needs REFER in
// every layer, and the destination may not give the file rights the source
// did not. The VFS calls these before its own permission checks, as Linux's
// path hooks run before inode_permission; only tasks with a domain pay.

import { E, Errno } from '../abi/errno';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, type InodeAttrs } from '../abi/fs';
import {
  ACCESS_FS_EXECUTE, ACCESS_FS_FILE, ACCESS_FS_MAKE_BLOCK, ACCESS_FS_MAKE_CHAR, ACCESS_FS_MAKE_DIR, ACCESS_FS_MAKE_FIFO, ACCESS_FS_MAKE_REG,
  ACCESS_FS_MAKE_SOCK, ACCESS_FS_MAKE_SYM, ACCESS_FS_READ_DIR, ACCESS_FS_READ_FILE, ACCESS_FS_REFER, ACCESS_FS_REMOVE_DIR, ACCESS_FS_REMOVE_FILE,
  ACCESS_FS_ALL, ACCESS_FS_IOCTL_DEV, ACCESS_FS_TRUNCATE, ACCESS_FS_WRITE_FILE,
} from '../abi/landlock';
import type { Credentials, LandlockDomain, LandlockLayer } from '../auth/creds';
import type { Dentry, VPath } from './dentry';
import { anonAttrs, FileDescription } from './file';
import type { HeapBudget } from '../abi/accounting';
import type { Inode } from './inode';

/** Heap charged per rule of a ruleset or a domain layer (a map entry and its key). */
const RULE_COST = 96;
/** Rules one ruleset may hold: Linux bounds them by kernel memory; here by count, then the sandbox's heap budget. */
export const MAX_RULES = 65536;

/** The MAKE_* right that creating a file of this type (S_IF*) needs; 0 for none. */
export function makeAccess(type: number): number {
  switch (type & S_IFMT) {
    case S_IFREG: return ACCESS_FS_MAKE_REG;
    case S_IFDIR: return ACCESS_FS_MAKE_DIR;
    case S_IFLNK: return ACCESS_FS_MAKE_SYM;
    case S_IFCHR: return ACCESS_FS_MAKE_CHAR;
    case S_IFBLK: return ACCESS_FS_MAKE_BLOCK;
    case S_IFIFO: return ACCESS_FS_MAKE_FIFO;
    case S_IFSOCK: return ACCESS_FS_MAKE_SOCK;
    default: return 0;
  }
}

function removeAccess(inode: Inode): number {
  return (inode.mode & S_IFMT) === S_IFDIR ? ACCESS_FS_REMOVE_DIR : ACCESS_FS_REMOVE_FILE;
}

/**
 * The rights each layer grants at p: the union of its rules on p and every
 * directory above it, up to the namespace root. null: p is a file with no
 * place in any tree (a pipe, socket or anonymous file reached through
 * /proc/PID/fd), which Landlock does not restrict. A directory moved out
 * from under a bind mount while held through it (disconnected: its parents
 * end at the file system's root, not the mount's) gets the rules up to that
 * root and those from the mount's root up, as Linux since its erratum 3.
 */
function granted(dom: LandlockDomain, p: VPath): number[] | null {
  const got = dom.map(() => 0);
  let m = p.mount;
  let d: Dentry = p.dentry;
  for (;;) {
    addRules(dom, got, m.fs, d.inode);
    if (d === m.root) {
      if (!m.parent || !m.mountpoint) return got;
      d = m.mountpoint;
      m = m.parent;
      continue;
    }
    if (!d.parent) {
      // A mount of the whole file system cannot be left this way: this is an anonymous file.
      if (!m.root.parent) return null;
      d = m.root;
      continue;
    }
    d = d.parent;
  }
}

function addRules(dom: LandlockDomain, got: number[], fs: object, inode: Inode): void {
  let id: number | string | null = null;
  for (let i = 0; i < dom.length; i++) {
    const rules = dom[i].rules.get(fs);
    if (!rules) continue;
    id ??= inode.identity();
    got[i] |= rules.get(id) ?? 0;
  }
}

/** Whether every layer grants what it handles of want, given what each grants. */
function allowedBy(dom: LandlockDomain, got: number[], want: number): boolean {
  for (let i = 0; i < dom.length; i++) {
    const need = want & dom[i].handledFs;
    if ((got[i] & need) !== need) return false;
  }
  return true;
}

/** EACCES unless the domain allows want (ACCESS_FS_* bits) at p. */
export function landlockCheck(creds: Credentials, p: VPath, want: number): void {
  const dom = creds.landlock;
  if (!dom || want === 0) return;
  const got = granted(dom, p);
  if (got && !allowedBy(dom, got, want)) throw new Errno(E.EACCES);
}

/** Creating a file of type (S_IF*) in directory dir. */
export function landlockCheckCreate(creds: Credentials, dir: VPath, type: number): void {
  if (creds.landlock) landlockCheck(creds, dir, makeAccess(type));
}

/** Removing the entry child (a file or a directory) from directory dir. */
export function landlockCheckRemove(creds: Credentials, dir: VPath, child: Inode): void {
  if (creds.landlock) landlockCheck(creds, dir, removeAccess(child));
}

/**
 * Opening a file: READ_FILE (READ_DIR for a directory) for reading, WRITE_FILE
 * for writing, and EXECUTE too when it is opened to run (execve, the ELF
 * interpreter). Access mode 3 asks for neither. Returns the rights the file
 * description keeps (FileDescription.landlockAllowed): of TRUNCATE and
 * IOCTL_DEV those granted here, as Linux decides them at open, not later.
 */
export function landlockCheckOpen(creds: Credentials, p: VPath, read: boolean, write: boolean, exec = false): number {
  const dom = creds.landlock;
  if (!dom) return ACCESS_FS_ALL;
  const dir = (p.dentry.inode.mode & S_IFMT) === S_IFDIR;
  let want = 0;
  if (read) want |= dir ? ACCESS_FS_READ_DIR : ACCESS_FS_READ_FILE;
  if (write) want |= ACCESS_FS_WRITE_FILE;
  if (exec) want |= ACCESS_FS_EXECUTE;
  const got = granted(dom, p);
  if (!got) return ACCESS_FS_ALL;
  if (!allowedBy(dom, got, want)) throw new Errno(E.EACCES);
  let keep = ACCESS_FS_ALL;
  for (const bit of [ACCESS_FS_TRUNCATE, ACCESS_FS_IOCTL_DEV]) if (!allowedBy(dom, got, bit)) keep &= ~bit;
  return keep;
}

/** ftruncate, and open with O_TRUNC: the TRUNCATE right kept at open (EACCES without). */
export function landlockCheckTruncate(allowed: number): void {
  if (!(allowed & ACCESS_FS_TRUNCATE)) throw new Errno(E.EACCES);
}

// The ioctl commands IOCTL_DEV never restricts: fcntl's equivalents, and those
// about the file system rather than the device (Linux's list, fs.c).
const FIOCLEX = 0x5451;
const FIONCLEX = 0x5450;
const FIONBIO = 0x5421;
const FIOASYNC = 0x5452;
const FIOQSIZE = 0x5460;
const FIFREEZE = 0xc0045877;
const FITHAW = 0xc0045878;
const FS_IOC_FIEMAP = 0xc020660b;
const FIGETBSZ = 2;
const FICLONE = 0x40049409;
const FICLONERANGE = 0x4020940d;
const FIDEDUPERANGE = 0xc0189436;
const FS_IOC_GETFSUUID = 0x80111500;
const FS_IOC_GETFSSYSFSPATH = 0x80811501;
function ioctlAlways(cmd: number): boolean {
  switch (cmd) {
    case FIOCLEX: case FIONCLEX: case FIONBIO: case FIOASYNC: case FIOQSIZE: case FIFREEZE: case FITHAW: case FS_IOC_FIEMAP:
    case FIGETBSZ: case FICLONE: case FICLONERANGE: case FIDEDUPERANGE: case FS_IOC_GETFSUUID: case FS_IOC_GETFSSYSFSPATH:
      return true;
    default:
      return false;
  }
}

/**
 * ioctl cmd on a file description that kept allowed at open: on a character
 * or block device opened without IOCTL_DEV, EACCES for every command but the
 * always allowed ones (FIONREAD among the refused: devices implement it).
 */
export function landlockCheckIoctl(allowed: number, inode: Inode | null, cmd: number): void {
  if (allowed & ACCESS_FS_IOCTL_DEV || !inode) return;
  const type = inode.mode & S_IFMT;
  if (type !== S_IFCHR && type !== S_IFBLK) return;
  if (!ioctlAlways(cmd >>> 0)) throw new Errno(E.EACCES);
}

/**
 * link (removable false) and rename (removable true; exchange for
 * RENAME_EXCHANGE): the old entry src in directory oldDir gets a name in
 * newDir, where dst is the entry it replaces (or null). Within one directory
 * only the MAKE and REMOVE rights count. Across directories every layer must
 * also grant REFER on both sides and may not give a moved file, at its new
 * place, a right it did not have at the old one: EXDEV, after any EACCES.
 */
export function landlockCheckRefer(creds: Credentials, oldDir: VPath, src: Inode, newDir: VPath, dst: Inode | null, removable: boolean, exchange: boolean): void {
  const dom = creds.landlock;
  if (!dom) return;
  let want1 = exchange && dst ? makeAccess(dst.mode) : 0;
  let want2 = makeAccess(src.mode);
  if (removable) {
    want1 |= removeAccess(src);
    if (dst) want2 |= removeAccess(dst);
  }
  if (oldDir.mount === newDir.mount && oldDir.dentry === newDir.dentry) {
    landlockCheck(creds, newDir, want1 | want2);
    return;
  }
  const g1 = granted(dom, oldDir);
  const g2 = granted(dom, newDir);
  if (!g1 || !g2) return;
  if (!allowedBy(dom, g1, want1) || !allowedBy(dom, g2, want2)) throw new Errno(E.EACCES);
  // A rule on the moved entry itself goes with it: it counts on both sides.
  const own1 = dom.map(() => 0);
  const own2 = dom.map(() => 0);
  addRules(dom, own1, oldDir.mount.fs, src);
  if (dst) addRules(dom, own2, newDir.mount.fs, dst);
  for (let i = 0; i < dom.length; i++) {
    if (!(g1[i] & ACCESS_FS_REFER) || !(g2[i] & ACCESS_FS_REFER)) throw new Errno(E.EXDEV);
    if (gains(dom[i], src, g1[i] | own1[i], g2[i])) throw new Errno(E.EXDEV);
    if (exchange && dst && gains(dom[i], dst, g2[i] | own2[i], g1[i])) throw new Errno(E.EXDEV);
  }
}

/** Whether moving a file from where its parents grant from to where they grant to widens what the layer lets it do. */
function gains(layer: LandlockLayer, moved: Inode, from: number, to: number): boolean {
  const relevant = (moved.mode & S_IFMT) === S_IFDIR ? layer.handledFs : layer.handledFs & ACCESS_FS_FILE;
  return (to & ~from & relevant & ~ACCESS_FS_REFER) !== 0;
}

/**
 * A ruleset being built (landlock_create_ruleset's fd): the rights it
 * handles and its rules so far, charged to the sandbox's heap budget.
 */
export class LandlockRuleset extends FileDescription {
  /** Linux gives this file no splice operations (splice: EINVAL). */
  override canSplice(): boolean {
    return false;
  }

  readonly rules = new Map<object, Map<number | string, number>>();
  private count = 0;
  private readonly held = { bytes: 0 };

  readonly netRules = new Map<number, number>();

  constructor(
    readonly handledFs: number,
    readonly handledNet: number,
    readonly scoped: number,
    flags: number,
    private readonly budget: HeapBudget | undefined,
  ) {
    super(null, null, flags);
    budget?.track(this, this.held);
  }

  procName(): string {
    return 'anon_inode:[landlock-ruleset]';
  }

  override stat(): InodeAttrs {
    return anonAttrs(0o600);
  }

  /** Grant access beneath p's inode (merged with what an earlier rule on it granted). */
  addRule(p: VPath, access: number): void {
    let rules = this.rules.get(p.mount.fs);
    const id = p.dentry.inode.identity();
    const had = rules?.get(id);
    if (had === undefined) this.charge();
    if (!rules) this.rules.set(p.mount.fs, (rules = new Map()));
    rules.set(id, (had ?? 0) | access);
  }

  /** Grant TCP access to port (merged with an earlier rule on it); rules of both kinds count against one bound. */
  addNetRule(port: number, access: number): void {
    const had = this.netRules.get(port);
    if (had === undefined) this.charge();
    this.netRules.set(port, (had ?? 0) | access);
  }

  private charge(): void {
    if (this.count >= MAX_RULES) throw new Errno(E.ENOMEM);
    this.budget?.charge(RULE_COST, E.ENOMEM);
    this.held.bytes += RULE_COST;
    this.count++;
  }

  /** The layer landlock_restrict_self stacks: a copy, so later rules of this ruleset change no domain. */
  freeze(): LandlockLayer {
    const rules = new Map<object, ReadonlyMap<number | string, number>>();
    for (const [fs, m] of this.rules) rules.set(fs, new Map(m));
    const bytes = this.count * RULE_COST;
    this.budget?.charge(bytes, E.ENOMEM);
    const layer = { handledFs: this.handledFs, rules, handledNet: this.handledNet, netRules: new Map(this.netRules), scoped: this.scoped };
    this.budget?.track(layer, { bytes });
    return layer;
  }
}
