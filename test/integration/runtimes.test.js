'use strict';
// Language runtimes and the compiler in the sandbox: python3, perl and gcc
// (which forks cc1, as and ld and talks to them through pipes and /tmp).
// Output must equal the native run of the same program.

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const DIR = path.join(__dirname, 'runtimes');
const setup = () => h.tmpDir('tsvisor-rt-');

test('python3 program matches native', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['python3'])) return;
  h.compare(t, ['/usr/bin/python3', path.join(DIR, 'prog.py')], { setup });
});

test('perl program matches native', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['perl'])) return;
  h.compare(t, ['/usr/bin/perl', path.join(DIR, 'prog.pl')], { setup });
});

test('gcc compiles and runs a program inside the sandbox', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const src = path.join(__dirname, '..', 'c', 'hello.c');
  const script = `gcc -O2 -Wall -I${path.dirname(src)} -o /tmp/hello ${src} && /tmp/hello compiled-inside && echo built`;
  const r = h.runSandbox(['/bin/sh', '-c', script], { cwd: '/' });
  assert.strictEqual(r.status, 0, h.describe('gcc in the sandbox', r));
  assert.match(r.stdout, /^argv\[1\]=compiled-inside$/m);
  assert.match(r.stdout, /^built$/m);
  // /tmp in the sandbox is its own tmpfs: the binary never reaches the host.
  assert.ok(!fs.existsSync('/tmp/hello') || fs.statSync('/tmp/hello').mtimeMs < Date.now() - r.ms - 1000, 'the binary stays inside the sandbox');
});

test('make -j4 builds a small C project inside the sandbox', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gcc', 'make'])) return;
  const dir = h.tmpDir('tsvisor-make-');
  const funcs = [1, 2, 3, 4, 5, 6];
  for (const i of funcs) fs.writeFileSync(path.join(dir, `f${i}.c`), `int f${i}(void) { return ${i}; }\n`);
  fs.writeFileSync(path.join(dir, 'main.c'), `#include <stdio.h>\n${funcs.map((i) => `int f${i}(void);`).join('\n')}\n` +
    `int main(void) { printf("%d\\n", ${funcs.map((i) => `f${i}()`).join(' + ')}); return 0; }\n`);
  fs.writeFileSync(path.join(dir, 'Makefile'), `OBJS = main.o ${funcs.map((i) => `f${i}.o`).join(' ')}\n` +
    'prog: $(OBJS)\n\tgcc -o $@ $(OBJS)\n%.o: %.c\n\tgcc -O2 -c -o $@ $<\n');
  const r = h.runSandbox(['/bin/sh', '-c', 'make -j4 -s && ./prog && ls *.o | wc -l'], { cwd: dir });
  assert.strictEqual(r.status, 0, h.describe('make -j4', r));
  assert.strictEqual(r.stdout, '21\n7\n');
  assert.ok(!fs.existsSync(path.join(dir, 'prog')), 'the build stays inside the sandbox');
});
