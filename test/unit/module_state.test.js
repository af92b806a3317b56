'use strict';
// module_state: kernel state lives on the object that owns it (a Kernel, a
// ThreadGroup, an Inode, a VFS...), never in a module. A module-level table or
// counter is shared by every sandbox in the process, invisible to a
// checkpoint's walk of the kernel's objects, and outlives the sandbox. This
// test reads the sources of the kernel's layers and fails on a new one:
//   - a top-level `let` or `var` (a counter, a cache that is reassigned),
//   - a top-level `const x = new ...(` (a Map, WeakMap, Set, queue, object),
//   - a top-level `const x = []` or `= {}` filled in later (a hook list),
//   - a static class field that is not readonly.
// True constants and caches of immutable data are listed in ALLOWED, each
// with the reason it is not kernel state.

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');

const ROOT = path.resolve(__dirname, '..', '..');
const DIRS = ['src/abi', 'src/auth', 'src/kernel', 'src/vfs', 'src/fsimpl', 'src/syscalls'];

// "file:name" -> why it may stay.
const ALLOWED = {
  'src/kernel/runner.ts:VSYSCALLS': 'constant: the vsyscall entry addresses and their system calls, never changed',
  'src/fsimpl/proc/task_info.ts:HIDDEN_RESERVED': 'constant: names of reserved ranges hidden from /proc/PID/maps',
  'src/vfs/mount_tree.ts:rootCreds': 'constant: the credentials of setup-time path walks, never changed',
  // Held by other areas, which move them: remove the entry with the move (until then, "moves" entries may be stale).
  'src/abi/waitqueue.ts:wakeCounter': 'moves to the kernel with the host event service (h/events)',
  'src/syscalls/sys_time.ts:itimers': 'moves to ThreadGroup with the timers rework (h/timers)',
  'src/syscalls/sys_timer.ts:timers': 'moves to ThreadGroup with the timers rework (h/timers)',
};

function sources(dir) {
  const out = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(rel));
    else if (e.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

const RULES = [
  { what: 'top-level let/var', re: /^(?:export\s+)?(?:let|var)\s+([A-Za-z_$][\w$]*)/ },
  { what: 'top-level object made with new', re: /^(?:export\s+)?const\s+([A-Za-z_$][\w$]*)\b.*?=\s*new\s/ },
  { what: 'top-level empty table filled later', re: /^(?:export\s+)?const\s+([A-Za-z_$][\w$]*)\b.*?=\s*(?:\[\s*\]|\{\s*\})\s*;\s*$/ },
  { what: 'top-level mutable object', re: /^(?:export\s+)?const\s+([a-z_$][\w$]*)\b.*?=\s*\{\s*[a-z]\w*\s*:\s*(?:0|null|false|true)\s*\}\s*;\s*$/ },
  { what: 'static field that is not readonly', re: /^\s+(?:(?:private|protected|public)\s+)?static\s+(?!readonly\b)([A-Za-z_$][\w$]*)\s*(?::[^=;(]+)?=/ },
];

/** Every module-level state declaration in the kernel's layers: [{file, line, name, what}]. */
function scan() {
  const found = [];
  for (const dir of DIRS) {
    for (const file of sources(dir)) {
      const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
      lines.forEach((text, i) => {
        for (const r of RULES) {
          const m = r.re.exec(text);
          if (m) found.push({ file, line: i + 1, name: m[1], what: r.what });
        }
      });
    }
  }
  return found;
}

test('no module-level tables, singletons or counters in abi, auth, kernel, vfs, fsimpl, syscalls', () => {
  const found = scan();
  const bad = found.filter((f) => !ALLOWED[`${f.file}:${f.name}`]);
  assert.deepStrictEqual(
    bad.map((f) => `${f.file}:${f.line} ${f.name} (${f.what})`),
    [],
    'state belongs on the object that owns it (Kernel, ThreadGroup, Inode, VFS, FdTable...); a true constant goes in ALLOWED with its reason',
  );
  // An entry whose declaration is gone must go too, or it would let a new one of that name in.
  const seen = new Set(found.map((f) => `${f.file}:${f.name}`));
  const stale = Object.keys(ALLOWED).filter((k) => !seen.has(k) && !ALLOWED[k].startsWith('moves'));
  assert.deepStrictEqual(stale, [], 'stale ALLOWED entries');
});

test('the scan finds what it must (a check that cannot fail proves nothing)', () => {
  const samples = [
    ['let nextId = 1;', 'nextId'],
    ['export let counter = 0;', 'counter'],
    ['const queues = new Map<string, Set<number>>();', 'queues'],
    ['const states = new WeakMap<Inode, LockState>();', 'states'],
    ['export const hooks: Array<() => void> = [];', 'hooks'],
    ['export const wakeCounter = { pending: 0 };', 'wakeCounter'],
    ['  private static nextId = 1;', 'nextId'],
  ];
  for (const [text, name] of samples) {
    const hit = RULES.map((r) => r.re.exec(text)).find((m) => m);
    assert.ok(hit, `not caught: ${text}`);
    assert.strictEqual(hit[1], name);
  }
  for (const text of ['export const PAGE = 4096;', '  static readonly MAX = 3;', 'const NAMES: Record<number, string> = {', '  let x = 1;']) {
    assert.ok(!RULES.some((r) => r.re.test(text)), `caught by mistake: ${text}`);
  }
});
