// ELF64 x86-64 image validation for execve. The image comes from the application, so it
// is hostile input: every field is range-checked before it is used, every read is
// bounds-checked, and a malformed image ends in an Errno, never an exception of another kind.
//
// Which errno: Linux's binfmt_elf answers ENOEXEC for anything it refuses before the point
// of no return (header, program header table, PT_INTERP), EIO when a read of the file comes
// up short, and EINVAL for a PT_LOAD it cannot map (filesz > memsz, beyond TASK_SIZE, file
// offset not congruent to the address modulo the page size, entry beyond TASK_SIZE). We use
// the same errnos. Linux only discovers the EINVAL cases after the old image is gone and
// then kills the task with SIGSEGV; the caller decides whether to emulate that.
// Checks Linux does not make but which the ELF spec requires, and which we therefore add
// with ENOEXEC: EI_CLASS/EI_DATA/EI_VERSION/e_version, PT_LOADs sorted ascending by
// address without overlap, at least one PT_LOAD, and every value below 2^53 (JS numbers).

import { E, Errno } from '../abi/errno';
import { PAGE_SIZE, TASK_SIZE } from '../abi/mm';

/** Reads up to length bytes at offset; returns fewer only at end of file. */
export type ElfReader = (offset: number, length: number) => Buffer;

export interface ElfSegment {
  vaddr: number;
  memsz: number;
  filesz: number;
  offset: number;
  /** PROT_READ=1 | PROT_WRITE=2 | PROT_EXEC=4 */
  prot: number;
}

export interface ElfInfo {
  type: 'exec' | 'dyn';
  entry: number;
  phoff: number;
  phentsize: number;
  phnum: number;
  /** PT_LOAD segments, in file order (which is ascending address order). */
  segments: ElfSegment[];
  /** PT_INTERP path as a byte string (latin1), without its NUL. */
  interp: string | null;
  /** PT_GNU_STACK has PF_X; true when there is no PT_GNU_STACK. */
  stackExec: boolean;
  /** Unbiased address of the program headers: PT_PHDR, or the PT_LOAD whose file range covers e_phoff. */
  phdrVaddr: number | null;
  /** Page-aligned span of the PT_LOADs (unbiased). */
  minVaddr: number;
  maxVaddr: number;
}

/** x86-64 user address space limit with 4-level paging: one guard page below 2^47. */
const PATH_MAX = 4096;

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
/** binfmt_elf refuses program header tables larger than this. */
const MAX_PHDR_TABLE = 65536;

const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const EV_CURRENT = 1;
const ET_EXEC = 2;
const ET_DYN = 3;
const EM_X86_64 = 62;

const PT_LOAD = 1;
const PT_INTERP = 3;
const PT_PHDR = 6;
const PT_GNU_STACK = 0x6474e551;

const PF_X = 1;
const PF_W = 2;
const PF_R = 4;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

interface RawPhdr {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
}

/**
 * Read exactly len bytes at off or throw errno. fileSize is checked first so that a
 * reader which would happily return bytes past the size we were told is never asked.
 */
function readExact(read: ElfReader, fileSize: number, off: bigint, len: number, errno: number, what: string): Buffer {
  if (off < 0n || off + BigInt(len) > BigInt(fileSize)) {
    throw new Errno(errno, `${what} beyond end of file`);
  }
  const buf = read(Number(off), len);
  if (!Buffer.isBuffer(buf) || buf.length < len) throw new Errno(errno, `short read of ${what}`);
  return buf.length === len ? buf : buf.subarray(0, len);
}

/** Convert a validated 64-bit field; anything a JS number cannot hold exactly is refused. */
function toNum(v: bigint, what: string): number {
  if (v > MAX_SAFE) throw new Errno(E.ENOEXEC, `${what} 0x${v.toString(16)} too large`);
  return Number(v);
}

