'use strict';
// Where the Sentry may touch the host (docs/ARCHITECTURE.md "Layers", host/):
// only src/host/, src/platform/, src/cli/ and src/gofer/ (the Gofer process
// and its client's socket) import Node's host modules
// (node:fs, node:os, node:tty, ...) or the libc bindings. Everything else
// reaches the host through an object it is given: HostFiles for the host
// tree, HostInfo for the machine's facts, and the donated descriptors
// (stdio, tty) through fsimpl/hostfd, the only user of host/hostfd.ts.
// The concrete host tree (host/hosttree.ts) is made by the composition root
// only, so that a Gofer client can take its place.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');

const SRC = path.join(__dirname, '..', '..', 'src');
const HOST_MODULES = ['fs', 'fs/promises', 'os', 'tty', 'child_process', 'net', 'dgram', 'dns', 'http', 'https', 'worker_threads', 'cluster'];
const MAY_TOUCH_HOST = ['host', 'platform', 'cli', 'gofer'];
// Files outside those folders allowed a host module anyway, with the reason. Empty today.
const ALLOWED = new Map([
  ['sandbox/confine.ts', "the Sentry's side of its confinement: the runtime's socket during start-up"],
  ['sandbox/confine_runtime.ts', 'the runtime starts the confined Sentry (setpriv, unshare, nsenter) and writes its ID maps'],
  ['sandbox/confine_drill.ts', 'the test-only drill tries host opens, connects, execve and ptrace on purpose'],
]);
// Host modules with a single legitimate importer (folder prefix) besides host/ itself.
const ONLY_FROM = new Map([
  ['host/hostfd', ['fsimpl/hostfd/']],
  ['host/hosttree', ['sandbox/', 'gofer/']],
  ['host/libc', ['platform/', 'gofer/', 'sandbox/confine']],
  ['host/hostsocket', ['socket/hostinet/', 'net/nat/', 'net/packet/']],
  ['host/hostnetinfo', ['sandbox/']],
]);

function* walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

/** Module specifiers a file imports (static, dynamic, require), type-only imports excluded. */
function specifiers(text) {
  const out = [];
  const re = /^(import\s+type\b)?[^;'"]*?(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\(\s*|^import\s+)(['"])([^'"]+)\2/gms;
  for (let m; (m = re.exec(text)); ) if (!m[1]) out.push(m[3]);
  return out;
}

/** Violations in files given as {rel: 'kernel/x.ts', text}. */
function violations(files) {
  const bad = [];
  for (const { rel, text } of files) {
    const top = rel.split('/')[0];
    for (const spec of specifiers(text)) {
      const bare = spec.replace(/^node:/, '');
      if (!spec.startsWith('.') && HOST_MODULES.includes(bare)) {
        if (!MAY_TOUCH_HOST.includes(top) && !ALLOWED.has(rel)) bad.push(`${rel} imports ${spec}`);
        continue;
      }
      if (!spec.startsWith('.')) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), spec));
      const only = ONLY_FROM.get(target);
      if (only && !rel.startsWith('host/') && !only.some((p) => rel.startsWith(p))) bad.push(`${rel} imports ${target} (only ${only.join(', ')} may)`);
    }
  }
  return bad;
}

test('only host/, platform/, cli/ and gofer/ import host modules or libc; donated fds go through fsimpl/hostfd', () => {
  const files = [...walk(SRC)].map((f) => ({ rel: path.relative(SRC, f).split(path.sep).join('/'), text: fs.readFileSync(f, 'utf8') }));
  assert.ok(files.length > 50, 'the source tree is read');
  assert.deepStrictEqual(violations(files), []);
  for (const rel of ALLOWED.keys()) assert.ok(files.some((f) => f.rel === rel), `allow-list entry ${rel} names no file`);
});

test('the checker sees a stray host access (self-test on synthetic files)', () => {
  const files = [
    { rel: 'fsimpl/proc/x.ts', text: "import * as fs from 'node:fs';\nimport { cpus } from 'os';\n" },
    { rel: 'loader/y.ts', text: "import * as libc from '../host/libc';\nimport type { HostInfo } from '../host/hostinfo';\n" },
    { rel: 'fsimpl/devfs/z.ts', text: "import { fstat } from '../../host/hostfd';\n" },
    { rel: 'fsimpl/hostfd/ok.ts', text: "import * as hfd from '../../host/hostfd';\n" },
    { rel: 'host/ok.ts', text: "import * as fs from 'node:fs';\nimport * as libc from './libc';\n" },
    { rel: 'kernel/ok.ts', text: "import type * as T from 'node:fs';\nimport { randomUUID } from 'node:crypto';\n" },
  ];
  assert.deepStrictEqual(violations(files), [
    'fsimpl/proc/x.ts imports node:fs',
    'fsimpl/proc/x.ts imports os',
    'loader/y.ts imports host/libc (only platform/, gofer/, sandbox/confine may)',
    'fsimpl/devfs/z.ts imports host/hostfd (only fsimpl/hostfd/ may)',
  ]);
});
