'use strict';
// busybox: shell scripts run by the static busybox (Debian busybox-static,
// /bin/busybox), with PATH holding only busybox applets, in a fresh temporary
// directory; stdout and exit status in the sandbox must equal the native run.
//
// The scripts exercise the shell (pipes, redirections, subshells, loops,
// functions, here-documents, traps, background jobs) and more than 40
// applets. Output is made deterministic: no times, pids, inode numbers or
// directory sizes, and listings whose order comes from readdir are sorted.

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const BUSYBOX = '/bin/busybox';

// Fixture files created in each fresh directory before a script runs.
const FIXTURE = {
  'fruits.txt': 'banana\napple\ncherry\napple\ndate\nbanana\napple\nelderberry\nfig\n',
  'numbers.txt': '10\n3\n7\n3\n100\n42\n-5\n0\n',
  'table.csv': 'name,qty,price\napple,3,0.50\nbanana,12,0.25\ncherry,100,0.10\ndate,7,1.20\n',
  'words.txt': 'the quick brown fox\njumps over the lazy dog\nThe End\n',
  'src/a.c': 'int a(void) { return 1; }\n',
  'src/b.c': 'int b(void) { return 2; }\n',
  'src/sub/c.h': '#define C 3\n',
  'src/sub/deep/d.txt': 'deep file\n',
  'bin.dat': Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37 + (i >> 8)) & 0xff)),
};

// The scripts, test/integration/busybox/*.sh; a script whose first line is
// "# exit N" must exit N natively (checked, so that a broken script is not
// mistaken for a passing comparison), others must exit 0.
const SCRIPT_DIR = path.join(__dirname, 'busybox');
const SCRIPTS = fs
  .readdirSync(SCRIPT_DIR)
  .filter((f) => f.endsWith('.sh'))
  .sort()
  .map((f) => {
    const text = fs.readFileSync(path.join(SCRIPT_DIR, f), 'utf8');
    const m = /^# exit (\d+)\n/.exec(text);
    return { name: f, text, status: m ? Number(m[1]) : 0 };
  });

function setup() {
  const dir = h.tmpDir('tsvisor-bb-');
  h.writeTree(dir, FIXTURE);
  return dir;
}

test('busybox scripts are deterministic natively', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, [BUSYBOX])) return;
  const env = { PATH: h.busyboxBin() };
  for (const script of SCRIPTS) {
    const runs = [0, 1].map(() => {
      const dir = setup();
      return h.runNative([BUSYBOX, 'sh', '-c', script.text], { cwd: dir, env });
    });
    for (const r of runs) assert.strictEqual(r.status, script.status, h.describe(script.name, r));
    assert.strictEqual(runs[1].stdout, runs[0].stdout, `${script.name}: two native runs differ`);
  }
});

for (const script of SCRIPTS) {
  test(`busybox sh ${script.name}`, { timeout: 240_000 }, (t) => {
    if (!h.needTools(t, [BUSYBOX])) return;
    const env = { PATH: h.busyboxBin() };
    const { native } = h.compare(t, [BUSYBOX, 'sh', '-c', script.text], {
      setup,
      env,
      expectStatus: script.status,
    });
    assert.ok(native.stdout.length > 0);
  });
}

test('busybox scripts use at least 20 distinct applets', (t) => {
  if (!h.needTools(t, [BUSYBOX])) return;
  const r = h.runNative([BUSYBOX, '--list']);
  const applets = new Set(r.stdout.split('\n').filter(Boolean));
  const used = new Set();
  for (const { text } of SCRIPTS) {
    const code = text.replace(/^\s*#.*$/gm, '');
    for (const word of code.split(/[^A-Za-z0-9_]+/)) if (applets.has(word)) used.add(word);
  }
  assert.ok(used.size >= 20, `only ${used.size} applets: ${[...used].join(' ')}`);
});
