// koffi's package entry point also loads its installer's helpers (https,
// zlib, crypto, util): about two thirds of what requiring koffi costs at
// start-up. The prebuilt native module it wraps exports the same functions;
// take it directly when it is there and of the package's own version, else
// go through the package as usual (another platform, a musl build, a newer
// koffi laid out differently).

import type KoffiModule from 'koffi';

export type Koffi = typeof KoffiModule;

export function loadKoffi(): Koffi {
  try {
    const pkg = require('koffi/package.json') as { version: string };
    const native = require(`koffi/build/koffi/${process.platform}_${process.arch}/koffi.node`) as Koffi & { version?: string };
    if (native.version === pkg.version) return native;
  } catch {
    // fall back to the package
  }
  return require('koffi') as Koffi;
}
