// `create` of a pod's application container (CRI's annotations, oci/pod.ts):
// it joins the running tsvisor sandbox its annotations name instead of
// starting a Sentry. Its state directory and record are its own (the record
// names the sandbox; every later command sends its requests to the sandbox's
// control channel naming it, Runtime.request). The pid in its state and pid
// file is a host process of its own, its stand-in (stand_in_elf.ts, a tiny
// static program): create asks the sandbox to add the container with the
// stand-in's stdio and pipes; the stand-in passes the signals it gets to the
// container's first process and exits with its status, so that a shim
// waiting for that pid (containerd's runc shim, one per pod) sees the
// container end, not the pod. runsc reports the sandbox's pid for every
// container, which only its own shim understands.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tty as ttyModule } from './lazy_builtins';
import type { ChildProcess } from 'node:child_process';
import { ociState, validId, type ContainerRecord } from '../oci/runtime';
import { NEW_NETNS, type ContainerPlan } from '../oci/plan';
import { HostCgroup } from './cgroups';
import { runHooks } from './hooks';
import { openHostPty, sendFd, type HostPty } from '../host/pty';
import type { CreateFlags, Runtime } from './oci_commands';
import { spawnStandIn, type StandIn } from './stand_in';
import type { PlanSource } from './container_spec';
import { createRequest } from './control';
import { clientStdio } from './sandbox_proc';
import type * as GoferSpawn from '../gofer/spawn';
import { goferTrees } from '../sandbox/gofer_trees';
import { procStat, RuntimeError } from './statedir';
import type { FileLock } from '../host/filelock';

