// Pure text formatting of procfs files (man 5 proc). Everything here works on
// plain values, not on kernel objects, so that the exact layouts (column
// widths, field order, number bases) can be unit-tested on their own.
// Kernel objects are turned into these inputs by task_info.ts.

export const CLOCK_TICKS = 100; // USER_HZ: the unit of times in stat files
export { PAGE_SIZE } from '../../abi/mm';
import { HUGE_SIZE, type HugeCounts } from '../../mm/hugetlb';
export const U64_MAX = '18446744073709551615';

/** Identity the Sentry reports (mirrors what uname(2) returns). */
export { procVersionString, UTS_RELEASE, UTS_SYSNAME, UTS_VERSION } from '../../kernel/uts';

/** Nanoseconds to clock ticks (USER_HZ). */
export function nsToTicks(ns: number): number {
  return ns > 0 ? Math.floor(ns / (1e9 / CLOCK_TICKS)) : 0;
}

function hex16(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16).padStart(16, '0');
}

// ---------------------------------------------------------------- maps

export interface MapsEntry {
  start: number;
  end: number;
  read: boolean;
  write: boolean;
  exec: boolean;
  shared: boolean;
  /** Offset into the mapped file, bytes. */
  offset: number;
  major: number;
  minor: number;
  ino: number;
  /** Path, "[heap]", "[stack]", "[vdso]"... or "" for anonymous memory. */
  name: string;
}

const MAPS_NAME_COLUMN = 73;

/** One line of /proc/PID/maps (without the newline). */
export function formatMapsLine(e: MapsEntry): string {
  const perms = (e.read ? 'r' : '-') + (e.write ? 'w' : '-') + (e.exec ? 'x' : '-') + (e.shared ? 's' : 'p');
  const h = (n: number, w: number) => n.toString(16).padStart(w, '0');
  let line = `${h(e.start, 8)}-${h(e.end, 8)} ${perms} ${h(e.offset, 8)} ${h(e.major, 2)}:${h(e.minor, 2)} ${e.ino} `;
  if (e.name) line = line.padEnd(MAPS_NAME_COLUMN, ' ') + e.name;
  return line;
}

/** The per-mapping block of /proc/PID/smaps after its maps line. */
export interface SmapsCounts {
  sizeKb: number;
  rssKb: number;
  anonymous: boolean;
  shared: boolean;
  flags: string[];
  /** VM_LOCKED: its resident pages count as Locked. */
  locked: boolean;
  /** KernelPageSize and MMUPageSize when not 4 kB (a hugetlb mapping's 2048). */
  pageKb?: number;
  /** A hugetlb mapping's huge pages present (Private_Hugetlb). */
  hugetlbKb?: number;
}

function kbLine(label: string, kb: number): string {
  return `${(label + ':').padEnd(16)}${String(kb).padStart(8)} kB\n`;
}

export function formatSmapsBlock(c: SmapsCounts): string {
  const z = 0;
  let s = kbLine('Size', c.sizeKb) + kbLine('KernelPageSize', c.pageKb ?? 4) + kbLine('MMUPageSize', c.pageKb ?? 4);
  s += kbLine('Rss', c.rssKb) + kbLine('Pss', c.rssKb) + kbLine('Pss_Dirty', c.anonymous ? c.rssKb : z);
  s += kbLine('Shared_Clean', c.shared && !c.anonymous ? c.rssKb : z) + kbLine('Shared_Dirty', c.shared && c.anonymous ? c.rssKb : z);
  s += kbLine('Private_Clean', !c.shared && !c.anonymous ? c.rssKb : z) + kbLine('Private_Dirty', !c.shared && c.anonymous ? c.rssKb : z);
  s += kbLine('Referenced', c.rssKb) + kbLine('Anonymous', c.anonymous && !c.shared ? c.rssKb : z);
  for (const k of ['KSM', 'LazyFree', 'AnonHugePages', 'ShmemPmdMapped', 'FilePmdMapped', 'Shared_Hugetlb']) s += kbLine(k, 0);
  s += kbLine('Private_Hugetlb', c.hugetlbKb ?? 0) + kbLine('Swap', 0) + kbLine('SwapPss', 0);
  s += kbLine('Locked', c.locked ? c.rssKb : z);
  s += `${'THPeligible:'.padEnd(16)}${'0'.padStart(8)}\n`;
  s += `VmFlags: ${c.flags.map((f) => f + ' ').join('')}\n`;
  return s;
}

