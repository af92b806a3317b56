// Credentials of a task (man 7 credentials, man 7 capabilities). Copied on
// fork, replaced (never edited in place once installed) by setuid & co. The
// capability sets live here with the IDs because every change of one may
// change the other (capabilities(7), "Effect of user ID changes on
// capabilities"); privilege checks ask hasCapability(creds, CAP_X).

import { E, Errno } from '../abi/errno';
import { ALL_CAPS, CAP_DAC_OVERRIDE, CAP_FS_SET, CAP_SETUID, SECBIT_KEEP_CAPS, SECBIT_NOROOT, SECBIT_NO_SETUID_FIXUP } from '../abi/capability';
import { idsMapped, uidTo, UserNamespace } from './userns';

export function capBit(cap: number): bigint {
  return 1n << BigInt(cap);
}

/**
 * One ruleset of a Landlock domain, frozen when landlock_restrict_self added
 * it: the file system rights it handles, and per file system (keyed by its
 * object) the rights granted beneath each inode (keyed by the inode's
 * identity in that file system). vfs/landlock.ts checks accesses against it.
 */
export interface LandlockLayer {
  readonly handledFs: number;
  readonly rules: ReadonlyMap<object, ReadonlyMap<number | string, number>>;
  /** ABI 4: the TCP rights it handles, and what each port's rule grants. */
  readonly handledNet: number;
  readonly netRules: ReadonlyMap<number, number>;
  /** ABI 6: LANDLOCK_SCOPE_* bits. */
  readonly scoped: number;
}

/** A Landlock domain: its layers, the oldest first (a child domain starts with its parent's layer objects). */
export type LandlockDomain = readonly LandlockLayer[];

/** Whether domain sub is domain dom or one made under it (the tasks a task restricted to dom may trace or look into). */
export function landlockWithin(dom: LandlockDomain | null, sub: LandlockDomain | null): boolean {
  if (!dom) return true;
  if (!sub || sub.length < dom.length) return false;
  for (let i = 0; i < dom.length; i++) if (dom[i] !== sub[i]) return false;
  return true;
}

/** A keyring the credentials name (the key objects are kernel/keys/key.ts, above this layer). */
export interface KeyringRef {
  readonly serial: number;
}

export class Credentials {
  /** Capability sets (bit n = capability n). Root starts with all of them, anyone else with none. */
  capEffective: bigint;
  capPermitted: bigint;
  capInheritable = 0n;
  capBounding = ALL_CAPS;
  capAmbient = 0n;
  securebits = 0;
  /** The user namespace the IDs are seen from and the capabilities held in (IDs themselves are kernel IDs). */
  userns: UserNamespace;
  /** The Landlock domain the task restricted itself to (inherited by children and across exec); null: none. */
  landlock: LandlockDomain | null = null;
  /** The thread, process and session keyrings (created on demand: kernel/keys/process_keys.ts) and KEYCTL_SET_REQKEY_KEYRING's choice. */
  threadKeyring: KeyringRef | null = null;
  processKeyring: KeyringRef | null = null;
  sessionKeyring: KeyringRef | null = null;
  reqkeyDefault = 0;

  constructor(
    public uid = 0,
    public gid = 0,
    public euid = 0,
    public egid = 0,
    public suid = 0,
    public sgid = 0,
    public fsuid = 0,
    public fsgid = 0,
    public groups: number[] = [],
    userns?: UserNamespace,
  ) {
    this.userns = userns ?? UserNamespace.initial();
    this.capPermitted = uid === 0 || euid === 0 || suid === 0 ? ALL_CAPS : 0n;
    this.capEffective = euid === 0 ? this.capPermitted : 0n;
  }

  clone(): Credentials {
    const c = new Credentials(this.uid, this.gid, this.euid, this.egid, this.suid, this.sgid, this.fsuid, this.fsgid, [...this.groups], this.userns);
    c.capEffective = this.capEffective;
    c.capPermitted = this.capPermitted;
    c.capInheritable = this.capInheritable;
    c.capBounding = this.capBounding;
    c.capAmbient = this.capAmbient;
    c.securebits = this.securebits;
    c.landlock = this.landlock;
    c.threadKeyring = this.threadKeyring;
    c.processKeyring = this.processKeyring;
    c.sessionKeyring = this.sessionKeyring;
    c.reqkeyDefault = this.reqkeyDefault;
    return c;
  }

  /** Root as far as files go: CAP_DAC_OVERRIDE (kept for callers that only need a yes/no). */
  get isPrivileged(): boolean {
    return hasCapability(this, CAP_DAC_OVERRIDE);
  }

  inGroup(gid: number): boolean {
    return this.fsgid === gid || this.groups.includes(gid);
  }

