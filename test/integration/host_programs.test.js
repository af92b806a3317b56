'use strict';
// host_programs: the host's own dynamically linked programs (bash, coreutils,
// findutils, grep, sed, awk, tar, gzip) run by bash scripts in a fresh
// temporary directory; stdout and exit status in the sandbox must equal the
// native run. The scripts are test/integration/host/*.sh; output is limited
// to what does not depend on the time, ids or the file system type.

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const TOOLS = ['bash', 'ls', 'cp', 'mv', 'rm', 'mkdir', 'ln', 'touch', 'stat', 'find', 'xargs', 'sort',
  'uniq', 'tar', 'gzip', 'gunzip', 'grep', 'sed', 'awk', 'wc', 'cut', 'tr', 'head', 'tail', 'sha256sum',
  'diff', 'cmp', 'seq', 'du'];

const SCRIPT_DIR = path.join(__dirname, 'host');
const SCRIPTS = fs
  .readdirSync(SCRIPT_DIR)
  .filter((f) => f.endsWith('.sh'))
  .sort()
  .map((f) => ({ name: f, text: fs.readFileSync(path.join(SCRIPT_DIR, f), 'utf8') }));

const BASH = '/bin/bash';
const setup = () => h.tmpDir('tsvisor-host-');

test('host scripts are deterministic natively', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, TOOLS)) return;
  for (const script of SCRIPTS) {
    const runs = [0, 1].map(() => h.runNative([BASH, '-c', script.text], { cwd: setup() }));
    for (const r of runs) assert.strictEqual(r.status, 0, h.describe(script.name, r));
    for (const r of runs) assert.strictEqual(r.stderr, '', `${script.name} wrote to stderr`);
    assert.strictEqual(runs[1].stdout, runs[0].stdout, `${script.name}: two native runs differ`);
  }
});

for (const script of SCRIPTS) {
  test(`bash ${script.name} in the sandbox matches native`, { timeout: 240_000 }, (t) => {
    if (!h.needTools(t, TOOLS)) return;
    h.compare(t, [BASH, '-c', script.text], { setup, expectStatus: 0 });
  });
}

test('ls -la of a directory with fixed names and dates matches native', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, TOOLS)) return;
  const mk = () => {
    const dir = setup();
    const when = new Date('2021-03-04T05:06:07Z').getTime() / 1000;
    h.writeTree(dir, {
      'README': { content: 'read me\n', mode: 0o644, mtime: when },
      'script.sh': { content: '#!/bin/sh\n', mode: 0o755, mtime: when },
      'secret': { content: 'x'.repeat(1234), mode: 0o600, mtime: when },
      'sub/inner': { content: '', mode: 0o644, mtime: when },
      'link': { symlink: 'README' },
    });
    return dir;
  };
  // Mode, link count, size and date of regular files, names; not owners,
  // directory sizes or the total line, which depend on the file system.
  const script = "ls -la --time-style=+%Y-%m-%dT%H:%M . | awk 'NR > 1 && $NF != \".\" && $NF != \"..\" " +
    "{ t = substr($1, 1, 1); if (t == \"-\") print $1, $2, $5, $6, $7; " +
    "else if (t == \"l\") print $1, $(NF-2), $(NF-1), $NF; else print $1, $NF }'";
  const { native } = h.compare(t, [BASH, '-c', script], { setup: mk, expectStatus: 0 });
  assert.match(native.stdout, /^-rwxr-xr-x 1 10 2021-03-04T05:06 script\.sh$/m);
  assert.match(native.stdout, /^lrwxrwxrwx link -> README$/m);
});
