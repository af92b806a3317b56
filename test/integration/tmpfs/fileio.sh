# Writes, copies in odd block sizes, truncates and sparse writes of files in
# directory $1 (the sandbox's /tmp, a tmpfs; natively a host directory):
# what a growing file's pages and their frames must get right. Output:
# checksums, compared with the native run's.
set -e
D=$1
seq 1 3000000 > "$D/a"
dd if="$D/a" of="$D/b" bs=333333 2>/dev/null
cmp "$D/a" "$D/b" && echo same
head -c 5000000 "$D/a" | sha256sum
truncate -s 3000001 "$D/b"; sha256sum < "$D/b"
printf 'x' | dd of="$D/b" bs=1 seek=9000000 conv=notrunc 2>/dev/null; sha256sum < "$D/b"
wc -c < "$D/b"
dd if=/dev/zero of="$D/c" bs=1M count=20 2>/dev/null; sha256sum < "$D/c"
cat "$D/a" "$D/a" > "$D/c"; sha256sum < "$D/c"
# Frames freed by the truncates above are reused here: they must read as zeros.
truncate -s 0 "$D/c"; truncate -s 8000000 "$D/c"; sha256sum < "$D/c"
dd if="$D/a" of="$D/c" bs=4096 seek=100 count=7 conv=notrunc 2>/dev/null; sha256sum < "$D/c"
rm -f "$D/a" "$D/b" "$D/c"
echo done
