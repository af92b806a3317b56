// The Gofer process's entry (started by gofer/start.ts as `unshare -m -n -p
// -f --propagation private node main.js DIR SPEC...`, its end of the
// socketpair on descriptor 3); the work is gofer/serve.ts. A Gofer starts
// with every sandbox, so its start is paid by each `tsvisor do --gofer` and
// each confined container, and most of it beyond Node's own is loading its
// modules (resolving ~20 files, reading and compiling them: about 20 ms of
// CPU). So, as bin/tsvisor.js does for the runtime, its modules come from one
// file, dist/gofer.bundle.js (tools/bundle.js: gofer/serve and what it
// imports), compiled with V8's code cache, dist/gofer.bundle.js.cache. The
// Gofer writes that cache itself when it has none (or a stale one), after
// its modules ran and before it pivots away from the host's files (after
// that it could not, and its seccomp filter would kill the open). Without
// the bundle (tsc run alone, or a bundle older than tsc's output) it
// requires the modules as usual.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';

type Serve = typeof import('./serve');
/** The bundle's one expression: a function of the loader's require, module, file and directory, and the loader of a second file (none here). */
type BundleFn = (req: NodeJS.Require, mod: { exports: unknown }, file: string, dir: string, loadRest: () => never) => void;

const DIST = path.join(__dirname, '..');
const BUNDLE = path.join(DIST, 'gofer.bundle.js');
const CACHE = `${BUNDLE}.cache`;
/** Bytes before V8's data in the cache file: the bundle's size and mtime in ns (V8 checks only the source's length). */
const CACHE_STAMP = 16;

// The loader's own Module class: requiring node:module would also load the ESM loader.
const { createRequire } = module.constructor as unknown as { createRequire(file: string): NodeJS.Require };

function load(): { serve: Serve; saveCache: () => void } {
  let st: fs.BigIntStats;
  try {
    st = fs.statSync(BUNDLE, { bigint: true });
    if (st.mtimeNs < fs.statSync(path.join(__dirname, 'serve.js'), { bigint: true }).mtimeNs) throw new Error('older than tsc output');
  } catch {
    return { serve: require('./serve') as Serve, saveCache: () => {} };
  }
  const stamp = Buffer.alloc(CACHE_STAMP);
  stamp.writeBigUInt64LE(st.size, 0);
  stamp.writeBigUInt64LE(st.mtimeNs, 8);
  let cachedData: Buffer | undefined;
  try {
    const b = fs.readFileSync(CACHE);
    if (b.length > CACHE_STAMP && b.subarray(0, CACHE_STAMP).equals(stamp)) cachedData = b.subarray(CACHE_STAMP);
  } catch {
    cachedData = undefined;
  }
  // Pure ASCII (tools/bundle.js escapes the rest): latin1 is a copy, not a UTF-8 decoding.
  const script = new vm.Script(fs.readFileSync(BUNDLE, 'latin1'), { filename: BUNDLE, cachedData });
  const mod: { exports: unknown } = { exports: {} };
  (script.runInThisContext() as BundleFn)(createRequire(BUNDLE), mod, BUNDLE, DIST, () => {
    throw new Error('gofer.bundle.js has no second file');
  });
  const serve = (mod.exports as (id: string) => unknown)('gofer/serve') as Serve;
  if (cachedData !== undefined && !script.cachedDataRejected) return { serve, saveCache: () => {} };
  return {
    serve,
    // After the modules ran: the cache then holds the functions they compiled, not only the top level.
    saveCache: () => {
      // The Gofer is pid 1 of its namespace: a random name, not the pid, keeps concurrent writers apart.
      const tmp = `${CACHE}.${Math.random().toString(36).slice(2)}`;
      try {
        fs.writeFileSync(tmp, Buffer.concat([stamp, script.createCachedData()]));
        fs.renameSync(tmp, CACHE);
      } catch {
        // a read-only install: no cache, just a slower start (and never a Gofer that fails for it)
        try {
          fs.rmSync(tmp, { force: true });
        } catch {
          // nothing was written
        }
      }
    },
  };
}

try {
  const { serve, saveCache } = load();
  serve.serveGofer(process.argv.slice(2), saveCache);
  process.exit(0);
} catch (e) {
  process.stderr.write(`tsvisor gofer: ${(e as Error).message}\n`);
  process.exit(1);
}
