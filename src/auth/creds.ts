// Credentials of a task (man 7 credentials, man 7 capabilities). Copied on
// fork, replaced (never edited in place once installed) by setuid & co. The
// capability sets live here with the IDs because every change of one may
// change the other (capabilities(7), "Effect of user ID changes on
// capabilities"); privilege checks ask hasCapability(creds, CAP_X).

import { ALL_CAPS, CAP_DAC_OVERRIDE, CAP_FS_SET, SECBIT_KEEP_CAPS, SECBIT_NOROOT, SECBIT_NO_SETUID_FIXUP } from '../abi/capability';

export function capBit(cap: number): bigint {
  return 1n << BigInt(cap);
}

export class Credentials {
  /** Capability sets (bit n = capability n). Root starts with all of them, anyone else with none. */
  capEffective: bigint;
  capPermitted: bigint;
  capInheritable = 0n;
  capBounding = ALL_CAPS;
  capAmbient = 0n;
  securebits = 0;

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
  ) {
    this.capPermitted = uid === 0 || euid === 0 || suid === 0 ? ALL_CAPS : 0n;
    this.capEffective = euid === 0 ? this.capPermitted : 0n;
  }

  clone(): Credentials {
    const c = new Credentials(this.uid, this.gid, this.euid, this.egid, this.suid, this.sgid, this.fsuid, this.fsgid, [...this.groups]);
    c.capEffective = this.capEffective;
    c.capPermitted = this.capPermitted;
    c.capInheritable = this.capInheritable;
    c.capBounding = this.capBounding;
    c.capAmbient = this.capAmbient;
    c.securebits = this.securebits;
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
  if (fsOnly) {
    if (old.fsuid === 0 && n.fsuid !== 0) n.capEffective &= ~CAP_FS_SET;
    else if (old.fsuid !== 0 && n.fsuid === 0) n.capEffective |= n.capPermitted & CAP_FS_SET;
    return;
  }
  const hadRoot = old.uid === 0 || old.euid === 0 || old.suid === 0;
  const hasRoot = n.uid === 0 || n.euid === 0 || n.suid === 0;
  if (hadRoot && !hasRoot) {
    if (!(old.securebits & SECBIT_KEEP_CAPS)) {
      n.capPermitted = 0n;
      n.capEffective = 0n;
    }
    n.capAmbient = 0n;
  }
  if (old.euid === 0 && n.euid !== 0) n.capEffective = 0n;
  if (old.euid !== 0 && n.euid === 0) n.capEffective = n.capPermitted;
}

/**
 * Credentials for a new program (execve) without file capabilities. The
 * set-user-ID and set-group-ID bits of files are not honoured (the sandbox
 * has no setuid programs to trust): the IDs stay, saved and filesystem IDs
 * follow the effective ones. Root (effective or real UID 0, unless
 * SECBIT_NOROOT) gets permitted = bounding | inheritable, and effective =
 * permitted when its effective UID is 0; anyone else keeps only the ambient
 * set. With no_new_privs nothing beyond the old permitted set is gained.
 * keep-caps does not survive.
 */
export function credsForExec(old: Credentials, noNewPrivs: boolean): Credentials {
  const n = old.clone();
  n.suid = n.fsuid = n.euid;
  n.sgid = n.fsgid = n.egid;
  let permitted = n.capAmbient;
  let effective = false;
  if (!(old.securebits & SECBIT_NOROOT) && (n.euid === 0 || n.uid === 0)) {
    permitted = old.capBounding | old.capInheritable;
    effective = n.euid === 0;
  }
  if (noNewPrivs) permitted &= old.capPermitted;
  n.capPermitted = permitted;
  n.capEffective = effective ? permitted : n.capAmbient & permitted;
  n.securebits &= ~SECBIT_KEEP_CAPS;
  return n;
}
