// /proc/sys: the sysctl values programs commonly read. Read-only (opening
// for writing fails with EROFS, as in a container whose /proc/sys is mounted
// read-only), except kernel/hostname and kernel/domainname, which root may
// set as with sethostname/setdomainname, and the IPC limits (sem, msgmni,
// msgmax, msgmnb: per IPC namespace, ProcFs.ipcSysctl; fs/mqueue/*: the IPC
// namespace's MqNamespace, which mq_open enforces), randomize_va_space
// (per sandbox, ProcFs.sysctl; the loader's layout does not depend on it),
// kernel/core_pattern and core_uses_pid (the Kernel's, for core dumps),
// vm/max_map_count (the Kernel's, for every address space) and
// fs/lease-break-time, fs/pipe-max-size and fs/pipe-user-pages-{soft,hard} (the VFS's), which root may set
// and read back.
import { randomUUID } from '../../host/random';
import { Errno, E } from '../../abi/errno';
import { UTS_RELEASE, UTS_SYSNAME, UTS_VERSION } from './format';
import { dointvecWrite, SYSCTL_INT } from './numparse';
import type { Entry, NodeMaker } from './nodes';
import type { ProcFs } from './procfs';
import { callerOf } from './task_info';
import { devTag, type NetSysctl, type NetworkConfig } from '../../kernel/netinfo';
import { ARPHRD_LOOPBACK, type NetLink } from '../../abi/netif';
import { AF_INET6 } from '../../abi/socket';
import { keysSysctlDir } from './keys';
import { pidNsOf } from '../../kernel/pid_ns';
import { nsCapable } from '../../auth/userns';
import { CAP_CHECKPOINT_RESTORE, CAP_SYS_ADMIN } from '../../abi/capability';
import { POOL_BITS } from '../devfs/random_ioctl';
import { persistentHugePages, writeNrHugepages, writeOvercommit } from './hugepages';
import { HARD_MSGMAX, HARD_MSGSIZEMAX, MIN_MSGMAX, MIN_MSGSIZEMAX, type MqNamespace } from '../../kernel/ipc/mqueue';

const HOST_NAME_MAX = 64;
/** The longest core_pattern, its NUL included. */
const CORENAME_MAX_SIZE = 128;
const PIPE_PAGE = 4096;

export const SYSCTL_DEFAULTS = {
  pidMax: 4194304,
  threadsMax: 126886,
  ngroupsMax: 65536,
  capLastCap: 40,
  overflowId: 65534,
  mmapMinAddr: 65536,
  fileMax: '9223372036854775807',
  somaxconn: 4096,
};

/** fs.nr_open's bounds: BITS_PER_LONG, and INT_MAX rounded down to it. */
const NR_OPEN_MIN = 64, NR_OPEN_MAX = 0x7fffffc0;

/** The largest number of semaphore sets (IPCMNI): a larger semmni is refused with ERANGE. */
const IPCMNI = 32768;

/** Values root may write under /proc/sys, kept per sandbox (initially Linux's defaults). */
export class SysctlState {
  /** kernel/sem: SEMMSL, SEMMNS, SEMOPM, SEMMNI. */
  sem = [32000, 1024000000, 500, 32000];
  msgmni = 32000;
  msgmax = 8192;
  msgmnb = 16384;
  randomizeVaSpace = 2;
}

type IntKey = 'msgmni' | 'msgmax' | 'msgmnb' | 'randomizeVaSpace';

/** A write of an unsigned long sysctl (shmmax, shmall): one decimal number below 2^64 (EINVAL otherwise). */
function ulongWrite(data: Buffer, store: (x: bigint) => void): number {
  const m = /^\s*(\d{1,20})\s*$/.exec(data.toString('latin1'));
  if (!m || BigInt(m[1]) >= 1n << 64n) throw new Errno(E.EINVAL);
  store(BigInt(m[1]));
  return data.length;
}

function setName(data: Buffer, set: (s: string) => void): void {
  let s = data.toString('latin1');
  if (s.endsWith('\n')) s = s.slice(0, -1);
  if (s.length > HOST_NAME_MAX) throw new Errno(E.EINVAL);
  set(s);
}

/** net.ipv4.ip_local_port_range's first port (fixed here). */
const LOCAL_PORT_LOW = 32768;

