// A pod's other containers in one sandbox (Kubernetes through CRI: the
// sandbox is the pause container, the application containers join it). Each
// is a process tree of the same kernel with a mount namespace of its own (its
// root file system as an overlay over its host tree, the sandbox's proc, sys
// and dev bound in, a /tmp and the spec's mounts and path rules), its own or
// the sandbox's UTS and IPC namespaces as its spec says, and the sandbox's
// PID and network namespaces (the kernel has one of each: the pod's
// loopback and every socket are shared, its processes see the pod's).
// Membership is kept per thread group and inherited at fork, so that kill
// --all, ps and the end of a container's init touch its processes only.

import { Credentials } from '../auth/creds';
import type { Kernel } from '../kernel/kernel';
import { IpcNamespace, NsProxy, UtsNamespace } from '../kernel/namespaces';
import { MqNamespace } from '../kernel/ipc/mqueue';
import { MsgNamespace } from '../kernel/ipc/msg';
import { SemNamespace } from '../kernel/ipc/sem';
import { ShmNamespace } from '../kernel/ipc/shm';
import type { ThreadGroup } from '../kernel/thread_group';
import type { Task } from '../kernel/task';
import { HostFs } from '../fsimpl/hostfs/hostfs';
import { OverlayFs } from '../fsimpl/overlay/overlay';
import { TmpfsFs } from '../fsimpl/tmpfs/tmpfs';
import { chargedFrames, type FrameSource } from '../mm/mappable';
import type { MemoryFile } from '../platform/memfile';
import { PidsGroup, type TaskLimits } from '../kernel/thread_group';
import { Freezer } from '../kernel/freezer';
import type { HostFiles } from '../host/hostfs';
import type { GoferHandOff } from '../gofer/spawn';
import { closeHandOff } from '../gofer/start';
import type { ContainerPlan } from '../oci/plan';
import { Dentry, Mount, type VPath } from '../vfs/dentry';
import { FsContext } from '../vfs/fs_context';
import { MountNamespace, topOf } from '../vfs/mount_ns';
import type { VirtualFilesystem } from '../vfs/vfs';
import type { Resolver } from '../vfs/walk';
import { applyContainerMounts, applyPathRules, bindAt, hostFilesFor, mountPoint } from './container';

/** Which of the sandbox's namespaces a joining container shares (its spec names the sandbox's), besides PID and network, which it always does. */
export interface PodShare {
  uts: boolean;
  ipc: boolean;
}

/** One container that joined the sandbox. */
export class PodContainer {
  /** Its first process, loaded at create, run at start. */
  init: Task | null = null;
  /** Its init's wait status once it exited. */
  status: number | null = null;
  /** Settles with its init's wait status. */
  exited: Promise<number> = Promise.resolve(0);
  started = false;

  constructor(
    readonly id: string,
    readonly plan: ContainerPlan,
    readonly ns: NsProxy,
    /** The root of its mount tree. */
    readonly root: VPath,
    /** The host trees its file systems read (closed when it is removed, so that the host can unmount them), and its Gofer's connection, if any. */
    readonly trees: HostFiles[],
    private readonly closeFiles: () => void,
    /** Its spec's memory and pids limits, which the kernel holds its processes to (its memory usage is counted even without a limit). */
    readonly limits: TaskLimits,
  ) {}

  /** Let its host files go: the trees, and its Gofer (which then ends). */
  close(): void {
    for (const t of this.trees) t.close?.();
    this.closeFiles();
  }

  /** A file system context at its root (cwd there too), with its umask. */
  context(): FsContext {
    const ctx = new FsContext(this.root, this.root);
    if (this.plan.umask !== null) ctx.umask = this.plan.umask;
    return ctx;
  }
}

export class Pod {
  private readonly containers = new Map<string, PodContainer>();
  /** Which container each thread group belongs to (none: the sandbox's own). */
  private readonly members = new WeakMap<ThreadGroup, PodContainer>();

