// Out of memory: a fault that needs a frame when the sandbox is at its memory
// limit. First the frames of pages that were mapped but never touched are
// given back; if that frees nothing, the process with the largest resident
// set is killed with SIGKILL, as Linux's OOM killer does inside a memory
// cgroup (its parent sees signal 9). The faulting task then retries.

import type { MemoryManager } from '../mm/mm';
import type { Kernel } from './kernel';
import { SIGKILL } from '../abi/signals';
import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import type { MemCharge } from '../platform/memcharge';

/** Address spaces that no task is executing in right now (t, the faulting task, is stopped), of charge group charge if given. */
function quiescentMms(k: Kernel, t: Task, charge: MemCharge | null): Set<MemoryManager> {
  const busy = new Set<MemoryManager>();
  const all = new Set<MemoryManager>();
  for (const task of k.tasks.values()) {
    if (charge && task.mm.charge !== charge) continue;
    all.add(task.mm);
    if (task !== t && task.state === 'running') busy.add(task.mm);
  }
  for (const mm of busy) all.delete(mm);
  return all;
}

function liveMm(tg: ThreadGroup): MemoryManager | null {
  for (const t of tg.tasks) if (t.state !== 'dead') return t.mm;
  return null;
}

/**
 * Make room for the fault of task t. Returns true when t should retry the
 * access, false when t's own process was the one killed. A pod container
 * at its own limit (its charge group full) is a memory cgroup's OOM: the
 * killer looks at its processes only.
 */
export function outOfMemory(k: Kernel, t: Task): boolean {
  const charge = t.mm.charge && !t.mm.charge.fits(1) ? t.mm.charge : null;
  let freed = 0;
  for (const mm of quiescentMms(k, t, charge)) freed += mm.reclaimUntouched();
  if (freed > 0) return true;
  let victim: ThreadGroup | null = null;
  let best = -1;
  for (const tg of k.groups.values()) {
    if (tg.exiting || tg.zombie) continue;
    const mm = liveMm(tg);
    if (!mm || (charge && mm.charge !== charge)) continue;
    const { rss } = mm.usage();
    if (rss > best) {
      best = rss;
      victim = tg;
    }
  }
  if (!victim) victim = t.tg;
  const { rss, size } = liveMm(victim)?.usage() ?? { rss: 0, size: 0 };
  const limitMiB = ((charge ? charge.limitPages : k.memfile.limitPages) * 4096) / 1048576;
  k.warn(`out of memory (${charge ? 'container' : 'sandbox'} limit ${limitMiB} MiB): killed process ${victim.pid} (${victim.comm}) total-vm:${Math.floor(size / 1024)}kB rss:${Math.floor(rss / 1024)}kB (memory file on the host: ${Math.floor(k.memfile.hostResidentBytes() / 1024)}kB)`);
  k.exitGroup(victim, SIGKILL);
  if (charge) charge.oomKills++;
  k.onOomKill?.(charge);
  return victim !== t.tg && t.state !== 'dead';
}

/**
 * A kernel-side write into the memory of address space mm (a read(), a
 * copyOut) needs a frame past the limit: the same OOM kill as a fault of one
 * of its tasks. True when the access should retry.
 */
export function kernelAccessOom(k: Kernel, mm: object): boolean {
  for (const t of k.tasks.values()) if (t.mm === mm && t.state !== 'dead') return outOfMemory(k, t);
  return false;
}