export function sysDir(fs: ProcFs, m: NodeMaker): Entry {
  const k = fs.kernel;
  const netOf = (c: unknown): NetworkConfig => (callerOf(k, c)?.nsproxy.net ?? k.rootNs.net).config;
  const netSysctl = (c: unknown): NetSysctl => netOf(c).sysctl;
  // net.ipv4.conf: all, default and each interface of the reader's network namespace; only tag.
  const devConf = (mm: NodeMaker): Entry => {
    const conf = mm.sub('conf');
    const list = (ctx: unknown): Entry[] => ['all', 'default', ...netOf(ctx).interfaces.snapshot().links.map((l) => l.name)].map((dev) =>
      conf.staticDir(dev, (d) => [d.rwFile('tag', (c) => `${devTag(netSysctl(c), dev)}\n`,
        (data, c) => dointvecWrite(data, 1, SYSCTL_INT.min, SYSCTL_INT.max, (_, x) => void netSysctl(c).devTags.set(dev, x)))]));
    return mm.dir('conf', { list });
  };
  // net.ipv6.conf: all, default and each interface of the reader's network namespace; only disable_ipv6 (read only).
  // An interface other than a loopback with no IPv6 address at all reads 1: that is how Docker leaves the interface of
  // an IPv4-only network (the Sentry takes an interface over with the addresses it had, so the sandbox's table has
  // none either). When no such interface has any, IPv6 is off in the whole namespace, as Docker leaves a container
  // whose networks are all IPv4-only: all, default and the loopback read 1 too. Otherwise Linux's default, 0.
  const ipv6Conf = (mm: NodeMaker): Entry => {
    const conf = mm.sub('conf');
    const list = (ctx: unknown): Entry[] => {
      const snap = netOf(ctx).interfaces.snapshot();
      const loop = new Set(snap.links.filter((l) => l.type === ARPHRD_LOOPBACK).map((l) => l.index));
      const v6 = new Set(snap.addrs.filter((a) => a.family === AF_INET6 && !loop.has(a.index)).map((a) => a.index));
      const allOff = snap.links.length > loop.size && v6.size === 0 ? 1 : 0;
      const off = (l: NetLink): number => (loop.has(l.index) ? allOff : v6.has(l.index) ? 0 : 1);
      return [['all', allOff] as const, ['default', allOff] as const, ...snap.links.map((l) => [l.name, off(l)] as const)].map(([dev, value]) =>
        conf.staticDir(dev, (dd) => [dd.file('disable_ipv6', () => `${value}\n`, 0o444, E.EROFS)]));
    };
    return mm.dir('conf', { list });
  };
  const d = SYSCTL_DEFAULTS;
  const v = (name: string, value: string | number) => (mm: NodeMaker) => mm.file(name, () => `${value}\n`, 0o444, E.EROFS);
  const dir = (mm: NodeMaker, name: string, items: Array<(mm: NodeMaker) => Entry>): Entry => mm.staticDir(name, (sub) => items.map((f) => f(sub)));
  // The caller's UTS, IPC and PID namespaces (the initial ones for the Sentry's own reads).
  const pidnsOf = (ctx: unknown) => {
    const t = callerOf(k, ctx);
    return t ? pidNsOf(t) : k.rootNs.pid;
  };
  const uts = (ctx: unknown) => callerOf(k, ctx)?.nsproxy.uts ?? k.rootNs.uts;
  const shmOf = (ctx: unknown) => (callerOf(k, ctx)?.nsproxy.ipc ?? k.rootNs.ipc).shm;
  // randomize_va_space is the machine's; the IPC limits are the IPC namespace's (a new one starts from the defaults).
  const values = (ctx: unknown, key: IntKey | 'sem') => (key === 'randomizeVaSpace' ? fs.sysctl : fs.ipcSysctl(callerOf(k, ctx)?.nsproxy.ipc ?? k.rootNs.ipc));
  const int = (mm: NodeMaker, name: string, key: IntKey, min: number): Entry =>
    mm.rwFile(name, (c) => `${values(c, key)[key]}\n`, (data, c) => dointvecWrite(data, 1, min, SYSCTL_INT.max, (_, x) => (values(c, key)[key] = x)));
  const sem = (mm: NodeMaker): Entry =>
    mm.rwFile('sem', (c) => `${values(c, 'sem').sem.join('\t')}\n`, (data, c) => {
      const st = values(c, 'sem');
      const semmni = st.sem[3];
      const n = dointvecWrite(data, 4, SYSCTL_INT.min, SYSCTL_INT.max, (i, x) => (st.sem[i] = x));
      // Linux keeps the other three values written and puts back only semmni.
      if (st.sem[3] < 0 || st.sem[3] > IPCMNI) {
        st.sem[3] = semmni;
        throw new Errno(E.ERANGE);
      }
      return n;
    });
  const kernel = (mm: NodeMaker): Entry[] => [
    mm.rwFile('hostname', (c) => `${uts(c).hostname}\n`, (data, c) => setName(data, (s) => (uts(c).hostname = s))),
    mm.rwFile('domainname', (c) => `${uts(c).domainname}\n`, (data, c) => setName(data, (s) => (uts(c).domainname = s))),
    v('ostype', UTS_SYSNAME)(mm),
    v('osrelease', UTS_RELEASE)(mm),
    v('version', UTS_VERSION)(mm),
    v('pid_max', d.pidMax)(mm),
    // The caller's PID namespace's last number given; writing it chooses the next (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE over the namespace's owner).
    mm.rwFile('ns_last_pid', (c) => `${pidnsOf(c).lastNr}\n`, (data, c) => {
      const t = callerOf(k, c);
      const ns = pidnsOf(c);
      if (t && !nsCapable(t.creds, ns.owner, CAP_SYS_ADMIN) && !nsCapable(t.creds, ns.owner, CAP_CHECKPOINT_RESTORE)) throw new Errno(E.EPERM);
      return dointvecWrite(data, 1, 0, d.pidMax, (_, x) => (ns.lastNr = x));
    }, 0o666),
    // Where core files go (syscalls/sys_coredump.ts expands it); at most 127 bytes, the first line, as Linux keeps.
    mm.rwFile('core_pattern', () => `${k.corePattern}\n`, (data) => {
      const s = data.toString('latin1').split('\n')[0];
      k.corePattern = s.slice(0, CORENAME_MAX_SIZE - 1);
    }),
    mm.rwFile('core_uses_pid', () => `${k.coreUsesPid}\n`,
      (data) => dointvecWrite(data, 1, SYSCTL_INT.min, SYSCTL_INT.max, (_, x) => (k.coreUsesPid = x))),
    // Nothing taints the sandbox's kernel (no modules, no oops, no forced loads).
    v('tainted', 0)(mm),
    v('threads-max', d.threadsMax)(mm),
    v('ngroups_max', d.ngroupsMax)(mm),
    v('cap_last_cap', d.capLastCap)(mm),
    // The caller's IPC namespace's System V shared memory limits (kernel/ipc/shm.ts enforces them), root-writable as Linux's.
    ...(['shmmax', 'shmall'] as const).map((key) => mm.rwFile(key, (c) => `${shmOf(c)[key]}\n`, (data, c) => ulongWrite(data, (x) => (shmOf(c)[key] = x)))),
    mm.rwFile('shmmni', (c) => `${shmOf(c).shmmni}\n`, (data, c) => dointvecWrite(data, 1, 0, IPCMNI, (_, x) => (shmOf(c).shmmni = x))),
    v('overflowuid', d.overflowId)(mm),
    v('overflowgid', d.overflowId)(mm),
    sem(mm),
    int(mm, 'msgmni', 'msgmni', 0),
    int(mm, 'msgmax', 'msgmax', 0),
    int(mm, 'msgmnb', 'msgmnb', 0),
    int(mm, 'randomize_va_space', 'randomizeVaSpace', SYSCTL_INT.min),
    // The key quotas (kernel/keys/keys.ts enforces them).
    keysSysctlDir(fs, mm),
    dir(mm, 'random', [
      (r) => r.file('boot_id', () => `${fs.bootId}\n`, 0o444, E.EROFS),
      (r) => r.file('uuid', () => `${randomUUID()}\n`, 0o444, E.EROFS),
      v('entropy_avail', POOL_BITS),
      v('poolsize', POOL_BITS),
    ]),
  ];
  return m.staticDir('sys', (s) => [
    dir(s, 'fs', [
      v('file-max', d.fileMax),
      // Root may set it within Linux's bounds (64 up to INT_MAX rounded down to 64): setrlimit and table copies obey it.
      (mm) => mm.rwFile('nr_open', () => `${k.vfs.nrOpen}\n`,
        (data) => dointvecWrite(data, 1, NR_OPEN_MIN, NR_OPEN_MAX, (_, x) => (k.vfs.nrOpen = x))),
      // Root may set it (rounded up to a power of two pages, as Linux's round_pipe_size); pipes read it at creation and F_SETPIPE_SZ.
      (mm) => mm.rwFile('pipe-max-size', () => `${k.vfs.pipeMaxSize}\n`,
        (data) => dointvecWrite(data, 1, 0, SYSCTL_INT.max, (_, x) => {
          if (x === 0) throw new Errno(E.EINVAL);
          let size = PIPE_PAGE;
          while (size < x) size *= 2;
          k.vfs.pipeMaxSize = size;
        })),
      // Pipe pages per user (vfs/pipe_pages.ts); root may set them, 0 is no limit.
      (mm) => mm.rwFile('pipe-user-pages-hard', () => `${k.vfs.pipeUsers.hard}\n`,
        (data) => dointvecWrite(data, 1, 0, Number.MAX_SAFE_INTEGER, (_, x) => (k.vfs.pipeUsers.hard = x))),
      (mm) => mm.rwFile('pipe-user-pages-soft', () => `${k.vfs.pipeUsers.soft}\n`,
        (data) => dointvecWrite(data, 1, 0, Number.MAX_SAFE_INTEGER, (_, x) => (k.vfs.pipeUsers.soft = x))),
      // How long an open waits for a lease holder to give way (vfs/locks.ts); root may set it.
      (mm) => mm.rwFile('lease-break-time', () => `${k.vfs.leaseBreakSecs}\n`,
        (data) => dointvecWrite(data, 1, SYSCTL_INT.min, SYSCTL_INT.max, (_, x) => (k.vfs.leaseBreakSecs = x))),
      // Enforced by vfs/perm.ts checkHardlinkSource.
      v('protected_hardlinks', 1),
      // POSIX message queues' limits, the caller's IPC namespace's (a new one starts from Linux's defaults), which mq_open and
      // the mqueue file system enforce (kernel/ipc/mqueue.ts). queues_max takes any int; the others Linux's ranges.
      (mm) => {
        const mq = (c: unknown): MqNamespace => (callerOf(k, c)?.nsproxy.ipc ?? k.rootNs.ipc).mq;
        type MqKey = 'queuesMax' | 'msgMax' | 'msgsizeMax' | 'msgDefault' | 'msgsizeDefault';
        const limit = (name: string, key: MqKey, min: number, max: number) => (sub: NodeMaker) =>
          sub.rwFile(name, (c) => `${mq(c)[key]}\n`, (data, c) => dointvecWrite(data, 1, min, max, (_, x) => (mq(c)[key] = x)));
        return dir(mm, 'mqueue', [
          limit('msg_default', 'msgDefault', MIN_MSGMAX, HARD_MSGMAX),
          limit('msg_max', 'msgMax', MIN_MSGMAX, HARD_MSGMAX),
          limit('msgsize_default', 'msgsizeDefault', MIN_MSGSIZEMAX, HARD_MSGSIZEMAX),
          limit('msgsize_max', 'msgsizeMax', MIN_MSGSIZEMAX, HARD_MSGSIZEMAX),
          limit('queues_max', 'queuesMax', SYSCTL_INT.min, SYSCTL_INT.max),
        ]);
      },
      // The limits fsimpl/inotify enforces, writable as Linux's (0 to INT_MAX): watches and queued
      // events are charged to the sandbox's heap budget as well, so a raised limit cannot outgrow it.
      (mm) => {
        type NotifyKey = 'maxUserWatches' | 'maxUserInstances' | 'maxQueuedEvents';
        const limit = (name: string, key: NotifyKey) => (sub: NodeMaker) =>
          sub.rwFile(name, () => `${k.vfs.notify[key]}\n`, (data) => dointvecWrite(data, 1, 0, SYSCTL_INT.max, (_, x) => (k.vfs.notify[key] = x)));
        return dir(mm, 'inotify', [
          limit('max_user_watches', 'maxUserWatches'),
          limit('max_user_instances', 'maxUserInstances'),
          limit('max_queued_events', 'maxQueuedEvents'),
        ]);
      },
    ]),
    s.staticDir('kernel', kernel),
    // Linux's defaults in every network mode (in host mode the host's own may differ).
    dir(s, 'net', [
      (mm) => dir(mm, 'core', [
        v('somaxconn', d.somaxconn), v('rmem_default', 212992), v('rmem_max', 212992), v('wmem_default', 212992), v('wmem_max', 212992),
      ]),
      (mm) => dir(mm, 'ipv4', [
        devConf,
        v('ip_forward', 0), v('ip_local_port_range', `${LOCAL_PORT_LOW}\t60999`), v('tcp_fin_timeout', 60), v('tcp_keepalive_intvl', 75),
        v('tcp_keepalive_probes', 9), v('tcp_keepalive_time', 7200), v('tcp_max_syn_backlog', 4096), v('tcp_rmem', '4096\t131072\t6291456'),
        v('tcp_syncookies', 1), v('tcp_wmem', '4096\t16384\t4194304'), v('tcp_congestion_control', 'cubic'),
        // Ping sockets for every group, as Docker and containerd set it in containers (net/ping_socket.ts).
        v('ping_group_range', '0\t2147483647'),
        // Enforced by net/bind.ts. As Linux's ipv4_privileged_ports: 0-65535, and not above the local port range's start.
        // The reader's or writer's network namespace's.
        (n) => n.rwFile('ip_unprivileged_port_start', (ctx) => `${netSysctl(ctx).unprivilegedPortStart}\n`,
          (data, ctx) => dointvecWrite(data, 1, 0, 65535, (_, x) => {
            if (x > LOCAL_PORT_LOW) throw new Errno(E.EINVAL);
            netSysctl(ctx).unprivilegedPortStart = x;
          })),
      ]),
      (mm) => dir(mm, 'ipv6', [ipv6Conf]),
    ]),
    dir(s, 'vm', [
      v('overcommit_memory', 0),
      v('overcommit_ratio', 50),
      // Root may set it (0 and up); every address space checks it at its next mapping (mm/mm.ts).
      (mm) => mm.rwFile('max_map_count', () => `${k.vmSysctl.maxMapCount}\n`,
        (data) => dointvecWrite(data, 1, 0, SYSCTL_INT.max, (_, x) => (k.vmSysctl.maxMapCount = x))),
      v('mmap_min_addr', d.mmapMinAddr),
      // The huge page pool (mm/hugetlb.ts): root grows it within the sandbox's memory limit.
      // The persistent size (surplus pages left out), where sysfs's nr_hugepages counts them.
      ...['nr_hugepages', 'nr_hugepages_mempolicy'].map((name) => (mm: NodeMaker) => mm.rwFile(name, () => `${persistentHugePages(k.hugePool.counts())}\n`, (data) => writeNrHugepages(k.hugePool, data))),
      (mm) => mm.rwFile('nr_overcommit_hugepages', () => `${k.hugePool.overcommit}\n`, (data) => writeOvercommit(k.hugePool, data)),
      // Write-only, 1 and up (0: EINVAL), as Linux; the Sentry keeps no clean cache it could drop, so it is accepted and nothing more (LTP writes it before growing the huge page pool).
      (mm) => ['drop_caches', () => mm.fileNode('drop_caches', { read: () => '', write: (data) => dointvecWrite(data, 1, 1, SYSCTL_INT.max, () => {}), writeOnly: true }, 0o200)],
      (mm) => mm.rwFile('unprivileged_userfaultfd', () => `${k.vmSysctl.unprivilegedUserfaultfd}\n`,
        (data) => dointvecWrite(data, 1, 0, 1, (_, x) => (k.vmSysctl.unprivilegedUserfaultfd = x))),
      // memfd_create without MFD_EXEC or MFD_NOEXEC_SEAL makes executable files (syscalls/sys_memfd.ts).
      v('memfd_noexec', 0),
    ]),
  ]);
}
