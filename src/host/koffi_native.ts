// koffi's package entry point also loads its installer's helpers (https,
// zlib, crypto, util): about two thirds of what requiring koffi costs at
// start-up. The prebuilt native module it wraps exports the same functions;
// take it directly when it is there and of the package's own version, else
// go through the package as usual (another platform, a musl build, a newer
// koffi laid out differently).

import * as fs from 'node:fs';
import * as path from 'node:path';
import type KoffiModule from 'koffi';

export type Koffi = typeof KoffiModule;

/** The prebuilt native module of the koffi package in pkgDir, if it is there and of the package's version. */
function nativeIn(pkgDir: string): Koffi | null {
  try {
    const { version } = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version?: string };
    const native = require(path.join(pkgDir, 'build', 'koffi', `${process.platform}_${process.arch}`, 'koffi.node')) as Koffi & { version?: string };
    return native.version === version ? native : null;
  } catch {
    return null;
  }
}

export function loadKoffi(): Koffi {
  // First tsvisor's own node_modules (dist/host/ -> the package root), by path: resolving the
  // bare name 'koffi' costs about a millisecond of every start (the resolver's first lookups).
  const own = nativeIn(path.join(__dirname, '..', '..', 'node_modules', 'koffi'));
  if (own) return own;
  try {
    const pkg = require('koffi/package.json') as { version: string };
    const native = require(`koffi/build/koffi/${process.platform}_${process.arch}/koffi.node`) as Koffi & { version?: string };
    if (native.version === pkg.version) return native;
  } catch {
    // fall back to the package
  }
  return require('koffi') as Koffi;
}
