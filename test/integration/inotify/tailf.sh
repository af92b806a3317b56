# tail -F (GNU coreutils: it follows the file with inotify) while this shell
# appends, rotates and truncates it. Each step waits until tail has printed
# the line before the next change, so the output does not depend on timing.
# The files are in /tmp: on the overlay root (the sandbox's /) coreutils polls
# instead, as it does on any overlayfs.
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
printf 'one\n' > log
: > out
tail -n +1 -F log > out 2>/dev/null &
pid=$!
wait_lines() {
  i=0
  while [ "$(wc -l < out)" -lt "$1" ]; do
    i=$((i + 1))
    if [ $i -gt 1000 ]; then echo "timed out waiting for line $1"; break; fi
    sleep 0.01
  done
}
wait_lines 1
# tail sets up its watches after printing what the file holds.
i=0
while [ "$(ls -l /proc/$pid/fd | grep -c 'anon_inode:inotify')" -eq 0 ] && [ $i -lt 1000 ]; do i=$((i + 1)); sleep 0.01; done
echo "tail's inotify descriptors: $(ls -l /proc/$pid/fd | grep -c 'anon_inode:inotify')"
printf 'two\n' >> log; wait_lines 2
printf 'three\nthree and a half\n' >> log; wait_lines 4
mv log log.1; printf 'four (a new file)\n' > log; wait_lines 5
printf 'five\n' >> log; wait_lines 6
kill $pid
wait $pid 2>/dev/null
cat out
