// PLACEHOLDER (owned by the VFS work): the per-process file descriptor table.
export class FdTable {
  fork(): FdTable {
    return new FdTable();
  }
  closeOnExec(): void {}
  closeAll(): void {}
}
