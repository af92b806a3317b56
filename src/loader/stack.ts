// The initial process stack of the x86-64 psABI, laid out as Linux lays it out, because
// programs (and libcs) read past the documented parts: glibc finds auxv by walking past
// envp, and some programs locate AT_EXECFN's string relative to the stack top.
//
// From stackTop downwards:
//   8 zero bytes (end marker), execfn, envp strings, argv strings (argv[0] lowest),
//   padding to 16, platform string, 16 random bytes, padding,
//   then from sp upwards: argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL pair.
// Linux randomises the 16-byte alignment step below the strings; we do not, the caller
// randomises stackTop instead.
//
// Strings are byte strings (latin1), the project's convention; a Buffer is taken as is.

import { E, Errno } from '../abi/errno';
import { PAGE_SIZE, TASK_SIZE } from '../abi/mm';
import { AT_EXECFN, AT_NULL, AT_PLATFORM, AT_RANDOM, AT_SECURE } from '../abi/auxv';

/** Longest single argument or environment string, NUL included. */
export const MAX_ARG_STRLEN = 32 * PAGE_SIZE;
/** Argument space always allowed, however small the stack rlimit. */
export const ARG_MAX = 32 * PAGE_SIZE;
/** Default stack rlimit (_STK_LIM). */
const STK_LIM = 8 * 1024 * 1024;
/** Argument space for the default 8 MiB stack rlimit. */
export const DEFAULT_MAX_ARG_BYTES = STK_LIM / 4;
const USER_LIMIT = TASK_SIZE;

/**
 * Linux's budget for argv+envp strings and pointers given RLIMIT_STACK's soft limit:
 * a quarter of the rlimit, capped at 3/4 of _STK_LIM, but never below ARG_MAX.
 */
export function argLimitForStackRlimit(rlimCur: number): number {
  return Math.max(Math.min((STK_LIM / 4) * 3, Math.floor(rlimCur / 4)), ARG_MAX);
}

export type StackString = string | Buffer;

export interface InitialStackOptions {
  stackTop: number;
  argv: readonly StackString[];
  envp: readonly StackString[];
  execfn: StackString;
  platform: string;
  random16: Buffer;
  /** Without AT_EXECFN/AT_PLATFORM/AT_RANDOM/AT_NULL: the builder places those strings. */
  auxv: ReadonlyArray<readonly [number, number]>;
  /** Budget for strings (execfn included, as in Linux) plus argv/envp pointers. */
  maxArgBytes?: number;
}

export interface InitialStack {
  /** Initial rsp: 16-byte aligned, pointing at argc. */
  sp: number;
  /** Contents of [bottom, stackTop). */
  bytes: Buffer;
  bottom: number;
}

/** Bytes of a C string without its NUL. A NUL or a non-byte character cannot come from user memory. */
function cBytes(s: StackString, what: string): Buffer {
  if (Buffer.isBuffer(s)) {
    if (s.includes(0)) throw new Errno(E.EINVAL, `${what} contains NUL`);
    return s;
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c > 0xff) throw new Errno(E.EINVAL, `${what} is not a NUL-free byte string`);
  }
  return Buffer.from(s, 'latin1');
}

function isAddr(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

function align16Down(v: number): number {
  // Addresses exceed 2^32, so bitwise masking is not an option.
  return v - (v % 16);
}

/** The final auxv: AT_RANDOM goes after AT_SECURE and the string entries last, in Linux's order. */
function finalAuxv(
  given: ReadonlyArray<readonly [number, number]>,
  execfnAddr: number,
  platformAddr: number,
  randomAddr: number,
): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let randomPlaced = false;
  for (const [k, v] of given) {
    if (!isAddr(k) || !isAddr(v)) throw new Errno(E.EINVAL, `bad auxv entry [${k}, ${v}]`);
    if (k === AT_NULL || k === AT_RANDOM || k === AT_EXECFN || k === AT_PLATFORM) {
      throw new Errno(E.EINVAL, `auxv entry ${k} is supplied by the stack builder`);
    }
    out.push([k, v]);
    if (k === AT_SECURE && !randomPlaced) {
      out.push([AT_RANDOM, randomAddr]);
      randomPlaced = true;
    }
  }
  if (!randomPlaced) out.push([AT_RANDOM, randomAddr]);
  out.push([AT_EXECFN, execfnAddr], [AT_PLATFORM, platformAddr], [AT_NULL, 0]);
  return out;
}

