// Paths, descriptors, open flags, modes and struct stat as strace shows them.

import { bitNames, cstring, enumName, hex, outArg, struct, type Call, type Table } from './format';

export const OPEN_BITS = [
  [0o100, 'O_CREAT'], [0o200, 'O_EXCL'], [0o400, 'O_NOCTTY'], [0o1000, 'O_TRUNC'], [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'], [0o4010000, 'O_SYNC'], [0o10000, 'O_DSYNC'], [0o20000, 'O_ASYNC'], [0o40000, 'O_DIRECT'],
  [0o100000, 'O_LARGEFILE'], [0o20200000, 'O_TMPFILE'], [0o200000, 'O_DIRECTORY'], [0o400000, 'O_NOFOLLOW'],
  [0o1000000, 'O_NOATIME'], [0o2000000, 'O_CLOEXEC'], [0o10000000, 'O_PATH'],
] as const;

export function openFlags(v: number): string {
  const mode = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][v & 3];
  const rest = bitNames(v & ~3, OPEN_BITS, '');
  return rest ? `${mode}|${rest}` : mode;
}

/** A mode in octal as C's %#03o writes it: 0644, 022, 000. */
export function octal(v: number): string {
  return (v === 0 ? '0' : '0' + (v >>> 0).toString(8)).padStart(3, '0');
}

const S_IFMT = 0o170000;
const FILE_TYPES: Record<number, string> = {
  0o140000: 'S_IFSOCK', 0o120000: 'S_IFLNK', 0o100000: 'S_IFREG', 0o060000: 'S_IFBLK', 0o040000: 'S_IFDIR',
  0o020000: 'S_IFCHR', 0o010000: 'S_IFIFO',
};
const MODE_BITS = [[0o4000, 'S_ISUID'], [0o2000, 'S_ISGID'], [0o1000, 'S_ISVTX']] as const;

/** st_mode: type, set-id and sticky bits by name, permissions in octal. */
export function fileMode(m: number): string {
  const parts: string[] = [];
  const type = m & S_IFMT;
  if (type) parts.push(FILE_TYPES[type] ?? octal(type));
  for (const [bit, name] of MODE_BITS) if (m & bit) parts.push(name);
  parts.push(octal(m & 0o777));
  return parts.join('|');
}

/** A device number the way glibc's makedev splits it. */
export function makedev(dev: bigint): string {
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  const h = (n: number) => (n === 0 ? '0' : hex(n));
  return `makedev(${h(major)}, ${h(minor)})`;
}

/** struct stat (x86-64): strace shows the mode and the size, or the device of a device file. */
function stat(b: Buffer): string {
  const mode = b.readUInt32LE(24);
  const type = mode & S_IFMT;
  const second = type === 0o020000 || type === 0o060000 ? `st_rdev=${makedev(b.readBigUInt64LE(40))}` : `st_size=${b.readBigInt64LE(48)}`;
  return `{st_mode=${fileMode(mode)}, ${second}, ...}`;
}

