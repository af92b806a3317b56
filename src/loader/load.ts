// Loading a program into a fresh address space: follow #! scripts, map the
// ELF's PT_LOAD segments (file pages shared copy-on-write with the file's page
// cache), map the dynamic loader named by PT_INTERP, set up brk, and build the
// initial stack with argv, envp and the auxiliary vector.

import { randomBytes, randomInt } from '../host/random';
import { E, Errno } from '../abi/errno';
import type { MemoryManager } from '../mm/mm';
import { PAGE, pageAlignDown, pageAlignUp, type VmaFile } from '../mm/vma';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../abi/mm';
import type { Mappable } from '../mm/mappable';
import { type ElfInfo, parseElf } from './elf';
import { BINPRM_BUF_SIZE, checkInterpDepth, parseShebang, shebangArgv } from './shebang';
import * as A from './stack';
import * as AT from '../abi/auxv';
import type { HostInfo } from '../host/hostinfo';

/** An executable file as the VFS hands it to the loader. */
export interface ExecFile {
  /** Path the program was found at (for /proc/PID/exe and maps). */
  path: string;
  size: number;
  read(off: number, len: number): Buffer;
  mappable: Mappable;
  dev: number;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  /** Keeps the open file alive while mapped. */
  hold?: { incRef(): void; decRef(): void };
  /** The loader read the file, where Linux's loader reads it (inotify's IN_ACCESS). */
  accessed?(): void;
  /** The loader is done with the file (its mappings, if any, keep it open). */
  done?(): void;
  /** As hold, without denying writes: what the interpreter's mappings take. */
  keepOpen?: { incRef(): void; decRef(): void };
  /** Its security.capability attribute (file capabilities), if any. */
  caps?: Buffer | null;
  /** On a nosuid mount. */
  nosuid?: boolean;
  /** The caller may read it (else the process is not dumpable after exec). */
  readable?: boolean;
}

/** The IDs the new program runs with (auxv), decided once its file is known. */
export interface ExecIds {
  uid: number;
  euid: number;
  gid: number;
  egid: number;
  /** AT_SECURE */
  secure: boolean;
}

export interface LoadRequest {
  open: (path: string) => ExecFile;
  /** The program itself when it is not found by path (execveat with a directory fd, AT_EMPTY_PATH). */
  openFirst?: () => ExecFile;
  /**
   * The name (/dev/fd/N...) will not exist in the new program: its descriptor
   * is close-on-exec. A script then cannot be run (ENOENT), as on Linux.
   */
  pathInaccessible?: boolean;
  path: string;
  argv: string[];
  envp: string[];
  /**
   * Compute the new credentials for the program file that really runs (the
   * ELF a #! chain ends at: set-ID bits of scripts do not count, as on
   * Linux); unreadable: some file of the chain could not be read by the caller.
   */
  credsFor: (file: ExecFile, unreadable: boolean) => ExecIds;
  stackLimit: number;
  /** The host CPU's description, copied into auxv (captured once at boot). */
  cpu: Pick<HostInfo, 'hwcap' | 'hwcap2' | 'minSigStkSz' | 'platform'>;
}

export interface LoadedImage {
  entry: number;
  sp: number;
  exe: ExecFile;
  argv: string[];
}

const ET_DYN_BASE = 0x555555554000;
const INITIAL_STACK = 128 * 1024;

function randomPages(max: number): number {
  return randomInt(0, max) * PAGE;
}

/** Resolve #! chains to the ELF that really runs. */
function resolveScripts(req: LoadRequest): { file: ExecFile; argv: string[]; unreadable: boolean } {
  let path = req.path;
  let argv = req.argv;
  let unreadable = false;
  // A script is let go once its interpreter is open (or the chain failed).
  let script: ExecFile | null = null;
  for (let depth = 0; ; depth++) {
    let file: ExecFile;
    try {
      file = depth === 0 && req.openFirst ? req.openFirst() : req.open(path);
    } finally {
      script?.done?.();
      script = null;
    }
    try {
      if (file.readable === false) unreadable = true;
      const head = file.read(0, BINPRM_BUF_SIZE);
      file.accessed?.();
      const sb = parseShebang(head);
      if (!sb) return { file, argv, unreadable };
      if (depth === 0 && req.pathInaccessible) throw new Errno(E.ENOENT);
      checkInterpDepth(depth + 1);
      if (sb.interp === '') throw new Errno(E.ENOENT);
      argv = shebangArgv(sb, path, argv.length ? argv : [path]);
      path = sb.interp;
    } catch (e) {
      file.done?.();
      throw e;
    }
    script = file;
  }
}