/** Lay out the initial stack of a new process image. */
export function buildInitialStack(opts: InitialStackOptions): InitialStack {
  const { stackTop } = opts;
  if (!isAddr(stackTop) || stackTop % 16 !== 0 || stackTop > USER_LIMIT) {
    throw new Errno(E.EINVAL, `bad stack top ${stackTop}`);
  }
  if (opts.random16.length !== 16) throw new Errno(E.EINVAL, 'AT_RANDOM needs exactly 16 bytes');
  const maxArgBytes = opts.maxArgBytes ?? DEFAULT_MAX_ARG_BYTES;
  if (!Number.isSafeInteger(maxArgBytes) || maxArgBytes <= 0) throw new Errno(E.EINVAL, `bad maxArgBytes ${maxArgBytes}`);

  const execfn = cBytes(opts.execfn, 'execfn');
  const envp = opts.envp.map((s, i) => cBytes(s, `envp[${i}]`));
  const argv = opts.argv.map((s, i) => cBytes(s, `argv[${i}]`));
  const platform = cBytes(opts.platform, 'platform');

  // Linux reserves pointer space for at least one argv entry, since it supplies "" for
  // an empty argv; that substitution is the caller's business, the charge is ours.
  const ptrBytes = (Math.max(argv.length, 1) + envp.length) * 8;
  if (maxArgBytes <= ptrBytes) throw new Errno(E.E2BIG, 'too many argv/envp pointers');
  let strBytes = 0;
  for (const s of [execfn, ...envp, ...argv]) {
    if (s.length + 1 > MAX_ARG_STRLEN) throw new Errno(E.E2BIG, `string of ${s.length} bytes exceeds MAX_ARG_STRLEN`);
    strBytes += s.length + 1;
  }
  if (strBytes > maxArgBytes - ptrBytes) {
    throw new Errno(E.E2BIG, `argument strings (${strBytes} bytes) exceed the limit of ${maxArgBytes - ptrBytes}`);
  }

  // Addresses of the strings, top-down; each array holds the address of element i.
  let p = stackTop - 8;
  p -= execfn.length + 1;
  const execfnAddr = p;
  const envAddrs = new Array<number>(envp.length);
  for (let i = envp.length - 1; i >= 0; i--) {
    p -= envp[i].length + 1;
    envAddrs[i] = p;
  }
  const argAddrs = new Array<number>(argv.length);
  for (let i = argv.length - 1; i >= 0; i--) {
    p -= argv[i].length + 1;
    argAddrs[i] = p;
  }
  p = align16Down(p);
  p -= platform.length + 1;
  const platformAddr = p;
  p -= 16;
  const randomAddr = p;

  const auxv = finalAuxv(opts.auxv, execfnAddr, platformAddr, randomAddr);
  const words = 1 + (argv.length + 1) + (envp.length + 1) + auxv.length * 2;
  const sp = align16Down(p - words * 8);
  if (sp <= 0) throw new Errno(E.ENOMEM, 'initial stack does not fit below stackTop');

  const bytes = Buffer.alloc(stackTop - sp);
  const put = (addr: number, data: Buffer): void => {
    data.copy(bytes, addr - sp);
  };
  put(execfnAddr, execfn);
  envp.forEach((s, i) => put(envAddrs[i], s));
  argv.forEach((s, i) => put(argAddrs[i], s));
  put(platformAddr, platform);
  put(randomAddr, opts.random16);

  // The NULs after strings and the NULL/AT_NULL terminators are already zero from alloc.
  let off = 0;
  const word = (v: number): void => {
    bytes.writeBigUInt64LE(BigInt(v), off);
    off += 8;
  };
  word(argv.length);
  argAddrs.forEach(word);
  word(0);
  envAddrs.forEach(word);
  word(0);
  for (const [k, v] of auxv) {
    word(k);
    word(v);
  }
  return { sp, bytes, bottom: sp };
}
