// procfs (man 5 proc): the sandbox's /proc, generated from the kernel's
// objects at each access. The root lists the system files, sys/, self and
// thread-self, and one directory per process (live or zombie) of the PID
// namespace the instance was made for (procFsOf: one per namespace, by its
// first mount there), named and filled with that namespace's numbers;
// thread ids are looked up but not listed, as in Linux.
//
//   const proc = procFsOf(kernel, hostInfo, kernel.rootNs.pid);
//   vfs.mountAt('/proc', proc);
//
// Entries are dynamic (the VFS never caches them). Files are 0444 (a few,
// like comm and oom_score_adj, are writable), directories 0555, per-process
// entries belong to the process's effective uid.
import { randomUUID } from '../../host/random';
import { Credentials } from '../../auth/creds';
import type { ThreadGroup } from '../../kernel/thread_group';
import { Dentry, Mount, type VPath } from '../../vfs/dentry';
import type { FilesystemImpl, Inode } from '../../vfs/inode';
import { PROC_MAGIC, type StatFs } from '../../abi/fs';
import { nowNs } from '../../host/clock';
import type { HostInfo } from '../../host/hostinfo';
import { NodeMaker, ProcDirNode, rootOwner, type Entry } from './nodes';
import { COREDUMP_FILTER_DEFAULT, pidDirNode, type PidExtras } from './pid';
import { sysDir, SysctlState } from './sys';
import { NsFs } from './ns';
import { systemEntries } from './system';
import { netDir } from './net';
import type { ProcKernel } from './task_info';
import type { PidNamespace } from '../../kernel/pid_ns';

export class ProcFs implements FilesystemImpl {
  readonly name = 'proc';
  readonly dev: number;
  /** Writability is decided per file (comm, oom_score_adj, sys/kernel/hostname). */
  readonly readonly = false;
  readonly dynamic = true;
  readonly noBirthTime = true;
  readonly birthNs = nowNs();
  /** /proc/sys/kernel/random/boot_id: fixed for the life of the sandbox. */
  readonly bootId = randomUUID();
  /** The writable /proc/sys values: this sandbox's (the IPC limits in it are the initial IPC namespace's). */
  readonly sysctl = new SysctlState();
  /** The IPC limits of IPC namespaces other than the initial one. */
  private readonly ipcValues = new WeakMap<object, SysctlState>();
  readonly cpuinfo: string;
  readonly ncpu: number;
  private anon: Mount | null = null;
  private nsfsObj: NsFs | null = null;
  private readonly state = new WeakMap<ThreadGroup, PidExtras>();
  private readonly rootDir: ProcDirNode;

  /** The PID namespace whose processes this instance shows, by their numbers there. */
  readonly pidns: PidNamespace;

  /** host: the machine the sandbox shows (/proc/cpuinfo, the CPU rows of /proc/stat). */
  constructor(readonly kernel: ProcKernel, host: Pick<HostInfo, 'cpuinfo' | 'ncpu'>, pidns?: PidNamespace) {
    this.pidns = pidns ?? kernel.rootNs.pid;
    // Numbered by the namespace it is made for, after the file systems the composition root made.
    this.dev = kernel.vfs.devs.take();
    this.cpuinfo = host.cpuinfo;
    this.ncpu = host.ncpu;
    const m = new NodeMaker(this, '', rootOwner, this.birthNs);
    const fixed = (): Entry[] => [...systemEntries(this, m), sysDir(this, m), netDir(this, m)];
    this.rootDir = new ProcDirNode(this, 1, 0o555, rootOwner, this.birthNs, {
      list: () => {
        const procs = this.processNumbers().map(([nr, pid]): Entry => [String(nr), () => this.pidNode(pid) as Inode]);
        return [...fixed(), ...procs];
      },
      find: (name) => {
        if (/^[1-9]\d{0,9}$/.test(name)) return this.pidNode(this.pidns.parent ? this.pidns.globalOf(Number(name)) : Number(name));
        const e = fixed().find(([n]) => n === name);
        return e ? e[1]() : null;
      },
    });
  }

