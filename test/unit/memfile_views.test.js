'use strict';
// The Sentry's views of the memory file: made per 8 MiB window, so that V8
// does not count a whole 1 GiB view as external memory at start-up; a run
// across two windows gets a view of its own that aliases the same frames.
const test = require('node:test');
const assert = require('node:assert');
const { MemoryFile } = require('../../dist/platform/memfile.js');

const PAGE = 4096;
const WINDOW = 2048; // pages

// First: no other memory file's views exist yet to be collected meanwhile.
test('memory file: views made by a sandbox stay far below V8\'s external-memory trigger', () => {
  const before = process.memoryUsage().external;
  const mf = new MemoryFile();
  mf.bytes(mf.alloc(16)).fill(1);
  // One 8 MiB window, not a 1 GiB chunk.
  assert.ok(process.memoryUsage().external - before < 16 << 20, `${process.memoryUsage().external - before} bytes`);
});

test('memory file: a run across a window boundary reads and writes the same frames as per-window views', () => {
  const mf = new MemoryFile();
  const first = WINDOW - 3;
  const run = mf.bytes(first, 6);
  assert.strictEqual(run.length, 6 * PAGE);
  run.fill(0x5a);
  for (let i = 0; i < 6; i++) assert.ok(mf.bytes(first + i).every((b) => b === 0x5a), `frame ${first + i}`);
  mf.bytes(WINDOW + 1).fill(0x11);
  assert.strictEqual(run[4 * PAGE], 0x11);
  assert.strictEqual(mf.bytes(WINDOW - 1)[PAGE - 1], 0x5a);
});
