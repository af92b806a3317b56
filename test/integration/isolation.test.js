'use strict';
// isolation: `tsvisor do` sees the host's root file system through a
// private writable overlay. Inside, the command creates, removes, renames,
// appends to and chmods files (under / and in a host temporary directory
// made for the test) and sees its own changes; afterwards the host tree
// must be exactly as before, and nothing new may exist under /.

const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

// snapshot describes a directory tree: every entry's type, mode, size,
// content hash or link target, keyed by relative path.
function snapshot(root) {
  const out = {};
  const walk = (rel) => {
    const p = path.join(root, rel);
    const st = fs.lstatSync(p);
    let desc = `mode=${(st.mode & 0o7777).toString(8)}`;
    if (st.isSymbolicLink()) desc = `link -> ${fs.readlinkSync(p)}`;
    else if (st.isDirectory()) {
      desc = `dir ${desc}`;
      for (const name of fs.readdirSync(p).sort()) walk(path.join(rel, name));
    } else {
      const hash = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
      desc = `file ${desc} size=${st.size} sha256=${hash.slice(0, 16)} mtime=${st.mtimeMs}`;
    }
    out[rel || '.'] = desc;
  };
  walk('');
  return out;
}

test('writes inside the sandbox never reach the host', { timeout: 120_000 }, (t) => {
  const shell = '/bin/sh';
  const host = h.tmpDir('tsvisor-isolation-');
  h.writeTree(host, {
    'victim.txt': 'remove me\n',
    'old-name.txt': 'rename me\n',
    'append.txt': 'original line\n',
    'mode.txt': { content: 'chmod me\n', mode: 0o644 },
    'dir/nested/file.txt': 'in a subdirectory\n',
    'link': { symlink: 'append.txt' },
  });
  const tag = crypto.randomBytes(6).toString('hex');
  const rootFile = `/isolation-test-${tag}`;
  const rootDir = `/isolation-dir-${tag}`;
  const before = snapshot(host);
  const rootBefore = fs.readdirSync('/').sort();

  const script = `
    set -e
    echo "new file at the root" > ${rootFile}
    mkdir ${rootDir} && echo inside > ${rootDir}/f
    rm ${host}/victim.txt
    mv ${host}/old-name.txt ${host}/new-name.txt
    echo "appended line" >> ${host}/append.txt
    chmod 600 ${host}/mode.txt
    rm -r ${host}/dir
    echo "created" > ${host}/created.txt
    rm ${host}/link && ln -s created.txt ${host}/link
    echo "--- seen inside"
    cat ${rootFile} ${rootDir}/f
    test -e ${host}/victim.txt && echo "victim still there" || echo "victim gone"
    test -e ${host}/old-name.txt && echo "old name still there" || echo "old name gone"
    cat ${host}/new-name.txt ${host}/append.txt ${host}/link
    test -d ${host}/dir && echo "dir still there" || echo "dir gone"
    ls -l ${host}/mode.txt | cut -c1-10
  `;
  const r = h.runSandbox([shell, '-c', script], { cwd: '/' });
  try {
    // The host first: even if the sandbox failed half way, nothing may leak.
    assert.ok(!fs.existsSync(rootFile), `${rootFile} leaked to the host`);
    assert.ok(!fs.existsSync(rootDir), `${rootDir} leaked to the host`);
    assert.deepStrictEqual(fs.readdirSync('/').sort(), rootBefore, 'the host root directory changed');
    assert.deepStrictEqual(snapshot(host), before, 'the host temporary directory changed');

    // Then the view inside, which must have seen every change.
    assert.strictEqual(r.status, 0, h.describe('sandbox', r));
    assert.strictEqual(
      r.stdout,
      [
        '--- seen inside',
        'new file at the root',
        'inside',
        'victim gone',
        'old name gone',
        'rename me',
        'original line',
        'appended line',
        'created',
        'dir gone',
        '-rw-------',
        '',
      ].join('\n'),
    );
  } finally {
    // Clean up whatever did leak, so that a failure does not litter the host.
    fs.rmSync(rootFile, { force: true });
    fs.rmSync(rootDir, { recursive: true, force: true });
  }
});

test('two sandboxes do not see each other\'s writes', { timeout: 120_000 }, () => {
  const tag = crypto.randomBytes(6).toString('hex');
  const file = `/tmp/isolation-shared-${tag}`;
  try {
    const a = h.runSandbox(['/bin/sh', '-c', `echo first > ${file} && cat ${file}`]);
    assert.strictEqual(a.status, 0, h.describe('first sandbox', a));
    assert.strictEqual(a.stdout, 'first\n');
    const b = h.runSandbox(['/bin/sh', '-c', `test -e ${file} && echo visible || echo absent`]);
    assert.strictEqual(b.status, 0, h.describe('second sandbox', b));
    assert.strictEqual(b.stdout, 'absent\n');
    assert.ok(!fs.existsSync(file), `${file} leaked to the host`);
  } finally {
    fs.rmSync(file, { force: true });
  }
});

test('tsvisor do leaves no temporary files on the host', { timeout: 120_000 }, () => {
  const tmp = require('node:os').tmpdir();
  const before = new Set(fs.readdirSync(tmp));
  const runs = [
    ['/bin/true'],
    ['/bin/sh', '-c', 'echo x > /tmp/inside-only; exit 3'],
    ['/nonexistent/command'],
  ];
  for (const argv of runs) h.runSandbox(argv);
  // gcc's own temporaries (ccXXXXXX.*) come from other builds on a shared machine, never from a sandbox.
  const added = fs.readdirSync(tmp).filter((name) => !before.has(name) && !/^cc[A-Za-z0-9]{6}\./.test(name));
  assert.deepStrictEqual(added, [], `left behind in ${tmp} after ${runs.length} sandbox runs`);
});