  constructor(
    private readonly kernel: Kernel,
    private readonly memfile: MemoryFile,
    /**
     * Host files of a container that brings no Gofer: true, through a Gofer
     * of its own started here, as the sandbox's are; false, opened here;
     * null: none (a confined Sentry cannot open them: each brings its Gofer).
     */
    private readonly gofer: boolean | null,
    private readonly log: (msg: string) => void,
    /** At most this many containers (oci/pod.ts's podLimit). */
    private readonly limit: number,
  ) {
    kernel.hooks.add({
      fork: (parent, child) => {
        const c = this.members.get(parent);
        if (c) this.members.set(child, c);
      },
    });
  }

  get size(): number {
    return this.containers.size;
  }

  /** Whether c is still one of its containers (not removed). */
  has(c: PodContainer): boolean {
    return this.containers.get(c.id) === c;
  }

  get(id: string): PodContainer {
    const c = this.containers.get(id);
    if (!c) throw new Error(`no container ${id} in this sandbox`);
    return c;
  }

  /** The container tg belongs to; null: the sandbox's own. */
  containerOf(tg: ThreadGroup): PodContainer | null {
    return this.members.get(tg) ?? null;
  }

  join(tg: ThreadGroup, c: PodContainer): void {
    this.members.set(tg, c);
  }

  /** The live processes of c (null: of the sandbox's own container). */
  groups(c: PodContainer | null): ThreadGroup[] {
    return [...this.kernel.groups.values()].filter((tg) => !tg.zombie && this.containerOf(tg) === c);
  }

  /**
   * Make container id's mount tree and namespaces (its first process is the
   * caller's to load); its host files through the Gofer it brought (whose
   * socket is owned from here), else as the sandbox's.
   */
  add(id: string, plan: ContainerPlan, share: PodShare, gofer: GoferHandOff | null): PodContainer {
    const refuse = (msg: string): never => {
      if (gofer) closeHandOff(gofer);
      throw new Error(msg);
    };
    if (this.containers.has(id)) refuse(`container ${id} is in this sandbox already`);
    if (this.containers.size >= this.limit) refuse(`this sandbox holds at most ${this.limit} containers besides its own`);
    const how = gofer ?? this.gofer;
    if (how === null) throw new Error('a container joining this sandbox brings a Gofer for its files');
    const trees: HostFiles[] = [];
    let closeFiles = (): void => undefined;
    const memory = this.memfile.charges.add(plan.memoryLimit === null ? this.memfile.limitPages : Math.max(1, Math.floor(plan.memoryLimit / 4096)));
    const limits: TaskLimits = { memory, pids: plan.pidsLimit === null ? null : new PidsGroup(plan.pidsLimit), freezer: new Freezer() };
    const frames = chargedFrames(this.memfile, memory);
    let root: VPath;
    try {
      const files = hostFilesFor(plan.rootfs, plan.mounts, how);
      closeFiles = files.close;
      root = this.buildTree(plan, trees, frames, files);
    } catch (e) {
      for (const t of trees) t.close?.();
      closeFiles();
      this.memfile.charges.release(memory);
      throw e;
    }
    const k = this.kernel;
    const init = k.rootNs;
    const owner = init.mnt.owner;
    const mnt = new MountNamespace(root.mount, owner, owner.allocInum());
    const uts = share.uts ? init.uts : new UtsNamespace(owner, owner.allocInum(), plan.hostname ?? init.uts.hostname, plan.domainname ?? init.uts.domainname);
    const ipc = share.ipc ? init.ipc
      : new IpcNamespace(owner, owner.allocInum(), new ShmNamespace(frames, init.ipc.shm.now), new SemNamespace(), new MsgNamespace(), new MqNamespace());
    const c = new PodContainer(id, plan, new NsProxy(mnt, uts, ipc, init.cgroup, init.pid, init.net, init.time), root, trees, closeFiles, limits);
    this.containers.set(id, c);
    return c;
  }