  serialize(): object {
    return {
      uid: this.uid, gid: this.gid, euid: this.euid, egid: this.egid, suid: this.suid, sgid: this.sgid, fsuid: this.fsuid, fsgid: this.fsgid,
      groups: [...this.groups], capEffective: this.capEffective.toString(16), capPermitted: this.capPermitted.toString(16),
      capInheritable: this.capInheritable.toString(16), capBounding: this.capBounding.toString(16), capAmbient: this.capAmbient.toString(16),
      securebits: this.securebits,
    };
  }
}

/** Whether creds hold cap in their effective set: the one question every privilege check asks. */
export function hasCapability(creds: Credentials, cap: number): boolean {
  return (creds.capEffective & capBit(cap)) !== 0n;
}

/**
 * Capabilities after a change of UIDs (capabilities(7) "Effect of user ID
 * changes on capabilities"), unless SECBIT_NO_SETUID_FIXUP: leaving UID 0 in
 * all of real, effective and saved clears permitted and effective (unless
 * keep-caps) and ambient; leaving effective UID 0 clears effective; coming
 * back to effective UID 0 restores effective from permitted. A change of the
 * filesystem UID alone moves the filesystem capabilities.
 */
export function fixCapsAfterSetuid(old: Credentials, n: Credentials, fsOnly: boolean): void {
  if (old.securebits & SECBIT_NO_SETUID_FIXUP) return;
  // Root is the user namespace's root: the kernel ID its uid 0 maps to.
  const root = uidTo(old.userns, 0);
  if (fsOnly) {
    if (old.fsuid === root && n.fsuid !== root) n.capEffective &= ~CAP_FS_SET;
    else if (old.fsuid !== root && n.fsuid === root) n.capEffective |= n.capPermitted & CAP_FS_SET;
    return;
  }
  const hadRoot = old.uid === root || old.euid === root || old.suid === root;
  const hasRoot = n.uid === root || n.euid === root || n.suid === root;
  if (hadRoot && !hasRoot) {
    if (!(old.securebits & SECBIT_KEEP_CAPS)) {
      n.capPermitted = 0n;
      n.capEffective = 0n;
    }
    n.capAmbient = 0n;
  }
  if (old.euid === root && n.euid !== root) n.capEffective = 0n;
  if (old.euid !== root && n.euid === root) n.capEffective = n.capPermitted;
}

/** What exec needs to know of the program file to compute the new credentials. */
export interface ExecSubject {
  mode: number;
  uid: number;
  gid: number;
  /** The security.capability attribute's value, if any. */
  caps: Buffer | null;
  /** Its mount is nosuid: neither set-ID bits nor file capabilities count. */
  nosuid: boolean;
}

/** Why exec must not grant privileges (Linux's LSM_UNSAFE_* reasons). */
export interface ExecUnsafe {
  noNewPrivs: boolean;
  /** Traced by a tracer without CAP_SYS_PTRACE. */
  tracedByUnprivileged: boolean;
  /** The fs context (cwd, root) is shared with another process (CLONE_FS). */
  sharedFs: boolean;
}

export interface ExecCreds {
  creds: Credentials;
  /** AT_SECURE: the program gained privilege. */
  secure: boolean;
  /** The credentials changed in a way that makes the process non-dumpable (Linux's commit_creds rule). */
  privChange: boolean;
}

const S_ISUID = 0o4000, S_ISGID = 0o2000, S_IXGRP = 0o010;
const VFS_CAP_REVISION_MASK = 0xff000000, VFS_CAP_FLAGS_EFFECTIVE = 1;
const VFS_CAP_REVISION_1 = 0x01000000, VFS_CAP_REVISION_2 = 0x02000000, VFS_CAP_REVISION_3 = 0x03000000;

interface FileCaps {
  permitted: bigint;
  inheritable: bigint;
  effective: boolean;
}

/**
 * A security.capability value: v1 (12 bytes, 32 capabilities), v2 (20) or
 * v3 (24, with the user ID of the namespace root it belongs to). A v3 value
 * for another root is ignored (null); a malformed one fails the exec (EINVAL).
 */
export function parseFileCaps(v: Buffer, ownsRoot: (rootid: number) => boolean = (r) => r === 0): FileCaps | null {
  if (v.length < 4) throw new Errno(E.EINVAL);
  const magic = v.readUInt32LE(0);
  const rev = (magic & VFS_CAP_REVISION_MASK) >>> 0;
  const size = rev === VFS_CAP_REVISION_1 ? 12 : rev === VFS_CAP_REVISION_2 ? 20 : rev === VFS_CAP_REVISION_3 ? 24 : -1;
  if (v.length !== size) throw new Errno(E.EINVAL);
  if (rev === VFS_CAP_REVISION_3 && !ownsRoot(v.readUInt32LE(20))) return null;
  let permitted = BigInt(v.readUInt32LE(4));
  let inheritable = BigInt(v.readUInt32LE(8));
  if (rev !== VFS_CAP_REVISION_1) {
    permitted |= BigInt(v.readUInt32LE(12)) << 32n;
    inheritable |= BigInt(v.readUInt32LE(16)) << 32n;
  }
  return { permitted: permitted & ALL_CAPS, inheritable: inheritable & ALL_CAPS, effective: (magic & VFS_CAP_FLAGS_EFFECTIVE) !== 0 };
}