function checkHeaderIdent(h: Buffer): void {
  if (h[0] !== 0x7f || h[1] !== 0x45 || h[2] !== 0x4c || h[3] !== 0x46) {
    throw new Errno(E.ENOEXEC, 'bad ELF magic');
  }
  if (h[4] !== ELFCLASS64) throw new Errno(E.ENOEXEC, `unsupported ELF class ${h[4]}`);
  if (h[5] !== ELFDATA2LSB) throw new Errno(E.ENOEXEC, `unsupported ELF data encoding ${h[5]}`);
  if (h[6] !== EV_CURRENT) throw new Errno(E.ENOEXEC, `unsupported ELF ident version ${h[6]}`);
}

function parsePhdr(b: Buffer, at: number): RawPhdr {
  return {
    type: b.readUInt32LE(at),
    flags: b.readUInt32LE(at + 4),
    offset: b.readBigUInt64LE(at + 8),
    vaddr: b.readBigUInt64LE(at + 16),
    filesz: b.readBigUInt64LE(at + 32),
    memsz: b.readBigUInt64LE(at + 40),
  };
}

function protOf(flags: number): number {
  return (flags & PF_R ? 1 : 0) | (flags & PF_W ? 2 : 0) | (flags & PF_X ? 4 : 0);
}

function readInterp(read: ElfReader, fileSize: number, ph: RawPhdr): string {
  // Bounds from binfmt_elf: at least one character plus the NUL, at most PATH_MAX.
  if (ph.filesz < 2n || ph.filesz > BigInt(PATH_MAX)) {
    throw new Errno(E.ENOEXEC, `PT_INTERP size ${ph.filesz} out of range`);
  }
  const len = Number(ph.filesz);
  const buf = readExact(read, fileSize, ph.offset, len, E.EIO, 'PT_INTERP');
  if (buf[len - 1] !== 0) throw new Errno(E.ENOEXEC, 'PT_INTERP not NUL terminated');
  // The kernel opens it as a C string, so an embedded NUL ends the path early.
  const nul = buf.indexOf(0);
  return buf.toString('latin1', 0, nul);
}

/** Validate one PT_LOAD the way the mapping code would, and convert it. */
function checkLoad(ph: RawPhdr, index: number): ElfSegment {
  const task = BigInt(TASK_SIZE);
  if (ph.filesz > ph.memsz) throw new Errno(E.EINVAL, `PT_LOAD ${index}: filesz > memsz`);
  if (ph.vaddr >= task || ph.memsz > task || task - ph.memsz < ph.vaddr) {
    throw new Errno(E.EINVAL, `PT_LOAD ${index}: beyond the user address space`);
  }
  // mmap needs a page-aligned file offset for the page containing vaddr. A segment with
  // no file contents is mapped anonymously, so its offset does not matter.
  const page = BigInt(PAGE_SIZE);
  if (ph.filesz > 0n && ph.offset % page !== ph.vaddr % page) {
    throw new Errno(E.EINVAL, `PT_LOAD ${index}: offset and vaddr not congruent modulo the page size`);
  }
  return {
    vaddr: toNum(ph.vaddr, 'p_vaddr'),
    memsz: toNum(ph.memsz, 'p_memsz'),
    filesz: toNum(ph.filesz, 'p_filesz'),
    offset: toNum(ph.offset, 'p_offset'),
    prot: protOf(ph.flags),
  };
}

