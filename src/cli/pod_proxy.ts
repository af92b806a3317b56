// The host process that stands for a container of a pod (pod_commands.ts):
// the pid in its state and pid file. It joins the container's host cgroup,
// asks the sandbox to add the container with this process's stdio as its
// first process's (proving its pid with a secret, as an exec client does),
// says on fd 3 whether that worked, then waits for the container's first
// process and exits as it did (a signal death raised again on itself), so
// that a shim waiting for the pid sees the container end. Signals sent to
// it go to that process; if the sandbox ends, so does the container: it
// exits as killed by SIGKILL.

import { holdExecSecret } from './exec_secret';
import { HostCgroup } from './cgroups';
import type { CgroupRecord } from '../oci/resources';
import type { ContainerRecord } from '../oci/runtime';
import type { Runtime } from './oci_commands';
import { exitAs, takeTerminal, tellCreate } from './sandbox_proc';
import * as S from '../abi/signals';

export interface PodProxyFlags {
  sandbox: string;
  bundle: string;
  /** The sandbox's namespaces the container shares, comma-separated (uts, ipc). */
  share: string;
  cgroup: string;
  terminal?: boolean;
}

const FORWARDED: Array<[NodeJS.Signals, number]> = [
  ['SIGHUP', S.SIGHUP], ['SIGINT', S.SIGINT], ['SIGQUIT', S.SIGQUIT], ['SIGUSR1', S.SIGUSR1], ['SIGUSR2', S.SIGUSR2], ['SIGTERM', S.SIGTERM], ['SIGWINCH', S.SIGWINCH],
];

export async function podProxy(rt: Runtime, id: string, f: PodProxyFlags): Promise<void> {
  // Not yet recorded: the record create writes once this process is ready is the same.
  const rec = { id, sandbox: f.sandbox } as ContainerRecord;
  const kinds = f.share.split(',');
  try {
    HostCgroup.of(JSON.parse(f.cgroup) as CgroupRecord).join(0);
    if (f.terminal) takeTerminal();
    const reply = await rt.request(rec, {
      op: 'create', container: id, bundle: f.bundle, shareUts: kinds.includes('uts'), shareIpc: kinds.includes('ipc'), client: process.pid, secret: holdExecSecret(),
    });
    if (!reply.ok) throw new Error(reply.error);
  } catch (e) {
    tellCreate({ ok: false, error: (e as Error).message });
    process.exit(1);
  }
  tellCreate({ ok: true });
  const terminal: Array<[NodeJS.Signals, number]> = f.terminal ? [['SIGINT', S.SIGINT], ['SIGQUIT', S.SIGQUIT], ['SIGTSTP', S.SIGTSTP], ['SIGWINCH', S.SIGWINCH]] : [];
  for (const [name, sig] of FORWARDED) {
    // With a terminal, the signals it raises go to its foreground group, as a container's console's do.
    if (terminal.some(([n]) => n === name)) continue;
    process.on(name, () => void rt.request(rec, { op: 'kill', signal: sig, all: false }).catch(() => undefined));
  }
  for (const [name, sig] of terminal) process.on(name, () => void rt.request(rec, { op: 'ttysignal', client: process.pid, signal: sig }).catch(() => undefined));
  let status: number;
  try {
    const r = await rt.request(rec, { op: 'wait' }, null);
    status = r.ok ? (r.status ?? 0) : S.SIGKILL;
  } catch {
    // The sandbox is gone, and the pod's containers with it.
    status = S.SIGKILL;
  }
  exitAs(status, rt.state.dir(id));
}
