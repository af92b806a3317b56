'use strict';
// Node's fs.watch (libuv: inotify_init1, inotify_add_watch, epoll) on a
// directory while this script changes it: the distinct (event, name) pairs
// in the order first seen.
const fs = require('node:fs');
const path = require('node:path');

const dir = fs.mkdtempSync('/tmp/fswatch-');
const seen = [];
const w = fs.watch(dir, (ev, name) => seen.push(`${ev} ${name}`));
const steps = [
  () => fs.writeFileSync(path.join(dir, 'a'), 'x'),
  () => fs.appendFileSync(path.join(dir, 'a'), 'y'),
  () => fs.renameSync(path.join(dir, 'a'), path.join(dir, 'b')),
  () => fs.mkdirSync(path.join(dir, 'sub')),
  () => fs.unlinkSync(path.join(dir, 'b')),
];
let i = 0;
function next() {
  if (i < steps.length) {
    steps[i++]();
    setTimeout(next, 50);
    return;
  }
  setTimeout(() => {
    w.close();
    fs.rmSync(dir, { recursive: true });
    console.log([...new Set(seen)].join('\n'));
  }, 100);
}
next();
