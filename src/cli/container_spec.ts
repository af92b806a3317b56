// Reading a bundle's config.json into a container plan (both `create` and
// the sandbox process do it: create to fail early and report what is not
// supported, the sandbox process to build the container).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSpec, SpecError } from '../oci/spec';
import { planContainer, type ContainerPlan } from '../oci/plan';
import type { SandboxOptions } from '../sandbox/options';
import { RuntimeError } from './statedir';

function hostPathKind(p: string): 'dir' | 'file' | 'missing' {
  try {
    return fs.statSync(p).isDirectory() ? 'dir' : fs.statSync(p).isFile() ? 'file' : 'missing';
  } catch {
    return 'missing';
  }
}

/**
 * What a container's plan is made from, as `create` of a pod's container
 * sends it to the pod's sandbox (which reads no bundle: a confined Sentry
 * cannot): config.json's value, the bundle's path (relative paths in it are
 * the bundle's), and what the host paths the plan asked about are (kinds),
 * with the real path of each file bind's source (real). planFromSource
 * makes the plan again from it with the same checks as config.json's.
 */
export interface PlanSource {
  spec: unknown;
  bundle: string;
  kinds: Record<string, 'dir' | 'file'>;
  real: Record<string, string>;
}

export function readBundle(bundle: string): ContainerPlan {
  return readBundleSource(bundle).plan;
}

/** The bundle's plan, and its source for a pod's sandbox. */
export function readBundleSource(bundle: string): { plan: ContainerPlan; source: PlanSource } {
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new RuntimeError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RuntimeError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const source: PlanSource = { spec: json, bundle, kinds: {}, real: {} };
  const kindOf = (p: string): 'dir' | 'file' | 'missing' => {
    const k = hostPathKind(p);
    if (k !== 'missing') source.kinds[p] = k;
    return k;
  };
  try {
    const plan = planContainer(parseSpec(json), bundle, kindOf);
    // A file bind is served from its host directory: the file's own path, its symlinks followed on the host (the spec's writer chose it).
    for (const m of plan.mounts) if (m.kind === 'file') m.source = source.real[m.source] = fs.realpathSync(m.source);
    if (kindOf(plan.rootfs) !== 'dir') throw new SpecError(`root.path: ${plan.rootfs} is not a directory`);
    return { plan, source };
  } catch (e) {
    if (e instanceof SpecError) throw new RuntimeError(`${file}: ${e.message}`);
    throw e;
  }
}

/** The most host paths a plan's source names (bind sources and the root, each once). */
const MAX_SOURCE_PATHS = 4096;

function isPathTable(v: unknown, value: (x: unknown) => boolean): v is Record<string, never> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const e = Object.entries(v);
  return e.length <= MAX_SOURCE_PATHS && e.every(([k, x]) => k.startsWith('/') && value(x));
}

/**
 * The plan of a source a pod container's create sent (untrusted but from
 * our runtime: its shape is checked, then the spec goes through the checks
 * config.json gets); no host path is looked at here.
 */
export function planFromSource(v: unknown): ContainerPlan {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const { spec, bundle, kinds, real } = o;
  if (typeof bundle !== 'string' || !bundle.startsWith('/') || !isPathTable(kinds, (x) => x === 'dir' || x === 'file')
    || !isPathTable(real, (x) => typeof x === 'string' && x.startsWith('/'))) {
    throw new RuntimeError("the container's plan is malformed");
  }
  const at = (t: Record<string, string>, p: string): string | undefined => (Object.hasOwn(t, p) ? t[p] : undefined);
  const kindOf = (p: string): 'dir' | 'file' | 'missing' => (at(kinds, p) as 'dir' | 'file' | undefined) ?? 'missing';
  try {
    const plan = planContainer(parseSpec(spec), bundle, kindOf);
    for (const m of plan.mounts) {
      if (m.kind !== 'file') continue;
      const r = at(real, m.source);
      if (r === undefined) throw new SpecError(`the real path of ${m.source} is not given`);
      m.source = r;
    }
    if (kindOf(plan.rootfs) !== 'dir') throw new SpecError(`root.path: ${plan.rootfs} is not a directory`);
    return plan;
  } catch (e) {
    if (e instanceof SpecError) throw new RuntimeError(`config.json: ${e.message}`);
    throw e;
  }
}

export function sandboxOptions(plan: ContainerPlan): SandboxOptions {
  return { rootfs: plan.rootfs, argv: plan.argv, env: plan.env, cwd: plan.cwd, hostname: plan.hostname, memory: plan.memoryLimit ?? undefined, container: plan };
}
