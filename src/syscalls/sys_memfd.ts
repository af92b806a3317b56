// memfd_create (man 2 memfd_create) and the file seals of fcntl
// (F_ADD_SEALS, F_GET_SEALS). A memfd is a tmpfs file on the VFS's internal
// mount (vfs.shmMount, Linux's shm_mnt) that no directory holds: its data is
// frames of the memory file like any tmpfs file's, counted under the memory
// limit, and it lives while a descriptor or a mapping holds it. The tmpfs
// inode enforces the seals on writes, truncates and fallocate; mmap and
// mprotect check them for shared mappings (sys_mm.ts).
import { E, Errno } from '../abi/errno';
import { O_LARGEFILE, O_RDWR, S_IFREG } from '../abi/fs';
import {
  F_ALL_SEALS, F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE,
  MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_EXEC, MFD_HUGE_BITS, MFD_HUGETLB, MFD_NAME_MAX, MFD_NOEXEC_SEAL,
} from '../abi/memfd';
import { sharedWritable } from '../kernel/filemaps';
import type { Task } from '../kernel/task';
import { u32, type SyscallDef } from '../kernel/syscall';
import { TmpfsFs } from '../fsimpl/tmpfs/tmpfs';
import { Dentry } from '../vfs/dentry';
import type { FileDescription } from '../vfs/file';
import { RegularFile } from '../vfs/regular_file';

const MFD_HUGE_SHIFT = 26, MFD_HUGE_MASK = 0x3f;
/** log2 of the sandbox's one huge page size (2 MiB). */
const HUGE_SHIFT = 21;
const MFD_ALL = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC;

/** The name argument: at most MFD_NAME_MAX bytes before its NUL (EINVAL beyond, EFAULT for a bad pointer). */
function readName(t: Task, addr: number): string {
  try {
    return t.mm.readCString(addr, MFD_NAME_MAX + 1);
  } catch (e) {
    if (e instanceof Errno && e.errno === E.ENAMETOOLONG) throw new Errno(E.EINVAL, 'memfd name longer than 249 bytes');
    throw e;
  }
}

function memfdCreate(t: Task, nameAddr: number, flags: number): number {
  // Linux's order: the flags, EXEC against NOEXEC_SEAL, the name, then the file.
  if (flags & ~(MFD_ALL | (flags & MFD_HUGETLB ? MFD_HUGE_BITS : 0))) throw new Errno(E.EINVAL);
  if (flags & MFD_EXEC && flags & MFD_NOEXEC_SEAL) throw new Errno(E.EINVAL);
  const name = readName(t, nameAddr);
  // MFD_HUGETLB: a file of the internal hugetlbfs mount, of the one huge page size the sandbox has (any other: no such pool, ENODEV as Linux's hugetlb_file_setup).
  const sizeLog = (flags >>> MFD_HUGE_SHIFT) & MFD_HUGE_MASK;
  if (flags & MFD_HUGETLB && sizeLog !== 0 && sizeLog !== HUGE_SHIFT) throw new Errno(E.ENODEV, 'no pool of that huge page size');
  const mnt = flags & MFD_HUGETLB ? t.kernel.vfs.hugeMount() : t.kernel.vfs.shmMount();
  if (!(mnt.fs instanceof TmpfsFs)) throw new Errno(E.ENOSYS);
  // vm.memfd_noexec is 0: without MFD_NOEXEC_SEAL the file is executable (MFD_EXEC).
  const noexec = (flags & MFD_NOEXEC_SEAL) !== 0;
  const inode = mnt.fs.newInode({ type: S_IFREG, mode: noexec ? 0o666 : 0o777, uid: t.creds.fsuid, gid: t.creds.fsgid });
  inode.a.nlink = 0;
  if (noexec) inode.seals = F_SEAL_EXEC;
  else if (flags & MFD_ALLOW_SEALING) inode.seals = 0;
  const dentry = new Dentry(inode, `memfd:${name}`, mnt.root);
  dentry.dead = true;
  const f = new RegularFile({ mount: mnt, dentry }, inode, O_RDWR | O_LARGEFILE);
  inode.execWhileWritable = true;
  f.countOpen();
  try {
    return t.fdTable.install(f, (flags & MFD_CLOEXEC) !== 0);
  } catch (e) {
    f.decRef();
    throw e;
  }
}

/** fcntl F_GET_SEALS: EINVAL for files without seals. */
export function getSeals(f: FileDescription): number {
  const seals = f.inode?.seals;
  if (seals === undefined || seals === null) throw new Errno(E.EINVAL);
  return seals;
}

/** fcntl F_ADD_SEALS, in memfd_add_seals's order of checks. */
export function addSeals(t: Task, f: FileDescription, seals: number): number {
  if (!f.writable) throw new Errno(E.EPERM);
  if (seals & ~F_ALL_SEALS) throw new Errno(E.EINVAL);
  const inode = f.inode;
  if (!inode || inode.seals === null) throw new Errno(E.EINVAL);
  if (inode.seals & F_SEAL_SEAL) throw new Errno(E.EPERM);
  // Writes already allowed through a shared mapping could not be taken back.
  if (seals & F_SEAL_WRITE && !(inode.seals & F_SEAL_WRITE) && sharedWritable(t.kernel, inode.fs.dev, inode.ino)) throw new Errno(E.EBUSY);
  // F_SEAL_EXEC on an executable file seals it against writes too (W^X), without the mapping check above, as Linux.
  if (seals & F_SEAL_EXEC && inode.mode & 0o111) seals |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
  inode.seals |= seals;
  return 0;
}

export const defs: SyscallDef[] = [
  {
    nr: 319, name: 'memfd_create', args: ['str', 'memfd_flags'], fn: (t, a) => memfdCreate(t, a[0], u32(a[1])),
    partial: 'MFD_HUGETLB files are hugetlbfs files of the 2 MiB pool (MFD_HUGE_2MB or the default size; other MFD_HUGE_* sizes ENODEV: no such pool); vm.memfd_noexec is 0',
  },
];
