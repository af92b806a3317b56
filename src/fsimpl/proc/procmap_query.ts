// PROCMAP_QUERY, the ioctl of /proc/PID/maps (Linux 6.11; struct
// procmap_query in linux/fs.h, facts from fs/proc/task_mmu.c): one mapping
// of the process, the one covering an address or (COVERING_OR_NEXT_VMA) the
// first after it that passes the permission and file-backed filters, told
// as the maps line tells it, plus its name into a buffer of the caller and
// the GNU build ID of the ELF file it maps. The struct is extensible: at
// least up to query_addr, at most a page, unknown trailing bytes zero.

import { Errno, E } from '../../abi/errno';
import { PATH_MAX } from '../../abi/fs';
import { PAGE_SIZE } from '../../abi/mm';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread_group';
import type { MemoryManager } from '../../mm/mm';
import type { VmaFile } from '../../mm/vma';
import type { MapsEntry } from './format';
import { ensureExists, hasResources, mapsEntries } from './task_info';

/** _IOWR('f', 17, struct procmap_query) */
export const PROCMAP_QUERY = 0xc0686611;

const VMA_READABLE = 0x01;
const VMA_WRITABLE = 0x02;
const VMA_EXECUTABLE = 0x04;
const VMA_SHARED = 0x08;
const COVERING_OR_NEXT_VMA = 0x10;
const FILE_BACKED_VMA = 0x20;
const VALID_FLAGS = 0x3f;

/** sizeof(struct procmap_query), and the least a caller may pass (through query_addr). */
const QUERY_SIZE = 104;
const QUERY_MIN_SIZE = 24;
/** BUILD_ID_SIZE_MAX */
const BUILD_ID_MAX = 20;

type Found = { e: MapsEntry; file: VmaFile | null };

/** The mapping the query names (ENOENT for none); the gate page ([vsyscall]) is not one, as on Linux. */
function matching(mm: MemoryManager, addr: bigint, flags: number): Found {
  for (const { e, vma } of mapsEntries(mm)) {
    if (e.name === '[vsyscall]' || BigInt(e.end) <= addr) continue;
    const file = vma?.file ?? null;
    const fits = !(
      (flags & FILE_BACKED_VMA && !file) || (flags & VMA_READABLE && !e.read) || (flags & VMA_WRITABLE && !e.write) ||
      (flags & VMA_EXECUTABLE && !e.exec) || (flags & VMA_SHARED && !e.shared)
    );
    if (fits && (flags & COVERING_OR_NEXT_VMA || BigInt(e.start) <= addr)) return { e, file };
    if (!(flags & COVERING_OR_NEXT_VMA)) break;
  }
  throw new Errno(E.ENOENT);
}

/** Bytes [off, off+len) of a mapped file through its pages (null past its end). */
function fileBytes(mm: MemoryManager, f: VmaFile, off: number, len: number): Buffer | null {
  if (off < 0 || len < 0 || off + len > f.mappable.size()) return null;
  const out = Buffer.alloc(len);
  for (let done = 0; done < len; ) {
    const at = off + done;
    const page = Math.floor(at / PAGE_SIZE);
    const within = at - page * PAGE_SIZE;
    const n = Math.min(len - done, PAGE_SIZE - within);
    mm.memfile.bytes(f.mappable.frameFor(page, false)).copy(out, done, within, within + n);
    done += n;
  }
  return out;
}

/**
 * The GNU build ID note of an ELF executable or shared object, through its
 * program headers (at most 256 looked at); null if there is none to find.
 */
function buildId(mm: MemoryManager, f: VmaFile): Buffer | null {
  const read = (off: number, len: number) => fileBytes(mm, f, off, len);
  const eh = read(0, 64);
  if (!eh || eh.readUInt32BE(0) !== 0x7f454c46) return null;
  const type = eh.readUInt16LE(16);
  if (type !== 2 && type !== 3) return null; // ET_EXEC, ET_DYN
  const is64 = eh[4] === 2;
  if (!is64 && eh[4] !== 1) return null;
  const phoff = is64 ? Number(eh.readBigUInt64LE(32)) : eh.readUInt32LE(28);
  const phnum = Math.min(eh.readUInt16LE(is64 ? 56 : 44), 256);
  const phsize = is64 ? 56 : 32;
  for (let i = 0; i < phnum; i++) {
    const ph = read(phoff + i * phsize, phsize);
    if (!ph) return null;
    if (ph.readUInt32LE(0) !== 4) continue; // PT_NOTE
    const off = is64 ? Number(ph.readBigUInt64LE(8)) : ph.readUInt32LE(4);
    const size = is64 ? Number(ph.readBigUInt64LE(32)) : ph.readUInt32LE(16);
    const id = noteBuildId(read, off, off + size);
    if (id) return id;
  }
  return null;
}

