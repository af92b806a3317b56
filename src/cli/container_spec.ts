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

export function readBundle(bundle: string): ContainerPlan {
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
  try {
    const plan = planContainer(parseSpec(json), bundle, hostPathKind);
    // A file bind is served from its host directory: the file's own path, its symlinks followed on the host (the spec's writer chose it).
    for (const m of plan.mounts) if (m.kind === 'file') m.source = fs.realpathSync(m.source);
    if (hostPathKind(plan.rootfs) !== 'dir') throw new SpecError(`root.path: ${plan.rootfs} is not a directory`);
    return plan;
  } catch (e) {
    if (e instanceof SpecError) throw new RuntimeError(`${file}: ${e.message}`);
    throw e;
  }
}

export function sandboxOptions(plan: ContainerPlan): SandboxOptions {
  return { rootfs: plan.rootfs, argv: plan.argv, env: plan.env, cwd: plan.cwd, hostname: plan.hostname, memory: plan.memoryLimit ?? undefined, container: plan };
}
