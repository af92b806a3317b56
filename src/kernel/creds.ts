// Credentials of a task (man 7 credentials). Copied on fork, changed by setuid & co.

export class Credentials {
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
  ) {}

  clone(): Credentials {
    return new Credentials(this.uid, this.gid, this.euid, this.egid, this.suid, this.sgid, this.fsuid, this.fsgid, [...this.groups]);
  }

  /** Root in the sandbox's user namespace has every capability over its files. */
  get isPrivileged(): boolean {
    return this.euid === 0;
  }

  inGroup(gid: number): boolean {
    return this.fsgid === gid || this.groups.includes(gid);
  }

  serialize(): object {
    return { ...this, groups: [...this.groups] };
  }
}
