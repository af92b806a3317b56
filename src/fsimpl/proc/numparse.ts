// How Linux reads numbers written to proc files. Two families:
//  - kstrto*: the whole text is one number (one trailing newline allowed),
//    base from the prefix (0x hex, 0 octal, else decimal), '+' accepted,
//    EINVAL for anything else, ERANGE when it does not fit.
//    (oom_score_adj strips surrounding blanks first, coredump_filter not.)
//  - sysctl integer vectors (proc_dointvec): values separated by blanks,
//    no '+', each stored as soon as it is read, the write consumes what was
//    parsed plus the blanks after it; a write of blanks only is EINVAL.
import { Errno, E } from '../../abi/errno';

const INT_MAX = 0x7fffffff;

/** Digits of base at the start of s and the value they spell, with the base chosen by the prefix. */
function scan(s: string): { value: bigint; len: number } | null {
  let base = 10;
  let i = 0;
  if (/^0[xX][0-9a-fA-F]/.test(s)) {
    base = 16;
    i = 2;
  } else if (s.startsWith('0')) base = 8;
  const digit = base === 16 ? /[0-9a-fA-F]/ : base === 8 ? /[0-7]/ : /[0-9]/;
  const start = i;
  while (i < s.length && digit.test(s[i])) i++;
  if (i === start) return null;
  return { value: BigInt(base === 16 ? `0x${s.slice(start, i)}` : base === 8 ? `0o${s.slice(start, i)}` : s.slice(start, i)), len: i };
}

/** kstrtoint / kstrtouint: s is the whole written text. */
export function kstrto(s: string, signed: boolean): number {
  if (s.endsWith('\n')) s = s.slice(0, -1);
  let neg = false;
  if (s.startsWith('+')) s = s.slice(1);
  else if (signed && s.startsWith('-')) {
    neg = true;
    s = s.slice(1);
  }
  const r = scan(s);
  if (!r || r.len !== s.length) throw new Errno(E.EINVAL);
  const v = neg ? -r.value : r.value;
  const [lo, hi] = signed ? [-BigInt(INT_MAX) - 1n, BigInt(INT_MAX)] : [0n, 0xffffffffn];
  if (v < lo || v > hi) throw new Errno(E.ERANGE);
  return Number(v);
}

const BLANK = /[ \t\n\v\f\r]/;

/**
 * Parse up to slots integers in [min, max] from a sysctl write, handing each
 * to store(index, value) as it is read. Returns the bytes consumed.
 */
export function dointvecWrite(data: Buffer, slots: number, min: number, max: number, store: (i: number, v: number) => void): number {
  const s = data.toString('latin1');
  if (s.length === 0) return 0;
  let p = 0;
  const skip = () => {
    while (p < s.length && BLANK.test(s[p])) p++;
  };
  let n = 0;
  for (; n < slots && p < s.length; n++) {
    skip();
    if (p === s.length) break;
    let neg = false;
    if (s[p] === '-') {
      neg = true;
      p++;
    }
    const r = scan(s.slice(p));
    if (!r) throw new Errno(E.EINVAL);
    p += r.len;
    if (p < s.length && !BLANK.test(s[p])) throw new Errno(E.EINVAL);
    const v = neg ? -r.value : r.value;
    if (v < BigInt(min) || v > BigInt(max)) throw new Errno(E.EINVAL);
    store(n, Number(v));
  }
  if (n === 0) throw new Errno(E.EINVAL);
  skip();
  return p;
}

export const SYSCTL_INT = { min: -INT_MAX - 1, max: INT_MAX };
