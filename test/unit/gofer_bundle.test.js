'use strict';
// The Gofer's entry (dist/gofer/main.js, src/gofer/main.ts) loads its modules
// from dist/gofer.bundle.js with V8's code cache, which it writes itself
// before it pivots (beforePivot): the cache must name the bundle it was made
// from (V8 checks only the length), and a bundle older than tsc's output is
// not used. Here with stand-in bundles and serve modules in a copy of the
// entry.
const test = require('node:test');
const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const MAIN = path.join(__dirname, '..', '..', 'dist', 'gofer', 'main.js');

/** A bundle whose gofer/serve module prints word and the arguments, calling beforePivot first (as the real one does). */
function fakeBundle(word) {
  return `(function (require, module, file, dist, loadRest) { module.exports = (id) => id === 'gofer/serve' ? { serveGofer(argv, beforePivot) { beforePivot(); console.log(${JSON.stringify(word)} + ' ' + argv.join(' ')); } } : null; })`;
}

test('the Gofer runs its bundle with a code cache it writes before the pivot; a rebuilt bundle of the same length runs its own code', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-gofer-bundle-'));
  try {
    fs.mkdirSync(path.join(dir, 'dist', 'gofer'), { recursive: true });
    const main = path.join(dir, 'dist', 'gofer', 'main.js');
    fs.copyFileSync(MAIN, main);
    const serve = path.join(dir, 'dist', 'gofer', 'serve.js');
    fs.writeFileSync(serve, "exports.serveGofer = (argv, beforePivot) => { beforePivot(); console.log('plain ' + argv.join(' ')); };\n");
    fs.utimesSync(serve, new Date(1e12), new Date(1e12));
    const bundle = path.join(dir, 'dist', 'gofer.bundle.js');
    const run = () => childProcess.execFileSync('node', [main, '/tmp', 'ro:/x'], { encoding: 'utf8' }).trim();
    // No bundle: the modules as tsc wrote them.
    assert.strictEqual(run(), 'plain /tmp ro:/x');
    fs.writeFileSync(bundle, fakeBundle('one'));
    assert.strictEqual(run(), 'one /tmp ro:/x');
    const cache = fs.readFileSync(`${bundle}.cache`);
    const st = fs.statSync(bundle, { bigint: true });
    assert.strictEqual(cache.readBigUInt64LE(0), st.size, 'the cache names the bundle\'s size');
    assert.strictEqual(cache.readBigUInt64LE(8), st.mtimeNs, 'and its modification time');
    assert.strictEqual(run(), 'one /tmp ro:/x');
    fs.writeFileSync(bundle, fakeBundle('two'));
    assert.strictEqual(run(), 'two /tmp ro:/x');
    assert.strictEqual(run(), 'two /tmp ro:/x');
    // tsc run again after the bundle: the bundle is not used.
    fs.utimesSync(serve, new Date(), new Date(Date.now() + 60_000));
    assert.strictEqual(run(), 'plain /tmp ro:/x');
    assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'dist')).filter((f) => f.includes('.cache.')), [], 'no temporary cache file left');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