function noteBuildId(read: (off: number, len: number) => Buffer | null, off: number, end: number): Buffer | null {
  const align = (n: number) => (n + 3) & ~3;
  while (end - off > 12 + 4) {
    const nh = read(off, 16);
    if (!nh) return null;
    const namesz = nh.readUInt32LE(0);
    const descsz = nh.readUInt32LE(4);
    const next = off + 12 + align(namesz) + align(descsz);
    if (next > end) break;
    if (nh.readUInt32LE(8) === 3 && namesz === 4 && nh.toString('latin1', 12, 16) === 'GNU\0' && descsz > 0 && descsz <= BUILD_ID_MAX) {
      return read(off + 16, descsz);
    }
    off = next;
  }
  return null;
}

/** PROCMAP_QUERY by t on the maps of process tg (task pt): 0, the struct written back. */
export function procmapQuery(t: Task, tg: ThreadGroup, pt: Task, arg: number): number {
  const usize = t.mm.copyIn(arg, 8).readBigUInt64LE(0);
  if (usize > BigInt(PAGE_SIZE)) throw new Errno(E.E2BIG);
  if (usize < BigInt(QUERY_MIN_SIZE)) throw new Errno(E.EINVAL);
  const size = Number(usize);
  const raw = t.mm.copyIn(arg, size);
  if (raw.subarray(QUERY_SIZE).some((b) => b !== 0)) throw new Errno(E.E2BIG);
  const q = Buffer.alloc(QUERY_SIZE);
  raw.copy(q, 0, 0, Math.min(size, QUERY_SIZE));
  const flags = q.readBigUInt64LE(8);
  if (flags & ~BigInt(VALID_FLAGS)) throw new Errno(E.EINVAL);
  let nameSize = q.readUInt32LE(80);
  let idSize = q.readUInt32LE(84);
  const nameAddr = q.readBigUInt64LE(88);
  const idAddr = q.readBigUInt64LE(96);
  if ((nameSize !== 0) !== (nameAddr !== 0n) || (idSize !== 0) !== (idAddr !== 0n)) throw new Errno(E.EINVAL);
  ensureExists(tg);
  if (!hasResources(tg, pt)) throw new Errno(E.ESRCH);
  const mm = pt.mm;
  const { e, file } = matching(mm, q.readBigUInt64LE(16), Number(flags));
  q.writeBigUInt64LE(BigInt(e.start), 24);
  q.writeBigUInt64LE(BigInt(e.end), 32);
  const vf = (e.read ? VMA_READABLE : 0) | (e.write ? VMA_WRITABLE : 0) | (e.exec ? VMA_EXECUTABLE : 0) | (e.shared ? VMA_SHARED : 0);
  q.writeBigUInt64LE(BigInt(vf), 40);
  q.writeBigUInt64LE(BigInt(PAGE_SIZE), 48);
  q.writeBigUInt64LE(BigInt(file ? e.offset : 0), 56);
  q.writeBigUInt64LE(BigInt(file ? e.ino : 0), 64);
  q.writeUInt32LE(file ? e.major : 0, 72);
  q.writeUInt32LE(file ? e.minor : 0, 76);
  let id: Buffer | null = null;
  if (idSize) {
    id = file ? buildId(mm, file) : null;
    if (id && idSize < id.length) throw new Errno(E.ENAMETOOLONG);
    idSize = id ? id.length : 0;
    q.writeUInt32LE(idSize, 84);
  }
  let name: Buffer | null = null;
  if (nameSize) {
    // The name with its NUL; an anonymous mapping without one has none (size 0).
    name = e.name ? Buffer.from(e.name + '\0', 'latin1') : null;
    if (name && name.length > Math.min(PATH_MAX, nameSize)) throw new Errno(E.ENAMETOOLONG);
    nameSize = name ? name.length : 0;
    q.writeUInt32LE(nameSize, 80);
  }
  if (name) t.mm.copyOut(Number(nameAddr), name);
  if (id) t.mm.copyOut(Number(idAddr), id);
  t.mm.copyOut(arg, q.subarray(0, Math.min(size, QUERY_SIZE)));
  return 0;
}
