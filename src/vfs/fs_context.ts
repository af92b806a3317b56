// PLACEHOLDER (owned by the VFS work): root, cwd and umask of a task.
export class FsContext {
  umask = 0o022;
  fork(): FsContext {
    const f = new FsContext();
    f.umask = this.umask;
    return f;
  }
}
