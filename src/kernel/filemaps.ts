// A file that shrinks takes its pages past the new end out of every address
// space of the sandbox that maps it (Linux's truncate_pagecache): a touch there
// is then SIGBUS, and after the file grows back the mapping sees its new data.

import type { Kernel } from './kernel';
import type { MemoryManager } from '../mm/mm';

export function unmapPastEof(k: Kernel, dev: number, ino: number, size: number): void {
  const seen = new Set<MemoryManager>();
  for (const t of k.tasks.values()) {
    if (seen.has(t.mm) || t.state === 'dead') continue;
    seen.add(t.mm);
    t.mm.dropPastEof(dev, ino, size);
  }
}