// ---------------------------------------------------------------- stat

/** Inputs of /proc/PID/stat; fields Linux has but the Sentry does not track are 0. */
export interface StatInput {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  ttyNr?: number;
  tpgid?: number;
  flags?: number;
  utime?: number;
  stime?: number;
  cutime?: number;
  cstime?: number;
  priority?: number;
  nice?: number;
  /** The realtime priority (0 under the other policies) and the policy number. */
  rtPriority?: number;
  policy?: number;
  numThreads: number;
  /** Clock ticks since boot. */
  starttime: number;
  vsize: number;
  /** Pages. */
  rss: number;
  /** Bytes, or null for unlimited. */
  rsslim?: number | null;
  startcode?: number;
  endcode?: number;
  startstack?: number;
  signal?: bigint;
  blocked?: bigint;
  sigignore?: bigint;
  sigcatch?: bigint;
  exitSignal: number;
  processor?: number;
  startData?: number;
  endData?: number;
  startBrk?: number;
  argStart?: number;
  argEnd?: number;
  envStart?: number;
  envEnd?: number;
  exitCode?: number;
}

/** The 52 fields of /proc/PID/stat, space separated, with a trailing newline. */
export function formatStat(s: StatInput): string {
  const u = (v: bigint | undefined) => BigInt.asUintN(64, v ?? 0n).toString();
  const f: Array<string | number> = [
    s.pid, `(${s.comm})`, s.state, s.ppid, s.pgrp, s.session, s.ttyNr ?? 0, s.tpgid ?? -1, s.flags ?? 0,
    0, 0, 0, 0, // minflt cminflt majflt cmajflt
    s.utime ?? 0, s.stime ?? 0, s.cutime ?? 0, s.cstime ?? 0,
    s.priority ?? 20, s.nice ?? 0, s.numThreads, 0 /* itrealvalue */, s.starttime, s.vsize, s.rss,
    s.rsslim === undefined || s.rsslim === null ? U64_MAX : s.rsslim,
    s.startcode ?? 0, s.endcode ?? 0, s.startstack ?? 0, 0, 0, // kstkesp kstkeip
    u(s.signal), u(s.blocked), u(s.sigignore), u(s.sigcatch),
    0, 0, 0, // wchan nswap cnswap
    s.exitSignal, s.processor ?? 0, s.rtPriority ?? 0, s.policy ?? 0,
    0, 0, 0, // delayacct_blkio_ticks guest_time cguest_time
    s.startData ?? 0, s.endData ?? 0, s.startBrk ?? 0, s.argStart ?? 0, s.argEnd ?? 0, s.envStart ?? 0, s.envEnd ?? 0,
    s.exitCode ?? 0,
  ];
  return f.join(' ') + '\n';
}

/** /proc/PID/statm: size resident shared text lib data dt, in pages. */
export function formatStatm(m: { size: number; resident: number; shared: number; text: number; data: number }): string {
  return `${m.size} ${m.resident} ${m.shared} ${m.text} 0 ${m.data} 0\n`;
}

// ---------------------------------------------------------------- status

export const STATE_NAMES: Record<string, string> = {
  R: 'R (running)', S: 'S (sleeping)', D: 'D (disk sleep)', T: 'T (stopped)', t: 't (tracing stop)', Z: 'Z (zombie)', X: 'X (dead)',
};