  /** A mount outside the namespace holding the dentries of pathless files reached through /proc/PID/fd. */
  get anonMount(): Mount {
    if (!this.anon) this.anon = new Mount(this.kernel.vfs.allocMountId(), this, new Dentry(this.rootDir, '', null), null, null, { readonly: false, noexec: true });
    return this.anon;
  }

  /** The /proc/sys/kernel IPC limits of an IPC namespace. */
  ipcSysctl(ns: object): SysctlState {
    if (ns === this.kernel.rootNs.ipc) return this.sysctl;
    let v = this.ipcValues.get(ns);
    if (!v) {
      v = new SysctlState();
      this.ipcValues.set(ns, v);
    }
    return v;
  }

  /** The namespaces' file system (what /proc/PID/ns/* lead to), numbered at first use. */
  get nsfs(): NsFs {
    if (!this.nsfsObj) this.nsfsObj = new NsFs(this.kernel.vfs.devs.take(), () => this.kernel.vfs.allocMountId());
    return this.nsfsObj;
  }

  /** [number here, kernel-wide pid] of every process (live or zombie) this namespace sees, in order. */
  private processNumbers(): Array<[number, number]> {
    const ns = this.pidns;
    if (!ns.parent) return [...this.kernel.groups.keys()].sort((a, b) => a - b).map((p) => [p, p]);
    const out: Array<[number, number]> = [];
    for (const [nr, p] of ns.byNr) if (this.kernel.groups.get(p.global)?.tgPid === p) out.push([nr, p.global]);
    return out.sort((a, b) => a[0] - b[0]);
  }

  /** /proc/N (N kernel-wide, 0: none): a process (thread group) directory, or a thread's when N is a non-leader thread id. */
  private pidNode(id: number): Inode | null {
    if (id === 0) return null;
    const tg = this.kernel.groups.get(id);
    if (tg) {
      const leader = [...tg.tasks][0];
      return leader ? pidDirNode(this, tg, leader, false) : null;
    }
    const t = this.kernel.tasks.get(id);
    if (t && t.tg.pid !== id) return pidDirNode(this, t.tg, t, true);
    return null;
  }

  /** Values procfs keeps per process (oom_score_adj, memory peaks). */
  extras(tg: ThreadGroup): PidExtras {
    let x = this.state.get(tg);
    if (!x) {
      x = { oomScoreAdj: 0, oomScoreAdjMin: 0, coredumpFilter: COREDUMP_FILTER_DEFAULT, peaks: { vm: 0, rss: 0 } };
      const parent = tg.parent ? this.state.get(tg.parent) : undefined;
      // Inherited on fork, approximately: from the parent's values when the child is first looked at.
      if (parent) Object.assign(x, { oomScoreAdj: parent.oomScoreAdj, oomScoreAdjMin: parent.oomScoreAdjMin, coredumpFilter: parent.coredumpFilter });
      this.state.set(tg, x);
    }
    return x;
  }

  /** The location of an executable path (namespace-absolute), or null. */
  resolveExe(path: string): VPath | null {
    if (!path) return null;
    const vfs = this.kernel.vfs;
    try {
      return vfs.resolve({ creds: new Credentials(), root: vfs.root, ctx: null }, vfs.root, path, true);
    } catch {
      return null;
    }
  }

  root(): Inode {
    return this.rootDir;
  }

  statfs(): StatFs {
    return { type: PROC_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255, flags: 0 };
  }
}

/** The procfs instance of PID namespace ns (made at its first mount; the sandbox's own /proc is the root namespace's). */
export function procFsOf(kernel: ProcKernel, host: Pick<HostInfo, 'cpuinfo' | 'ncpu'>, ns: PidNamespace): ProcFs {
  if (ns.procFs instanceof ProcFs) return ns.procFs;
  const fs = new ProcFs(kernel, host, ns);
  ns.procFs = fs;
  return fs;
}
