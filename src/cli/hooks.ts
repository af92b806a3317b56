// OCI hooks (config.md "POSIX-platform Hooks"): host programs run at the
// points of a container's life the specification names, each with the
// container's state as JSON on its stdin. A failing prestart, createRuntime,
// createContainer or startContainer hook fails the command; a failing
// poststart or poststop hook is a warning.

import { spawnSync } from 'node:child_process';
import type { OciState } from '../oci/runtime';
import type { HookKind, OciHooks } from '../oci/spec';
import { RuntimeError } from './statedir';
import type { RuntimeLog } from './runtime_log';

/** Run the hooks of these kinds in order; returns false (after logging) if one failed and failures are only warnings. */
export function runHooks(hooks: OciHooks, kinds: HookKind[], state: OciState, log: RuntimeLog, fatal: boolean): boolean {
  for (const kind of kinds) {
    for (const [i, h] of (hooks[kind] ?? []).entries()) {
      const env: Record<string, string> = {};
      for (const kv of h.env ?? []) env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
      const args = h.args ?? [h.path];
      const r = spawnSync(h.path, args.slice(1), {
        argv0: args[0] ?? h.path, env, input: JSON.stringify(state), stdio: ['pipe', 'inherit', 'pipe'], encoding: 'utf8',
        timeout: h.timeout ? h.timeout * 1000 : undefined, killSignal: 'SIGKILL',
      });
      let why: string | null = null;
      // A hook that does not read its state (it exits first) is no failure: EPIPE is writing the state, not the hook.
      const epipe = (r.error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
      if (r.error && !epipe) why = (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `timed out after ${h.timeout} s` : r.error.message;
      else if (r.signal) why = `killed by ${r.signal}`;
      else if (r.status !== 0) why = `exit status ${r.status}`;
      if (why === null) {
        log.debug(`${state.id}: ${kind} hook ${h.path} ran`);
        continue;
      }
      const msg = `${kind} hook ${i} (${h.path}) failed: ${why}${r.stderr ? `: ${r.stderr.trim()}` : ''}`;
      if (fatal) throw new RuntimeError(msg);
      log.warn(`${state.id}: ${msg}`);
      return false;
    }
  }
  return true;
}