const AT_BITS = [
  [0x100, 'AT_SYMLINK_NOFOLLOW'], [0x400, 'AT_SYMLINK_FOLLOW'], [0x800, 'AT_NO_AUTOMOUNT'], [0x1000, 'AT_EMPTY_PATH'],
  [0x2000, 'AT_STATX_FORCE_SYNC'], [0x4000, 'AT_STATX_DONT_SYNC'], [0x8000, 'AT_RECURSIVE'],
] as const;
const ACCESS_AT_BITS = [[0x200, 'AT_EACCESS'], ...AT_BITS] as const;
const UNLINK_BITS = [[0x200, 'AT_REMOVEDIR']] as const;
const RENAME_BITS = [[1, 'RENAME_NOREPLACE'], [2, 'RENAME_EXCHANGE'], [4, 'RENAME_WHITEOUT']] as const;
const ACCESS_BITS = [[4, 'R_OK'], [2, 'W_OK'], [1, 'X_OK']] as const;
const WHENCE: Record<number, string> = { 0: 'SEEK_SET', 1: 'SEEK_CUR', 2: 'SEEK_END', 3: 'SEEK_DATA', 4: 'SEEK_HOLE' };
const STATX_MASK = [
  [0x1, 'STATX_TYPE'], [0x2, 'STATX_MODE'], [0x4, 'STATX_NLINK'], [0x8, 'STATX_UID'], [0x10, 'STATX_GID'],
  [0x20, 'STATX_ATIME'], [0x40, 'STATX_MTIME'], [0x80, 'STATX_CTIME'], [0x100, 'STATX_INO'], [0x200, 'STATX_SIZE'],
  [0x400, 'STATX_BLOCKS'], [0x800, 'STATX_BTIME'], [0x1000, 'STATX_MNT_ID'], [0x2000, 'STATX_DIOALIGN'],
] as const;
const FALLOC_BITS = [
  [1, 'FALLOC_FL_KEEP_SIZE'], [2, 'FALLOC_FL_PUNCH_HOLE'], [8, 'FALLOC_FL_COLLAPSE_RANGE'], [0x10, 'FALLOC_FL_ZERO_RANGE'],
  [0x20, 'FALLOC_FL_INSERT_RANGE'], [0x40, 'FALLOC_FL_UNSHARE_RANGE'],
] as const;

function flagsOf(bits: ReadonlyArray<readonly [number, string]>): { fmt: (c: Call, i: number) => string } {
  return { fmt: (c, i) => bitNames(c.args[i], bits, '0') };
}

/** getdents/getdents64: strace counts the records the kernel wrote (both keep d_reclen at 16). */
function dirents(c: Call, v: number): string | null {
  const b = struct(c.t, v, Math.max(0, Math.min(c.ret, 1 << 20)));
  if (!b) return null;
  let n = 0;
  for (let off = 0; off + 18 <= b.length; n++) {
    const reclen = b.readUInt16LE(off + 16);
    if (reclen === 0) break;
    off += reclen;
  }
  return `${hex(v)} /* ${n} entries */`;
}

export const fsDecoders: Table = {
  fd: { fmt: (c, i) => String(c.args[i] | 0) },
  atfd: { fmt: (c, i) => ((c.args[i] | 0) === -100 ? 'AT_FDCWD' : String(c.args[i] | 0)) },
  str: { fmt: (c, i) => cstring(c.t, c.args[i]) },
  openflags: { fmt: (c, i) => openFlags(c.args[i] | 0) },
  oct: { fmt: (c, i) => octal(c.args[i]) },
  /** open's mode: shown only when the flags before it create a file. */
  open_mode: { fmt: (c, i) => (c.args[i - 1] & (0o100 | 0o20000000) ? octal(c.args[i]) : null) },
  access_mode: { fmt: (c, i) => bitNames(c.args[i], ACCESS_BITS, 'F_OK') },
  atflags: flagsOf(AT_BITS),
  access_atflags: flagsOf(ACCESS_AT_BITS),
  unlink_flags: flagsOf(UNLINK_BITS),
  rename_flags: flagsOf(RENAME_BITS),
  statx_mask: flagsOf(STATX_MASK),
  falloc_mode: flagsOf(FALLOC_BITS),
  whence: { fmt: (c, i) => enumName(c.args[i] >>> 0, WHENCE, 'SEEK_???') },
  stat_out: outArg((c, v) => {
    const b = struct(c.t, v, 144);
    return b && stat(b);
  }),
  /** A C string the kernel wrote (getcwd). */
  cstr_out: outArg((c, v) => cstring(c.t, v)),
  dirents: outArg(dirents),
  /** pipe/pipe2/socketpair: the two descriptors. */
  fdpair_out: outArg((c, v) => {
    const b = struct(c.t, v, 8);
    return b && `[${b.readInt32LE(0)}, ${b.readInt32LE(4)}]`;
  }),
};

/** Flags without an access mode (pipe2, dup3, eventfd...): O_CLOEXEC alone, or 0. */
fsDecoders.fdflags = { fmt: (c, i) => bitNames(c.args[i] & ~3, OPEN_BITS, '0') };