/** The spec's namespaces under /proc/PID/ns. */
const PROC_NS: Record<string, string> = { pid: 'pid', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time' };

function sameFile(a: string, b: string): boolean {
  try {
    const x = fs.statSync(a);
    const y = fs.statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/**
 * Which of the sandbox's namespaces the container shares, from its spec's
 * linux.namespaces (the CRI names the sandbox's /proc/PID/ns/ipc, uts and
 * network): UTS and IPC as the spec says, PID and network always (the
 * kernel has one of each); a mount or time namespace cannot be joined; a
 * network namespace other than the sandbox's cannot be had. Warnings for
 * the rest.
 */
function podShares(plan: ContainerPlan, sandboxPid: number): { uts: boolean; ipc: boolean; warnings: string[] } {
  const share = { uts: false, ipc: false };
  const warnings: string[] = [];
  for (const { type, path: p } of plan.nsPaths) {
    const proc = PROC_NS[type];
    if (!proc) throw new RuntimeError(`linux.namespaces: unknown namespace type ${JSON.stringify(type)}`);
    if (!fs.existsSync(p)) throw new RuntimeError(`linux.namespaces: ${type} namespace ${p}: ENOENT`);
    // The sandbox's: named through its pid (its sandbox process holds the host's namespaces of these kinds, not the kernel's).
    const sandbox = p === `/proc/${sandboxPid}/ns/${proc}`;
    if (type === 'mount' || type === 'time') throw new RuntimeError(`linux.namespaces: cannot join the ${type} namespace ${p}: a container of a pod has its own`);
    if (type === 'uts' || type === 'ipc') share[type] = sandbox;
    if (!sandbox) warnings.push(`linux.namespaces: the ${type} namespace ${p} is not the sandbox's: the container has its own${type === 'pid' ? ' (no: a pod\'s containers share the sandbox\'s PID namespace)' : ''}`);
  }
  warnings.push("the container shares its sandbox's PID namespace (its processes see the pod's; its first process is not pid 1)");
  if (plan.netns === NEW_NETNS) warnings.push("linux.namespaces: network: the container shares its sandbox's network");
  else if (plan.netns !== null && !sameFile(plan.netns, `/proc/${sandboxPid}/ns/net`)) {
    throw new RuntimeError(`linux.namespaces: the network namespace ${plan.netns} is not the sandbox's: a container of a pod shares its sandbox's network`);
  }
  return { ...share, warnings };
}

/** Create container id as a member of the pod whose sandbox is container sandboxId (Runtime.create saw its annotations). */
export async function createInPod(rt: Runtime, id: string, f: CreateFlags, plan: ContainerPlan, source: PlanSource, sandboxId: string, foreground: boolean): Promise<ChildProcess> {
  const bundle = source.bundle;
  if (!validId(sandboxId)) throw new RuntimeError(`cannot create container ${id}: its annotations name the sandbox ${JSON.stringify(sandboxId)}, which is not a container id`);
  if (sandboxId === id) throw new RuntimeError(`cannot create container ${id}: its annotations name itself as its sandbox`);
  const sb = rt.state.read(sandboxId);
  if (!sb || !rt.state.alive(sb)) throw new RuntimeError(`cannot create container ${id}: its sandbox ${sandboxId} is not a running container under ${rt.state.root}`);
  if (sb.sandbox) throw new RuntimeError(`cannot create container ${id}: ${sandboxId} is a container of the pod of ${sb.sandbox}, not a sandbox`);
  if (sb.status !== 'running') throw new RuntimeError(`cannot create container ${id}: its sandbox ${sandboxId} is ${sb.status}, not running`);
  const share = podShares(plan, sb.pid);
  if (plan.terminal && !f.consoleSocket && !foreground) throw new RuntimeError('cannot allocate tty if runc will detach without setting console socket');
  if ((!plan.terminal || foreground) && f.consoleSocket) throw new RuntimeError('cannot use console socket if runc will not detach or allocate tty');
  if (plan.terminal && !f.consoleSocket && !ttyModule().isatty(0)) rt.log.warn(`${id}: process.terminal: the standard input of run is not a terminal; the container has none`);
  rt.state.makeContainerDir(id);
  let lock: FileLock;
  try {
    lock = rt.state.lock(id);
  } catch (e) {
    rt.state.remove(id);
    throw e;
  }
  let child: ChildProcess | null = null;
  let standIn: StandIn | null = null;
  let cg: HostCgroup | null = null;
  let tty: HostPty | null = null;
  let fds: number[] = [];
  let goferFd = -1;
  try {
    // Its Gofer first (docs/PERFORMANCE.md, "A pod container's Gofer off create's path"): the sandbox waits for its
    // hello before it makes the container's tree, so its Node start runs while the cgroup, the pty and the stand-in are made.
    const gofer = sb.gofers === true || process.env.TSVISOR_GOFER === '1';
    if (gofer) {
      // Loaded here (it loads libc, and koffi with it): the runtime's other commands, which import this module, need neither.
      const spawn = require('../gofer/spawn') as typeof GoferSpawn;
      // It serves the pod's files: the pod's sandbox's cgroup holds it, as it holds the sandbox's own Gofer (started from
      // in there: its unshare forks the Gofer at once, which a later move of unshare would leave behind).
      const leave = sb.cgroup ? HostCgroup.of(sb.cgroup).enter() : null;
      try {
        const g = spawn.spawnGofer(goferTrees(plan.rootfs, plan.mounts), true);
        goferFd = g.fd;
        rt.log.debug(`${id}: Gofer started (process ${g.pid})`);
      } finally {
        leave?.();
      }
    }
    // Its own host cgroup, holding its stand-in (the pod's processes are charged to the sandbox's; the Sentry holds them to the spec's limits).
    cg = HostCgroup.create(plan.cgroupsPath, id, plan.resources);
    if (f.consoleSocket) {
      tty = openHostPty(plan.consoleSize.height, plan.consoleSize.width);
      sendFd(f.consoleSocket, tty.master, '/dev/ptmx');
      fs.closeSync(tty.master);
    }
    standIn = spawnStandIn(tty ? tty.slave : 'inherit', tty !== null);
    child = standIn.child;
    child.on('error', () => undefined);
    const pid = child.pid ?? 0;
    if (pid <= 0) throw new RuntimeError('the container\'s stand-in process did not start');
    cg.join(pid);
    rt.log.debug(`${id}: stand-in process ${pid} started`);
    // What the sandbox gets with the request (control.ts's POD_FDS): the stand-in's stdio, opened here as an exec client's are, its pipes, and its Gofer.
    fds = [...clientStdio(pid), standIn.status, standIn.signals, ...(gofer ? [goferFd] : [])];
    rt.log.debug(`${id}: asking the sandbox to add the container`);
    const reply = createRequest(rt.state.dir(sandboxId), {
      op: 'create', container: id, source, shareUts: share.uts, shareIpc: share.ipc, terminal: tty !== null, cgroup: cg.rec, gofer,
    }, fds);
    standIn.release();
    if (!reply.ok) throw new Error(reply.error);
    const st = procStat(pid);
    if (!st) throw new RuntimeError('the container\'s stand-in process ended during start-up');
    const rec: ContainerRecord = {
      id, bundle, rootfs: plan.rootfs, created: new Date().toISOString(), annotations: plan.annotations, owner: os.userInfo().username, hooks: plan.hooks, cgroup: cg.rec,
      pid, pidStart: st.start, status: 'created', sandbox: sandboxId,
    };
    rt.state.write(rec);
    runHooks(plan.hooks, ['prestart', 'createRuntime', 'createContainer'], { ...ociState(rec, true), status: 'creating' as const }, rt.log, true, pid, null);
    if (f.pidFile) {
      const pf = path.resolve(f.pidFile);
      fs.writeFileSync(`${pf}.tmp`, String(pid));
      fs.renameSync(`${pf}.tmp`, pf);
    }
    for (const u of [...plan.unsupported, ...share.warnings, ...cg.warnings]) rt.log.warn(`${id}: ${u}`);
    rt.log.debug(`${id}: created in the sandbox of ${sandboxId}, stand-in process ${pid}`);
    return child;
  } catch (e) {
    // Nothing is left: the container out of the sandbox, its stand-in, cgroup and state.
    if (child) {
      await rt.request({ id, sandbox: sandboxId } as ContainerRecord, { op: 'remove' }).catch(() => undefined);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    if (cg) await cg.destroy().catch((ce: Error) => rt.log.warn(`${id}: ${ce.message}`));
    rt.state.remove(id);
    throw e instanceof RuntimeError ? e : new RuntimeError(`cannot create container ${id}: ${(e as Error).message}`);
  } finally {
    // The sandbox has its copies (or failed): the stdio opened for it and the Gofer's socket are closed here, the pipes by release.
    for (const fd of fds.slice(0, 3)) fs.closeSync(fd);
    if (goferFd >= 0) fs.closeSync(goferFd);
    standIn?.release();
    if (tty) fs.closeSync(tty.slave);
    lock.release();
  }
}