export interface StatusInput {
  name: string;
  umask: number;
  state: string;
  tgid: number;
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** Every level's numbers, from the reader's namespace down to the task's own, when there is more than one. */
  nsLevels?: { tgid: number[]; pid: number[]; pgid: number[]; sid: number[] };
  tracerPid?: number;
  uids: [number, number, number, number];
  gids: [number, number, number, number];
  fdSize: number;
  groups: number[];
  /** Memory in kB; null fields are omitted (zombies show no Vm* lines). */
  mem: null | {
    peak: number; size: number; hwm: number; rss: number; rssAnon: number; rssFile: number; rssShmem: number;
    data: number; stk: number; exe: number; lib: number; lck: number;
  };
  threads: number;
  sigQueued: number;
  sigQueueLimit: number;
  noNewPrivs: boolean;
  seccomp: number;
  seccompFilters: number;
  sigPnd: bigint;
  shdPnd: bigint;
  sigBlk: bigint;
  sigIgn: bigint;
  sigCgt: bigint;
  capInh: bigint;
  capPrm: bigint;
  capEff: bigint;
  capBnd: bigint;
  capAmb: bigint;
  ncpu: number;
}

export function formatStatus(s: StatusInput): string {
  const l: string[] = [];
  const kv = (k: string, v: string | number) => l.push(`${k}:\t${v}`);
  const kb = (k: string, v: number) => kv(k, `${String(v).padStart(8)} kB`);
  kv('Name', s.name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n'));
  kv('Umask', s.umask.toString(8).padStart(4, '0'));
  kv('State', STATE_NAMES[s.state] ?? s.state);
  kv('Tgid', s.tgid);
  kv('Ngid', 0);
  kv('Pid', s.pid);
  kv('PPid', s.ppid);
  kv('TracerPid', s.tracerPid ?? 0);
  kv('Uid', s.uids.join('\t'));
  kv('Gid', s.gids.join('\t'));
  kv('FDSize', s.fdSize);
  kv('Groups', s.groups.join(' ') + ' ');
  const lv = s.nsLevels;
  kv('NStgid', lv ? lv.tgid.join('\t') : s.tgid);
  kv('NSpid', lv ? lv.pid.join('\t') : s.pid);
  kv('NSpgid', lv ? lv.pgid.join('\t') : s.pgid);
  kv('NSsid', lv ? lv.sid.join('\t') : s.sid);
  if (s.mem) {
    const m = s.mem;
    kb('VmPeak', m.peak);
    kb('VmSize', m.size);
    kb('VmLck', m.lck);
    kb('VmPin', 0);
    kb('VmHWM', m.hwm);
    kb('VmRSS', m.rss);
    kb('RssAnon', m.rssAnon);
    kb('RssFile', m.rssFile);
    kb('RssShmem', m.rssShmem);
    kb('VmData', m.data);
    kb('VmStk', m.stk);
    kb('VmExe', m.exe);
    kb('VmLib', m.lib);
    kb('VmPTE', 0);
    kb('VmSwap', 0);
  }
  kb('HugetlbPages', 0);
  kv('CoreDumping', 0);
  kv('THP_enabled', 1);
  kv('Threads', s.threads);
  kv('SigQ', `${s.sigQueued}/${s.sigQueueLimit}`);
  kv('SigPnd', hex16(s.sigPnd));
  kv('ShdPnd', hex16(s.shdPnd));
  kv('SigBlk', hex16(s.sigBlk));
  kv('SigIgn', hex16(s.sigIgn));
  kv('SigCgt', hex16(s.sigCgt));
  kv('CapInh', hex16(s.capInh));
  kv('CapPrm', hex16(s.capPrm));
  kv('CapEff', hex16(s.capEff));
  kv('CapBnd', hex16(s.capBnd));
  kv('CapAmb', hex16(s.capAmb));
  kv('NoNewPrivs', s.noNewPrivs ? 1 : 0);
  kv('Seccomp', s.seccomp);
  kv('Seccomp_filters', s.seccompFilters);
  kv('Speculation_Store_Bypass', 'thread vulnerable');
  const n = Math.max(1, s.ncpu);
  kv('Cpus_allowed', cpuMaskHex(n));
  kv('Cpus_allowed_list', n === 1 ? '0' : `0-${n - 1}`);
  kv('Mems_allowed', '00000000,00000001');
  kv('Mems_allowed_list', '0');
  kv('voluntary_ctxt_switches', 0);
  kv('nonvoluntary_ctxt_switches', 0);
  return l.join('\n') + '\n';
}

/** Hex mask of n CPUs in groups of 32 bits separated by commas, as Linux prints cpumasks. */
export function cpuMaskHex(n: number): string {
  const words: string[] = [];
  for (let left = n; left > 0; left -= 32) {
    const bits = Math.min(32, left);
    words.unshift((bits === 32 ? 0xffffffff : (2 ** bits - 1)).toString(16));
  }
  return words.map((w, i) => (i === 0 ? w : w.padStart(8, '0'))).join(',');
}

// ---------------------------------------------------------------- limits

const LIMITS: Array<[string, string]> = [
  ['Max cpu time', 'seconds'], ['Max file size', 'bytes'], ['Max data size', 'bytes'], ['Max stack size', 'bytes'],
  ['Max core file size', 'bytes'], ['Max resident set', 'bytes'], ['Max processes', 'processes'],
  ['Max open files', 'files'], ['Max locked memory', 'bytes'], ['Max address space', 'bytes'],
  ['Max file locks', 'locks'], ['Max pending signals', 'signals'], ['Max msgqueue size', 'bytes'],
  ['Max nice priority', ''], ['Max realtime priority', ''], ['Max realtime timeout', 'us'],
];

/** /proc/PID/limits from the RLIMIT_* table (negative values mean unlimited). */
export function formatLimits(rl: ReadonlyArray<{ cur: number; max: number }>): string {
  const v = (x: number) => (x < 0 || x >= 2 ** 64 - 1 ? 'unlimited' : String(x)).padEnd(20) + ' ';
  let s = `${'Limit'.padEnd(25)} ${'Soft Limit'.padEnd(20)} ${'Hard Limit'.padEnd(20)} ${'Units'.padEnd(10)}\n`;
  LIMITS.forEach(([name, unit], i) => {
    const r = rl[i] ?? { cur: -1, max: -1 };
    s += name.padEnd(25) + ' ' + v(r.cur) + v(r.max) + (unit ? unit.padEnd(10) : '') + '\n';
  });
  return s;
}

// ---------------------------------------------------------------- mounts

/** Escape space, tab, newline and backslash as \ooo, as mount tables do. */
export function escapeMountField(s: string): string {
  return s.replace(/[ \t\n\\]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
}

export interface MountEntry {
  id: number;
  parentId: number;
  major: number;
  minor: number;
  /** Path of the mount point as seen by the reader. */
  mountPoint: string;
  fsType: string;
  source: string;
  /** The mount's own read-only flag (mountinfo's per-mount field). */
  readonly: boolean;
  noexec: boolean;
  nosuid?: boolean;
  nodev?: boolean;
  /** The directory of the file system the mount shows (a bind mount's source), "/" by default. */
  root?: string;
  /** The file system itself is read-only (superblock options), whatever the mount says. */
  fsReadonly?: boolean;
  atime?: 'noatime' | 'strictatime';
  nodiratime?: boolean;
  nosymfollow?: boolean;
  /** mountinfo's optional fields, each after a space (" shared:1 master:2"). */
  tags?: string;
}

/** The mount's options; readonly: the mount's flag (mountinfo), or with the file system's (/proc/mounts, as Linux's __mnt_is_readonly). */
function mountOpts(m: MountEntry, readonly: boolean): string {
  const atime = (m.atime === 'noatime' ? ',noatime' : '') + (m.nodiratime ? ',nodiratime' : '') + (m.atime ? '' : ',relatime');
  return (readonly ? 'ro' : 'rw') + (m.nosuid ? ',nosuid' : '') + (m.nodev ? ',nodev' : '') + (m.noexec ? ',noexec' : '') + atime + (m.nosymfollow ? ',nosymfollow' : '');
}

/** A line of /proc/PID/mounts (fstab format). */
export function formatMountsLine(m: MountEntry): string {
  return `${escapeMountField(m.source)} ${escapeMountField(m.mountPoint)} ${m.fsType} ${mountOpts(m, m.readonly || !!m.fsReadonly)} 0 0\n`;
}

/** A line of /proc/PID/mountinfo. */
export function formatMountinfoLine(m: MountEntry): string {
  const superRo = m.fsReadonly ?? m.readonly;
  return `${m.id} ${m.parentId} ${m.major}:${m.minor} ${escapeMountField(m.root ?? '/')} ${escapeMountField(m.mountPoint)} ${mountOpts(m, m.readonly)}${m.tags ?? ''} - ${m.fsType} ${escapeMountField(m.source)} ${superRo ? 'ro' : 'rw'}\n`;
}

// ---------------------------------------------------------------- system files

/** /proc/uptime: seconds since boot and summed idle seconds, two decimals each. */
export function formatUptime(uptimeNs: number, idleNs: number): string {
  const f = (ns: number) => {
    const cs = Math.max(0, Math.floor(ns / 1e7));
    return `${Math.floor(cs / 100)}.${String(cs % 100).padStart(2, '0')}`;
  };
  return `${f(uptimeNs)} ${f(idleNs)}\n`;
}

export function formatLoadavg(running: number, total: number, lastPid: number): string {
  return `0.00 0.00 0.00 ${running}/${total} ${lastPid}\n`;
}

/** /proc/meminfo from total/free/available memory in kB. */
export function formatMeminfo(totalKb: number, freeKb: number, availKb: number, huge: HugeCounts = { total: 0, free: 0, resv: 0, surplus: 0 }): string {
  // A null unit: a count of pages, not kB (the HugePages_* lines).
  const rows: Array<[string, number, null?]> = [
    ['MemTotal', totalKb], ['MemFree', freeKb], ['MemAvailable', availKb], ['Buffers', 0], ['Cached', 0],
    ['SwapCached', 0], ['Active', 0], ['Inactive', 0], ['Active(anon)', 0], ['Inactive(anon)', 0],
    ['Active(file)', 0], ['Inactive(file)', 0], ['Unevictable', 0], ['Mlocked', 0], ['SwapTotal', 0],
    ['SwapFree', 0], ['Dirty', 0], ['Writeback', 0], ['AnonPages', Math.max(0, totalKb - freeKb)], ['Mapped', 0],
    ['Shmem', 0], ['KReclaimable', 0], ['Slab', 0], ['SReclaimable', 0], ['SUnreclaim', 0], ['KernelStack', 0],
    ['PageTables', 0], ['NFS_Unstable', 0], ['Bounce', 0], ['WritebackTmp', 0], ['CommitLimit', Math.floor(totalKb / 2)],
    ['Committed_AS', Math.max(0, totalKb - freeKb)], ['VmallocTotal', 34359738367], ['VmallocUsed', 0], ['VmallocChunk', 0],
    ['Percpu', 0], ['AnonHugePages', 0], ['ShmemHugePages', 0], ['ShmemPmdMapped', 0],
    ['HugePages_Total', huge.total, null], ['HugePages_Free', huge.free, null], ['HugePages_Rsvd', huge.resv, null], ['HugePages_Surp', huge.surplus, null],
    ['Hugepagesize', HUGE_SIZE / 1024], ['Hugetlb', huge.total * (HUGE_SIZE / 1024)], ['DirectMap4k', 0], ['DirectMap2M', 0],
  ];
  return rows.map(([k, v, unit]) => (unit === null ? `${(k + ':').padEnd(16)}${String(v).padStart(8)}\n` : kbLine(k, v))).join('');
}

/** /proc/stat: idle time only (the Sentry does not account CPU time per CPU). */
export function formatSystemStat(s: { ncpu: number; idleTicks: number; btime: number; processes: number; running: number; blocked: number }): string {
  const cpu = (name: string, idle: number) => `${name} 0 0 0 ${idle} 0 0 0 0 0 0\n`;
  let out = cpu('cpu ', s.idleTicks * s.ncpu);
  for (let i = 0; i < s.ncpu; i++) out += cpu(`cpu${i}`, s.idleTicks);
  out += 'intr 0\nctxt 0\n';
  out += `btime ${s.btime}\nprocesses ${s.processes}\nprocs_running ${s.running}\nprocs_blocked ${s.blocked}\n`;
  out += 'softirq 0 0 0 0 0 0 0 0 0 0 0\n';
  return out;
}
