'use strict';
// The default suite's lists (tools/test_suite.js): every test/integration
// file runs on systrap too unless SYSTRAP_ONCE says why not, and what it
// says is what the file does; test/unit, run on ptrace only, runs no
// sandboxed program.

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const { SYSTRAP_ONCE, ALONE, testFiles } = require('../../tools/test_suite.js');

const ROOT = path.join(__dirname, '..', '..');
const read = (rel) => fs.readFileSync(path.join(ROOT, rel), 'utf8');
// What starts a sandboxed program from a test: the harness's runs, the helpers that start tsvisor, or tsvisor itself.
const RUNS_SANDBOX = /runSandbox|sandboxArgs|compare\(|runWatched|stubwatch|oci_pod|lib\/netns|dockerd|fakehost|h\.TSVISOR|bin\/tsvisor|TSVISOR_PLATFORM|'do'/;

test('each integration file runs on both platforms or is listed with its reason', () => {
  const files = testFiles('integration').map((f) => path.basename(f));
  for (const [name, spec] of Object.entries(SYSTRAP_ONCE)) {
    assert.ok(files.includes(name), `SYSTRAP_ONCE names ${name}, which is not in test/integration`);
    assert.ok(spec.why.length > 20, `${name}: a reason`);
    assert.ok(['native', 'own-platform'].includes(spec.runs), `${name}: runs is native or own-platform`);
  }
  for (const name of Object.keys(ALONE)) assert.ok(files.includes(name), `ALONE names ${name}, which is not in test/integration`);
  // Most files run twice: the list is the exception.
  assert.ok(Object.keys(SYSTRAP_ONCE).length * 5 < files.length);
});

test('a file run once for want of a sandbox starts none; one that names its platform names it in every run', () => {
  // The pattern sees the files that do run sandboxes.
  for (const name of ['c_programs', 'hostile', 'nat', 'oci_pod_pause', 'hostinfo', 'docker_net']) {
    assert.match(read(`test/integration/${name}.test.js`), RUNS_SANDBOX, name);
  }
  for (const [name, spec] of Object.entries(SYSTRAP_ONCE)) {
    const src = read(`test/integration/${name}`);
    if (spec.runs === 'native') {
      assert.doesNotMatch(src, RUNS_SANDBOX, `${name} is listed as running no sandboxed program`);
      continue;
    }
    const runs = src.match(/runSandbox\(|runWatched\(/g) || [];
    const flags = src.match(/flags: [^,}\n]*/g) || [];
    assert.ok(runs.length > 0, `${name} runs sandboxes`);
    assert.ok(flags.length >= runs.length, `${name}: every run passes flags`);
    for (const f of flags) assert.match(f, /FLAGS|'--platform'/, `${name}: ${f} names the platform`);
    assert.match(src, /const FLAGS = \['--platform', 'systrap'\]/);
  }
});

// Unit files that name tsvisor without running a sandbox.
const UNIT_NO_SANDBOX = {
  'suite_lists.test.js': 'this file',
  'bundle_cache.test.js': 'runs a copy of bin/tsvisor.js whose bundle is a stub printing a word',
  'compat.test.js': 'its message names `node bin/tsvisor.js compat`, which prints a table',
};

test('unit tests run no sandboxed program, so once is enough', () => {
  for (const file of testFiles('unit')) {
    if (UNIT_NO_SANDBOX[path.basename(file)]) continue;
    assert.doesNotMatch(read(file), RUNS_SANDBOX, `${file} runs a sandboxed program: run it on both platforms`);
  }
});
