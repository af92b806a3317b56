// Root, working directory and umask of a task (shared across CLONE_FS).
import { E, Errno } from '../abi/errno';
import type { Credentials } from '../auth/creds';
import type { VPath } from './dentry';
import type { Resolver } from './walk';
import { S_IFDIR, S_IFMT } from '../abi/fs';

export class FsContext {
  umask = 0o022;

  constructor(
    public root: VPath,
    public cwd: VPath,
  ) {}

  fork(): FsContext {
    const f = new FsContext(this.root, this.cwd);
    f.umask = this.umask;
    return f;
  }

  /** The path-resolution parameters for a task with these credentials. */
  resolver(creds: Credentials, ctx: unknown): Resolver {
    return { creds, root: this.root, ctx, umask: this.umask };
  }

  setCwd(p: VPath): void {
    if ((p.dentry.inode.mode & S_IFMT) !== S_IFDIR) throw new Errno(E.ENOTDIR);
    this.cwd = p;
  }
}
