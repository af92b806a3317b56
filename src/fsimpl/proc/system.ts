// System-wide files at the top of /proc: cpuinfo, meminfo, uptime, loadavg,
// version, filesystems, partitions, stat, swaps, cmdline, the mounts link and the
// self / thread-self links.
import { Errno, E } from '../../abi/errno';
import {
  formatLoadavg, formatMeminfo, formatSystemStat, formatUptime, nsToTicks, procVersionString, UTS_RELEASE,
} from './format';
import type { Entry, NodeMaker } from './nodes';
import type { ProcFs } from './procfs';
import { callerOf } from './task_info';
import { sysvipcMsgText, sysvipcSemText, sysvipcShmText } from './sysvipc';
import { tgidIn, tidIn } from '../../kernel/pid_ns';
import { keysEntries } from './keys';

const FILESYSTEMS = ['sysfs', 'tmpfs', 'bdev', 'proc', 'cgroup2', 'devtmpfs', 'binfmt_misc', 'debugfs', 'sockfs', 'pipefs', 'hugetlbfs', 'devpts', 'mqueue', 'overlay'];

/** Disk file systems (fsimpl/ext2), on the sandbox's loop devices: listed without "nodev". */
const DISK_FILESYSTEMS = ['ext2'];

export function filesystemsText(): string {
  return FILESYSTEMS.map((n) => `nodev\t${n}\n`).join('') + DISK_FILESYSTEMS.map((n) => `\t${n}\n`).join('');
}

function uptimeNs(fs: ProcFs): number {
  const k = fs.kernel;
  return Math.max(0, k.monotonicNs() - k.bootMonotonicNs);
}

function lastPid(fs: ProcFs): number {
  let max = 0;
  for (const pid of fs.kernel.groups.keys()) max = Math.max(max, pid);
  for (const tid of fs.kernel.tasks.keys()) max = Math.max(max, tid);
  return max;
}

function runningCount(fs: ProcFs): number {
  let n = 0;
  for (const t of fs.kernel.tasks.values()) if (t.state === 'running') n++;
  return n;
}

export function loadavgText(fs: ProcFs): string {
  return formatLoadavg(Math.max(1, runningCount(fs)), fs.kernel.tasks.size, lastPid(fs));
}

/** The sandbox's memory: its limit and the frames left under it, not the host's RAM. */
export function meminfoText(fs: ProcFs): string {
  const { total, free } = fs.kernel.memfile.ramBytes();
  return formatMeminfo(Math.floor(total / 1024), Math.floor(free / 1024), Math.floor(free / 1024), fs.kernel.hugePool.counts());
}

/** /proc/uptime as the reader sees it: its time namespace's CLOCK_BOOTTIME offset added to the uptime (not to the idle time), as Linux's. */
export function uptimeText(fs: ProcFs, ctx: unknown): string {
  const up = uptimeNs(fs);
  const [s, n] = callerOf(fs.kernel, ctx)?.nsproxy.time.boottime ?? [0, 0];
  return formatUptime(Math.max(0, up + s * 1e9 + n), up * fs.ncpu);
}

export function systemStatText(fs: ProcFs): string {
  const k = fs.kernel;
  return formatSystemStat({
    ncpu: fs.ncpu, idleTicks: nsToTicks(uptimeNs(fs)), btime: Math.floor(k.bootRealtimeNs / 1e9),
    processes: lastPid(fs), running: Math.max(1, runningCount(fs)), blocked: 0,
  });
}

/** Linux's /proc/partitions: the block devices with a capacity (the sandbox's loop devices; never the host's disks), sizes in KiB. */
function partitionsText(fs: ProcFs): string {
  const rows = fs.kernel.vfs.blockDevices().map((d) => `${String(d.major).padStart(4)}  ${String(d.minor).padStart(7)} ${String(Math.floor(d.sectors / 2)).padStart(10)} ${d.name}\n`);
  return `major minor  #blocks  name\n\n${rows.join('')}`;
}

/** The caller's pid for /proc/self (ENOENT when the caller is not a task of this kernel). */
function selfTask(fs: ProcFs, ctx: unknown) {
  const t = callerOf(fs.kernel, ctx);
  if (!t) throw new Errno(E.ENOENT);
  return t;
}

/** The caller's process number in the instance's PID namespace (ENOENT when it cannot see the caller). */
function selfNr(fs: ProcFs, ctx: unknown): number {
  const nr = tgidIn(selfTask(fs, ctx).tg, fs.pidns);
  if (!nr) throw new Errno(E.ENOENT);
  return nr;
}

/** Entries of the /proc root other than the pid directories and sys/. */
export function systemEntries(fs: ProcFs, m: NodeMaker): Entry[] {
  return [
    m.file('cmdline', () => `BOOT_IMAGE=/vmlinuz-${UTS_RELEASE}-tsvisor quiet\n`),
    m.file('cpuinfo', () => fs.cpuinfo),
    m.file('filesystems', filesystemsText),
    m.file('loadavg', () => loadavgText(fs)),
    m.file('meminfo', () => meminfoText(fs)),
    m.file('partitions', () => partitionsText(fs)),
    m.link('mounts', { target: () => 'self/mounts' }),
    m.link('self', { target: (ctx) => String(selfNr(fs, ctx)) }),
    m.file('stat', () => systemStatText(fs)),
    m.file('swaps', () => 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n'),
    m.staticDir('sysvipc', (d) => [d.file('msg', (ctx) => sysvipcMsgText(fs, ctx)), d.file('sem', (ctx) => sysvipcSemText(fs, ctx)), d.file('shm', (ctx) => sysvipcShmText(fs, ctx))]),
    m.link('thread-self', {
      target: (ctx) => {
        const t = selfTask(fs, ctx);
        return `${selfNr(fs, ctx)}/task/${tidIn(t, fs.pidns)}`;
      },
    }),
    m.file('uptime', (ctx) => uptimeText(fs, ctx)),
    m.file('version', procVersionString),
    ...keysEntries(fs, m),
  ];
}