/** Parse and validate an ELF64 x86-64 executable or shared object for execve. */
export function parseElf(read: ElfReader, fileSize: number): ElfInfo {
  if (!Number.isSafeInteger(fileSize) || fileSize < 0) {
    throw new Errno(E.EINVAL, `bad file size ${fileSize}`);
  }
  // A file too short for a header is "not ELF", the same answer as bad magic.
  if (fileSize < EHDR_SIZE) throw new Errno(E.ENOEXEC, 'file too short for an ELF header');
  const h = readExact(read, fileSize, 0n, EHDR_SIZE, E.ENOEXEC, 'ELF header');
  checkHeaderIdent(h);

  const eType = h.readUInt16LE(16);
  if (eType !== ET_EXEC && eType !== ET_DYN) throw new Errno(E.ENOEXEC, `ELF type ${eType} not executable`);
  const machine = h.readUInt16LE(18);
  if (machine !== EM_X86_64) throw new Errno(E.ENOEXEC, `ELF machine ${machine} is not x86-64`);
  const version = h.readUInt32LE(20);
  if (version !== EV_CURRENT) throw new Errno(E.ENOEXEC, `ELF version ${version}`);

  const entryRaw = h.readBigUInt64LE(24);
  const phoffRaw = h.readBigUInt64LE(32);
  const phentsize = h.readUInt16LE(54);
  const phnum = h.readUInt16LE(56);

  if (phentsize !== PHDR_SIZE) throw new Errno(E.ENOEXEC, `e_phentsize ${phentsize}`);
  const tableSize = phnum * PHDR_SIZE;
  if (phnum === 0 || tableSize > MAX_PHDR_TABLE) throw new Errno(E.ENOEXEC, `e_phnum ${phnum}`);
  // binfmt_elf turns any failure to read the table, short reads included, into ENOEXEC.
  const table = readExact(read, fileSize, phoffRaw, tableSize, E.ENOEXEC, 'program headers');
  const phoff = Number(phoffRaw); // below fileSize, so exact

  const phdrs: RawPhdr[] = [];
  for (let i = 0; i < phnum; i++) phdrs.push(parsePhdr(table, i * PHDR_SIZE));

  // Linux honours only the first PT_INTERP and validates it before anything else.
  let interp: string | null = null;
  const interpPh = phdrs.find((p) => p.type === PT_INTERP);
  if (interpPh) interp = readInterp(read, fileSize, interpPh);

  // Every PT_GNU_STACK is looked at; the last one wins.
  let stackExec = true;
  for (const p of phdrs) {
    if (p.type === PT_GNU_STACK) stackExec = (p.flags & PF_X) !== 0;
  }

  const segments: ElfSegment[] = [];
  let phdrVaddr: number | null = null;
  const phdrPh = phdrs.find((p) => p.type === PT_PHDR);
  if (phdrPh) phdrVaddr = toNum(phdrPh.vaddr, 'PT_PHDR p_vaddr');

  let prevEnd = -1;
  phdrs.forEach((p, i) => {
    if (p.type !== PT_LOAD) return;
    const seg = checkLoad(p, i);
    // The ELF spec requires ascending PT_LOADs; allowing overlap would let a later
    // segment silently replace part of an earlier one.
    if (seg.vaddr < prevEnd) {
      throw new Errno(E.ENOEXEC, `PT_LOAD ${i} at 0x${seg.vaddr.toString(16)} overlaps or precedes the previous one`);
    }
    prevEnd = seg.vaddr + seg.memsz;
    if (phdrPh === undefined && seg.offset <= phoff && phoff < seg.offset + seg.filesz) {
      phdrVaddr = phoff - seg.offset + seg.vaddr;
    }
    segments.push(seg);
  });
  if (segments.length === 0) throw new Errno(E.ENOEXEC, 'no PT_LOAD segments');

  // With an interpreter the kernel jumps to the interpreter's entry, so only a
  // self-contained image has its own entry checked.
  if (interp === null && entryRaw >= BigInt(TASK_SIZE)) {
    throw new Errno(E.EINVAL, `entry 0x${entryRaw.toString(16)} beyond the user address space`);
  }
  const entry = toNum(entryRaw, 'e_entry');

  const first = segments[0];
  const last = segments[segments.length - 1];
  const minVaddr = first.vaddr - (first.vaddr % PAGE_SIZE);
  const maxVaddr = Math.ceil((last.vaddr + last.memsz) / PAGE_SIZE) * PAGE_SIZE;

  return {
    type: eType === ET_EXEC ? 'exec' : 'dyn',
    entry,
    phoff,
    phentsize,
    phnum,
    segments,
    interp,
    stackExec,
    phdrVaddr,
    minVaddr,
    maxVaddr,
  };
}