/** Map every PT_LOAD of elf at bias. Returns the end of the highest segment. */
function mapSegments(mm: MemoryManager, file: ExecFile, elf: ElfInfo, bias: number): number {
  const vf: VmaFile = { mappable: file.mappable, name: file.path, dev: file.dev, ino: file.ino, hold: file.hold };
  let top = 0;
  for (const seg of elf.segments) {
    const start = pageAlignDown(seg.vaddr + bias);
    const fileEnd = seg.vaddr + bias + seg.filesz;
    const memEnd = seg.vaddr + bias + seg.memsz;
    const prot = seg.prot;
    if (seg.filesz > 0) {
      const len = pageAlignUp(fileEnd) - start;
      mm.mapAt(start, len, prot, false, vf, pageAlignDown(seg.offset) / PAGE);
      // The rest of the last file page belongs to .bss: it must read as zeros.
      const tail = pageAlignUp(fileEnd) - fileEnd;
      if (seg.memsz > seg.filesz && tail > 0) mm.kernelWrite(fileEnd, Buffer.alloc(tail));
    }
    const anonStart = seg.filesz > 0 ? pageAlignUp(fileEnd) : start;
    if (pageAlignUp(memEnd) > anonStart) mm.mapAt(anonStart, pageAlignUp(memEnd) - anonStart, prot, false, null, 0);
    top = Math.max(top, pageAlignUp(memEnd));
  }
  return top;
}

export function loadProgram(mm: MemoryManager, req: LoadRequest, vdsoBase: number): LoadedImage {
  const { file, argv, unreadable } = resolveScripts(req);
  let ifile: ExecFile | null = null;
  try {
    return loadElf(mm, req, vdsoBase, file, argv, unreadable, (p) => (ifile = req.open(p)));
  } finally {
    // The exec's own references; the mappings keep theirs.
    file.done?.();
    (ifile as ExecFile | null)?.done?.();
  }
}