  /**
   * Freeze c (`pause` of one container): resolves once every process of it
   * is held; if they do not all come to rest within timeoutMs, c is thawed
   * again and the pause fails. A container not started yet is frozen at
   * once: its first process is held when it starts.
   */
  async freeze(c: PodContainer, timeoutMs = 10_000): Promise<void> {
    const f = c.limits.freezer!;
    f.freeze(this.kernel);
    for (const t0 = Date.now(); c.started && !f.atRest(this.kernel); ) {
      if (Date.now() - t0 > timeoutMs) {
        f.thaw(this.kernel);
        throw new Error(`the processes of container ${c.id} did not come to rest`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  thaw(c: PodContainer): void {
    c.limits.freezer!.thaw(this.kernel);
  }

  /** Signal c's init, or every process of it; as from outside (kill(1) on the host side). */
  signal(c: PodContainer | null, sig: number, all: boolean, init: ThreadGroup | null): void {
    for (const tg of this.groups(c)) {
      if (all || tg === init) this.kernel.signals.sendToGroup(tg, sig, { signo: sig, code: 0, pid: 0, uid: 0 }, true);
    }
    this.kernel.noteWake();
  }

  /**
   * End every process of container id and forget it; its host trees are
   * closed, so that the host can unmount its root file system (containerd's
   * shim does after delete). A file of it that a process of another container
   * still holds (passed over a socket) reads EBADF from then on.
   */
  remove(id: string): void {
    const c = this.get(id);
    this.signal(c, 9, true, null);
    // A frozen container dies too (its held tasks go on to their SIGKILL), as runc's destroy thaws a paused one.
    if (c.limits.freezer) this.thaw(c);
    this.containers.delete(id);
    c.close();
    // Its slot is free once the frames still charged to it (files passed to others) are.
    if (c.limits.memory) this.memfile.charges.release(c.limits.memory);
  }

  /**
   * The container's root: an overlay of its host tree under a tmpfs, the
   * sandbox's /proc, /sys and /dev (with /dev/pts and /dev/shm) bound in,
   * a /tmp of its own, then its spec's mounts and path rules.
   */
  private buildTree(plan: ContainerPlan, trees: HostFiles[], frames: FrameSource, files: ReturnType<typeof hostFilesFor>): VPath {
    const vfs: VirtualFilesystem = this.kernel.vfs;
    const rootTree = files.rootfs();
    trees.push(rootTree);
    const forSource = (p: string, readonly: boolean): HostFiles => {
      const t = files.forSource(p, readonly);
      trees.push(t);
      return t;
    };
    const lower = new HostFs(rootTree, frames, {}, vfs.devs.take());
    const upper = new TmpfsFs(frames, { dev: vfs.devs.take() });
    const overlay = new OverlayFs(lower, upper, vfs.devs.take());
    const mount = new Mount(vfs.allocMountId(), overlay, new Dentry(overlay.root(), '', null), null, null, { readonly: false, noexec: false });
    const root: VPath = { mount, dentry: mount.root };
    const r: Resolver = { creds: new Credentials(), root, ctx: null };
    const sandbox: Resolver = { creds: r.creds, root: vfs.root, ctx: null };
    for (const dir of ['/tmp', '/dev', '/proc', '/sys']) mountPoint(vfs, r, dir);
    vfs.mount(new TmpfsFs(frames, { mode: 0o1777, dev: vfs.devs.take() }), vfs.resolve(r, root, '/tmp', true));
    for (const p of ['/proc', '/sys', '/dev']) bindAt(vfs, r, topOf(vfs.resolve(sandbox, vfs.root, p, true)), p);
    applyContainerMounts(vfs, frames, plan.mounts, this.log, forSource, root);
    applyPathRules(vfs, frames, plan.maskedPaths, plan.readonlyPaths, this.log, root);
    if (plan.rootReadonly) mount.flags.readonly = true;
    return root;
  }
}
