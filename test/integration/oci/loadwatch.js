'use strict';
// Preloaded (node --require) into a tsvisor runtime command by oci.test.js:
// at exit, one line on stderr, `loadwatch {...}`, says which files of dist/
// the command read (the bundle's two files and their code caches), which
// modules it loaded through Node's own loader (koffi, for one), and whether
// NODE_EXTRA_CA_CERTS reached Node. The start-up tests count these instead
// of timing anything.

const fs = require('node:fs');
const Module = require('node:module');

const read = new Set();
const readFileSync = fs.readFileSync;
fs.readFileSync = function (p, ...rest) {
  if (typeof p === 'string' && p.includes('/dist/')) read.add(p.slice(p.lastIndexOf('/dist/') + 6));
  return readFileSync.call(this, p, ...rest);
};
const loaded = new Set();
const load = Module._load;
Module._load = function (request, ...rest) {
  if (!Module.isBuiltin(request)) loaded.add(request);
  return load.call(this, request, ...rest);
};
const caSeenByNode = process.env.NODE_EXTRA_CA_CERTS !== undefined;
// Every Node start, counted: one line (pid and arguments) in the file LOADWATCH_STARTS names.
if (process.env.LOADWATCH_STARTS) fs.appendFileSync(process.env.LOADWATCH_STARTS, `${process.pid} ${process.argv.slice(2).join(' ')}\n`);
process.on('exit', () => {
  fs.writeSync(2, `loadwatch ${JSON.stringify({ pid: process.pid, read: [...read].sort(), loaded: [...loaded], caSeenByNode })}\n`);
});
