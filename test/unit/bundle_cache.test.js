'use strict';
// bin/tsvisor.js compiles the bundle with V8's code cache. V8 checks a cache
// only against the source's length, so a rebuilt bundle of the same length
// ran the old bytecode; the cache now names the file it was made from.
const test = require('node:test');
const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const BIN = path.join(__dirname, '..', '..', 'bin', 'tsvisor.js');

function fakeBundle(word) {
  return `(function (require, module, file, dist, loadRest) { module.exports = (id) => ({ main() { console.log(${JSON.stringify(word)}); } }); })`;
}

test('bundle cache: a rebuilt bundle of the same length runs its own code, not the cached bytecode of the old one', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-cache-'));
  try {
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.mkdirSync(path.join(dir, 'dist', 'cli'), { recursive: true });
    fs.copyFileSync(BIN, path.join(dir, 'bin', 'tsvisor.js'));
    const main = path.join(dir, 'dist', 'cli', 'main.js');
    fs.writeFileSync(main, '');
    fs.utimesSync(main, new Date(1e12), new Date(1e12));
    const bundle = path.join(dir, 'dist', 'tsvisor.bundle.js');
    const run = () => childProcess.execFileSync('node', [path.join(dir, 'bin', 'tsvisor.js')], { encoding: 'utf8' }).trim();
    fs.writeFileSync(bundle, fakeBundle('one'));
    assert.strictEqual(run(), 'one');
    assert.ok(fs.existsSync(`${bundle}.cache`), 'the first run writes a cache');
    assert.strictEqual(run(), 'one');
    fs.writeFileSync(bundle, fakeBundle('two'));
    assert.strictEqual(run(), 'two');
    assert.strictEqual(run(), 'two');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
