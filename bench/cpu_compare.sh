#!/bin/bash
# bench/cpu_compare.sh BASE NEW [ROUNDS]: the Sentry's CPU time (user+sys of
# the tsvisor process, from /usr/bin/time) and the wall time of a few
# workloads, two builds of tsvisor interleaved run by run. BASE and NEW are
# directories holding bin/ and dist/ of a build (a checkout, or a copy of
# one). On a loaded machine the CPU time of the Sentry varies far less than
# the wall time, which waits for the stubs to be scheduled.
# Rows: ROWS="find lsR du cat pipe" (default; also dd). Needs bench/build/peers/data
# (made by bench/peers.js) for cat. Prints "row build wall user sys" lines,
# then medians.
set -e
BASE=$(cd "$1" && pwd); NEW=$(cd "$2" && pwd); ROUNDS=${3:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$HERE/build/peers/data/data-200M.bin
ROWS=${ROWS:-find lsR du cat pipe}
declare -A CMD
CMD[find]='find /usr | wc -l'
CMD[lsR]='ls -lR /usr/share | wc -l'
CMD[du]='du -s /usr/lib >/dev/null'
CMD[cat]="cat $DATA >/dev/null"
CMD[dd]='dd if=/dev/zero of=/tmp/dd.out bs=1M count=200 2>/dev/null'
CMD[pipe]='dd if=/dev/zero bs=64k count=8192 2>/dev/null | cat >/dev/null'
OUT=$(mktemp)
for i in $(seq "$ROUNDS"); do
  for row in $ROWS; do
    for v in base new; do
      if [ $v = base ]; then R=$BASE; else R=$NEW; fi
      /usr/bin/time -f "$row $v %e %U %S" -a -o "$OUT" node "$R/bin/tsvisor.js" do -- /bin/sh -c "${CMD[$row]}" >/dev/null
      tail -1 "$OUT"
    done
  done
done
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter((l) => /^\w+ (base|new) /.test(l));
const g = {};
for (const l of lines) { const [row, v, wall, u, s] = l.split(" "); (g[row] ||= { base: [], new: [] })[v].push({ wall: +wall, cpu: +u + +s }); }
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
console.log("| row | Sentry CPU s, base | new | wall s, base | new |");
for (const [row, r] of Object.entries(g)) console.log(`| ${row} | ${med(r.base.map((x) => x.cpu)).toFixed(2)} | ${med(r.new.map((x) => x.cpu)).toFixed(2)} | ${med(r.base.map((x) => x.wall)).toFixed(1)} | ${med(r.new.map((x) => x.wall)).toFixed(1)} |`);
' "$OUT"
rm -f "$OUT"