/** Whether a security.capability value may be stored: a v2 or v3 header of the right size (Linux refuses v1 and anything else). */
export function validFileCapsValue(v: Buffer): boolean {
  if (v.length < 4) return false;
  const rev = (v.readUInt32LE(0) & VFS_CAP_REVISION_MASK) >>> 0;
  return (rev === VFS_CAP_REVISION_2 && v.length === 20) || (rev === VFS_CAP_REVISION_3 && v.length === 24);
}

/** A v3 file capability's root ID counts when it is the root of ns or of one of its ancestors. */
function ownsRootId(ns: UserNamespace, rootid: number): boolean {
  for (let n: UserNamespace | null = ns; n; n = n.parent) if (uidTo(n, 0) === rootid) return true;
  return false;
}

function subset(a: bigint, b: bigint): boolean {
  return (a & ~b) === 0n;
}

/**
 * Credentials for a new program (execve), as capabilities(7) and Linux's
 * exec compute them. Set-user-ID and set-group-ID (with group execute) bits
 * change the effective IDs unless the mount is nosuid or no_new_privs is
 * set. File capabilities give P'(permitted) = (P(inheritable) & F(inheritable))
 * | (F(permitted) & bounding), P'(effective) = F(effective) ? P'(permitted) :
 * P'(ambient); EPERM when the file wants effective capabilities the bounding
 * set lacks. Root (real or effective UID 0, unless SECBIT_NOROOT) counts as
 * having every file capability, except a set-user-ID-root program with file
 * capabilities run by someone else. When exec is unsafe (no_new_privs, a
 * shared fs context, an unprivileged tracer) nothing beyond the old permitted
 * set is gained and the IDs stay unless the caller holds CAP_SETUID (never
 * under no_new_privs). Set-ID or file capabilities clear the ambient set;
 * keep-caps does not survive.
 */
export function credsForExec(old: Credentials, file: ExecSubject, unsafe: ExecUnsafe): ExecCreds {
  const n = old.clone();
  // Root is the user namespace's root (an unmapped uid 0 makes no one root).
  const root = uidTo(old.userns, 0);
  // Set-ID bits count only when the file's owner and group are mapped in the caller's namespace.
  if (!file.nosuid && !unsafe.noNewPrivs && idsMapped(old.userns, file.uid, file.gid)) {
    if (file.mode & S_ISUID) n.euid = file.uid;
    if ((file.mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) n.egid = file.gid;
  }
  const fcaps = file.nosuid || !file.caps ? null : parseFileCaps(file.caps, (rootid) => ownsRootId(old.userns, rootid));
  n.capPermitted = 0n;
  let effective = false;
  if (fcaps) {
    effective = fcaps.effective;
    n.capPermitted = (old.capBounding & fcaps.permitted) | (old.capInheritable & fcaps.inheritable);
    if (effective && !subset(fcaps.permitted, n.capPermitted)) throw new Errno(E.EPERM);
  }
  const hasFcap = fcaps !== null;
  if (!(old.securebits & SECBIT_NOROOT) && root >= 0 && !(hasFcap && n.euid === root && n.uid !== root)) {
    if (n.euid === root || n.uid === root) n.capPermitted = old.capBounding | old.capInheritable;
    if (n.euid === root) effective = true;
  }
  const isSetid = n.euid !== old.uid || n.egid !== old.gid;
  const gained = !subset(n.capPermitted, old.capPermitted);
  if ((isSetid || gained) && (unsafe.noNewPrivs || unsafe.sharedFs || unsafe.tracedByUnprivileged)) {
    if (!hasCapability(old, CAP_SETUID) || unsafe.noNewPrivs) {
      n.euid = n.uid;
      n.egid = n.gid;
    }
    n.capPermitted &= old.capPermitted;
  }
  n.suid = n.fsuid = n.euid;
  n.sgid = n.fsgid = n.egid;
  if (hasFcap || isSetid) n.capAmbient = 0n;
  n.capPermitted |= n.capAmbient;
  n.capEffective = effective ? n.capPermitted : n.capAmbient;
  n.securebits &= ~SECBIT_KEEP_CAPS;
  const secure = isSetid || (n.uid !== root && (effective || !subset(n.capPermitted, n.capAmbient)));
  const privChange = n.euid !== old.euid || n.egid !== old.egid || n.fsuid !== old.fsuid || n.fsgid !== old.fsgid || !subset(n.capPermitted, old.capPermitted);
  return { creds: n, secure, privChange };
}
