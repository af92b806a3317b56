// What the platform learns from the freshly started master stub's mappings:
// the host's own ranges the application must never reach (the stub, vDSO,
// vvar, vsyscall), the host's stack (unmapped afterwards), and so the end of
// every application's address space.

import * as fs from 'node:fs';
import { TASK_SIZE } from '../../abi/mm';
import { STUB_BASE, STUB_END } from './stub_elf';

export interface HostLayout {
  reserved: Array<{ start: number; end: number; name: string }>;
  vdsoBase: number;
  hostStack: Array<{ start: number; end: number }>;
  /** The application's space ends under the lowest reserved range, as if the stub and the vDSO were above TASK_SIZE. */
  top: number;
  /** The host's vm.max_map_count (Linux's default if unreadable). */
  hostMaxMappings: number;
}

export function readHostLayout(pid: number): HostLayout {
  const maps = fs.readFileSync(`/proc/${pid}/maps`, 'latin1').split('\n');
  const reserved = [{ start: STUB_BASE, end: STUB_END, name: '[stub]' }];
  const hostStack: Array<{ start: number; end: number }> = [];
  let vdsoBase = 0;
  for (const line of maps) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (!m) continue;
    const start = parseInt(m[1], 16);
    const end = parseInt(m[2], 16);
    const name = m[3];
    if (name === '[vdso]' || name === '[vvar]' || name === '[vsyscall]' || name === '[vvar_vclock]') {
      reserved.push({ start, end, name });
      if (name === '[vdso]') vdsoBase = start;
    } else if (name === '[stack]') {
      hostStack.push({ start, end });
    }
  }
  // No mapping path can reach a range at or above top.
  const top = Math.min(TASK_SIZE, ...reserved.filter((r) => r.start < TASK_SIZE).map((r) => r.start));
  let hostMaxMappings = 65530;
  try {
    hostMaxMappings = Number(fs.readFileSync('/proc/sys/vm/max_map_count', 'latin1').trim()) || hostMaxMappings;
  } catch {
    // Linux's default then.
  }
  return { reserved, vdsoBase, hostStack, top, hostMaxMappings };
}

/** The [vdso] pages of the stub, for tracers in the sandbox (null if the host would not let us read them). */
export function readVdsoImage(pid: number, reserved: HostLayout['reserved']): Buffer | null {
  const r = reserved.find((x) => x.name === '[vdso]');
  if (!r || r.end - r.start > 1 << 20) return null;
  let fd = -1;
  try {
    fd = fs.openSync(`/proc/${pid}/mem`, 'r');
    const b = Buffer.alloc(r.end - r.start);
    return fs.readSync(fd, b, 0, b.length, r.start) === b.length ? b : null;
  } catch {
    return null;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** Pages read from /proc/PID/pagemap at once, at most (8 bytes each). */
const PAGEMAP_WINDOW = 512;

/**
 * Which of pages pages from addr the host has mapped in the stub process
 * (pagemap's present bit): pages the application touched there since they
 * were mapped; null if the host would not tell.
 */
export function readTouched(pid: number, addr: number, pages: number): Uint8Array | null {
  if (pid <= 0 || pages <= 0 || pages > PAGEMAP_WINDOW || addr % 4096 !== 0) return null;
  const b = Buffer.alloc(pages * 8);
  let fd = -1;
  try {
    fd = fs.openSync(`/proc/${pid}/pagemap`, 'r');
    if (fs.readSync(fd, b, 0, b.length, (addr / 4096) * 8) !== b.length) return null;
  } catch {
    return null;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
  const out = new Uint8Array(pages);
  for (let i = 0; i < pages; i++) out[i] = b.readUInt32LE(i * 8 + 4) >>> 31;
  return out;
}
