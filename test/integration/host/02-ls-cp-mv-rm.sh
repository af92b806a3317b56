# coreutils on files: mkdir -p, touch, cp, mv, rm, ln, ls -la (stable columns
# only: mode, links, size for regular files, name), stat, wc, sha256sum.
set -eu
umask 022
mkdir -p tree/a/b/c tree/x
printf 'alpha\n' > tree/a/one.txt
printf 'beta beta\n' > tree/a/b/two.txt
printf 'gamma\n%.0s' {1..100} > tree/a/b/c/three.txt
ln -s ../a/one.txt tree/x/link-to-one
touch -d '2001-02-03 04:05:06' tree/a/one.txt
chmod 640 tree/a/b/two.txt
stable_ls() {
  # mode, then link count and size for regular files only, name; skip the
  # "total" line, . and .. (directory sizes and link counts depend on the fs)
  ls -la --time-style=+%Y "$1" | awk 'NR > 1 && $NF != "." && $NF != ".." {
    reg = substr($1, 1, 1) == "-"
    name = $7; for (i = 8; i <= NF; i++) name = name " " $i
    print $1, (reg ? $2 : "-"), (reg ? $5 : "-"), name }'
}
for d in tree tree/a tree/a/b tree/x; do echo "== $d"; stable_ls "$d"; done
ls -l --time-style=+%Y-%m-%d tree/a/one.txt | awk '{ print $1, $6, $7 }'
cp -a tree copy
cp tree/a/one.txt tree/a/one-copy.txt
cp -r tree/a tree/a-copy
mv tree/a/b/two.txt tree/a/b/TWO.txt
mv tree/x tree/y
echo "== after cp/mv"; find tree copy | sort
rm tree/a/one-copy.txt
rm -r tree/a-copy
rm -rf copy/a/b
echo "== after rm"; find tree copy | sort
stat -c '%n %s %a %F %h' tree/a/one.txt tree/a/b/TWO.txt tree/y/link-to-one
stat -L -c '%n %s %F' tree/y/link-to-one
readlink tree/y/link-to-one; cat tree/y/link-to-one
wc -l tree/a/b/c/three.txt; wc -c tree/a/b/c/three.txt
find tree -type f -print0 | sort -z | xargs -0 sha256sum
du -b tree/a/b/c/three.txt
rm -rf tree copy
ls -A | sort