function loadElf(mm: MemoryManager, req: LoadRequest, vdsoBase: number, file: ExecFile, argv: string[], unreadable: boolean, openInterp: (path: string) => ExecFile): LoadedImage {
  const elf = parseElf((o, l) => file.read(o, l), file.size);
  // Linux reads the program headers, then the interpreter's name.
  file.accessed?.();
  let interp: { file: ExecFile; elf: ElfInfo } | null = null;
  if (elf.interp !== null) {
    file.accessed?.();
    const ifile = openInterp(elf.interp);
    const ielf = parseElf((o, l) => ifile.read(o, l), ifile.size);
    // Its header, then its program headers.
    ifile.accessed?.();
    ifile.accessed?.();
    if (ielf.interp !== null) throw new Errno(E.ELIBBAD);
    interp = { file: ifile, elf: ielf };
  }
  const ids = req.credsFor(file, unreadable || interp?.file.readable === false);

  // Layout: stack just under the top of the address space (the stub's and
  // the vDSO's reserved ranges lie above it), mmap area below it.
  const stackTop = pageAlignDown(mm.top - 0x10000000 - randomPages(1 << 14));
  mm.stackTop = stackTop;
  mm.stackLimit = req.stackLimit;
  const gap = Math.min(Math.max(req.stackLimit, 128 * 1024 * 1024), 2 ** 40);
  mm.mmapBase = pageAlignDown(stackTop - gap - randomPages(1 << 16));

  const bias = elf.type === 'dyn' ? pageAlignDown(ET_DYN_BASE + randomPages(1 << 16)) - pageAlignDown(elf.minVaddr) : 0;
  const end = mapSegments(mm, file, elf, bias);
  mm.brkStart = mm.brkEnd = end + randomPages(1 << 12);

  let interpBias = 0;
  if (interp) {
    const span = pageAlignUp(interp.elf.maxVaddr) - pageAlignDown(interp.elf.minVaddr);
    interpBias = mm.findFree(span) - pageAlignDown(interp.elf.minVaddr);
    // Linux lets writers at the interpreter again once it is loaded: only the program itself stays denied.
    mapSegments(mm, { ...interp.file, hold: interp.file.keepOpen }, interp.elf, interpBias);
  }

  const cpu = req.cpu;
  const phdr = elf.phdrVaddr !== null ? elf.phdrVaddr + bias : 0;
  const auxv: Array<[number, number]> = [
    [AT.AT_SYSINFO_EHDR, vdsoBase],
    [AT.AT_MINSIGSTKSZ, cpu.minSigStkSz],
    [AT.AT_HWCAP, cpu.hwcap],
    [AT.AT_PAGESZ, PAGE],
    [AT.AT_CLKTCK, 100],
    [AT.AT_PHDR, phdr],
    [AT.AT_PHENT, 56],
    [AT.AT_PHNUM, elf.phnum],
    [AT.AT_BASE, interp ? interpBias : 0],
    [AT.AT_FLAGS, 0],
    [AT.AT_ENTRY, elf.entry + bias],
    [AT.AT_UID, ids.uid],
    [AT.AT_EUID, ids.euid],
    [AT.AT_GID, ids.gid],
    [AT.AT_EGID, ids.egid],
    [AT.AT_SECURE, ids.secure ? 1 : 0],
    [AT.AT_HWCAP2, cpu.hwcap2],
  ];
  if (vdsoBase === 0) auxv.shift();
  const stack = A.buildInitialStack({
    stackTop,
    argv,
    envp: req.envp,
    execfn: req.path,
    platform: cpu.platform,
    random16: randomBytes(16),
    auxv,
    maxArgBytes: A.argLimitForStackRlimit(req.stackLimit),
  });
  const stackSize = Math.max(INITIAL_STACK, pageAlignUp(stackTop - stack.bottom) + PAGE);
  mm.mapAt(stackTop - stackSize, stackSize, PROT_READ | PROT_WRITE | (elf.stackExec ? PROT_EXEC : 0), false, null, 0, true, '[stack]');
  mm.copyOut(stack.bottom, stack.bytes);
  recordArgArea(mm, stack.bytes, stack.bottom, argv.length, req.envp.length);
  const entry = interp ? interp.elf.entry + interpBias : elf.entry + bias;
  return { entry, sp: stack.sp, exe: file, argv };
}

/** Remember where argv and envp strings lie, for /proc/PID/cmdline and environ. */
function recordArgArea(mm: MemoryManager, bytes: Buffer, bottom: number, argc: number, envc: number): void {
  const off = (addr: number) => addr - bottom;
  const sp = bottom;
  const ptr = (i: number) => Number(bytes.readBigUInt64LE(off(sp) + 8 * i));
  const argv0 = argc > 0 ? ptr(1) : 0;
  const env0 = envc > 0 ? ptr(argc + 2) : 0;
  if (argc > 0) {
    const last = ptr(argc);
    mm.argStart = argv0;
    mm.argEnd = last + bytes.indexOf(0, off(last)) - off(last) + 1;
  }
  if (envc > 0) {
    const last = ptr(argc + 1 + envc);
    mm.envStart = env0;
    mm.envEnd = last + bytes.indexOf(0, off(last)) - off(last) + 1;
  }
  // The auxiliary vector follows envp's NULL; it ends with its AT_NULL pair.
  const aux = off(sp) + 8 * (argc + envc + 3);
  let end = aux;
  while (end + 16 <= bytes.length && bytes.readBigUInt64LE(end) !== 0n) end += 16;
  mm.auxv = Buffer.from(bytes.subarray(aux, Math.min(end + 16, bytes.length)));
}
